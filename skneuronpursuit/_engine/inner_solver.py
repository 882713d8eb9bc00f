"""The inner minimisation after each added neuron: which solver runs, and running it.

docs/inner-descent.md, "Which solver". ``solver="gd"`` is gradient descent
(``_kernels/gradient_descent.py``), ``"lm"`` Levenberg-Marquardt
(``_kernels/levenberg_marquardt.py``;
for the log loss its generalised Gauss-Newton form). ``"auto"`` chooses per iteration:
where the loss is squared and Levenberg-Marquardt's normal equations are formed
explicitly (weights times outputs at most ``MAX_EXPLICIT``), one window of gradient
descent (the new neuron starts to grow along the gradient flow, as the theory has it)
finished by Levenberg-Marquardt ("gd+lm"); for the log loss with a penalty
(``alpha > 0``) there, Levenberg-Marquardt alone; elsewhere (many outputs, large
networks, the unpenalised log loss) gradient descent alone.
With the paper's schedule (:class:`PaperSchedule`), :func:`minimise_on_schedule`.
"""

from dataclasses import dataclass

from .._kernels import reduction
from .._kernels.gauss_newton import has_explicit_system
from .._kernels.gradient_descent import gradient_descent, next_step_size, scheduled_descent
from .._kernels.levenberg_marquardt import levenberg_marquardt
from .._kernels.network import loss as network_loss


@dataclass
class InnerResult:
    """Outcome of one inner minimisation, with the steps of each solver."""

    weights: list
    loss: float
    step_size: float  # the gradient-descent step to carry to the next iteration
    diverged: bool  # no step of the first solver lowered the loss
    solver: str  # "gd", "lm" or "gd+lm": what ran
    gd_steps: int = 0  # accepted gradient-descent steps
    gd_halvings: int = 0
    lm_steps: int = 0  # accepted Levenberg-Marquardt steps
    lm_rejected: int = 0


def solver_for(solver, objective, weights, n_outputs, alpha=0.0):
    """``"gd"``, ``"lm"`` or ``"gd+lm"``: what ``solver`` runs on these weights."""
    if solver != "auto":
        return solver
    if not has_explicit_system(weights, n_outputs):
        return "gd"
    if objective.name == "squared_error":
        return "gd+lm"
    # The log loss (choice): without a penalty its minimum lies at infinity for separable
    # data, the Gauss-Newton steps race there and the fits overfit, so gradient descent;
    # with one, Levenberg-Marquardt alone (docs/decisions.md, "The classifier's
    # defaults").
    return "lm" if alpha > 0 else "gd"


def minimise(
    weights,
    X,
    Y,
    sample_weight,
    settings,
    *,
    step_size,
    target_loss,
    rows=None,
    window_rows=None,
):
    """Minimise the loss from ``weights`` with the solver of ``settings``.

    Parameters
    ----------
    weights : list of Tensor
        The grown network; not modified.
    settings : PursuitSettings
    step_size : float or None
        The gradient-descent step the last descent ended with (None: none yet).
        Levenberg-Marquardt leaves it as it is, so a later gradient descent (a larger
        network, or a warm start with ``"gd"``) resumes it.
    target_loss : float
        Stop once the loss is at or below this value.
    rows : Tensor of int, optional
        Samples (dense ``X``) for Levenberg-Marquardt's curvature; its gradient and
        loss stay on all samples (docs/inner-descent.md, "Many samples"). Gradient
        descent alone runs on all samples.
    window_rows : Tensor of int, optional
        Samples for the window of gradient descent before Levenberg-Marquardt (with
        ``rows`` given; ``rows`` themselves when None).

    Returns
    -------
    InnerResult
    """
    s = settings
    solver = solver_for(s.options.solver, s.objective, weights, Y.shape[1], s.alpha)
    if solver == "gd":
        rows = None
    subset = (X, Y, sample_weight)
    if rows is not None:
        window = rows if window_rows is None else window_rows
        chosen = sample_weight[window]  # of mean 1 over every process's rows
        subset = (X[window], Y[window], chosen / reduction.mean(chosen))
    gd = None
    if solver != "lm":
        gd = gradient_descent(
            weights,
            *subset,
            s.activation,
            step_size=next_step_size(step_size, s.options.gd_lr),
            max_steps=s.gd_steps if solver == "gd" else min(s.options.gd_window, s.gd_steps),
            target_loss=target_loss,
            momentum=s.options.gd_momentum,
            window=s.options.gd_window,
            rel_tol=s.options.gd_tol,
            objective=s.objective,
            alpha=s.alpha,
        )
        # On a subset its loss is not the fit's: Levenberg-Marquardt judges from there.
        if solver == "gd" or (rows is None and (gd.diverged or gd.loss <= target_loss)):
            return InnerResult(
                gd.weights, gd.loss, gd.step_size, gd.diverged, solver, gd.n_steps, gd.n_halvings
            )
    lm = levenberg_marquardt(
        weights if gd is None else gd.weights,
        X,
        Y,
        sample_weight,
        s.activation,
        max_steps=s.options.lm_steps,
        target_loss=target_loss,
        rel_tol=s.options.gd_tol,
        alpha=s.alpha,
        objective=s.objective,
        curvature_rows=rows,
    )
    if gd is None:
        carried = s.options.gd_lr if step_size is None else step_size
        return InnerResult(
            lm.weights,
            lm.loss,
            carried,
            lm.diverged,
            solver,
            lm_steps=lm.n_steps,
            lm_rejected=lm.n_halvings,
        )
    # After a gradient-descent window that lowered the loss, a Levenberg-Marquardt that
    # cannot lower it further has found a minimum, not diverged.
    diverged = False
    result = lm.weights, lm.loss
    if rows is not None:
        # The window lowered the subset's loss; on all samples it may have raised it.
        diverged = gd.diverged and lm.diverged
        start = network_loss(weights, X, Y, sample_weight, s.activation, s.objective, s.alpha)
        start = float(start)
        if not lm.loss <= start:
            result = [w.clone() for w in weights], start
    return InnerResult(
        *result,
        gd.step_size,
        diverged,
        solver,
        gd.n_steps,
        gd.n_halvings,
        lm.n_steps,
        lm.n_halvings,
    )


def minimise_on_schedule(weights, X, Y, sample_weight, settings, max_steps):
    """The paper's descent (docs/paper.md): ``max_steps`` steps from ``gd_lr``, by the
    schedule's rule (``"fixed"`` or ``"halve"``)."""
    s = settings
    halvings = s.schedule.gd_halvings if s.schedule.gd_rule == "halve" else 0
    gd = scheduled_descent(
        weights,
        X,
        Y,
        sample_weight,
        s.activation,
        step_size=s.options.gd_lr,
        max_steps=max_steps,
        window=s.options.gd_window,
        max_halvings=halvings,
        objective=s.objective,
    )
    return InnerResult(
        gd.weights, gd.loss, gd.step_size, gd.diverged, "gd", gd.n_steps, gd.n_halvings
    )
