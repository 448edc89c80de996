"""Optimizers: the update rules, applied to all parameters at once as one vector θ.

``state = opt.init(xp, theta)`` then ``theta, state = opt.step(xp, theta, grad, state)``,
where θ and its gradient g hold every weight and bias of the network in one array
(``nn.parameters``): each rule below is a few array operations, whatever the
number of layers. Nothing is updated in place, so a saved reference to old
parameters stays valid (this is how a diverging run keeps its last finite ones).

For a stack of M networks θ is (M, P) and the learning rate may be an array of
shape (M,), one rate per network, in θ's namespace and dtype; it multiplies each
network's row.

The arithmetic goes through ``kernels`` (``nn.kernels``): the formulas themselves, unless
a speed path hands in faster forms (PyTorch's ``lerp`` and ``addcdiv``, for example).

Each optimizer declares its own settings (``Momentum``'s ``momentum``, ``Adam``'s
``beta_1``, ``beta_2``, ``epsilon``) once, in ``settings``: default, valid range and
meaning. Everything that trains with an optimizer — the estimators, stacks, the sweep
grid and its reports, the docs — asks it for them. Adding an optimizer is one subclass of
``Optimizer`` with a ``name``, in any module: defining it registers it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from .._validation import Interval, check_value
from .kernels import PLAIN, Kernels


class Setting(NamedTuple):
    """One setting of an optimizer beyond the learning rate: default, valid range, meaning.

    Parameters
    ----------
    default : float
        The value the optimizer uses when none is given.
    low : float
        The smallest valid value (included unless ``closed`` says otherwise).
    high : float or None
        The largest (None: no upper bound).
    closed : str
        Which ends are valid values: 'both', 'left', 'right' or 'neither'.
    doc : str
        What the setting does, for the estimators' and the sweep's documentation.
    """

    default: float
    low: float
    high: float | None
    closed: str
    doc: str

    def constraint(self) -> Interval:
        """The valid values, as the estimators' tables and every value check state them.

        Returns
        -------
        Interval
            Real numbers from ``low`` to ``high``, ends as ``closed`` says.
        """
        return Interval(float, self.low, self.high, self.closed)


# The registry: name -> optimizer class, filled as each subclass of Optimizer is defined.
OPTIMIZERS: dict[str, type[Optimizer]] = {}


class Optimizer:
    """What every optimizer is: a name, its declared settings, and a pure ``init`` / ``step``.

    A subclass names itself and declares its settings; ``__init__`` takes the learning rate
    and those settings as keywords (defaults from the declaration) and checks them::

        class RMSprop(Optimizer, name="rmsprop"):
            settings = {"rho": Setting(0.9, 0, 1, "left", "decay rate of the squares")}

            def init(self, xp, theta): ...
            def step(self, xp, theta, grad, state, kernels=PLAIN): ...

    Parameters
    ----------
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    **settings : float
        The optimizer's own settings, by name (each defaults to its declaration).
    """

    name: ClassVar[str] = ""
    settings: ClassVar[Mapping[str, Setting]] = MappingProxyType({})
    # Each setting's default, by name: derived from ``settings`` (the form earlier releases
    # declared).
    hyperparameters: ClassVar[Mapping[str, float]] = MappingProxyType({})

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.settings = MappingProxyType(dict(cls.settings))
        cls.hyperparameters = MappingProxyType({k: v.default for k, v in cls.settings.items()})
        # What readers and IDEs see: the learning rate, then each setting with its default.
        keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
        cls.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("learning_rate", keyword, annotation=Any),
                *(
                    inspect.Parameter(k, keyword, default=v.default, annotation=float)
                    for k, v in cls.settings.items()
                ),
            ]
        )
        if name is not None:
            cls.name = name
            register(cls)

    def __init__(self, learning_rate: Any, **settings: float) -> None:
        unknown = sorted(set(settings) - set(self.settings))
        if unknown:
            valid = ", ".join(self.settings) or "none"
            raise ValueError(
                f"optimizer {self.name!r} has no setting {unknown[0]!r}; its settings are: {valid}"
            )
        self.learning_rate = learning_rate
        for setting, declared in self.settings.items():
            value = settings.get(setting, declared.default)
            try:
                check_value(value, setting, declared.constraint())
            except ValueError as exc:
                raise ValueError(f"{exc} (a setting of optimizer {self.name!r})") from None
            setattr(self, setting, float(value))

    def init(self, xp: Any, theta: Any) -> Any:
        """The optimizer's state for parameters θ (None if it keeps none).

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).

        Returns
        -------
        object
            The initial state.
        """
        raise NotImplementedError

    def step(
        self, xp: Any, theta: Any, grad: Any, state: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, state)``, new arrays, nothing changed in place.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).
        grad : array
            The gradient g of the objective, shaped like θ.
        state : object
            The optimizer's state, from ``init`` or the previous step.
        kernels : Kernels, default PLAIN
            The operations to compute with: the plain definitions, or a speed path's.

        Returns
        -------
        theta : array
            The updated θ.
        state : object
            The updated state.
        """
        raise NotImplementedError


