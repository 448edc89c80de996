import sys
import types
import typing
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


def test_each_library_is_one_module_named_after_it():
    """The registry's libraries, in listing order; each module of the package that holds
    one is named after its backend, so a new library is a module and a registry line."""
    import importlib

    assert backends.BACKENDS == ("numpy", "array_api_strict", "torch", "cupy", "jax")
    for name, found in backends.LIBRARIES.items():
        assert isinstance(found, backends.Library) and found.name == name
        assert importlib.import_module(f"scratchml.backends.{name}").LIBRARY is found


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


class _Recorder:
    """Counts calls of the device functions a fake library stands in for."""

    def __init__(self):
        self.calls = []

    def record(self, what):
        def call(*args, **kwargs):
            self.calls.append((what, args))

        return call


def _fake_gpu_libraries(monkeypatch, recorder):
    """Fake cupy and torch modules whose waiting functions record their calls (the CuPy
    stream records the device current when it is asked to wait)."""

    def stream():
        wait = recorder.record(f"cupy stream of device {_FakeCupyDevice.current}")
        return types.SimpleNamespace(synchronize=wait)

    cupy = types.SimpleNamespace(
        cuda=types.SimpleNamespace(get_current_stream=stream, Device=_FakeCupyDevice),
    )
    torch = types.SimpleNamespace(cuda=types.SimpleNamespace(synchronize=recorder.record("torch")))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "torch", torch)


def _pretend_owned(monkeypatch, name, *arrays):
    """Make backend ``name`` claim ``arrays`` (stand-ins for arrays of a library not here)."""
    ids = {id(x) for x in arrays}
    monkeypatch.setattr(backends.LIBRARIES[name], "owns", lambda x: id(x) in ids)


def test_synchronize_waits_on_the_gpu_array_device(monkeypatch):
    recorder = _Recorder()
    _fake_gpu_libraries(monkeypatch, recorder)
    cuda_tensor = types.SimpleNamespace(device=types.SimpleNamespace(type="cuda", index=1))
    cpu_tensor = types.SimpleNamespace(device=types.SimpleNamespace(type="cpu", index=None))
    _pretend_owned(monkeypatch, "torch", cuda_tensor, cpu_tensor)
    cupy_array = types.SimpleNamespace(device=_FakeCupyDevice(0))
    _pretend_owned(monkeypatch, "cupy", cupy_array)

    backends.synchronize(cupy_array)
    assert recorder.calls == [("cupy stream of device 0", ())]
    backends.synchronize(cuda_tensor)
    assert recorder.calls[-1] == ("torch", (cuda_tensor.device,))
    backends.synchronize(cpu_tensor)  # a CPU tensor has nothing to wait for
    backends.synchronize(None)
    assert len(recorder.calls) == 2


