"""The run's environment: devices, library versions and the machine (from scratchml.machine)."""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import platform
from typing import Any

from .. import backends, machine


@functools.cache
def cuda_available() -> bool:
    """True when PyTorch sees a CUDA device."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


@functools.cache
def jax_has_gpu() -> bool:
    """True when JAX sees a GPU."""
    if importlib.util.find_spec("jax") is None:
        return False
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def device_of(backend: str) -> str:
    """Where scratchml computes on ``backend``: "cuda" for CuPy, PyTorch with CUDA, JAX on a GPU."""
    if backend == "cupy" or (backend == "torch" and cuda_available()):
        return "cuda"
    if backend == "jax" and jax_has_gpu():
        return "cuda"
    return "cpu"


def default_backends() -> list[str]:
    """The backends a run times unless told: every usable one but array_api_strict.

    array_api_strict proves portability, not speed (it wraps NumPy and checks every
    call); ``--backend array_api_strict`` times it when asked.
    """
    return [name for name in backends.available() if name != "array_api_strict"]


def wait(x: Any) -> None:
    """Wait until the device work that produces ``x`` is done (GPU work runs asynchronously)."""
    if hasattr(x, "block_until_ready"):  # JAX
        x.block_until_ready()
    else:
        backends.synchronize(x)


def usable_gpus() -> list[str]:
    """The NVIDIA GPUs a run can use (none when neither CuPy nor PyTorch can reach one)."""
    if cuda_available() or not backends.why_unavailable("cupy"):
        return machine.gpus()
    return []


def machine_kind() -> str:
    """A folder name for this machine's reports: "cpu", or e.g. "gpu-h100-80gb-hbm3"."""
    gpus = usable_gpus()
    return machine.gpu_folder_name(gpus[0]) if gpus else "cpu"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment_info() -> dict[str, Any]:
    """The machine and library versions, for the report (JSON-serialisable)."""
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in (
        "scratchml", "numpy", "array-api-compat", "array-api-strict", "torch",
        "scikit-learn", "jax", "jaxlib",
    ):  # fmt: skip
        found = _version(name)
        if found:
            versions[name] = found
    if importlib.util.find_spec("cupy") is not None:
        try:
            import cupy

            versions["cupy"] = cupy.__version__
            versions["cuda runtime (cupy)"] = str(cupy.cuda.runtime.runtimeGetVersion())
        except Exception as exc:  # a CuPy without a usable CUDA still has a version to report
            versions["cupy"] = f"not usable ({type(exc).__name__})"
    if "torch" in versions:
        import torch

        versions["torch"] += f" (CUDA {torch.version.cuda}, CPU threads: {torch.get_num_threads()})"
    blas = []
    if importlib.util.find_spec("threadpoolctl") is not None:
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl should see)
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                blas.append(
                    f"{pool.get('internal_api')} {pool.get('version')} "
                    f"(threads: {pool.get('num_threads')})"
                )
    return {
        "scratchml_env": {
            "cpu_model": machine.cpu_model(),
            "logical_cpus": os.cpu_count(),
            "usable_cpus": machine.usable_cores(),
            "gpus": usable_gpus(),
            "os": f"{platform.system()} {platform.release()}",
            "versions": versions,
            "blas": sorted(set(blas)),
        }
    }


def machine_line(env: dict[str, Any]) -> str:
    """The machine in one line: CPU model and cores, GPUs (``env``: a run's scratchml_env)."""
    cores = env.get("logical_cpus")
    usable = env.get("usable_cpus")
    line = f"{env.get('cpu_model', '?')}, {cores} logical cores"
    if usable and usable != cores:
        line += f" ({usable} usable)"
    gpus = env.get("gpus") or []
    return line + ("; GPU: " + "; ".join(gpus) if gpus else "; no GPU")


def machine_title(env: dict[str, Any]) -> str:
    """The machine in a few words, for a title: the GPU's model if any, else the CPU's."""
    gpus = env.get("gpus") or []
    cpu = f"{env.get('cpu_model', 'unknown CPU')} ({env.get('logical_cpus', '?')} cores)"
    if gpus:
        return f"{gpus[0].split(',')[0].strip()} on {cpu}"
    return cpu