def register(optimizer_class: type[Optimizer]) -> None:
    """Add an optimizer class to ``OPTIMIZERS`` under its ``name``.

    A setting two optimizers share (Adam's and AdamW's ``beta_1``, say) must be declared
    alike in both, so that one estimator parameter can stand for it.

    Parameters
    ----------
    optimizer_class : type
        A subclass of ``Optimizer`` with a ``name``.

    Raises
    ------
    ValueError
        If a shared setting is declared differently, or the name is empty.
    """
    cls = optimizer_class
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a name: class {cls.__name__}(Optimizer, name=...)")
    for other in OPTIMIZERS.values():
        if other.name == cls.name:
            continue
        for setting, declared in cls.settings.items():
            theirs = other.settings.get(setting)
            if theirs is not None and theirs[:4] != declared[:4]:
                raise ValueError(
                    f"optimizer {cls.name!r} declares {setting} as {declared[:4]}, but "
                    f"{other.name!r} declares it as {theirs[:4]}; a shared setting has one "
                    "default and one range"
                )
    OPTIMIZERS[cls.name] = cls


def all_settings() -> dict[str, Setting]:
    """Every registered optimizer's settings, by name (a shared one once).

    Returns
    -------
    dict of str to Setting
        In the order the optimizers were registered.
    """
    found: dict[str, Setting] = {}
    for cls in OPTIMIZERS.values():
        for setting, declared in cls.settings.items():
            found.setdefault(setting, declared)
    return found