@pytest.mark.parametrize("cpu_backend", ["numpy", "array_api_strict"])
def test_synchronize_on_cpu_arrays_calls_no_gpu_library(monkeypatch, cpu_backend):
    recorder = _Recorder()
    x = on(cpu_backend, [1.0])
    _fake_gpu_libraries(monkeypatch, recorder)
    backends.synchronize(x)
    assert recorder.calls == []


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
    backends.forget_checks()
    try:
        return backends.why_unavailable("cupy")
    finally:
        monkeypatch.undo()
        backends.forget_checks()


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
    assert len(lines) == len(backends.BACKENDS) + 1
    assert [line.split()[0] for line in lines[:-1]] == list(backends.BACKENDS)
    for line, name in zip(lines, backends.BACKENDS, strict=False):
        reason = backends.why_unavailable(name)
        if reason:
            assert line.endswith(f"not usable: {reason}")
        else:
            assert line.endswith(f"usable; {backends.describe(name)}")
    assert lines[-1].startswith("(NVIDIA driver)")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ((13, 0), "supports CUDA 13.0: install scratchml[cuda13]"),
        ((12, 8), "supports CUDA 12.8: install scratchml[cuda12]"),
        ((11, 4), "update the driver"),
        (None, "no NVIDIA driver found"),
    ],
    ids=["cuda13", "cuda12", "too-old", "no-driver"],
)
def test_cli_backends_names_the_extra_for_the_driver(monkeypatch, capsys, version, expected):
    from scratchml.cli import main

    monkeypatch.setattr(backends.driver, "driver_cuda_version", lambda: version)
    assert main(["backends"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert expected in last


def test_cuda_extra_follows_the_drivers_cuda_major():
    assert backends.cuda_extra((13, 1)) == "cuda13"
    assert backends.cuda_extra((14, 0)) == "cuda13"  # the newest build a newer driver runs
    assert backends.cuda_extra((12, 0)) == "cuda12"
    assert backends.cuda_extra((11, 8)) is None
    assert backends.cuda_extra(None) is None


def test_driver_cuda_version_asks_libcuda(monkeypatch):
    class FakeLibcuda:
        @staticmethod
        def cuDriverGetVersion(pointer):
            pointer._obj.value = 12040  # what CUDA 12.4's driver reports
            return 0  # CUDA_SUCCESS

    opened = []

    def fake_cdll(name):
        opened.append(name)
        return FakeLibcuda()

    monkeypatch.setattr(backends.driver.ctypes, "CDLL", fake_cdll)
    assert backends.driver_cuda_version() == (12, 4)
    assert opened == ["libcuda.so.1"]


def test_driver_cuda_version_falls_back_to_nvidia_smi(monkeypatch):
    import shutil
    import subprocess

    def no_library(name):
        raise OSError(f"{name}: cannot open shared object file")

    header = "| NVIDIA-SMI 580.95.05    Driver Version: 580.95.05    CUDA Version: 13.0     |"
    monkeypatch.setattr(backends.driver.ctypes, "CDLL", no_library)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: types.SimpleNamespace(stdout=header, returncode=0)
    )
    assert backends.driver_cuda_version() == (13, 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert backends.driver_cuda_version() is None


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
    backends.forget_checks()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "two_spirals", "--backend", "cupy", "--small"])
    finally:
        monkeypatch.undo()
        backends.forget_checks()
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


# ---------------------------------------------------------------------------
# Devices: arrays land on their inputs' device


def test_asarray_and_random_draws_follow_a_second_device():
    """array-api-strict has a second device: everything made ``like=x`` must land on it."""
    strict = pytest.importorskip("array_api_strict")
    device1 = strict.Device("device1")
    x = backends.asarray(np.zeros((2, 2)), backend="array_api_strict", device="device1")
    assert backends.device(x) == device1
    made = [
        backends.asarray(np.ones(3), like=x),
        backends.random_normal(backends.rng(0), (2, 3), like=x),
        backends.random_orthogonal(backends.rng(0), (3, 3), like=x),
        backends.permutation(backends.rng(0), 4, like=x),
    ]
    assert [backends.device(a) for a in made] == [device1] * len(made)


class _FakeCupyDevice:
    """Stands in for cupy.cuda.Device: a context that makes device ``id`` current."""

    current = 0
    entered: typing.ClassVar[list[int]] = []

    def __init__(self, id=None):
        self.id = _FakeCupyDevice.current if id is None else int(id)

    def __enter__(self):
        self._previous = _FakeCupyDevice.current
        _FakeCupyDevice.current = self.id
        _FakeCupyDevice.entered.append(self.id)
        return self

    def __exit__(self, *exc):
        _FakeCupyDevice.current = self._previous


def test_on_device_of_enters_the_cupy_arrays_device(monkeypatch):
    """CuPy's creation functions use the current device: the context makes it the data's."""
    fake_cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(Device=_FakeCupyDevice))
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(_FakeCupyDevice, "entered", [])
    array_on_gpu1 = types.SimpleNamespace(device=_FakeCupyDevice(1))
    _pretend_owned(monkeypatch, "cupy", array_on_gpu1)
    assert _FakeCupyDevice.current == 0
    with backends.on_device_of(None, array_on_gpu1):
        assert _FakeCupyDevice.current == 1
    assert _FakeCupyDevice.current == 0
    assert _FakeCupyDevice.entered == [1]


