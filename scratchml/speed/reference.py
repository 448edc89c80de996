"""The reference path: the math of ``nn.layers`` with the plain kernels. Every library runs it.

``Reference`` is the interface of a speed path: the kernels of ``nn.kernels.Kernels`` (the
operations the layer math and the optimizers are written in), plus what the training loop
asks of a path once per run (a context for the run's memory, the step, compiled epochs
where a library compiles). A path overrides kernels, never the math around them: its
``loss_and_gradients`` and ``optimizer_step`` run ``layers.loss_and_gradients`` and the
optimizer's ``step`` with itself as their kernels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from ..nn import layers
from ..nn.kernels import Kernels
from ..nn.parameters import keep_finite_networks

Params = list[tuple[Any, Any]]
LossAndGradients = Callable[[Params, Any, Any], tuple[Any, Params]]


class Reference(Kernels):
    """The interface of a speed path, with the plain kernels."""

    name = "reference"

    def training_run(self) -> contextlib.AbstractContextManager[Any]:
        """A context around one training run: here, nothing to keep.

        Returns
        -------
        contextlib.AbstractContextManager
            A context manager that does nothing.
        """
        return contextlib.nullcontext()

    def loss_and_gradients(
        self, xp: Any, activations: Sequence[str], loss: str, l2: Any
    ) -> LossAndGradients:
        """``(params, X, Y) -> (objective, grads)`` for one run: ``layers.loss_and_gradients``.

        The learner's function, run with this path's kernels.

        Parameters
        ----------
        xp : namespace
            The array namespace the run trains in.
        activations : sequence of str
            The hidden layers' activations.
        loss : str
            The loss's name in ``nn.losses.LOSSES``.
        l2 : float or array
            The L2 penalty: a number, or an array (M,) with one per network.

        Returns
        -------
        callable
            ``run(params, X, Y) -> (objective, grads)``: the objective, shape (...), and its
            gradients shaped like ``params``.
        """

        def run(params: Params, X: Any, Y: Any) -> tuple[Any, Params]:
            return layers.loss_and_gradients(xp, params, X, Y, activations, loss, l2, self)

        return run

    def optimizer_step(self, optimizer: Any) -> Callable[[Any, Any, Any, Any], tuple[Any, Any]]:
        """``(xp, theta, grad, state) -> (theta, state)``: the optimizer's ``step``, this path's kernels.

        Parameters
        ----------
        optimizer : SGD, Momentum or Adam
            The optimizer whose ``step`` runs.

        Returns
        -------
        callable
            ``step(xp, theta, grad, state) -> (theta, state)``.
        """

        def step(xp: Any, theta: Any, grad: Any, state: Any) -> tuple[Any, Any]:
            return optimizer.step(xp, theta, grad, state, self)

        return step

    def training_step(
        self, xp: Any, objective: Any, layout: Any, optimizer: Any, guarded: bool = False
    ) -> Callable[..., tuple[Any, ...]]:
        """One gradient step on a batch: ``(theta, state, X, Y) -> (loss, theta, state)``.

        ``objective`` is (activations, loss, l2); ``layout`` maps the flat parameter
        vector θ to the layers' (W, b) views (``nn.parameters``). The loss is the
        objective at the step's starting parameters.

        ``guarded``: a full-batch step of a stack, which also freezes the networks whose
        loss is not finite (``nn.parameters.keep_finite_networks``):
        ``(theta, state, X, Y, alive, kept) -> (loss, theta, state, alive, kept)``.

        Parameters
        ----------
        xp : namespace
            The array namespace the run trains in.
        objective : tuple
            ``(activations, loss, l2)``, as ``loss_and_gradients`` takes them.
        layout : ParameterLayout
            Maps θ to the layers' (W, b) views and back (``nn.parameters``).
        optimizer : SGD, Momentum or Adam
            The optimizer of the run.
        guarded : bool, default False
            Whether the step also freezes the networks whose loss is not finite.

        Returns
        -------
        callable
            ``step(theta, state, X, Y) -> (loss, theta, state)``, or with ``guarded``
            ``step(theta, state, X, Y, alive, kept) -> (loss, theta, state, alive, kept)``.
        """
        loss_and_gradients = self.loss_and_gradients(xp, *objective)
        update = self.optimizer_step(optimizer)

        def step(theta: Any, state: Any, X: Any, Y: Any) -> tuple[Any, Any, Any]:
            loss, grads = loss_and_gradients(layout.views(xp, theta), X, Y)
            theta, state = update(xp, theta, layout.flatten(xp, grads), state)
            return loss, theta, state

        if not guarded:
            return step

        def guarded_step(theta: Any, state: Any, X: Any, Y: Any, alive: Any, kept: Any) -> Any:
            loss, new_theta, state = step(theta, state, X, Y)
            alive, new_theta, kept = self.keep_finite_networks(
                xp, alive, loss, theta, new_theta, kept
            )
            return loss, new_theta, state, alive, kept

        return guarded_step

    def keep_finite_networks(
        self, xp: Any, alive: Any, loss: Any, start: Any, theta: Any, kept: Any
    ) -> tuple[Any, Any, Any]:
        """A stack's networks whose loss is not finite keep their last finite parameters.

        ``nn.parameters.keep_finite_networks``. Where reading a check back costs nothing
        to wait for (``reads_are_free``), a stack in which every network is alive and
        every loss finite gets ``theta`` and ``start`` back as they are: the plain form's
        two ``where`` would copy them unchanged.

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
        tuple
            ``(alive, theta, kept)``, as ``nn.parameters.keep_finite_networks`` returns them.
        """
        every_network_trains = (
            self.reads_are_free(theta) and bool(xp.all(alive)) and bool(xp.all(xp.isfinite(loss)))
        )
        if every_network_trains:
            return alive, theta, start
        return keep_finite_networks(xp, alive, loss, start, theta, kept)

    def reads_are_free(self, x: Any) -> bool:
        """Whether the host can read a check on ``x`` without waiting for queued work.

        False here (a GPU's queue, JAX's dispatch, a compiled step); a path whose arrays
        are computed as they are called says True.

        Parameters
        ----------
        x : array
            An array of the run.

        Returns
        -------
        bool
            True where a check on ``x`` can be read on the host at once.
        """
        return False

    def training_epochs(
        self,
        xp: Any,
        objective: Any,
        layout: Any,
        optimizer: Any,
        epoch: Callable[..., tuple[Any, ...]],
        plan: Any,
        capacity: int,
    ) -> Callable[..., tuple[Any, ...]] | None:
        """Epochs compiled as one function, or None: the training loop runs ``epoch`` as is.

        ``epoch`` is the training loop's one epoch (``_training.run_epoch``), ``plan`` says
        what an epoch is (full batch or mini-batches, one network or a stack). A path
        that compiles returns ``(theta, state, X, Y, orders, offsets, alive, kept,
        n_epochs) -> (theta, state, losses, alive, kept, (theta, state) of the last epoch's
        start)``: ``n_epochs`` (at most ``capacity``) full-batch epochs as one compiled
        loop, or one mini-batch epoch whose shuffle is ``orders[0]``.

        Parameters
        ----------
        xp : namespace
            The array namespace the run trains in.
        objective : tuple
            ``(activations, loss, l2)``, as ``loss_and_gradients`` takes them.
        layout : ParameterLayout
            Maps θ to the layers' (W, b) views and back (``nn.parameters``).
        optimizer : SGD, Momentum or Adam
            The optimizer of the run.
        epoch : callable
            The training loop's one epoch, run step by step where nothing is compiled.
        plan : object
            What an epoch is: full batch or mini-batches, one network or a stack.
        capacity : int
            The largest number of full-batch epochs one call may run.

        Returns
        -------
        callable or None
            None here: nothing is compiled, the loop runs ``epoch`` as is.
        """
        return None

    def parameter_maps(
        self, xp: Any, layout: Any
    ) -> tuple[Callable[[Params], Any], Callable[[Any], Params]]:
        """``(flatten, views)``: [(W, b), ...] → θ and θ → [(W, b), ...] (``nn.parameters``).

        Parameters
        ----------
        xp : namespace
            The array namespace the run trains in.
        layout : ParameterLayout
            The layout of the run's parameters.

        Returns
        -------
        flatten : callable
            [(W, b), ...] → θ.
        views : callable
            θ → [(W, b), ...].
        """
        return (lambda params: layout.flatten(xp, params)), (lambda theta: layout.views(xp, theta))

    def scan(self, body: Callable[[Any, Any], Any], carry: Any, xs: tuple[Any, ...]) -> Any:
        """``carry = body(carry, x)`` for each x along the leading axis of the arrays ``xs``.

        Here a Python loop; a compiling library runs it as one loop inside its compiled code.

        Parameters
        ----------
        body : callable
            ``body(carry, x) -> carry``, with x a tuple of one slice of each array of ``xs``.
        carry : object
            The initial carry (a tuple of arrays, for example).
        xs : tuple of array
            Arrays with the same length along their leading axis.

        Returns
        -------
        object
            The last carry.
        """
        for i in range(xs[0].shape[0]):
            carry = body(carry, tuple(x[i, ...] for x in xs))
        return carry

    def samples_layout(self, Y: Any) -> Any:
        """Targets (n_samples, k) in the layout the path's element-wise work prefers.

        Parameters
        ----------
        Y : array of shape (n_samples, k)
            The encoded targets.

        Returns
        -------
        array of shape (n_samples, k)
            ``Y`` itself: the plain kernels have no preferred layout.
        """
        return Y
