"""What machine this is: CPU model, cores, NVIDIA GPUs; shared by benchmark reports and sweeps."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what platform knows.

    Returns
    -------
    str
        e.g. 'AMD EPYC 7B13'.
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may run on (its affinity on Linux), at least 1.

    Returns
    -------
    int
        The number of cores.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_description() -> str:
    """The CPU model and its number of logical cores.

    Returns
    -------
    str
        e.g. 'AMD EPYC 7B13, 2 logical cores'.
    """
    return f"{cpu_model()}, {os.cpu_count()} logical cores"


def gpus() -> list[str]:
    """The NVIDIA GPUs of this machine (from nvidia-smi, else PyTorch).

    Returns
    -------
    list of str
        'name, driver D, memory' per GPU; empty without one.
    """
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,driver_version,memory.total",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout
            return [
                f"{name.strip()}, driver {driver.strip()}, {memory.strip()}"
                for name, driver, memory in (line.split(",") for line in out.strip().splitlines())
            ]
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def gpu_folder_name(gpu: str) -> str:
    """A folder name for reports from ``gpu`` (a name as ``gpus`` gives it).

    'NVIDIA H100 80GB HBM3, driver 580.1, 81559 MiB' gives 'gpu-h100-80gb-hbm3';
    'NVIDIA H200' gives 'gpu-h200': the whole model name, never just its last word.

    Parameters
    ----------
    gpu : str
        One entry of ``gpus()``.

    Returns
    -------
    str
        The folder name.
    """
    model = gpu.split(",")[0].strip().lower().removeprefix("nvidia ").strip()
    return "gpu-" + (re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "unknown")
