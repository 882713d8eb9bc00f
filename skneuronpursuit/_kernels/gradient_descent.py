"""Full-batch gradient descent on the loss (docs/inner-descent.md).

The steps run in windows of ``WINDOW`` steps with no host synchronisation inside a
window. At the end of a window its loss is compared with the loss at its start, the
checkpoint:

- lower (or equal to within rounding): the window is accepted and becomes the next
  checkpoint; the descent stops once the loss is at the target, or once a window
  lowered it by less than a fraction ``rel_tol`` and by less than the window before
  (a stationary point has been reached, not a saddle being escaped);
- higher, or non-finite: the weights go back to the checkpoint and the step is halved.
  At most ``MAX_HALVINGS`` halvings per call once a window has been accepted; one
  more rise ends the descent at its checkpoint. Rolled-back steps are not charged
  to the step budget.

Judging rises over a whole window, rather than step by step, lets GD oscillate at the
edge of stability (the loss of a single step may rise while the window's falls) and
makes float32 rounding noise irrelevant: a per-step rise test halved the step on
noise 4-9 times per iteration and stalled hard fits (docs/inner-descent.md). The
caller carries the step from one call to the next and lets it grow back
(:func:`next_step_size`), so a halving is not a ratchet.

Dense data are laid out with samples in columns for the steps: the products of
thin layers are faster that way round on the CPU (docs/engineering.md).

Benchmark hook: :func:`lay_out` and :func:`run_window` are the engine's GD step as
``benchmarks/compiled_gd.py`` times it (docs/engineering.md, "What the benchmarks
import"). Keep their signatures, or change that benchmark and its test with them.

With ``momentum > 0`` the steps are Nesterov's accelerated gradient (in the form
of ``torch.optim.SGD``: ``v <- mu v + g``, ``w <- w - eta (g + mu v)``). A roll-back
also restarts the velocity from zero.
"""

import math
from dataclasses import dataclass

import torch

from .inputs import SparseInputs
from .network import SQUARED_ERROR, ColumnPasses, backward, forward, weight_penalty
from .network import loss as network_loss
from .reduction import count

WINDOW = 250  # steps between checkpoints (the paper's PVR rule checks every 50,000) (choice)
MAX_HALVINGS = 4  # halvings per call, as the paper's PVR rule allows (choice)
# Halvings after which a descent that has not lowered the loss once is declared
# diverged: a step 2^30 times too large (absurd units of gd_lr) still recovers.
DIVERGED_AFTER = 30
# A loss that changed by at most this many units in the last place changed on rounding.
ROUNDING = 4
# The paper's descent stops early only once it lowered the loss by this fraction (choice).
PROGRESS = 1e-3
GROWTH = 2.0  # the next call starts at GROWTH times the step this call ended with (choice)


@dataclass
class DescentResult:
    """Outcome of :func:`gradient_descent` (and of Levenberg-Marquardt)."""

    weights: list
    loss: float
    n_steps: int  # accepted steps (rolled-back steps are not counted)
    step_size: float  # the step size in force at the end
    n_halvings: int
    diverged: bool  # the loss could not be decreased even with a tiny step


@dataclass
class LaidOutData:
    """The data laid out for the steps (see :func:`lay_out`)."""

    X: object  # (d, n) tensor when ``columns``, else (n, d) tensor or SparseInputs
    Y: torch.Tensor
    scale: torch.Tensor  # s_i / n, broadcastable against the residual
    loss_weight: object  # s_i broadcastable against the residual; None when all are 1
    columns: bool
    n_samples: int
    objective: object  # the loss (_kernels/losses.py)

    @property
    def axis(self):
        """The dimension of the outputs."""
        return -2 if self.columns else -1

    def value_(self, output):
        """The loss of ``output``, overwriting it."""
        return self.objective.window_value_(
            output, self.Y, self.loss_weight, self.n_samples, self.axis
        )


def lay_out(X, Y, sample_weight, objective=SQUARED_ERROR):
    """The data as the steps use it: samples in columns for dense ``X``.

    The products of thin layers are faster that way round; sparse ``X``
    (:class:`~skneuronpursuit._kernels.inputs.SparseInputs`) keeps samples in rows.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features) or SparseInputs
    Y : Tensor of shape (n_samples, n_outputs)
    sample_weight : Tensor of shape (n_samples,)
        Normalised to mean 1 by the caller.
    objective : loss of ``_kernels/losses.py``, default=SQUARED_ERROR

    Returns
    -------
    LaidOutData
    """
    n_samples = count(X.shape[0])  # of all processes' rows (_kernels/reduction.py)
    uniform = bool((sample_weight == 1).all())
    columns = not isinstance(X, SparseInputs)  # sparse products are by rows
    if columns:
        X, Y, weight = X.mT.contiguous(), Y.mT.contiguous(), sample_weight[None, :]
    else:
        weight = sample_weight[:, None]
    loss_weight = None if uniform else weight
    return LaidOutData(X, Y, weight / n_samples, loss_weight, columns, n_samples, objective)


