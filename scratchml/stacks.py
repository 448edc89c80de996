"""Stacks of networks trained at once on a model axis: the public home of the stack estimators.

``from scratchml.stacks import StackedMLPClassifier`` is the documented import; the
classes are written in :mod:`scratchml.estimators.stacks`.
"""

from .estimators.stacks import StackedMLPClassifier, StackedMLPRegressor

__all__ = ["StackedMLPClassifier", "StackedMLPRegressor"]
