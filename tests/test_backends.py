import numpy as np
import pytest

from scratchml import backends

from .conftest import host, on


def test_namespace_follows_data(backend):
    x = on(backend, [[1.0, 2.0]])
    xp = backends.namespace(x)
    assert backends.backend_name(xp.asarray(x)) == backend
    assert backends.backend_name(x) == backend


def test_mixed_libraries_raise_naming_both():
    pytest.importorskip("array_api_strict")
    a = np.zeros(3)
    b = backends.asarray(a, backend="array_api_strict")
    with pytest.raises(TypeError, match="array_api_strict and numpy"):
        backends.namespace(a, b)


def test_namespace_rejects_non_arrays():
    with pytest.raises(TypeError, match="list"):
        backends.namespace([1, 2])
    with pytest.raises(TypeError, match="at least one array"):
        backends.namespace(None, 3)


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="numpy, array_api_strict, torch, cupy"):
        backends.get("jax-ish")


def test_available_always_has_numpy_and_strict():
    names = backends.available()
    assert "numpy" in names and "array_api_strict" in names


def test_unusable_backend_says_why():
    for name in backends.BACKENDS:
        reason = backends.why_unavailable(name)
        if reason:
            with pytest.raises(RuntimeError, match=name):
                backends.get(name)


def test_asarray_round_trip_and_dtype(backend):
    data = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = backends.asarray(data, backend=backend, dtype="float32")
    assert backends.backend_name(x) == backend
    assert host(x).dtype == np.float32
    np.testing.assert_array_equal(host(x), data.astype(np.float32))


def test_asarray_like_keeps_namespace_device_and_float_dtype(backend):
    ref = on(backend, np.zeros(2), dtype="float32")
    y = backends.asarray(np.ones(3), like=ref)
    assert backends.backend_name(y) == backend
    assert backends.device(y) == backends.device(ref)
    assert host(y).dtype == np.float32
    labels = backends.asarray(np.arange(3), like=ref)  # integers stay integers
    assert np.issubdtype(host(labels).dtype, np.integer)


def test_asarray_across_libraries():
    x = backends.asarray(np.arange(3.0), backend="array_api_strict")
    y = backends.asarray(x, backend="numpy")
    assert isinstance(y, np.ndarray)
    np.testing.assert_array_equal(y, [0.0, 1.0, 2.0])


def test_asarray_rejects_unknown_dtype():
    with pytest.raises(ValueError, match="dtype"):
        backends.asarray([1.0], dtype="float16x")


def test_synchronize_is_safe_everywhere(backend):
    backends.synchronize(on(backend, [1.0]))
    backends.synchronize(None)


def test_random_draws_identical_on_every_backend(backend):
    ref = on(backend, np.zeros(1), dtype="float64")
    a = backends.random_normal(backends.rng(7), (3, 4), like=ref, scale=2.0)
    b = 2.0 * np.random.default_rng(7).standard_normal((3, 4))
    np.testing.assert_array_equal(host(a), b)
    perm = backends.permutation(backends.rng(3), 10, like=ref)
    np.testing.assert_array_equal(host(perm), np.random.default_rng(3).permutation(10))


def test_rng_rejects_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        backends.rng("zero")
