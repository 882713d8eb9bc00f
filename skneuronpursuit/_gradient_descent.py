"""Full-batch gradient descent on the squared loss (ALGORITHM.md §4).

Steps run in chunks with no host synchronisation inside a chunk. At the end of
a chunk one synchronisation decides: roll back and halve the step if the loss
rose (or became non-finite) at any step of the chunk, stop if the loss reached
the target or stopped decreasing, go on otherwise. On the CPU, where reading a
flag costs nothing, a chunk ends as soon as the loss rises: the rest of it would
be rolled back anyway, so the result is the same and the wasted steps are saved.

Dense data are laid out with samples in columns for the steps: the products of
thin layers are faster that way round on the CPU (benchmarks/README.md).

With ``momentum > 0`` the steps are Nesterov's accelerated gradient (in the form
of ``torch.optim.SGD``: ``v <- mu v + g``, ``w <- w - eta (g + mu v)``), an opt-in
alternative to plain GD (ALGORITHM.md §4; the evidence is in benchmarks/README.md).
The roll-back rule is the same, and a roll-back also restarts the velocity from zero,
so the loss still never rises (beyond the roll-back tolerance) over accepted steps.
"""

from dataclasses import dataclass

import torch

from ._inputs import SparseInputs
from ._network import backward, forward
from ._network import loss as network_loss

CHECK_EVERY = 100  # steps between convergence checks (choice)
MAX_HALVINGS = 30  # step halvings before the descent is declared diverged (choice)


@dataclass
class DescentResult:
    """Outcome of :func:`gradient_descent`."""

    weights: list
    loss: float
    n_steps: int  # accepted steps (rolled-back steps are not counted)
    step_size: float  # the step size in force at the end
    n_halvings: int
    diverged: bool  # the loss could not be decreased even with a tiny step


def _stops_at_rise(device):
    """Whether a chunk may stop at a rise: where that needs no device synchronisation."""
    return device.type == "cpu"


@dataclass
class _Data:
    """The data laid out for the steps (see :func:`_layout`)."""

    X: object  # (d, n) tensor when ``columns``, else (n, d) tensor or SparseInputs
    Y: torch.Tensor
    scale: torch.Tensor  # s_i / n, broadcastable against the residual
    loss_weight: object  # s_i broadcastable against the residual; None when all are 1
    columns: bool
    n_samples: int


def _layout(X, Y, sample_weight):
    """Samples in columns for dense ``X``: the products of thin layers are faster."""
    n_samples = X.shape[0]
    uniform = bool((sample_weight == 1).all())
    columns = not isinstance(X, SparseInputs)  # sparse products are by rows
    if columns:
        X, Y, weight = X.mT.contiguous(), Y.mT.contiguous(), sample_weight[None, :]
    else:
        weight = sample_weight[:, None]
    return _Data(X, Y, weight / n_samples, None if uniform else weight, columns, n_samples)


def _chunk(weights, data, activation, step_size, n_steps, rise_tol, velocity=None, momentum=0.0):
    """``n_steps`` GD steps in place; returns (loss before, loss after, any rise).

    ``velocity`` (``None`` for plain GD) is updated in place too. After a rise the
    weights are to be rolled back: on the CPU the chunk stops there.
    """
    stop_at_rise = _stops_at_rise(data.Y.device)
    rose = torch.zeros((), dtype=torch.bool, device=data.Y.device)
    start = previous = None
    for step in range(n_steps + 1):
        pre_activations, layer_inputs = forward(weights, data.X, activation, columns=data.columns)
        # H - Y in place (the output is not needed again): the loss's gradient in H
        # is then scale * (H - Y), with no negation.
        residual = pre_activations[-1].sub_(data.Y)
        squares = residual.square()
        if data.loss_weight is not None:
            squares = data.loss_weight * squares
        current = squares.sum(dim=(-2, -1)) / (2 * data.n_samples)
        if previous is None:
            start = current
        else:
            # `not <=` is also true for NaN: a non-finite loss counts as a rise.
            within = current <= previous * (1 + rise_tol)
            if stop_at_rise:
                if not within:
                    rose = torch.ones_like(rose)
                    break
            else:
                rose = rose | ~within
        previous = current
        if step == n_steps:
            break
        signal = data.scale * residual
        _, grads = backward(
            weights, pre_activations, layer_inputs, signal, activation, columns=data.columns
        )
        if velocity is None:
            torch._foreach_add_(weights, grads, alpha=-step_size)
        else:
            torch._foreach_mul_(velocity, momentum)
            torch._foreach_add_(velocity, grads)
            torch._foreach_add_(weights, grads, alpha=-step_size)
            torch._foreach_add_(weights, velocity, alpha=-step_size * momentum)
    start, end, rose = torch.stack([start, current, rose.to(current.dtype)]).tolist()
    return start, end, bool(rose)


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
    rel_tol=1e-5,
    momentum=0.0,
):
    """Minimise ``1/(2n) sum_i s_i ||y_i - H(x_i)||^2`` from ``weights``.

    Parameters
    ----------
    weights : list of Tensor
        Starting point; not modified.
    step_size : float
        Initial step; halved (with roll-back) whenever the loss rises.
    max_steps : int
        Budget of steps; a rolled-back chunk counts in full, also when it
        stopped at the rise.
    target_loss : float
        Stop once the loss is at or below this value.
    rel_tol : float
        Stop once the loss decreased by less than this fraction over a chunk of
        ``CHECK_EVERY`` steps: a stationary point has been reached.
    momentum : float
        Nesterov momentum ``mu`` in ``[0, 1)``; 0 is plain gradient descent.

    Returns
    -------
    DescentResult
        Its loss is :func:`~skneuronpursuit._network.loss` of its weights, never
        higher than that of ``weights``: the steps' own loss values are summed in
        another order (samples in columns), and rises below the roll-back
        tolerance are accepted, so the end is checked in the caller's terms.
    """
    initial_loss = float(network_loss(weights, X, Y, sample_weight, activation))
    dtype_eps = torch.finfo(X.dtype).eps
    rise_tol = 100 * dtype_eps
    current = [w.clone() for w in weights]
    accepted = [w.clone() for w in weights]
    velocity = [torch.zeros_like(w) for w in weights] if momentum > 0 else None
    loss = None
    n_accepted = n_executed = n_halvings = 0
    diverged = False
    data = _layout(X, Y, sample_weight)
    while n_executed < max_steps:
        n_chunk = min(CHECK_EVERY, max_steps - n_executed)
        start, end, rose = _chunk(
            current, data, activation, step_size, n_chunk, rise_tol, velocity, momentum
        )
        n_executed += n_chunk
        if loss is None:
            loss = start
        if rose:
            for target, source in zip(current, accepted):
                target.copy_(source)
            if velocity is not None:
                torch._foreach_zero_(velocity)
            step_size /= 2
            n_halvings += 1
            if n_halvings > MAX_HALVINGS:
                diverged = True
                break
            continue
        for target, source in zip(accepted, current):
            target.copy_(source)
        n_accepted += n_chunk
        previous, loss = loss, end
        if loss <= target_loss or previous - loss <= rel_tol * previous:
            break
    final_loss = float(network_loss(accepted, X, Y, sample_weight, activation))
    if not final_loss <= initial_loss:
        accepted, final_loss, n_accepted = [w.clone() for w in weights], initial_loss, 0
    return DescentResult(accepted, final_loss, n_accepted, step_size, n_halvings, diverged)
