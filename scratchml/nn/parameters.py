"""A network's parameters as one flat vector θ, and its layers' (W, b) as views into θ.

Optimizers update θ with a handful of array operations whatever the number of
layers (one ``θ − η·g`` rather than one per array): on a GPU every array operation
is a kernel launch, and for small networks their count is the speed. The layer math
keeps seeing ``[(W, b), ...]``: views of θ, made without copying.

For a stack of M networks θ has shape (M, P), one row of P parameters per network,
so per-network learning rates broadcast as (M, 1) and a diverged network is one row.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

Params = list[tuple[Any, Any]]


class ParameterLayout(NamedTuple):
    """Where each layer's W and b sit in θ: their shapes, after ``lead`` (() or (M,)).

    Parameters
    ----------
    lead : tuple of int
        The leading axes of every array: () for one network, (M,) for a stack.
    shapes : tuple of tuple of int
        The shapes of W, b, W, b, ... layer by layer, without the leading axes.
    """

    lead: tuple[int, ...]
    shapes: tuple[tuple[int, ...], ...]  # W, b, W, b, ... without the lead axes

    @classmethod
    def of(cls, params: Params) -> ParameterLayout:
        """The layout of ``params`` (a stack's arrays carry a leading model axis).

        Parameters
        ----------
        params : list of (W, b)
            A network's parameters: W (n_in, n_out) and b (n_out,), or a stack's, with a
            leading model axis.

        Returns
        -------
        ParameterLayout
            Their layout.
        """
        W0 = params[0][0]
        lead = tuple(W0.shape[:-2])
        shapes = tuple(tuple(p.shape[len(lead) :]) for layer in params for p in layer)
        return cls(lead, shapes)

    def flatten(self, xp: Any, params: Params) -> Any:
        """θ: every array of ``params`` (or of gradients shaped like them) in one ``(*lead, P)``.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays.
        params : list of (W, b)
            Arrays of this layout (parameters, or gradients shaped like them).

        Returns
        -------
        array of shape (P,) or (M, P)
            θ: the arrays raveled and concatenated, layer by layer, W before b.
        """
        flat = [xp.reshape(p, (*self.lead, -1)) for layer in params for p in layer]
        return xp.concat(flat, axis=-1)

    def views(self, xp: Any, theta: Any) -> Params:
        """[(W, b), ...] as views of θ (no copy where the library has views).

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays.
        theta : array of shape (P,) or (M, P)
            The flat parameter vector.

        Returns
        -------
        list of (W, b)
            Each layer's arrays, shaped by the layout, as views of ``theta`` (copies where the
            library has no views).
        """
        arrays, start = [], 0
        for shape in self.shapes:
            stop = start + math.prod(shape)
            arrays.append(xp.reshape(theta[..., start:stop], (*self.lead, *shape)))
            start = stop
        return list(zip(arrays[0::2], arrays[1::2], strict=True))


def keep_finite_networks(
    xp: Any, alive: Any, loss: Any, start: Any, theta: Any, kept: Any
) -> tuple[Any, Any, Any]:
    """A stack's networks whose loss is not finite keep their last finite parameters.

    ``start`` is θ (M, P) the epoch started from, ``theta`` where it ended, ``loss`` (M,)
    the epoch's loss at ``start``, ``kept`` each network's last parameters with a finite
    loss, ``alive`` (M,) which networks still train. Returns ``(alive, theta, kept)``.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    alive : array of bool, shape (M,)
        Which networks still train.
    loss : array of shape (M,)
        The epoch's loss, at ``start``.
    start : array of shape (M, P)
        θ the epoch started from.
    theta : array of shape (M, P)
        θ where the epoch ended.
    kept : array of shape (M, P)
        Each network's last parameters with a finite loss.

    Returns
    -------
    alive : array of bool, shape (M,)
        ``alive`` without the networks whose loss is not finite.
    theta : array of shape (M, P)
        ``theta``, with the dead networks' rows set back to their kept parameters.
    kept : array of shape (M, P)
        ``kept``, updated to ``start`` for the networks still alive.
    """
    alive = alive & xp.isfinite(loss)
    rows = xp.reshape(alive, (alive.shape[0], 1))
    kept = xp.where(rows, start, kept)
    return alive, xp.where(rows, theta, kept), kept
