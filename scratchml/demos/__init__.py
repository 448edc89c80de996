"""The demos of the original collection, rebuilt on this library.

Each demo is a ``run(backend="numpy", out="scratchml-demos", size="default" | "small",
seed=0, progress=True)`` function that trains on the chosen backend, writes its
pictures into ``out`` and returns a ``DemoResult`` (files written, metrics, fitted
model). ``size="small"`` is a fast version (fewer points, frames and epochs; a smaller
model that is still trained); the README's pictures are the default size, written
with ``out="demos/results"``.
"""

from ._common import DemoResult
from .linear_regression import run as linear_regression
from .logistic_classification import run as logistic_classification
from .network_graph import run as network_graph
from .spirals import run_three as three_spirals
from .spirals import run_two as two_spirals
from .unit_norms import run as unit_norms

DEMOS = {
    "network_graph": network_graph,
    "two_spirals": two_spirals,
    "three_spirals": three_spirals,
    "linear_regression": linear_regression,
    "logistic_classification": logistic_classification,
    "unit_norms": unit_norms,
}

__all__ = ["DEMOS", "DemoResult", *DEMOS]