class SGD(Optimizer, name="sgd"):
    """θ ← θ − η·g.

    Parameters
    ----------
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    """

    def init(self, xp: Any, theta: Any) -> Any:
        """No state: plain gradient descent remembers nothing."""
        return None

    def step(
        self, xp: Any, theta: Any, grad: Any, state: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, state)``."""
        return kernels.subtract_scaled(xp, theta, grad, self.learning_rate), state  # θ − η·g


class Momentum(Optimizer, name="momentum"):
    """Heavy-ball momentum: v ← μ·v + g;  θ ← θ − η·v.

    ``momentum`` is μ (scikit-learn's name); the same rule as ``torch.optim.SGD`` with
    ``momentum=μ, dampening=0``.

    Parameters
    ----------
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    momentum : float, default 0.9
        μ, the fraction of the velocity kept from step to step.
    """

    settings = {  # noqa: RUF012 - frozen when the class is made
        "momentum": Setting(
            0.9,
            0,
            1,
            "left",
            """The momentum μ of optimizer='momentum', the fraction of the velocity kept each
            step (v ← μ·v + g; θ ← θ − η·v; as torch.optim.SGD(momentum=μ, dampening=0));
            0 is plain gradient descent.""",
        )
    }
    momentum: float

    def init(self, xp: Any, theta: Any) -> Any:
        """The velocity v, zeros like θ."""
        return xp.zeros_like(theta)

    def step(
        self, xp: Any, theta: Any, grad: Any, velocity: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, velocity)``."""
        velocity = kernels.add_scaled(xp, grad, velocity, self.momentum)  # v ← g + μ·v
        return kernels.subtract_scaled(xp, theta, velocity, self.learning_rate), velocity  # θ − η·v


class Adam(Optimizer, name="adam"):
    """Adam (Kingma & Ba): bias-corrected first and second moment estimates.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  m̂ = m / (1−β₁ᵗ);  v̂ = v / (1−β₂ᵗ)
    θ ← θ − η·m̂ / (√v̂ + ε)

    As the paper's own efficient form (its section 2), the two bias corrections are
    folded into the step size, which is a number per step rather than an array:
    η·m̂ / (√v̂ + ε) = η_t·m / (√v + ε̂) with η_t = η·√(1−β₂ᵗ) / (1−β₁ᵗ) and
    ε̂ = ε·√(1−β₂ᵗ) — the same update, two array operations fewer.
    ``beta_1``, ``beta_2`` and ``epsilon`` are β₁, β₂ and ε (scikit-learn's names).

    Parameters
    ----------
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    beta_1 : float, default 0.9
        β₁, the decay rate of the first moment estimate.
    beta_2 : float, default 0.999
        β₂, the decay rate of the second moment estimate.
    epsilon : float, default 1e-8
        ε, added to √v̂ so that the step never divides by zero.
    """

    settings = {  # noqa: RUF012 - frozen when the class is made
        "beta_1": Setting(
            0.9,
            0,
            1,
            "left",
            """Adam's decay rate β₁ of the first-moment estimate: m ← β₁·m + (1 − β₁)·g.""",
        ),
        "beta_2": Setting(
            0.999,
            0,
            1,
            "left",
            """Adam's decay rate β₂ of the second-moment estimate: v ← β₂·v + (1 − β₂)·g².""",
        ),
        "epsilon": Setting(
            1e-8,
            0,
            None,
            "neither",
            """Adam's ε, added to √v̂ in the step η·m̂ / (√v̂ + ε) so that it stays finite.""",
        ),
    }
    beta_1: float
    beta_2: float
    epsilon: float

    def init(self, xp: Any, theta: Any) -> Any:
        """``(t, m, v)``: the step count and the two moment estimates, zeros like θ."""
        return (0, xp.zeros_like(theta), xp.zeros_like(theta))

    def step(
        self, xp: Any, theta: Any, grad: Any, state: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, (t, m, v))``."""
        t, m, v = state
        t += 1
        b1, b2 = self.beta_1, self.beta_2
        m = kernels.moving_average(xp, m, grad, b1)  # β₁m + (1−β₁)g
        v = kernels.moving_average(xp, v, grad * grad, b2)  # β₂v + (1−β₂)g²
        # η_t, the bias corrections as one number: an (M,) array of rates takes one
        # operation, and gives each network the step a single rate would.
        step_size = self.learning_rate * ((1 - b2**t) ** 0.5 / (1 - b1**t))  # η_t
        eps_hat = self.epsilon * (1 - b2**t) ** 0.5  # ε̂
        theta = kernels.subtract_scaled_quotient(xp, theta, m, xp.sqrt(v) + eps_hat, step_size)
        return theta, (t, m, v)


# The settings of the optimizers that ship, in their order: the estimators take each as a
# parameter of its own (scikit-learn's names); any other optimizer's go in
# ``optimizer_settings``.
BUILT_IN_SETTINGS: tuple[str, ...] = tuple(
    name for cls in (SGD, Momentum, Adam) for name in cls.settings
)


def get_optimizer(name: str, learning_rate: Any, **options: float) -> Any:
    """The optimizer called ``name`` with ``learning_rate`` and its own ``options``.

    ValueError listing the valid names for an unknown optimizer, and the valid
    options for an unknown option.

    Parameters
    ----------
    name : str
        A registered optimizer's name: 'sgd', 'momentum', 'adam', or one of your own.
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    **options : float
        The optimizer's own settings (``momentum``; ``beta_1``, ``beta_2``, ``epsilon``),
        each defaulting to its declaration.

    Returns
    -------
    Optimizer
        The optimizer.

    Raises
    ------
    ValueError
        If ``name`` or an option is unknown.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    return OPTIMIZERS[name](learning_rate, **options)
