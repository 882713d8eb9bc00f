"""Levenberg-Marquardt: the inner solver of ``solver="lm"`` (and of ``"auto"`` where cheap).

docs/levenberg-marquardt.md. The loss is a sum of squares,
``L(w) = 1/(2n) sum_i s_i ||y_i - H(x_i; w)||^2``, with residuals ``r = Y - H`` and
``J`` the Jacobian of the outputs ``H(x_i)`` with respect to all weights, flattened
across layers (``P`` of them). Every step solves the damped Gauss-Newton system

    (A + lambda I) p = g,    A = J^T S J / n,    g = J^T S r / n = -grad L

and tries ``w + p``. The step is accepted only if the loss (the caller's
:func:`~skneuronpursuit._kernels.network.loss`) falls; the damping ``lambda`` follows
Nielsen's rule on the gain ratio ``rho = (L(w) - L(w + p)) / (g.p - p.A p / 2)``:
accepted, ``lambda *= max(1/3, 1 - (2 rho - 1)^3)``; rejected, ``lambda *= nu``,
``nu *= 2``. It starts at ``TAU * max diag(A)`` in every call (choice).

The Jacobian needs no autograd: the derivative of ``H`` with respect to ``W_l`` at
sample ``i`` is the outer product of ``dH/dz_l`` (one hand-written backward pass
per output, :func:`~skneuronpursuit._kernels.network.backward`) and the layer input
``h_{l-1}``. With ``P m <= max_explicit`` (``m`` outputs) ``A`` is formed in chunks of
samples and solved by a Cholesky factorisation (with fewer residuals ``n m`` than
weights, through the ``n m x n m`` system ``J J^T``: ``_Dual``); beyond that the system
is solved matrix-free by conjugate gradients, ``A v = J^T S (J v) / n`` costing a forward
(:func:`jacobian_product`) and a backward pass. ``A``, ``g`` and ``p`` are float64
whatever the fit's dtype (the normal equations square the condition number; the
``P x P`` system is small); the network, its loss and ``J``'s factors stay in the
fit's dtype.

The log loss takes the generalised Gauss-Newton form, ``A = J^T S D J / n`` with ``D``
the cross-entropy's Hessian in ``H`` (docs/levenberg-marquardt.md, "The log loss"); the
L2 penalty adds ``alpha I`` to ``A`` and ``-alpha w`` to ``g`` (docs/algorithm.md §10).
"""

import torch

from .damped_systems import _system_type
from .gauss_newton import _flat, _unflat
from .gradient_descent import DescentResult
from .network import SQUARED_ERROR, loss_and_passes

# Accepted steps of a call that names no budget: enough to converge (an LM descent takes
# 2-40 steps, rarely 100). The estimators pass lm_steps (choice).
MAX_STEPS = 100
TAU = 1e-3  # initial damping as a fraction of max diag(A) (Nielsen's usual value) (choice)
LAMBDA_RANGE = 1e12  # damping above this times max diag(A): no step lowers the loss


