"""Estimator plumbing shared by every model: parameters, fitted checks, saving.

Each estimator declares its hyper-parameters once, in a table (``_hyperparameters``:
name → ``HyperParameter``: default, valid values, meaning), and its fitted attributes in
another (``_fitted_attributes``). Its ``__init__`` is written out, typed, storing each
parameter unchanged as scikit-learn requires, so that readers, IDEs and type checkers
see it; ``BaseEstimator`` refuses a class whose ``__init__`` disagrees with its table
(names, order, defaults), and derives from the tables ``get_params`` / ``set_params``,
the checks ``fit`` runs before training, and the Parameters and Attributes sections of
the class docstring.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

from .._validation import HyperParameter, short_repr
from ..exceptions import NotFittedError
from . import saving

# What scikit-learn calls the same things: the slips a scikit-learn user makes first.
SCIKIT_LEARN_NAMES = {
    "hidden_layer_sizes": "hidden_layers",
    "learning_rate_init": "learning_rate",
    "max_iter": "epochs",
    "alpha": "l2",
    "C": "l2 (C = 1 / (l2 · n_samples))",
    "random_state": "seed",
    "solver": "optimizer",
    "verbose": "progress",
    "loss": "loss_function",
    # The stacks' former name for their number of networks.
    "n_models": "n_networks",
}


def reject_unknown_arguments(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """TypeError naming the class, the slip, a suggestion and the valid parameters.

    ``cls`` is the estimator class; its ``_hyperparameters`` table lists the valid names.

    Parameters
    ----------
    args : tuple
        The positional arguments given to ``__init__`` (after ``self``).
    kwargs : dict
        The keyword arguments given to ``__init__``.

    Raises
    ------
    TypeError
        If there are more positional arguments than parameters, or a keyword is not a
        parameter (the message suggests the name meant, scikit-learn's names included).
    """
    valid = list(cls._hyperparameters)  # type: ignore[attr-defined]
    if len(args) > len(valid):
        raise TypeError(
            f"{cls.__name__} takes at most {len(valid)} arguments ({', '.join(valid)}); "
            f"got {len(args)} positional arguments"
        )
    for name in kwargs:
        if name in valid:
            continue
        suggestion = SCIKIT_LEARN_NAMES.get(name)
        if suggestion is None or suggestion.split()[0] not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            suggestion = close[0] if close else None
        hint = f"; did you mean {suggestion}?" if suggestion else "."
        raise TypeError(
            f"{cls.__name__} got an unexpected keyword argument {name!r}{hint} "
            f"Valid parameters are: {', '.join(valid)}"
        )


def check_signature(estimator_class: type) -> None:
    """TypeError unless ``cls.__init__`` takes exactly the table's parameters, in its order,
    each with the table's default.

    The signature is what readers, IDEs and type checkers see; the table is what ``fit``
    checks, the docstring shows and the sweep grid validates. This keeps the two one
    declaration: a class whose ``__init__`` disagrees with its table cannot be defined.

    Parameters
    ----------
    estimator_class : type
        An estimator class with a ``_hyperparameters`` table.

    Raises
    ------
    TypeError
        If a name, its position or its default differs.
    """
    cls = estimator_class
    table = cls._hyperparameters  # type: ignore[attr-defined]
    parameters = list(inspect.signature(cls).parameters.values())
    names = [p.name for p in parameters]
    if names != list(table):
        raise TypeError(
            f"{cls.__name__}.__init__ takes ({', '.join(names)}), but its hyper-parameter "
            f"table declares ({', '.join(table)})"
        )
    for parameter in parameters:
        default = table[parameter.name].default
        if not (parameter.default is default or _same(parameter.default, default)):
            raise TypeError(
                f"{cls.__name__}.__init__ gives {parameter.name} the default "
                f"{parameter.default!r}; its table declares {default!r}"
            )


def _friendly_unknown_arguments(init: Any) -> Any:
    """``init``, raising :func:`reject_unknown_arguments`'s TypeError for a slip first."""

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        reject_unknown_arguments(type(self), args, kwargs)
        init(self, *args, **kwargs)

    __init__._checks_arguments = True  # type: ignore[attr-defined]
    return __init__


def _section(title: str, entries: list[tuple[str, str, str]]) -> str:
    """A numpydoc section: ``name : type`` lines, each followed by its indented description."""
    lines = [title, "-" * len(title)]
    for name, kind, text in entries:
        lines.append(f"{name} : {kind}")
        lines.append(
            textwrap.fill(
                text,
                width=88,
                initial_indent="    ",
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _attribute_name(cls: type, name: str) -> str:
    """``name`` as the Attributes section writes it: ``coef\\_`` for a property of the class.

    numpydoc turns the entry of an attribute the class itself defines (a property such
    as ``coef_``) into a cross-reference ``.coef_`` to it, which is ambiguous wherever the
    class is documented twice (on the top-level page and on its module's). The escaped
    underscore renders the same name and matches no attribute, so the entry is plain
    text with the table's description.
    """
    if name.endswith("_") and hasattr(cls, name):
        return name[:-1] + "\\_"
    return name


def _document(cls: type) -> str:
    """The class docstring: its own text, then Parameters and Attributes from the tables."""
    own = inspect.cleandoc(cls.__dict__["__doc__"])
    parameters = [(name, p.type_text(), p.doc_text()) for name, p in cls._hyperparameters.items()]  # type: ignore[attr-defined]
    attributes = [
        (_attribute_name(cls, name), kind, text)
        for name, (kind, text) in cls._fitted_attributes.items()  # type: ignore[attr-defined]
    ]
    sections = [own, _section("Parameters", parameters)]
    if attributes:
        sections.append(_section("Attributes", attributes))
    return "\n\n".join(sections) + "\n"


class BaseEstimator:
    """scikit-learn style: hyper-parameters are ``__init__`` keywords, stored unchanged."""

    # Declared by each estimator: its hyper-parameters, and what fit sets.
    _hyperparameters: Mapping[str, HyperParameter] = MappingProxyType({})
    _fitted_attributes: Mapping[str, tuple[str, str]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            saving.register_model_class(cls)
        if "_hyperparameters" in cls.__dict__:
            cls._hyperparameters = MappingProxyType(dict(cls._hyperparameters))
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_checks_arguments", False):
            cls.__init__ = _friendly_unknown_arguments(init)  # type: ignore[method-assign]
        if cls._hyperparameters:
            check_signature(cls)
        if cls._hyperparameters and cls.__dict__.get("__doc__"):
            cls.__doc__ = _document(cls)

    @classmethod
    def hyperparameter_table(cls) -> Mapping[str, HyperParameter]:
        """Every hyper-parameter of the estimator: name → its default, valid values and doc.

        Read-only, in ``__init__``'s order. ``table[name].check(value, name)`` raises the
        ValueError ``fit`` would raise for a bad value; ``table[name].default`` is the
        default ``__init__`` uses.

        Returns
        -------
        Mapping of str to HyperParameter
            The table, read-only.
        """
        return cls._hyperparameters

    @classmethod
    def _param_names(cls) -> list[str]:
        return list(cls._hyperparameters)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters as a dict.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn; no parameter here is itself an estimator.

        Returns
        -------
        dict
            Each ``__init__`` parameter's name and its value as stored.
        """
        return {name: getattr(self, name) for name in self._hyperparameters}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters by name; unknown names raise ValueError listing the valid ones.

        Parameters
        ----------
        **params
            ``__init__`` parameters by name, with their new values.

        Returns
        -------
        self
            The estimator, for chaining (``set_params(...).fit(X, y)``).
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters are {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self

    def _validate_params(self) -> None:
        """ValueError naming the first parameter whose value its table entry does not accept."""
        for name, parameter in self._hyperparameters.items():
            parameter.check(getattr(self, name), name)

    def __repr__(self) -> str:
        changed = [
            f"{name}={short_repr(value)}"
            for name, value in self.get_params().items()
            if not _same(value, self._hyperparameters[name].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """Estimator tags for scikit-learn's tools (only scikit-learn calls this, so it is there).

        Dense 2-D real input, no NaN; regressors take one target or several; the
        estimators take Array API inputs (the namespace follows the data).
        """
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        kind = getattr(self, "_estimator_type", None)
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=True, multi_output=kind == "regressor"),
            classifier_tags=ClassifierTags() if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
            input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False),
            array_api_support=True,
        )

    def _fitted_marker(self) -> str:
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        """What ``sklearn.utils.validation.check_is_fitted`` asks."""
        return hasattr(self, self._fitted_marker())

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; "
                "call fit(X, y) before using it"
            )

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path`` (.npz: arrays + JSON metadata, no pickle).

        Parameters
        ----------
        path : str or Path
            Where to write the file; :func:`scratchml.load` reads it back on any backend.

        Returns
        -------
        Path
            ``path``.
        """
        return saving.save(self, path)


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter still has its default (arrays never compare equal to one)."""
    if value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False
