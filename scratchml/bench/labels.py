"""What each implementation is called in the cases, the rows, the report and the charts.

The lowest module of the benchmarks: the cases name their implementations with it, the
results label their rows with it, and it imports nothing of theirs.
"""

from __future__ import annotations

# What each implementation is called in reports; the ratios' columns use these names.
PEER_NAMES = {
    "pytorch": "PyTorch eager",
    "sklearn": "scikit-learn",
    "jax": "JAX jit",
    "pytorch-stacked": "PyTorch stacked (bmm)",
    "jax-vmap": "JAX vmap+jit",
    "one-by-one": "one by one",
}


def label(impl: str | None, backend: str | None, device: str | None) -> str:
    """Who ran a row, in words: "scratchml · numpy", "GEMM ceiling · torch (cuda)", ..."""
    on_gpu = " (cuda)" if device == "cuda" else ""
    if impl == "scratchml":
        return f"scratchml · {backend}{on_gpu}"
    if impl == "gemm":
        return f"GEMM ceiling · {backend}{on_gpu}"
    if impl == "one-by-one":
        return f"one by one · {backend}{on_gpu}"
    if impl in PEER_NAMES:
        return PEER_NAMES[impl] + on_gpu
    return f"{impl} · {backend}{on_gpu}"


def peer_name(impl: str) -> str:
    """The display name of implementation ``impl`` (e.g. "PyTorch eager"); ``impl`` itself if unnamed."""
    return PEER_NAMES.get(impl, impl)