def levenberg_marquardt(
    weights,
    X,
    Y,
    sample_weight,
    activation,
    *,
    max_steps=MAX_STEPS,
    target_loss=0.0,
    rel_tol=1e-4,
    max_explicit=None,
    alpha=0.0,
    objective=SQUARED_ERROR,
    curvature_rows=None,
):
    """Minimise ``1/(2n) sum_i s_i ||y_i - H(x_i)||^2`` from ``weights`` by Levenberg-Marquardt.

    With ``objective`` the log loss, its generalised Gauss-Newton form: ``A`` is
    ``J^T S D J / n`` with ``D`` the cross-entropy's Hessian in ``H``, ``g`` minus its
    gradient (docs/levenberg-marquardt.md, "The log loss").

    With ``alpha > 0``, plus ``alpha / 2 sum_l ||W_l||^2`` (docs/algorithm.md §10): its
    Hessian ``alpha I`` is exact, so the system is ``(A + (lambda + alpha) I) p = g - alpha w``.

    Parameters
    ----------
    weights : list of Tensor
        Starting point; not modified.
    max_steps : int
        Accepted LM steps at most.
    target_loss : float
        Stop once the loss is at or below this value.
    rel_tol : float
        Stop once an accepted step lowered the loss by less than this fraction of it
        and by no more than the step before.
    max_explicit : int, optional
        ``A`` is formed and factorised while weights times outputs is at most this,
        conjugate gradients beyond; ``MAX_EXPLICIT`` by default.
    alpha : float
        Strength of the L2 penalty; 0 for none.
    objective : loss of ``_kernels/losses.py``, default=SQUARED_ERROR
    curvature_rows : Tensor of int, optional
        Samples of dense ``X`` that ``A`` is formed on (scaled to estimate all samples'
        ``A``); ``g`` and the loss that accepts a step stay on all samples
        (docs/inner-descent.md, "Many samples").

    Returns
    -------
    DescentResult
        ``n_steps`` accepted LM steps, ``n_halvings`` rejected ones, ``step_size`` the
        damping ``lambda`` at the end. Its loss is that of its weights and never above
        that of ``weights``: a step is accepted only if it lowers the loss.
    """
    noise = 100 * torch.finfo(Y.dtype).eps
    current = [w.clone() for w in weights]
    # The forward passes of each loss below, kept (where small enough) for the gradient
    # at the same weights when the next system is formed there (the same numbers).
    loss, passes = loss_and_passes(current, X, Y, sample_weight, activation, objective, alpha)
    loss = float(loss)
    system_type = _system_type(weights, Y.shape, max_explicit, objective, curvature_rows)
    n_accepted = n_rejected = 0
    last_decrease = None
    damping, growth, diverged, system = None, 2.0, False, None
    trial_loss = loss
    while n_accepted < max_steps and loss > target_loss:
        if system is None:
            system = system_type(
                current,
                X,
                Y,
                sample_weight,
                activation,
                alpha,
                objective,
                rows=curvature_rows,
                passes=passes,
            )
            passes = None
            largest = float(system.diagonal.max())
            if not largest > 0:  # the outputs do not depend on the weights: nothing to do
                break
            if damping is None:
                damping = TAU * largest
        # The first-order decrease available is below rounding: a stationary point.
        if float(system.g.norm()) * float(_flat(current).norm()) <= noise * loss:
            break
        if damping > LAMBDA_RANGE * largest:
            diverged = n_accepted == 0 and not trial_loss <= loss * (1 + noise)
            break
        p = system.solve(damping)
        if p is None or not bool(torch.isfinite(p).all()):
            damping, growth = damping * growth, growth * 2
            n_rejected += 1
            continue
        predicted = float(p.dot(system.g) - system.curvature(p) / 2)
        trial = [w + d for w, d in zip(current, _unflat(p, current))]
        trial_loss, trial_passes = loss_and_passes(
            trial, X, Y, sample_weight, activation, objective, alpha
        )
        trial_loss = float(trial_loss)
        if trial_loss < loss and predicted > 0:  # `<` is False for NaN
            gain = (loss - trial_loss) / predicted
            damping *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
            growth = 2.0
            decrease = loss - trial_loss
            current, loss, system, passes = trial, trial_loss, None, trial_passes
            n_accepted += 1
            # Converged: a small decrease that is not speeding up (as gradient_descent:
            # a new neuron escaping its saddle lowers the loss slowly, but faster step
            # by step). A decrease within rounding is none.
            if decrease <= rel_tol * (loss + decrease):
                if decrease <= noise * loss or (
                    last_decrease is not None and decrease <= last_decrease
                ):
                    break
            last_decrease = decrease
        else:
            damping, growth = damping * growth, growth * 2
            n_rejected += 1
    return DescentResult(current, loss, n_accepted, damping or 0.0, n_rejected, diverged)
