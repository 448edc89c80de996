"""Errors raised by scratchml."""

from __future__ import annotations


class DivergenceError(ArithmeticError):
    """Training produced a non-finite loss; the model keeps its last finite parameters."""

    def __init__(self, message: str, epoch: int, loss: float) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.loss = loss


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""