def run_window(
    weights, data, activation, step_size, n_steps, velocity=None, momentum=0.0, alpha=0.0
):
    """``n_steps`` GD steps on ``weights`` in place; returns the loss after them.

    Parameters
    ----------
    weights : list of Tensor
        Updated in place.
    data : LaidOutData
        From :func:`lay_out`.
    activation : HomogeneousActivation
    step_size : float
    n_steps : int
    velocity : list of Tensor, optional
        Nesterov velocity, updated in place; ``None`` for plain GD.
    momentum : float, default=0.0
    alpha : float, default=0.0
        The L2 penalty ``alpha / 2 sum ||W_l||^2`` added to the loss (docs/algorithm.md §10).

    Returns
    -------
    loss : Tensor
        0-d, the loss after the last step, computed once: reading it is the only
        host synchronisation.
    """
    Y, scale, axis = data.Y, data.scale, data.axis
    output_gradient_ = data.objective.output_gradient_
    if data.columns and ColumnPasses.applies(data.X, activation):
        passes = ColumnPasses(weights, data.X, activation)
    else:
        passes = _Passes(weights, data, activation)
    for step in range(n_steps + 1):
        output = passes.forward()
        # In place (the output is not needed again): the loss's gradient in H is
        # scale * (H - Y) for the squared loss, scale * (softmax(H) - Y) for the log loss.
        if step == n_steps:
            value = data.value_(output)
            return value + weight_penalty(weights, alpha) if alpha else value
        grads = passes.gradients(scale * output_gradient_(output, Y, axis))
        if alpha:  # the penalty's gradient, alpha W_l
            torch._foreach_add_(grads, weights, alpha=alpha)
        if velocity is None:
            torch._foreach_add_(weights, grads, alpha=-step_size)
        else:
            torch._foreach_mul_(velocity, momentum)
            torch._foreach_add_(velocity, grads)
            torch._foreach_add_(weights, grads, alpha=-step_size)
            torch._foreach_add_(weights, velocity, alpha=-step_size * momentum)


class _Passes:
    """:func:`forward` and :func:`backward` in the layout of ``data``, with the interface of
    :class:`~skneuronpursuit._kernels.network.ColumnPasses` (sparse inputs, powers above 1)."""

    def __init__(self, weights, data, activation):
        self.weights, self.data, self.activation = weights, data, activation

    def forward(self):
        data = self.data
        self.passes = forward(self.weights, data.X, self.activation, columns=data.columns)
        return self.passes[0][-1]

    def gradients(self, output_signal):
        pre_activations, layer_inputs = self.passes
        _, grads = backward(
            self.weights,
            pre_activations,
            layer_inputs,
            output_signal,
            self.activation,
            columns=self.data.columns,
        )
        return grads


def _current_loss(weights, data, activation, alpha=0.0):
    pre_activations, _ = forward(weights, data.X, activation, columns=data.columns)
    value = data.value_(pre_activations[-1])
    return float(value + weight_penalty(weights, alpha) if alpha else value)


def next_step_size(previous, initial):
    """The step a descent starts from after one that ended with step ``previous``.

    It grows back by ``GROWTH`` per call up to ``initial`` (``gd_lr``): a step halved
    once on a sharp stretch of the loss is tried larger again on the next call.
    """
    return initial if previous is None else min(initial, GROWTH * previous)


