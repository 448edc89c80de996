"""The NVIDIA driver, and the CuPy extra that matches it."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess


def driver_cuda_version() -> tuple[int, int] | None:
    """The newest CUDA version the installed NVIDIA driver supports, e.g. (13, 0); None without one.

    Asks the driver library itself (``cuDriverGetVersion`` in libcuda), else reads the
    "CUDA Version" that ``nvidia-smi`` prints.

    Returns
    -------
    tuple of int or None
        ``(major, minor)``.
    """
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib"):
        try:
            cuda = ctypes.CDLL(name)
        except OSError:
            continue
        version = ctypes.c_int(0)
        try:
            if cuda.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value > 0:
                return version.value // 1000, version.value % 1000 // 10
        except AttributeError:
            continue
    return _nvidia_smi_cuda_version()


def _nvidia_smi_cuda_version() -> tuple[int, int] | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        text = subprocess.run(
            ["nvidia-smi"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def cuda_extra(version: tuple[int, int] | None) -> str | None:
    """The scratchml extra whose CuPy runs on a driver supporting CUDA ``version``.

    CuPy's ``cuda13x`` build needs a driver for CUDA 13, ``cuda12x`` one for CUDA 12 (a newer
    driver runs both: the newest matching build is named).

    Parameters
    ----------
    version : tuple of int or None
        ``(major, minor)``, as :func:`driver_cuda_version` gives it.

    Returns
    -------
    str or None
        ``"cuda13"`` or ``"cuda12"``; None: no driver, or one too old.
    """
    if version is None or version[0] < 12:
        return None
    return "cuda13" if version[0] >= 13 else "cuda12"


def driver_summary() -> str:
    """One line on the NVIDIA driver and the extra (``pip install "scratchml[cudaXX]"``) to use.

    Returns
    -------
    str
        The CUDA version the driver supports and the extra to install, or why there is
        none to install.
    """
    version = driver_cuda_version()
    if version is None:
        return "no NVIDIA driver found: CuPy (the cuda12/cuda13 extras) needs an NVIDIA GPU and its driver"
    extra = cuda_extra(version)
    cuda = f"{version[0]}.{version[1]}"
    if extra is None:
        return (
            f"the NVIDIA driver supports CUDA {cuda}; CuPy needs CUDA 12 or newer: "
            "update the driver, then install scratchml[cuda12] or scratchml[cuda13]"
        )
    return f"the NVIDIA driver supports CUDA {cuda}: install scratchml[{extra}] for CuPy"
