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
"""

from __future__ import annotations

from typing import Any

from .kernels import PLAIN, Kernels


class SGD:
    """θ ← θ − η·g.

    Parameters
    ----------
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    """

    hyperparameters: dict[str, float] = {}  # noqa: RUF012 - beyond learning_rate, with defaults

    def __init__(self, learning_rate: Any) -> None:
        self.learning_rate = learning_rate

    def init(self, xp: Any, theta: Any) -> Any:
        """No state: plain gradient descent remembers nothing.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).
        """
        return None

    def step(
        self, xp: Any, theta: Any, grad: Any, state: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, state)``.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).
        grad : array
            The gradient g of the objective, shaped like θ.
        state : None
            SGD's (empty) state.
        kernels : Kernels, default PLAIN
            The operations to compute with: the plain definitions, or a speed path's.

        Returns
        -------
        theta : array
            The updated θ, a new array.
        state : None
            ``state``, unchanged.
        """
        return kernels.subtract_scaled(xp, theta, grad, self.learning_rate), state  # θ − η·g


class Momentum:
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

    hyperparameters = {"momentum": 0.9}  # noqa: RUF012

    def __init__(self, learning_rate: Any, momentum: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum

    def init(self, xp: Any, theta: Any) -> Any:
        """The velocity v, zeros like θ.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).

        Returns
        -------
        array
            The velocity v, zeros like θ.
        """
        return xp.zeros_like(theta)

    def step(
        self, xp: Any, theta: Any, grad: Any, velocity: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, velocity)``.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).
        grad : array
            The gradient g of the objective, shaped like θ.
        velocity : array
            The velocity v, shaped like θ.
        kernels : Kernels, default PLAIN
            The operations to compute with: the plain definitions, or a speed path's.

        Returns
        -------
        theta : array
            The updated θ, a new array.
        velocity : array
            The updated velocity.
        """
        velocity = kernels.add_scaled(xp, grad, velocity, self.momentum)  # v ← g + μ·v
        return kernels.subtract_scaled(xp, theta, velocity, self.learning_rate), velocity  # θ − η·v


class Adam:
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

    hyperparameters = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}  # noqa: RUF012

    def __init__(
        self,
        learning_rate: Any,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def init(self, xp: Any, theta: Any) -> Any:
        """``(t, m, v)``: the step count and the two moment estimates, zeros like θ.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).

        Returns
        -------
        tuple of (int, array, array)
            ``(t, m, v)``: the step count 0 and the moment estimates, zeros like θ.
        """
        return (0, xp.zeros_like(theta), xp.zeros_like(theta))

    def step(
        self, xp: Any, theta: Any, grad: Any, state: Any, kernels: Kernels = PLAIN
    ) -> tuple[Any, Any]:
        """One update; returns ``(theta, (t, m, v))``.

        Parameters
        ----------
        xp : namespace
            The array namespace of θ.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector θ (``nn.parameters``).
        grad : array
            The gradient g of the objective, shaped like θ.
        state : tuple of (int, array, array)
            ``(t, m, v)``: the step count and the moment estimates.
        kernels : Kernels, default PLAIN
            The operations to compute with: the plain definitions, or a speed path's.

        Returns
        -------
        theta : array
            The updated θ, a new array.
        state : tuple of (int, array, array)
            The updated ``(t, m, v)``.
        """
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


# The registry: adding an optimizer is one class above and one entry here. Each class
# lists its hyper-parameters beyond the learning rate, with their defaults.
OPTIMIZERS: dict[str, type] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name: str, learning_rate: Any, **options: float) -> Any:
    """The optimizer called ``name`` with ``learning_rate`` and its own ``options``.

    ValueError listing the valid names for an unknown optimizer, and the valid
    options for an unknown option.

    Parameters
    ----------
    name : str
        'sgd', 'momentum' or 'adam'.
    learning_rate : float or array
        η: a number, or for a stack an array (M,) in θ's namespace and dtype, one rate per
        network.
    **options : float
        The optimizer's own settings (``momentum``; ``beta_1``, ``beta_2``, ``epsilon``).

    Returns
    -------
    SGD, Momentum or Adam
        The optimizer.

    Raises
    ------
    ValueError
        If ``name`` or an option is unknown.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    cls = OPTIMIZERS[name]
    unknown = sorted(set(options) - set(cls.hyperparameters))
    if unknown:
        valid = ", ".join(cls.hyperparameters) or "none"
        raise ValueError(
            f"optimizer {name!r} has no option {unknown[0]!r}; its options are: {valid}"
        )
    return cls(learning_rate, **options)
