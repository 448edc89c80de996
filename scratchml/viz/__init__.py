"""Pictures: matplotlib figures and GIFs, headless. Arrays from any backend are copied to the host."""

from ._common import new_figure, save_figure
from .animations import (
    layer_transformation_animation,
    regression_animation,
    unit_ball,
    unit_norm_animation,
)
from .boundary import decision_boundary, loss_curve, plane_grid, save_decision_boundary
from .graph import network_graph
from .sweep import sweep_curves, sweep_heatmap, sweep_pictures

__all__ = [
    "decision_boundary",
    "layer_transformation_animation",
    "loss_curve",
    "network_graph",
    "new_figure",
    "plane_grid",
    "regression_animation",
    "save_decision_boundary",
    "save_figure",
    "sweep_curves",
    "sweep_heatmap",
    "sweep_pictures",
    "unit_ball",
    "unit_norm_animation",
]
