"""The estimators: scikit-learn's face on the math of :mod:`scratchml.nn`.

- :mod:`~scratchml.estimators.base`: ``BaseEstimator``, the plumbing every estimator shares
  (hyper-parameter tables, ``get_params`` / ``set_params``, fitted checks, ``save``);
- :mod:`~scratchml.estimators.network`: what every model trained by backprop shares (fit,
  loss, gradients, targets) and the hyper-parameters they have in common;
- :mod:`~scratchml.estimators.linear`: ``LinearRegression``, ``LogisticRegression``;
- :mod:`~scratchml.estimators.mlp`: ``MLPClassifier``, ``MLPRegressor``;
- :mod:`~scratchml.estimators.stacks`: ``StackedMLPClassifier``, ``StackedMLPRegressor``;
- :mod:`~scratchml.estimators.saving`: ``save`` and ``load`` (.npz, never pickle).

The math they train with lives in :mod:`scratchml.nn`, which imports nothing from here.
"""

from .base import BaseEstimator
from .linear import LinearRegression, LogisticRegression
from .mlp import MLPClassifier, MLPRegressor
from .saving import load, save
from .stacks import StackedMLPClassifier, StackedMLPRegressor

__all__ = [
    "BaseEstimator",
    "LinearRegression",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    "StackedMLPClassifier",
    "StackedMLPRegressor",
    "load",
    "save",
]
