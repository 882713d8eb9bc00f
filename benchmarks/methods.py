"""The learners compared: Neuron Pursuit and the baselines of BENCHMARKS.md.

Each ``fit_*`` returns a list of candidates ``(predict, info)``, ``info`` with the
candidate's own fit seconds: the runner keeps the one with the lowest test error,
as the paper reports its baselines (best of several step sizes or solvers).
"""

import time
import warnings

import numpy as np
import scipy.sparse
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
from skneuronpursuit._activation import HomogeneousActivation
from skneuronpursuit._gradient_descent import gradient_descent
from skneuronpursuit._network import predict as network_predict

GD_WIDTH = 50
GD_STEP_SIZES = (1.0,)  # halved on every rise (ALGORITHM.md §4), so large is safe
DTYPE = torch.float32  # NP's recommended precision for speed (issue 4); same for GD
QUICK_NP = dict(ncf_steps=50, gd_steps=200, max_iter=8)
MOMENTUM = 0.9  # gd_momentum of "np-momentum", the opt-in inner solver
GD_STEPS = dict(quick=1000, full=20_000)
MLP_MAX_ITER = dict(quick=100, full=500)


def fit_neuron_pursuit(task, X, y, seed, quick, callbacks=(), **overrides):
    """NP with the task's settings; ``overrides`` (estimator parameters) go on top."""
    Estimator = (
        NeuronPursuitClassifier if task.kind == "classification" else NeuronPursuitRegressor
    )
    params = dict(
        depth=task.depth,
        activation_power=task.activation_power,
        negative_slope=task.negative_slope,
        fit_intercept=task.fit_intercept,
        rebalance=task.rebalance,
        random_state=seed,
        dtype="float32",
    )
    params.update(task.np_params)
    if quick:
        params.update(QUICK_NP)
    params.update(overrides)
    if task.sparse_inputs:
        X = scipy.sparse.csr_matrix(X)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Estimator(**params)
        if callbacks:  # sklearn.callback objects (scikit-learn >= 1.9)
            model.set_callbacks(*callbacks)
        model.fit(X, y)
    seconds = time.perf_counter() - started
    violations = sum(r["loss_after_add"] >= r["loss_before"] for r in model.history_)
    info = dict(
        neurons=sum(model.hidden_layer_sizes_),
        np_iterations=model.n_iter_,
        descent_violations=violations,
        detail=f"stop={model.stop_reason_}" + (" sparse_X" if task.sparse_inputs else ""),
        seconds=seconds,
        model=model,
    )
    return [(model.predict, info)]


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


def fit_neuron_pursuit_momentum(task, X, y, seed, quick):
    """NP as :func:`fit_neuron_pursuit`, its inner descent with Nesterov momentum."""
    return fit_neuron_pursuit(task, X, y, seed, quick, gd_momentum=MOMENTUM)


METHODS = {
    "np": fit_neuron_pursuit,
    "gd": fit_small_init_gd,
    "mlp": fit_mlp,
    "np-momentum": fit_neuron_pursuit_momentum,
}
DEFAULT_METHODS = ("np", "gd", "mlp")  # those of BENCHMARKS.md; others on request