def test_on_device_of_makes_the_arrays_device_current(monkeypatch, backend):
    x = on(backend, [1.0])
    if backend == "cupy":  # a real GPU: the current device is the array's inside
        import cupy

        with backends.on_device_of(x):
            assert cupy.cuda.Device().id == x.device.id
        return
    monkeypatch.setitem(sys.modules, "cupy", None)  # importing CuPy would fail
    with backends.on_device_of(x) as entered:
        assert entered is None


# ---------------------------------------------------------------------------
# GPU memory: what is free, and which errors mean "out of memory"


class _FakeTorchDevice:
    """Stands in for torch.device: ``"cuda"`` leaves the index open, as torch does."""

    def __init__(self, spec, index=None):
        if isinstance(spec, _FakeTorchDevice):
            spec, index = spec.type, spec.index
        elif isinstance(spec, int):
            spec, index = "cuda", spec
        kind, _, given = str(spec).partition(":")
        self.type, self.index = kind, int(given) if given else index

    def __eq__(self, other):
        return (self.type, self.index) == (other.type, other.index)

    def __repr__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


def _fake_torch(default_device, free, reserved, allocated, current=0):
    """A torch with CUDA devices 0 and 1; device ``current`` is the current one. Its
    memory functions refuse a CUDA device without an index (torch.cuda.mem_get_info does)."""

    def indexed(device):
        if device.index is None:
            raise ValueError("Expected a torch.device with a specified index")
        return device.index

    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        current_device=lambda: current,
        device_count=lambda: 2,
        mem_get_info=lambda device: (free[indexed(device)], 80 * 2**30),
        memory_reserved=lambda device: reserved,
        memory_allocated=lambda device: allocated,
        get_device_properties=lambda device: types.SimpleNamespace(
            name=f"Fake GPU {indexed(device)}", total_memory=80 * 2**30
        ),
    )
    return types.SimpleNamespace(
        device=_FakeTorchDevice,
        get_default_device=lambda: _FakeTorchDevice(default_device),
        cuda=cuda,
        version=types.SimpleNamespace(cuda="13.0"),
    )


@pytest.fixture
def host_memory(monkeypatch):
    monkeypatch.setattr(backends.base, "host_free_memory", lambda: 123)
    return 123


def test_torch_free_memory_counts_the_caching_allocators_free_blocks(monkeypatch, host_memory):
    fake = _fake_torch("cuda:0", free=[1000, 2000], reserved=700, allocated=200)
    monkeypatch.setitem(sys.modules, "torch", fake)
    # Free on the device, plus what torch reserved but no tensor uses (700 - 200).
    assert backends.free_memory("torch") == 1000 + 500
    assert backends.free_memory("torch", device="cuda:1") == 2000 + 500
    assert backends.free_memory("torch", device="cpu") == host_memory


def test_torch_free_memory_is_ram_when_tensors_live_on_the_cpu(monkeypatch, host_memory):
    fake = _fake_torch("cpu", free=[1000, 2000], reserved=700, allocated=200)
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert backends.free_memory("torch") == host_memory


def test_jax_free_memory_reads_the_device_statistics(monkeypatch, host_memory):
    gpu = types.SimpleNamespace(
        memory_stats=lambda: {"bytes_limit": 10_000, "bytes_in_use": 2_500, "peak": 9}
    )
    cpu = types.SimpleNamespace(memory_stats=lambda: None)  # XLA's CPU keeps none
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [gpu]))
    assert backends.free_memory("jax") == 7_500
    assert backends.free_memory("jax", device=cpu) == host_memory


def test_cupy_free_memory_adds_the_pools_free_blocks(monkeypatch):
    pool = types.SimpleNamespace(free_bytes=lambda: 300)
    fake_cupy = types.SimpleNamespace(
        cuda=types.SimpleNamespace(
            Device=_FakeCupyDevice,
            runtime=types.SimpleNamespace(memGetInfo=lambda: (4_000, 8_000)),
        ),
        get_default_memory_pool=lambda: pool,
    )
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(_FakeCupyDevice, "entered", [])
    assert backends.free_memory("cupy", device=_FakeCupyDevice(1)) == 4_300
    assert _FakeCupyDevice.entered == [1]  # the memory of the data's GPU, not GPU 0's


