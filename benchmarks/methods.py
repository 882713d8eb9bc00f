"""The learners compared: Neuron Pursuit and the baselines of docs/benchmarks.md.

Each ``fit_*`` returns a list of candidates ``(predict, info)``, ``info`` with the
candidate's own fit seconds: the runner keeps the one with the lowest test error,
as the paper reports its baselines (best of several step sizes or solvers).
"""

import dataclasses
import functools
import time
import warnings

import numpy as np
import scipy.sparse
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skneuronpursuit import (
    NeuronPursuitClassifier,
    NeuronPursuitRegressor,
    neuron_pursuit,
    paper_settings,
)
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.gradient_descent import gradient_descent
from skneuronpursuit._kernels.network import predict as network_predict

from .realdata import estimator_params

GD_WIDTH = 50
# One large starting step: the inner descent (docs/inner-descent.md) rolls a window back
# and halves the step when the loss rose over it; the baseline may halve up to 30 times.
GD_STEP_SIZES = (1.0,)
GD_MAX_HALVINGS = 30
DTYPE = torch.float32  # NP's recommended precision for speed; same for GD
QUICK_NP = dict(ncf_steps=50, gd_steps=200, max_iter=8)
MOMENTUM = 0.9  # gd_momentum of "np-momentum", the opt-in inner solver
GD_STEPS = dict(quick=1000, full=20_000)
MLP_MAX_ITER = dict(quick=100, full=500)
# The suite's own stops and steps where a task's differ from the package defaults
# (docs/benchmarks.md, "Methods compared"); np-paper runs the paper's (paper_settings).
NP_TASK_PARAMS = {
    "modadd-59": dict(gd_lr=0.5, tol=0.1, max_iter=200),
    "pvr": dict(rebalance=True, tol=0.005, max_iter=100),
}


def fit_neuron_pursuit(task, X, y, seed, quick, callbacks=(), **overrides):
    """NP with the task's network; ``overrides`` (estimator parameters) go on top."""
    Estimator = (
        NeuronPursuitClassifier if task.kind == "classification" else NeuronPursuitRegressor
    )
    paper = paper_settings(task.name)
    params = dict(
        depth=paper.depth,
        activation_power=paper.activation.power,
        negative_slope=paper.activation.slope,
        fit_intercept=task.fit_intercept,
        random_state=seed,
        dtype="float32",
        # The paper's protocol grows on all the training data; the package's default
        # may hold some out (docs/benchmarks.md, "Methods compared").
        early_stopping=False,
        # The paper's loss, unpenalised, one neuron per iteration.
        alpha=0.0,
        gd_momentum=0.0,
        neurons_per_iteration=1,
    )
    if task.kind == "classification":
        params["loss"] = "squared_error"
    params.update(NP_TASK_PARAMS.get(task.name, {}))
    if quick:
        params.update(QUICK_NP)
    params.update(overrides)
    if task.sparse_inputs:
        X = scipy.sparse.csr_matrix(X)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Estimator(**estimator_params(params))
        if callbacks:  # sklearn.callback objects (scikit-learn >= 1.9)
            model.set_callbacks(*callbacks)
        model.fit(X, y)
    seconds = time.perf_counter() - started
    return [
        (
            model.predict,
            _np_info(
                model.history_, model.hidden_layer_sizes_, model.stop_reason_, task, seconds, model
            ),
        )
    ]


def _np_info(history, hidden_layer_sizes, stop_reason, task, seconds, model):
    """The runner's ``info`` of an NP fit."""
    violations = sum(r["loss_after_add"] >= r["loss_before"] for r in history)
    return dict(
        neurons=sum(hidden_layer_sizes),
        np_iterations=len(history),
        descent_violations=violations,
        detail=f"stop={stop_reason}" + (" sparse_X" if task.sparse_inputs else ""),
        seconds=seconds,
        model=model,
    )


def _one_hot(y, classes):
    return (y[:, None] == classes[None, :]).astype(float)


