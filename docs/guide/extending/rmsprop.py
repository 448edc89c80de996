"""RMSprop, an optimizer with a setting of its own (``rho``): this file is all it takes.

Import it, and ``MLPClassifier(optimizer="rmsprop_test", optimizer_settings={"rho": 0.95})``,
the stacks and the sweep grid (``optimizer_settings = [{rho = 0.9}, {rho = 0.99}]``) take it.
"""

from scratchml.nn.optimizers import Optimizer, Setting


class RMSprop(Optimizer, name="rmsprop_test"):
    """v ← ρ·v + (1 − ρ)·g²;  θ ← θ − η·g / (√v + ε)."""

    settings = {  # noqa: RUF012 - frozen into a read-only mapping when the class is made
        "rho": Setting(0.9, 0, 1, "left", "The decay rate ρ of the mean square."),
        "eps": Setting(1e-8, 0, None, "neither", "ε, added to the root mean square."),
    }

    def init(self, xp, theta):
        return xp.zeros_like(theta)  # the running mean square v

    def step(self, xp, theta, grad, mean_square, kernels=None):
        mean_square = self.rho * mean_square + (1 - self.rho) * grad * grad
        return theta - self.learning_rate * grad / (xp.sqrt(mean_square) + self.eps), mean_square
