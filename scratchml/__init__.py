"""scratchml: machine learning from scratch, written once on the Python Array API standard.

The same readable matrix math trains on NumPy, CuPy, PyTorch and array-api-strict
arrays: the namespace follows the data.
"""

from . import backends, data, stacks
from .exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    DivergenceError,
    NotFittedError,
)
from .io import load, save
from .linear import LinearRegression, LogisticRegression
from .nn import MLPClassifier, MLPRegressor
from .stacks import StackedMLPClassifier, StackedMLPRegressor

__version__ = "0.1.0"

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
    "load",
    "save",
    "stacks",
]