def fit_small_init_gd(task, X, y, seed, quick):
    """GD from small initialisation, 50 neurons per hidden layer, no biases (the paper's)."""
    activation = HomogeneousActivation(task.activation_power, task.negative_slope)
    classes = np.unique(y) if task.kind == "classification" else None
    Y = _one_hot(y, classes) if classes is not None else y.reshape(len(y), -1)
    X_t, Y_t = torch.from_numpy(X).to(DTYPE), torch.from_numpy(Y).to(DTYPE)
    weight = torch.ones(len(X), dtype=DTYPE)
    sizes = [X.shape[1]] + [GD_WIDTH] * (task.depth - 1) + [Y.shape[1]]
    generator = torch.Generator().manual_seed(seed)
    initial = [
        torch.randn(sizes[i + 1], sizes[i], generator=generator, dtype=DTYPE)
        for i in range(task.depth)
    ]
    norm = torch.sqrt(sum(w.square().sum() for w in initial))
    initial = [w * task.gd_init_radius / norm for w in initial]
    loss_zero = float(Y_t.square().sum()) / (2 * len(X))
    candidates = []
    for step_size in GD_STEP_SIZES:
        started = time.perf_counter()
        with torch.inference_mode():  # as NP's engine runs
            result = gradient_descent(
                initial,
                X_t,
                Y_t,
                weight,
                activation,
                step_size=step_size,
                max_steps=GD_STEPS["quick" if quick else "full"],
                target_loss=1e-3 * loss_zero,
                rel_tol=-1.0,  # never stop on a plateau: small-init GD escapes it slowly
                max_halvings=GD_MAX_HALVINGS,
            )

        def predict(X_new, weights=result.weights):
            inputs = torch.from_numpy(X_new).to(DTYPE)
            output = network_predict(weights, inputs, activation).numpy()
            if classes is not None:
                return classes[output.argmax(axis=1)]
            return output.ravel()

        info = dict(
            neurons=GD_WIDTH * (task.depth - 1),
            detail=f"lr={step_size}->{result.step_size:g} steps={result.n_steps}",
            seconds=time.perf_counter() - started,
        )
        candidates.append((predict, info))
    return candidates


def fit_mlp(task, X, y, seed, quick):
    """scikit-learn's MLP, 50 per hidden layer; adam and lbfgs."""
    Estimator = MLPClassifier if task.kind == "classification" else MLPRegressor
    candidates = []
    for solver in ("adam", "lbfgs"):
        model = Estimator(
            hidden_layer_sizes=(GD_WIDTH,) * (task.depth - 1),
            solver=solver,
            max_iter=MLP_MAX_ITER["quick" if quick else "full"],
            random_state=seed,
        )
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        info = dict(
            neurons=GD_WIDTH * (task.depth - 1),
            detail=f"solver={solver}",
            seconds=time.perf_counter() - started,
        )
        candidates.append((model.predict, info))
    return candidates


def fit_neuron_pursuit_gd(task, X, y, seed, quick):
    """NP as :func:`fit_neuron_pursuit`, its inner minimisation by gradient descent only.

    The default inner solver until 2026-11-30 (docs/inner-descent.md).
    """
    return fit_neuron_pursuit(task, X, y, seed, quick, solver="gd")


LM_FULL_STEPS = 100  # LM steps per neuron of "np-lm": to (near) the nearest minimum
LM_SHORT_STEPS = 10  # LM steps per neuron of "np-lm10"


def fit_neuron_pursuit_lm(task, X, y, seed, quick):
    """NP with Levenberg-Marquardt run to convergence (``LM_FULL_STEPS``) after each neuron."""
    return fit_neuron_pursuit(task, X, y, seed, quick, solver="lm", lm_steps=LM_FULL_STEPS)