def test_free_memory_on_cpu_backends_and_unknown_names():
    assert backends.free_memory("numpy") > 0
    with pytest.raises(ValueError, match=r"unknown backend 'tpu'.*numpy"):
        backends.free_memory("tpu")


# ---------------------------------------------------------------------------
# "cuda" is the current CUDA device; waits, memory and labels follow the data's device


def _fake_cupy_gpus(current, recorder=None):
    """A CuPy with GPUs 0 and 1 (``current`` is current), their free memory, and streams."""

    def stream():
        label = f"cupy stream of device {_FakeCupyDevice.current}"
        return types.SimpleNamespace(synchronize=(recorder or _Recorder()).record(label))

    _FakeCupyDevice.current = current
    free = {0: 4_000, 1: 6_000}
    return types.SimpleNamespace(
        cuda=types.SimpleNamespace(
            Device=_FakeCupyDevice,
            get_current_stream=stream,
            runtime=types.SimpleNamespace(memGetInfo=lambda: (free[_FakeCupyDevice.current], 0)),
        ),
        get_default_memory_pool=lambda: types.SimpleNamespace(free_bytes=lambda: 0),
    )


def test_cuda_means_the_current_cupy_device(monkeypatch):
    monkeypatch.setattr(_FakeCupyDevice, "current", 0)
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy_gpus(current=1))
    monkeypatch.setattr(_FakeCupyDevice, "entered", [])
    assert backends.LIBRARIES["cupy"].resolve_device("cuda").id == 1
    assert backends.LIBRARIES["cupy"].resolve_device("cuda:0").id == 0
    assert backends.free_memory("cupy", device="cuda") == 6_000  # GPU 1's, not GPU 0's
    assert backends.free_memory("cupy", device="cuda:0") == 4_000


def test_cuda_means_the_current_torch_device(monkeypatch, host_memory):
    fake = _fake_torch("cpu", free=[1000, 2000], reserved=0, allocated=0, current=1)
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert backends.LIBRARIES["torch"].resolve_device("cuda") == _FakeTorchDevice("cuda:1")
    # torch.cuda.mem_get_info refuses torch.device("cuda"): the index must be filled in.
    assert backends.free_memory("torch", device="cuda") == 2000
    assert backends.gpu_name("torch", device="cuda") == "Fake GPU 1, 80 GiB"


def test_cuda_means_the_current_device_with_real_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert backends.LIBRARIES["torch"].resolve_device("cuda") == torch.device("cuda", 1)
    assert backends.LIBRARIES["torch"].resolve_device("cuda:0") == torch.device("cuda", 0)


def test_synchronize_waits_on_the_arrays_cupy_device_not_the_current_one(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(_FakeCupyDevice, "current", 0)
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy_gpus(current=0, recorder=recorder))
    on_gpu1 = types.SimpleNamespace(device=_FakeCupyDevice(1))
    _pretend_owned(monkeypatch, "cupy", on_gpu1)
    backends.synchronize(on_gpu1)
    assert recorder.calls == [("cupy stream of device 1", ())]
    assert _FakeCupyDevice.current == 0  # the current device is left as it was


