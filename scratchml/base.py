"""Estimator plumbing shared by every model: parameters, fitted checks, saving."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Self

from .exceptions import NotFittedError


class BaseEstimator:
    """scikit-learn style: hyper-parameters are ``__init__`` keywords, stored unchanged."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # inspect.signature(cls) reads a custom __new__(*args, **kwargs) before __init__;
        # tools that build estimators from the signature need the hyper-parameters.
        init = inspect.signature(cls.__init__)
        cls.__signature__ = init.replace(
            parameters=list(init.parameters.values())[1:],
            return_annotation=inspect.Signature.empty,
        )

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

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
        return {name: getattr(self, name) for name in self._param_names()}

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

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not (value is defaults.get(name) or value == defaults.get(name))
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
        from .io import save

        return save(self, path)
