"""The precision of float32 matrix products, set alike for every implementation of a run.

On an NVIDIA GPU since Ampere a float32 matrix product may run on the tensor cores in TF32
(a 10-bit mantissa) instead of full FP32, and the libraries disagree by default: JAX (XLA)
uses TF32 unless told otherwise, PyTorch and CuPy use full FP32. Timing them side by side
as they come would compare different arithmetic. A run therefore sets one precision for
all of them before any library starts:

- ``"float32"`` (the default): full FP32 everywhere — JAX's
  ``jax_default_matmul_precision="highest"``, torch's
  ``set_float32_matmul_precision("highest")``, CuPy without ``CUPY_TF32``, and
  ``NVIDIA_TF32_OVERRIDE=0``, which keeps cuBLAS and cuDNN off TF32 whatever a library asks;
- ``"tf32"``: TF32 for every float32 product on a GPU — ``"tensorfloat32"``, ``"high"``,
  ``CUPY_TF32=1``.

Each measurement records the precision its products ran in (:func:`label`): ``FP64`` for a
float64 case, ``FP32`` on a CPU (which has no TF32) or with ``"float32"``, ``TF32`` for
float32 on a GPU with ``"tf32"``.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping

PRECISIONS = ("float32", "tf32")
DEFAULT = "float32"
# JAX's setting, torch's, and CuPy's environment variable, per precision.
_JAX = {"float32": "highest", "tf32": "tensorfloat32"}
_TORCH = {"float32": "highest", "tf32": "high"}
_CUPY = {"float32": "0", "tf32": "1"}


def check(precision: str) -> str:
    """``precision`` when it is one of ``PRECISIONS``; else a ValueError naming it."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(map(repr, PRECISIONS))}; got {precision!r}"
        )
    return precision


def set_environment(env: MutableMapping[str, str], precision: str) -> None:
    """Set ``precision`` in the environment of a process that has not loaded the libraries
    yet (JAX and CuPy read these variables when they load)."""
    check(precision)
    env["JAX_DEFAULT_MATMUL_PRECISION"] = _JAX[precision]
    env["CUPY_TF32"] = _CUPY[precision]
    if precision == "float32":
        env["NVIDIA_TF32_OVERRIDE"] = "0"
    else:
        env.pop("NVIDIA_TF32_OVERRIDE", None)


def apply(precision: str) -> None:
    """Set ``precision`` in the libraries this process has loaded (torch, JAX)."""
    check(precision)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_float32_matmul_precision(_TORCH[precision])
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.config.update("jax_default_matmul_precision", _JAX[precision])


def label(dtype: str, device: str, precision: str) -> str:
    """The precision a measurement's products ran in: "FP64", "FP32" or "TF32"."""
    if dtype == "float64":
        return "FP64"
    return "TF32" if precision == "tf32" and device == "cuda" else "FP32"