def _torch_seeing_a_gpu(monkeypatch):
    """The real (CPU) torch, made to report two CUDA GPUs, the second one current."""
    torch = pytest.importorskip("torch")
    props = types.SimpleNamespace(name="Fake H100", total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    return torch


def test_torch_on_the_cpu_is_no_accelerator_even_where_torch_sees_cuda(monkeypatch):
    torch = _torch_seeing_a_gpu(monkeypatch)
    x = backends.asarray(np.ones(3), backend="torch")  # torch's default device: the CPU
    assert not backends.is_accelerator(x)
    assert backends.accelerator_memory(x) is None
    assert not backends.is_accelerator(None, backend="torch")
    assert backends.default_device("torch") == torch.device("cpu")
    # What a sweep labels its report with: the device its data lands on, not the machine's GPU.
    assert backends.gpu_name("torch") is None
    assert backends.is_accelerator("cuda:1", backend="torch")
    assert backends.is_accelerator(torch.device("cuda", 0), backend="torch")
    assert backends.gpu_name("torch", device="cuda") == "Fake H100, 80 GiB"


def test_accelerators_and_their_memory(backend):
    x = on(backend, [1.0])
    where = backends.device(x)
    on_gpu = backend == "cupy" or str(where).startswith(("cuda", "gpu"))
    assert backends.is_accelerator(x) == on_gpu
    if on_gpu:
        assert backends.accelerator_memory(x) > 0
    else:
        assert backends.accelerator_memory(x) is None
        assert backends.free_memory(backend, where) > 0  # RAM, for sizing work on the CPU


def test_a_cupy_array_is_on_an_accelerator_with_its_devices_memory(monkeypatch):
    monkeypatch.setattr(_FakeCupyDevice, "current", 0)
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy_gpus(current=0))
    on_gpu1 = types.SimpleNamespace(device=_FakeCupyDevice(1))
    _pretend_owned(monkeypatch, "cupy", on_gpu1)
    assert backends.is_accelerator(on_gpu1)
    assert backends.accelerator_memory(on_gpu1) == 6_000


def test_is_accelerator_needs_the_library_of_a_device():
    with pytest.raises(TypeError, match="backend="):
        backends.is_accelerator("cuda:0")
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        backends.is_accelerator("cpu", backend="tpu")