def fit_neuron_pursuit_lm_short(task, X, y, seed, quick):
    """NP with Levenberg-Marquardt stopped after ``LM_SHORT_STEPS`` steps per neuron.

    (docs/decisions.md, "Levenberg-Marquardt against gradient descent").
    """
    return fit_neuron_pursuit(task, X, y, seed, quick, solver="lm", lm_steps=LM_SHORT_STEPS)


# A shorter, steeper NCF ascent (docs/decisions.md, "A shorter NCF search"): the same
# or more ascent "time" (ncf_lr x ncf_steps) in 1/4 or 1/2 of the steps. Tried, not adopted.
SHORT_SEARCHES = {
    "np-ncf8": dict(ncf_lr=8.0, ncf_steps=50),
    "np-ncf4": dict(ncf_lr=4.0, ncf_steps=100),
}


def fit_neuron_pursuit_short_search(task, X, y, seed, quick, method="np-ncf8"):
    """NP with the ascent of ``SHORT_SEARCHES[method]``; quick mode keeps its own steps."""
    settings = dict(SHORT_SEARCHES[method])
    if quick:
        settings.pop("ncf_steps")
    return fit_neuron_pursuit(task, X, y, seed, quick, **settings)


def fit_neuron_pursuit_momentum(task, X, y, seed, quick):
    """NP with its inner descent by gradient descent with Nesterov momentum."""
    return fit_neuron_pursuit(task, X, y, seed, quick, solver="gd", gd_momentum=MOMENTUM)


def fit_neuron_pursuit_paper(task, X, y, seed, quick, max_iter=None):
    """NP by the paper's protocol: :func:`neuron_pursuit` with :func:`paper_settings`.

    Quick mode keeps the paper's step sizes and rules with the quick step counts;
    ``max_iter`` caps the iterations (docs/paper.md's pvr rows: 10).
    """
    settings = paper_settings(task.name)
    if quick:
        settings = dataclasses.replace(
            settings,
            gd_steps=QUICK_NP["gd_steps"],
            max_iter=QUICK_NP["max_iter"],
            options=dataclasses.replace(settings.options, ncf_steps=QUICK_NP["ncf_steps"]),
        )
    if max_iter is not None:
        settings = dataclasses.replace(settings, max_iter=max_iter)
    classes = np.unique(y) if task.kind == "classification" else None
    # The paper's classifier: the squared loss on one-hot targets (two classes: +-1).
    Y = _one_hot(y, classes) if classes is not None else y
    if classes is not None and len(classes) == 2:
        Y = 2 * Y[:, 1:] - 1
    if task.sparse_inputs:
        X = scipy.sparse.csr_matrix(X)
    started = time.perf_counter()
    fit = neuron_pursuit(
        X, Y, settings, fit_intercept=task.fit_intercept, dtype="float32", random_state=seed
    )
    seconds = time.perf_counter() - started

    def predict(X_new):
        output = fit.predict(X_new)
        if classes is None:
            return output.ravel()
        if output.shape[1] == 1:
            return classes[(output[:, 0] > 0).astype(int)]
        return classes[output.argmax(axis=1)]

    return [
        (
            predict,
            _np_info(fit.history, fit.hidden_layer_sizes, fit.stop_reason, task, seconds, fit),
        )
    ]


METHODS = {
    "np": fit_neuron_pursuit,
    "gd": fit_small_init_gd,
    "mlp": fit_mlp,
    "np-gd": fit_neuron_pursuit_gd,
    "np-momentum": fit_neuron_pursuit_momentum,
    "np-paper": fit_neuron_pursuit_paper,
    "np-lm": fit_neuron_pursuit_lm,
    "np-lm10": fit_neuron_pursuit_lm_short,
    "np-ncf8": functools.partial(fit_neuron_pursuit_short_search, method="np-ncf8"),
    "np-ncf4": functools.partial(fit_neuron_pursuit_short_search, method="np-ncf4"),
}
DEFAULT_METHODS = ("np", "gd", "mlp")  # those of docs/benchmarks.md; others on request
