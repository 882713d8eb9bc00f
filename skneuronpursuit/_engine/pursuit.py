"""Neuron Pursuit, docs/algorithm.md §3: grow a homogeneous network one neuron at a time.

    iteration 1:  dominant KKT point of NCF_Y for one neuron per layer -> scale -> GD
    iteration k:  residual -> candidate search over all hidden layers -> add the
                  best neuron at a small scale -> GD -> (rebalance) -> record

The loop lives in :func:`grow`, each step of an iteration in ``steps.py``, the
numerics in ``_kernels``. Tensors in, tensors out: the caller chooses device and dtype.
"""

import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from .._kernels.rebalance import rebalance as rebalance_weights
from .records import IterationRecord, print_record, settled, stalled
from .steps import _Pursuit


def empty_network(n_features, n_outputs, depth, like):
    """The network with no neuron: ``depth`` weight matrices of ``like``'s dtype and
    device, hidden widths 0 (it outputs 0, and the model its offset)."""
    sizes = [n_features] + [0] * (depth - 1) + [n_outputs]
    return [like.new_zeros(sizes[i + 1], sizes[i]) for i in range(depth)]


@dataclass
class PursuitResult:
    """The grown network and how it grew."""

    weights: list  # [W_1, ..., W_L], W_l of shape (k_l, k_{l-1})
    history: list  # one IterationRecord per iteration
    stop_reason: str  # a key of STOP_REASONS


# No autograd anywhere in the engine (backward is written by hand): inference mode
# skips autograd's bookkeeping on every operation, 10-20% of a small GD step.
@torch.inference_mode()
def grow(
    X,
    Y,
    sample_weight,
    settings,
    random_state,
    *,
    initial_weights=None,
    initial_history=None,
    on_iteration=None,
    loss_reference=None,
):
    """Fit a homogeneous network to ``(X, Y)`` by Neuron Pursuit.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
    Y : Tensor of shape (n_samples, n_outputs)
    sample_weight : Tensor of shape (n_samples,)
        Non-negative, not all zero; normalised to mean 1 here.
    settings : PursuitSettings
    random_state : numpy.random.RandomState
        Source of the restarts' starting points (drawn on the host, so that every
        device starts from the same points).
    initial_weights : list of Tensor, optional
        A network grown earlier to keep growing (warm start). By default, the
        empty network.
    initial_history : list of dict, optional
        The records of the iterations that grew ``initial_weights``: they count
        towards ``settings.max_iter``, the inner descent starts from the step the
        last of them ended with, and they take part in the stall test, so that a
        fit continued in parts grows the network of a fit run at once.
    on_iteration : callable, optional
        ``on_iteration(weights, record)`` is called after every completed iteration;
        a string returned is a reason to stop, recorded as the stop reason.
    loss_reference : float, optional
        The loss ``tol`` and the relative training error refer to (a fit with a shifted
        target passes the loss of its best constant: docs/algorithm.md §1). By default
        that of the zero network.

    Returns
    -------
    PursuitResult
    """
    run = _Pursuit(X, Y, sample_weight, settings, random_state, loss_reference)
    weights = initial_weights or empty_network(X.shape[1], Y.shape[1], settings.depth, Y)
    history = []
    loss = run.loss(weights)
    if run.loss_reference == 0 or loss <= settings.tol * run.loss_reference:
        return PursuitResult(weights, history, "tol")
    stop_reason = "max_iter"
    earlier = initial_history or []
    # The loss before the first iteration and after each one, for the stall test.
    losses = [earlier[0].loss_before] + [r.loss for r in earlier] if earlier else [loss]
    if earlier:
        run.step_size = earlier[-1].gd_step_size
    run.converged = settled(losses)
    completed = (weights, loss, history)
    try:
        for iteration in range(len(earlier) + 1, settings.max_iter + 1):
            started = time.perf_counter()
            if all(w.shape[0] == 0 for w in weights[:-1]):
                grown, ncf_value, addition = run.first_neurons()
            else:
                grown, ncf_value, addition = run.next_neuron(weights, loss)
            if grown is None:
                stop_reason = run.declined
                break
            if not np.isfinite(addition.loss_after_add):
                stop_reason = "non_finite"
                break
            searched = time.perf_counter()
            descent = run.minimise(grown, addition.loss_after_add)
            descended = time.perf_counter()
            grown = descent.weights
            if settings.options.rebalance:
                grown, _ = rebalance_weights(grown, settings.activation.power)
                if settings.alpha > 0:  # the balance lowers the penalty, not the data term
                    descent = replace(descent, loss=run.loss(grown))
            record = IterationRecord(
                **vars(addition),
                iteration=iteration,
                ncf_value=ncf_value,
                loss=descent.loss,
                solver=descent.solver,
                gd_steps=descent.gd_steps,
                gd_step_size=descent.step_size,
                gd_halvings=descent.gd_halvings,
                lm_steps=descent.lm_steps,
                lm_rejected=descent.lm_rejected,
                ncf_steps=run.ascent[0],
                ncf_lr=run.ascent[1],
                gd_budget=run.gd_budget if settings.schedule is not None else None,
                train_error=descent.loss / run.loss_reference,
                hidden_layer_sizes=tuple(w.shape[0] for w in grown[:-1]),
                seconds=time.perf_counter() - started,
                # Both phases end by reading values back, so on a GPU these are
                # finished work, not queued kernels.
                search_seconds=searched - started,
                gd_seconds=descended - searched,
            )
            # One assignment: an interrupt lands before or after it, never between
            # a new network and its record.
            completed = (grown, descent.loss, history + [record])
            weights, loss, history = completed
            if settings.verbose:
                print_record(record, settings.verbose)
            requested = on_iteration(weights, record) if on_iteration is not None else None
            if descent.diverged:
                stop_reason = "diverged"
                break
            if record.train_error <= settings.tol:
                stop_reason = "tol"
                break
            if settings.schedule is not None and settings.schedule.stop_when_classified:
                if run.classified(weights):
                    stop_reason = "classified"
                    break
            if requested:
                stop_reason = requested
                break
            losses.append(loss)
            run.converged = settled(losses)
            # The paper's schedule has no stall rule: it runs to tol or max_iter.
            if settings.schedule is None and stalled(losses, floor=run.exact_fit_loss):
                stop_reason = "stalled"
                break
    except KeyboardInterrupt:
        weights, loss, history = completed
        if not history:  # no iteration completed: nothing to keep, the interrupt goes on
            raise
        stop_reason = "interrupted"
    return PursuitResult(weights, history, stop_reason)
