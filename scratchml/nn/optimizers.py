"""Optimizers: they apply gradients to parameters, functionally.

``state = opt.init(params)`` then ``params, state = opt.step(params, grads, state)``.
Parameters are any nested list of (W, b) pairs; nothing is updated in place, so
a saved reference to old parameters stays valid (this is how a diverging run
keeps its last finite parameters).

For a stack of M networks (parameters ``W (M, n_in, n_out)``, ``b (M, n_out)``) the
learning rate may be an array of shape (M,), one rate per network, in the
parameters' namespace and dtype; it is broadcast over each network's arrays.
"""

from __future__ import annotations

from typing import Any

Params = list[tuple[Any, Any]]


def _map(fn: Any, *trees: Params) -> Params:
    """Apply ``fn`` to matching arrays of several lists of (W, b) pairs."""
    return [
        tuple(fn(*arrays) for arrays in zip(*layers, strict=True))
        for layers in zip(*trees, strict=True)
    ]  # type: ignore[misc]


def _zeros_like(xp: Any, params: Params) -> Params:
    return _map(xp.zeros_like, params)


def _per_network(xp: Any, rate: Any, p: Any) -> Any:
    """A step size that multiplies ``p``: a number as is, an (M,) array as (M, 1, ...)."""
    if getattr(rate, "ndim", 0) == 0:
        return rate
    return xp.reshape(rate, (rate.shape[0],) + (1,) * (p.ndim - 1))


class SGD:
    """θ ← θ − η·g."""

    hyperparameters: dict[str, float] = {}  # noqa: RUF012 - beyond learning_rate, with defaults

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def init(self, xp: Any, params: Params) -> Any:
        return None

    def step(self, xp: Any, params: Params, grads: Params, state: Any) -> tuple[Params, Any]:
        lr = self.learning_rate
        return _map(lambda p, g: p - _per_network(xp, lr, p) * g, params, grads), state


class Momentum:
    """Heavy-ball momentum: v ← β·v + g;  θ ← θ − η·v."""

    hyperparameters = {"beta": 0.9}  # noqa: RUF012

    def __init__(self, learning_rate: float, beta: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.beta = beta

    def init(self, xp: Any, params: Params) -> Any:
        return _zeros_like(xp, params)

    def step(self, xp: Any, params: Params, grads: Params, state: Any) -> tuple[Params, Any]:
        lr, beta = self.learning_rate, self.beta
        velocity = _map(lambda v, g: beta * v + g, state, grads)
        return _map(lambda p, v: p - _per_network(xp, lr, p) * v, params, velocity), velocity


class Adam:
    """Adam (Kingma & Ba): bias-corrected first and second moment estimates.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  m̂ = m / (1−β₁ᵗ);  v̂ = v / (1−β₂ᵗ)
    θ ← θ − η·m̂ / (√v̂ + ε)

    As the paper's own efficient form (its section 2), the two bias corrections are
    folded into the step size, which is a number per step rather than an array:
    η·m̂ / (√v̂ + ε) = η_t·m / (√v + ε̂) with η_t = η·√(1−β₂ᵗ) / (1−β₁ᵗ) and
    ε̂ = ε·√(1−β₂ᵗ) — the same update, two array operations fewer per parameter.
    """

    hyperparameters = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}  # noqa: RUF012

    def __init__(
        self,
        learning_rate: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def init(self, xp: Any, params: Params) -> Any:
        return (0, _zeros_like(xp, params), _zeros_like(xp, params))

    def step(self, xp: Any, params: Params, grads: Params, state: Any) -> tuple[Params, Any]:
        t, m, v = state
        t += 1
        b1, b2, eps = self.beta1, self.beta2, self.epsilon
        m = _map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
        v = _map(lambda v_, g: b2 * v_ + (1 - b2) * (g * g), v, grads)
        # Fold both bias corrections into the step size (a host scalar, or one per network).
        step_size = self.learning_rate * (1 - b2**t) ** 0.5 / (1 - b1**t)
        eps_hat = eps * (1 - b2**t) ** 0.5
        params = _map(
            lambda p, m_, v_: p - _per_network(xp, step_size, p) * m_ / (xp.sqrt(v_) + eps_hat),
            params,
            m,
            v,
        )
        return params, (t, m, v)


# The registry: adding an optimizer is one class above and one entry here. Each class
# lists its hyper-parameters beyond the learning rate, with their defaults.
OPTIMIZERS: dict[str, type] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name: str, learning_rate: Any, **options: float) -> Any:
    """The optimizer called ``name`` with ``learning_rate`` and its own ``options``.

    ValueError listing the valid names for an unknown optimizer, and the valid
    options for an unknown option.
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
