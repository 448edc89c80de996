"""The unit p-norm ball as p sweeps from 0.1 to 100 and back."""

from __future__ import annotations

from pathlib import Path

from .. import viz
from ._common import DEFAULT_OUT, DemoResult, documented, prepare


@documented
def run(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """GIF of {x : ‖x‖_p = 1} for p log-spaced from 0.1 to 100 and back (pure geometry)."""
    folder = prepare(out, size)
    n_frames = 8 if size == "small" else 80
    gif = viz.unit_norm_animation(
        folder / "unit_norms.gif", p_min=0.1, p_max=100.0, n_frames=n_frames
    )
    return DemoResult("unit_norms", [gif], {"frames": n_frames})
