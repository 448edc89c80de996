"""Errors and warnings raised by scratchml.

scikit-learn is optional. When it is loaded, ``NotFittedError`` and
``DataConversionWarning`` are raised as subclasses that also derive from
scikit-learn's classes of the same name, so its tools (``check_estimator``,
``GridSearchCV``, ``except sklearn.exceptions.NotFittedError``) recognise them.
Deciding at raise time rather than at import time keeps ``import scratchml``
from importing scikit-learn; code that catches scikit-learn's class has
imported scikit-learn already, so it always gets the subclass.
"""

from __future__ import annotations

import functools
import sys
from typing import Any


class DivergenceError(ArithmeticError):
    """Training produced a non-finite loss; the model keeps its last finite parameters.

    Parameters
    ----------
    message : str
        What happened and what to try.
    epoch : int
        The epoch whose loss was not finite (also the attribute ``epoch``).
    loss : float
        That loss, NaN or infinite (also the attribute ``loss``).
    """

    def __init__(self, message: str, epoch: int, loss: float) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.loss = loss

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.epoch, self.loss))


@functools.cache
def _with_sklearn_base(cls: type, sklearn_name: str) -> type:
    """A subclass of ``cls`` and of ``sklearn.exceptions.<sklearn_name>`` (same name and doc)."""
    import sklearn.exceptions

    base = getattr(sklearn.exceptions, sklearn_name)
    namespace = {
        "__module__": cls.__module__,
        "__doc__": cls.__doc__,
        "__qualname__": cls.__qualname__,
    }
    return type(cls.__name__, (cls, base), namespace)


def _sklearn_loaded() -> bool:
    return "sklearn" in sys.modules


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``.

    A ``ValueError`` and an ``AttributeError`` (as scikit-learn's), and an instance
    of ``sklearn.exceptions.NotFittedError`` whenever scikit-learn is loaded.

    Parameters
    ----------
    *args, **kwargs
        As for any exception: the message first.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> NotFittedError:
        if cls is NotFittedError and _sklearn_loaded():
            cls = _with_sklearn_base(NotFittedError, "NotFittedError")
        return super().__new__(cls, *args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (e.g. from a joblib worker) by the public class; unpickling picks the
        # scikit-learn flavour again if the receiving process has scikit-learn loaded.
        return (NotFittedError, self.args)


class DataConversionWarning(UserWarning):
    """Input was converted to what the model expects (e.g. a column-vector y was raveled)."""


class ConvergenceWarning(UserWarning):
    """Training stopped without reaching a good solution (e.g. the loss rose and stalled)."""


def sklearn_flavour(category: type[Warning]) -> type[Warning]:
    """The category to warn with: also scikit-learn's class of the same name when it is loaded.

    Parameters
    ----------
    category : type of Warning
        One of this module's warning classes.

    Returns
    -------
    type of Warning
        ``category``, or a subclass of it and of scikit-learn's class of the same name.
    """
    if _sklearn_loaded():
        return _with_sklearn_base(category, category.__name__)  # type: ignore[arg-type]  # classes hash
    return category


def data_conversion_warning() -> type[Warning]:
    """DataConversionWarning, in scikit-learn's flavour when scikit-learn is loaded.

    Returns
    -------
    type of Warning
        The category to warn with.
    """
    return sklearn_flavour(DataConversionWarning)
