"""How far NP's fitted network is from a minimiser of its own objective, and what that costs.

Neuron Pursuit ends each iteration with a bounded inner descent (docs/inner-descent.md),
so the network it returns need not be a stationary point of its (penalised) objective.
This benchmark takes each fold's fitted network, runs full-batch L-BFGS in float64 on
exactly the objective the fit minimised (same rescaled units, intercept column, duplicate
rows merged into weights, and ``alpha``; docs/algorithm.md §1, §10) until it converges,
and scores both networks on the test fold. The architecture is kept: only the weights
move. It is an experiment on the method, not an option of the estimators. Fits must hold
nothing out: for the regressor, whose defaults use early stopping, pass
``--np early_stopping=False``.

    python -m benchmarks converge --datasets digits --np alpha=0.0002
    python -m benchmarks converge --datasets diabetes --np early_stopping=False
    python -m benchmarks converge --datasets digits breast_cancer --seed 0 1 2 --out F.csv
"""

import copy
import time

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitSettings
from skneuronpursuit._engine.problem import build_problem
from skneuronpursuit._estimators.classifier import class_targets
from skneuronpursuit._kernels.losses import LOSSES
from skneuronpursuit._kernels.network import loss as network_loss

from .realdata import estimator_params

# L-BFGS stops when the largest gradient entry or the change of the objective is this small.
GRADIENT_TOLERANCE = 1e-7
CHANGE_TOLERANCE = 1e-10


def training_problem(estimator, X, y):
    """The objective ``estimator`` minimised on ``(X, y)``, as a function of its weights.

    Parameters
    ----------
    estimator : NeuronPursuitRegressor or NeuronPursuitClassifier
        Fitted on ``(X, y)`` without early stopping (with it, part of ``X`` was held
        out and is not in the objective).
    X, y : ndarray
        The training data of the fit.

    Returns
    -------
    objective : callable
        ``objective(weights)``: the loss plus the L2 penalty of the float64 weights
        ``[W_1, ..., W_L]`` in the units of the fit (``estimator._fit_weights_``).
    """
    if estimator.early_stopping_:
        raise ValueError("the fit held out data (early stopping): use early_stopping=False")
    X = np.asarray(X, dtype=np.float64)
    if isinstance(estimator, NeuronPursuitClassifier):
        encoded = np.searchsorted(estimator.classes_, y)
        Y = class_targets(encoded, len(estimator.classes_), estimator._loss_)
    else:
        Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    # The problem the fit built (the same data give the same scales and offset).
    settings = PursuitSettings(
        activation=estimator._activation_,
        alpha=float(estimator.alpha),
        objective=LOSSES[estimator._loss_],
    )
    problem = build_problem(
        X,
        Y,
        np.ones(len(X)),
        settings,
        fit_intercept=estimator._fit_intercept_,
        dtype=torch.float64,
        device=torch.device("cpu"),
        center=np.any(estimator.y_offset_ != 0),
    )

    def value(weights):
        return network_loss(
            weights,
            problem.X,
            problem.Y,
            problem.sample_weight,
            settings.activation,
            settings.objective,
            settings.alpha,
        )

    return value


def converge(objective, weights, max_iter=5000):
    """Minimise ``objective`` from ``weights`` with L-BFGS (float64, strong Wolfe).

    Returns
    -------
    weights : list of ndarray
        The converged weights (a new list).
    value : float
        The objective there.
    n_iter : int
        L-BFGS iterations taken.
    """
    parameters = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    optimiser = torch.optim.LBFGS(
        parameters,
        max_iter=max_iter,
        tolerance_grad=GRADIENT_TOLERANCE,
        tolerance_change=CHANGE_TOLERANCE,
        history_size=10,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimiser.zero_grad()
        value = objective(parameters)
        value.backward()
        return value

    optimiser.step(closure)
    with torch.no_grad():
        value = float(objective(parameters))
    n_iter = optimiser.state[parameters[0]].get("n_iter", 0)
    return [p.detach().numpy().copy() for p in parameters], value, n_iter


def evaluate(dataset, np_params=None, n_splits=5, seed=0, max_iter=5000):
    """Per fold: objective and test score of NP's network before and after converging it.

    The inputs standardised on each training fold, as the real-data benchmark's pipeline
    does, and its folds for the same ``seed``; NP's ``random_state`` is ``seed``.
    """
    X, y = dataset.load()
    Estimator = NeuronPursuitClassifier if dataset.classification else NeuronPursuitRegressor
    splitter = (StratifiedKFold if dataset.classification else KFold)(
        n_splits=n_splits, shuffle=True, random_state=seed
    )
    rows = []
    for fold, (train, test) in enumerate(splitter.split(X, y)):
        scaler = StandardScaler().fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        started = time.perf_counter()
        fitted = Estimator(random_state=seed, **estimator_params(np_params or {})).fit(
            X_train, y[train]
        )
        fit_seconds = time.perf_counter() - started
        objective = training_problem(fitted, X_train, y[train])
        before = float(objective([torch.as_tensor(w) for w in fitted._fit_weights_]))
        started = time.perf_counter()
        weights, after, n_iter = converge(objective, fitted._fit_weights_, max_iter)
        converge_seconds = time.perf_counter() - started
        converged = copy.deepcopy(fitted)
        converged._fit_weights_ = weights  # the stored network; coefs_ derive from it
        rows.append(
            {
                "dataset": dataset.name,
                "seed": seed,
                "fold": fold,
                "neurons": sum(fitted.hidden_layer_sizes_),
                "objective": before,
                "converged_objective": after,
                "score": fitted.score(X_test, y[test]),
                "converged_score": converged.score(X_test, y[test]),
                "fit_seconds": fit_seconds,
                "converge_seconds": converge_seconds,
                "lbfgs_iterations": n_iter,
            }
        )
    return rows


def summary(rows):
    """Markdown: per dataset, the means of the folds (over all seeds)."""
    lines = [
        "| data | neurons | objective | converged | score | converged score "
        "| fit s | converge s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]

        def mean(key, mine=mine):
            return np.mean([r[key] for r in mine])

        lines.append(
            f"| {name} | {mean('neurons'):.1f} | {mean('objective'):.4f} "
            f"| {mean('converged_objective'):.4f} | {mean('score'):.4f} "
            f"| {mean('converged_score'):.4f} | {np.median([r['fit_seconds'] for r in mine]):.2f} "
            f"| {np.median([r['converge_seconds'] for r in mine]):.2f} |"
        )
    return "\n".join(lines)
