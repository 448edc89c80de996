import sys
import types
import warnings

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


# ---------------------------------------------------------------------------
# Why CuPy is unusable: one line that says what to do


def _cupy_reason(monkeypatch, fake_cupy):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    backends._cupy_usable.cache_clear()
    try:
        return backends.why_unavailable("cupy")
    finally:
        monkeypatch.undo()
        backends._cupy_usable.cache_clear()


def _fake_cupy(get_device_count):
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


def _raises(message):
    def call():
        raise RuntimeError(message)

    return call


def test_cupy_not_installed_names_the_extras(monkeypatch):
    reason = _cupy_reason(monkeypatch, None)  # sys.modules entry None: import fails
    assert "scratchml[cuda12]" in reason and "scratchml[cuda13]" in reason
    assert "\n" not in reason


@pytest.mark.parametrize(
    ("fake", "expected"),
    [
        (_fake_cupy(lambda: 0), "no CUDA GPU"),
        (
            _fake_cupy(_raises("cudaErrorNoDevice: no CUDA-capable device is detected")),
            "no CUDA GPU",
        ),
        (
            _fake_cupy(
                _raises(
                    "cudaErrorInsufficientDriver: CUDA driver version is insufficient\nmore detail"
                )
            ),
            "no usable NVIDIA driver",
        ),
        (_fake_cupy(_raises("something else\nentirely")), "cannot reach a GPU"),
    ],
    ids=["zero-devices", "no-device", "driver", "other"],
)
def test_cupy_without_a_gpu_says_why_in_one_line(monkeypatch, fake, expected):
    reason = _cupy_reason(monkeypatch, fake)
    assert expected in reason
    assert "\n" not in reason


def test_cli_backends_one_line_each(capsys):
    from scratchml.cli import main

    assert main(["backends"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(backends.BACKENDS)
    for line, name in zip(lines, backends.BACKENDS, strict=True):
        reason = backends.why_unavailable(name)
        assert line.endswith(reason or "usable")


def test_cli_version(capsys):
    import scratchml
    from scratchml.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"scratchml {scratchml.__version__}"


def test_cli_demo_on_missing_cupy_names_the_extra(monkeypatch, capsys):
    from scratchml.cli import main

    monkeypatch.setitem(sys.modules, "cupy", None)
    backends._cupy_usable.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "two_spirals", "--backend", "cupy", "--small"])
    finally:
        monkeypatch.undo()
        backends._cupy_usable.cache_clear()
    assert exit_info.value.code == 2
    assert "scratchml[cuda12]" in capsys.readouterr().err


def test_quiet_float_warnings_is_scoped():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with backends.quiet_float_warnings():
            assert np.isinf(np.exp(np.array([1000.0]))[0])
        with pytest.raises(RuntimeWarning):
            np.exp(np.array([1000.0]))


def test_widest_float_is_float64_on_cpu(backend):
    xp = backends.get(backend)
    x = on(backend, [1.0], dtype="float32")
    assert backends.widest_float(xp, backends.device(x)) == xp.float64
