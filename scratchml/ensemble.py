"""The former name of :mod:`scratchml.stacks`, kept so that existing imports keep working.

The module holds stacks of networks trained at once on a model axis, not ensembles
(nothing here averages their predictions), hence the new name.
"""

from .stacks import StackedMLPClassifier, StackedMLPRegressor

__all__ = ["StackedMLPClassifier", "StackedMLPRegressor"]