def _cli_line(capsys, name):
    from scratchml.cli import main

    assert main(["backends"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return next(line for line in lines if line.split()[0] == name)


def test_cli_backends_says_whether_torch_sees_cuda(monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    if backends.why_unavailable("torch"):
        pytest.skip(f"torch not usable: {backends.why_unavailable('torch')}")
    if not torch.cuda.is_available():
        assert "CPU only: torch sees no CUDA device" in _cli_line(capsys, "torch")
    _torch_seeing_a_gpu(monkeypatch)
    line = _cli_line(capsys, "torch")
    assert "usable; torch sees CUDA: 2 device(s), current cuda:1 (Fake H100, 80 GiB)" in line
    assert "new tensors go to cpu" in line


class _FakeJaxGpu:
    platform = "gpu"
    device_kind = "Fake H100"

    def memory_stats(self):
        return {"bytes_limit": 64 * 2**30, "bytes_in_use": 0}

    def __str__(self):
        return "cuda:0"


def test_cli_backends_says_whether_jax_sees_a_gpu(monkeypatch, capsys):
    if backends.why_unavailable("jax"):
        pytest.skip(f"jax not usable: {backends.why_unavailable('jax')}")
    import jax

    if jax.devices()[0].platform == "cpu":
        assert "CPU only: JAX sees no GPU" in _cli_line(capsys, "jax")
    gpu = _FakeJaxGpu()
    monkeypatch.setattr(jax, "devices", lambda backend=None: [gpu])
    line = _cli_line(capsys, "jax")
    assert "usable; JAX sees a GPU: 1 gpu device(s), default cuda:0 (Fake H100, 64 GiB)" in line
    assert backends.gpu_name("jax") == "Fake H100, 64 GiB"
    assert backends.is_accelerator(gpu, backend="jax")


def _library_error(module, name, message, base=RuntimeError):
    """An exception class as a GPU library defines it (its module and name), raised with message."""
    error_type = type(name, (base,), {"__module__": module})
    return error_type(message)


OUT_OF_MEMORY = {
    "cupy-pool": _library_error(
        "cupy.cuda.memory", "OutOfMemoryError", "Out of memory allocating 4,294,967,296 bytes"
    ),
    "cublas": _library_error(
        "cupy_backends.cuda.libs.cublas", "CUBLASError", "CUBLAS_STATUS_ALLOC_FAILED"
    ),
    "cusolver": _library_error(
        "cupy_backends.cuda.libs.cusolver", "CUSOLVERError", "CUSOLVER_STATUS_ALLOC_FAILED"
    ),
    "cuda-runtime": _library_error(
        "cupy_backends.cuda.api.runtime",
        "CUDARuntimeError",
        "cudaErrorMemoryAllocation: out of memory",
    ),
    "cuda-driver": _library_error(
        "cupy_backends.cuda.api.driver",
        "CUDADriverError",
        "CUDA_ERROR_OUT_OF_MEMORY: out of memory",
    ),
    "torch": _library_error(
        "torch", "OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB"
    ),
    "torch-cublas": RuntimeError(
        "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"
    ),
    "jax": _library_error(
        "jaxlib.xla_extension",
        "XlaRuntimeError",
        "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 17179869184 bytes.",
    ),
    "numpy": MemoryError("Unable to allocate 8.00 GiB for an array"),
}

NOT_OUT_OF_MEMORY = {
    "shapes": ValueError("matmul: Input operand 1 has a mismatch in its core dimension"),
    "cublas-execution": _library_error(
        "cupy_backends.cuda.libs.cublas", "CUBLASError", "CUBLAS_STATUS_EXECUTION_FAILED"
    ),
    "no-device": _library_error(
        "cupy_backends.cuda.api.runtime", "CUDARuntimeError", "cudaErrorNoDevice"
    ),
    "jax-invalid": _library_error(
        "jaxlib.xla_extension", "XlaRuntimeError", "INVALID_ARGUMENT: bad shapes"
    ),
    "key": KeyError("W0"),
    "value-error-text": ValueError("out of memory"),  # not raised by a GPU library
}


@pytest.mark.parametrize("name", list(OUT_OF_MEMORY))
def test_every_out_of_memory_error_is_recognised(name):
    assert backends.is_out_of_memory(OUT_OF_MEMORY[name])


@pytest.mark.parametrize("name", list(NOT_OUT_OF_MEMORY))
def test_other_errors_are_not_out_of_memory(name):
    assert not backends.is_out_of_memory(NOT_OUT_OF_MEMORY[name])


def test_the_libraries_own_out_of_memory_types_are_recognised(monkeypatch):
    class PoolOutOfMemoryError(Exception):  # CuPy's type says nothing about memory in its text
        pass

    fake_cupy = types.SimpleNamespace(
        cuda=types.SimpleNamespace(
            memory=types.SimpleNamespace(OutOfMemoryError=PoolOutOfMemoryError)
        )
    )
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    assert backends.is_out_of_memory(PoolOutOfMemoryError("4294967296 bytes"))
    torch = pytest.importorskip("torch")
    assert backends.is_out_of_memory(torch.OutOfMemoryError("2 GiB"))


def test_out_of_memory_as_the_cause_of_another_error():
    try:
        try:
            raise OUT_OF_MEMORY["cublas"]
        except RuntimeError as cause:
            raise ValueError("training chunk 3 failed") from cause
    except ValueError as wrapped:
        assert backends.is_out_of_memory(wrapped)
    assert not backends.is_out_of_memory(ValueError("training chunk 3 failed"))


# ---------------------------------------------------------------------------
# SCRATCHML_REQUIRE_BACKENDS: which skips become failures


@pytest.mark.parametrize(
    ("reason", "required", "expected"),
    [
        ("cupy not usable: CuPy is installed but this machine has no CUDA GPU", ["cupy"], "cupy"),
        ("could not import 'cupy': No module named 'cupy'", ["cupy"], "cupy"),
        ("CuPy cannot reach a GPU (CUDARuntimeError: ...)", ["cupy"], "cupy"),
        ("torch sees no CUDA device", ["torch"], "torch"),
        ("cupy is usable here", ["cupy"], None),  # a skip because the backend works
        ("jax not usable: not installed", ["cupy"], None),  # not a required backend
        ("expected_failed_checks needs scikit-learn 1.6 or newer", ["cupy"], None),
    ],
)
def test_required_backend_skips_fail_only_when_the_backend_is_missing(reason, required, expected):
    from .conftest import skip_means_missing

    assert skip_means_missing(reason, required) == expected
