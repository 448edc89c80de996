"""The order of the gallery: the Learn track's chapters by number, then the demos as a
reader meets their topics (the demos' models in the track's order, then the tools)."""

from __future__ import annotations

from pathlib import Path

ORDER = [
    "demo_linear_regression.py",
    "demo_logistic_classification.py",
    "demo_network_graph.py",
    "demo_spirals.py",
    "demo_unit_norms.py",
    "sweep_spirals.py",
    "sweep_digits.py",
    "benchmark_backends.py",
    "backend_switch.py",
]


class TrackOrder:
    """sphinx-gallery's ``within_subsection_order``: a sort key for a subsection's scripts.

    ``learn_NN_*.py`` sort by their chapter number (their names), the others by ``ORDER``;
    a script in neither comes last, by name.
    """

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        if name.startswith("learn_"):
            return (0, name)
        if name in ORDER:
            return (1 + ORDER.index(name), name)
        return (1 + len(ORDER), name)

    def __repr__(self) -> str:  # sphinx-gallery compares configurations by their repr
        return f"TrackOrder({self.src_dir!r})"
