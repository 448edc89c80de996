"""scratchml: machine learning from scratch, written once on the Python Array API standard.

The same readable matrix math trains on NumPy, CuPy, PyTorch and array-api-strict
arrays: the namespace follows the data.
"""

from . import _moved, backends, data, estimators, nn, stacks
from .estimators import (
    LinearRegression,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    StackedMLPClassifier,
    StackedMLPRegressor,
    load,
    save,
)
from .exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    DivergenceError,
    NotFittedError,
)

__version__ = "0.1.0"

_moved.install()  # the estimators' former module paths still import, with a FutureWarning

__all__ = [
    "ConvergenceWarning",
    "DataConversionWarning",
    "DivergenceError",
    "LinearRegression",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    "NotFittedError",
    "StackedMLPClassifier",
    "StackedMLPRegressor",
    "__version__",
    "backends",
    "data",
    "estimators",
    "load",
    "nn",
    "save",
    "stacks",
]