def gradient_descent(
    weights,
    X,
    Y,
    sample_weight,
    activation,
    *,
    step_size,
    max_steps,
    target_loss=0.0,
    rel_tol=1e-4,
    momentum=0.0,
    window=WINDOW,
    max_halvings=MAX_HALVINGS,
    objective=SQUARED_ERROR,
    alpha=0.0,
):
    """Minimise the loss ``objective`` (by default ``1/(2n) sum_i s_i ||y_i - H(x_i)||^2``).

    With ``alpha > 0``, plus the L2 penalty ``alpha / 2 sum_l ||W_l||^2``
    (docs/algorithm.md §10).

    Parameters
    ----------
    weights : list of Tensor
        Starting point; not modified.
    step_size : float
        Initial step; halved (with a roll-back to the checkpoint) when a window
        ends with a higher loss than it started with.
    max_steps : int
        Budget of accepted steps; rolled-back windows are not charged to it.
    target_loss : float
        Stop once the loss is at or below this value.
    rel_tol : float
        Stop once a window lowered the loss by less than this fraction of it, and
        by less than the window before: a stationary point has been reached.
        Negative: never stop on a plateau.
    momentum : float
        Nesterov momentum ``mu`` in ``[0, 1)``; 0 is plain gradient descent.
    window : int
        Steps between checkpoints.
    max_halvings : int
        Halvings at most; a rise after the last one ends the descent at its checkpoint.
    objective : loss of ``_kernels/losses.py``
    alpha : float
        Strength of the L2 penalty; 0 for none.

    Returns
    -------
    DescentResult
        Its loss is :func:`~skneuronpursuit._kernels.network.loss` of its weights, never
        higher than that of ``weights``: the windows' own loss values are summed in
        another order (samples in columns), and rises below rounding are accepted,
        so the end is checked in the caller's terms.
    """
    initial_loss = float(network_loss(weights, X, Y, sample_weight, activation, objective, alpha))
    # A window whose loss rose by less than this fraction rose on rounding alone.
    noise = 100 * torch.finfo(X.dtype).eps
    data = lay_out(X, Y, sample_weight, objective)
    current = [w.clone() for w in weights]
    checkpoint = [w.clone() for w in weights]
    velocity = [torch.zeros_like(w) for w in weights] if momentum > 0 else None
    checkpoint_loss = _current_loss(current, data, activation, alpha)
    n_accepted = n_halvings = 0
    last_decrease = None
    diverged = False
    while n_accepted < max_steps and checkpoint_loss > target_loss:
        n_window = min(window, max_steps - n_accepted)
        loss = float(
            run_window(current, data, activation, step_size, n_window, velocity, momentum, alpha)
        )
        # `not <=` is also true for NaN: a non-finite loss counts as a rise.
        if not loss <= checkpoint_loss * (1 + noise):
            for target, source in zip(current, checkpoint):
                target.copy_(source)
            if velocity is not None:
                torch._foreach_zero_(velocity)
            step_size /= 2
            n_halvings += 1
            # Until a window is accepted, halve as often as it takes to find a step
            # that lowers the loss at all; after that, at most max_halvings.
            searching = n_accepted == 0 and n_halvings <= DIVERGED_AFTER
            if n_halvings > max_halvings and not searching:
                diverged = n_accepted == 0
                break
            continue
        for target, source in zip(checkpoint, current):
            target.copy_(source)
        n_accepted += n_window
        before, checkpoint_loss = checkpoint_loss, loss
        decrease = before - loss
        # Converged: a small decrease that is not speeding up. Right after a neuron is
        # added the loss falls slowly but faster window by window (the neuron escapes a
        # saddle): that is no reason to stop. A decrease within rounding is none.
        if decrease <= rel_tol * before:
            if decrease <= noise * before or (
                last_decrease is not None and decrease <= last_decrease
            ):
                break
        last_decrease = decrease
    final_loss = float(network_loss(checkpoint, X, Y, sample_weight, activation, objective, alpha))
    if not final_loss <= initial_loss:
        checkpoint, final_loss, n_accepted = [w.clone() for w in weights], initial_loss, 0
    return DescentResult(checkpoint, final_loss, n_accepted, step_size, n_halvings, diverged)


def scheduled_descent(
    weights,
    X,
    Y,
    sample_weight,
    activation,
    *,
    step_size,
    max_steps,
    window,
    max_halvings=0,
    objective=SQUARED_ERROR,
):
    """Gradient descent with the paper's fixed schedule (docs/paper.md, App. C).

    ``max_steps`` steps of size ``step_size``; the loss is read every ``window`` steps.
    With ``max_halvings=0`` it is read only to stop early, where two windows in a row
    changed the loss by no more than rounding (``ROUNDING`` units in the last place)
    after the descent lowered it by ``PROGRESS`` of its start: the paper's counts are
    not needed at a minimum, but a new neuron escaping its saddle changes the loss by
    less than rounding at first; and to stop on a non-finite loss (at the last finite
    checkpoint, ``diverged``). With
    ``max_halvings > 0`` (the paper's PVR rule) a window whose loss rose is undone
    and the step halved, at most that many times; the undone steps count towards
    ``max_steps``, as in a loop of ``max_steps`` iterations with a check every
    ``window``.

    Returns
    -------
    DescentResult
        ``n_steps`` counts the steps run, undone ones included.
    """
    noise = ROUNDING * torch.finfo(X.dtype).eps
    data = lay_out(X, Y, sample_weight, objective)
    current = [w.clone() for w in weights]
    checkpoint = [w.clone() for w in weights]
    checkpoint_loss = start_loss = _current_loss(current, data, activation)
    n_run = n_halvings = still = 0
    diverged = False
    while n_run < max_steps:
        n_window = min(window, max_steps - n_run)
        loss = float(run_window(current, data, activation, step_size, n_window))
        n_run += n_window
        finite = math.isfinite(loss)
        rose = loss > checkpoint_loss
        if not finite or (rose and n_halvings < max_halvings):
            for target, source in zip(current, checkpoint):
                target.copy_(source)
            if not finite and n_halvings >= max_halvings:
                diverged = True
                break
            step_size /= 2
            n_halvings += 1
            continue
        for target, source in zip(checkpoint, current):
            target.copy_(source)
        before, checkpoint_loss = checkpoint_loss, loss
        still = still + 1 if abs(before - loss) <= noise * before else 0
        if still >= 2 and loss <= (1 - PROGRESS) * start_loss:
            break
    final_loss = float(network_loss(checkpoint, X, Y, sample_weight, activation, objective))
    return DescentResult(checkpoint, final_loss, n_run, step_size, n_halvings, diverged)
