"""solver="auto" (docs/inner-descent.md, "Which solver"): a GD window, then LM if cheap."""

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import hypercube, pursuit_settings

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
from skneuronpursuit._engine.inner_solver import minimise, solver_for
from skneuronpursuit._kernels.gauss_newton import MAX_EXPLICIT
from skneuronpursuit._kernels.gradient_descent import gradient_descent
from skneuronpursuit._kernels.levenberg_marquardt import levenberg_marquardt
from skneuronpursuit._kernels.losses import LOSSES

FAST = fast_params(FAST, ncf_steps=50, gd_steps=200, early_stopping=False)


def network(n_features, width, n_outputs):
    return [torch.zeros(width, n_features), torch.zeros(n_outputs, width)]


@pytest.mark.parametrize(
    "n_features, width, n_outputs, loss, expected",
    [
        (10, 3, 1, "squared_error", "gd+lm"),
        (MAX_EXPLICIT - 1, 1, 1, "squared_error", "gd+lm"),  # exactly MAX_EXPLICIT weights
        (MAX_EXPLICIT, 1, 1, "squared_error", "gd"),
        (119, 1, 59, "squared_error", "gd"),  # one-hot modular addition mod 59
        (10, 3, 2, "log_loss", "gd"),  # "lm" is its Gauss-Newton form, on request only
    ],
)
def test_auto_finishes_with_lm_while_the_normal_equations_are_explicit(
    n_features, width, n_outputs, loss, expected
):
    weights = network(n_features, width, n_outputs)
    assert solver_for("auto", LOSSES[loss], weights, n_outputs) == expected
    assert solver_for("gd", LOSSES[loss], weights, n_outputs) == "gd"


def test_auto_switches_to_gd_when_the_network_outgrows_the_explicit_system():
    # 200 inputs (201 with the intercept column) and one output, depth 2: k first-layer
    # neurons have 201 k + k weights, at most MAX_EXPLICIT up to k = 7.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 200))
    y = np.tanh(X[:, :10]).sum(axis=1)
    reg = NeuronPursuitRegressor(depth=2, max_iter=10, tol=0, **FAST).fit(X, y)
    solvers = [record["solver"] for record in reg.history_]
    explicit = [
        (201 * widths[0] + widths[0]) <= MAX_EXPLICIT
        for widths in (record["hidden_layer_sizes"] for record in reg.history_)
    ]
    # Each iteration's solver is chosen on the network it minimises (after the addition).
    assert solvers == ["gd+lm" if small else "gd" for small in explicit]
    assert solvers[0] == "gd+lm" and solvers[-1] == "gd"


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_auto_is_gd_bit_for_bit_where_lm_never_runs(loss):
    # Many classes: every iteration has more than MAX_EXPLICIT weights times outputs, so
    # "auto" runs exactly the fit of "gd" (the modular-addition benchmark keeps its fits).
    X = hypercube(150, 200, seed=0)
    y = ((X[:, :3] > 0) * [1, 2, 4]).sum(axis=1)  # 8 classes: (200 + 8) k weights x 8
    fits = [
        NeuronPursuitClassifier(
            depth=2, max_iter=3, loss=loss, **fast_params(FAST, solver=solver)
        ).fit(X, y)
        for solver in ("auto", "gd")
    ]
    assert all(record["solver"] == "gd" for record in fits[0].history_)
    for auto, gd in zip(fits[0].coefs_, fits[1].coefs_):
        np.testing.assert_array_equal(auto, gd)


def test_gd_plus_lm_is_one_gd_window_then_lm():
    # float64: the composition is checked bit for bit against the two solvers run by hand.
    rng = np.random.RandomState(0)
    X = torch.as_tensor(rng.normal(size=(60, 4)))
    Y = torch.as_tensor(np.tanh(X.numpy() @ [1.0, -2.0, 0.5, 0.0])[:, None])
    weights = [torch.as_tensor(0.3 * rng.normal(size=shape)) for shape in [(3, 4), (2, 3), (1, 2)]]
    weight = torch.ones(60, dtype=torch.float64)
    settings = pursuit_settings(
        n_restarts=1,
        ncf_steps=1,
        gd_steps=1000,
        gd_lr=0.05,
        max_iter=1,
        gd_window=40,
        solver="auto",
        lm_steps=7,
        gd_tol=0.0,
    )
    result = minimise(weights, X, Y, weight, settings, step_size=None, target_loss=0.0)
    window = gradient_descent(
        weights,
        X,
        Y,
        weight,
        settings.activation,
        step_size=0.05,
        max_steps=40,
        window=40,
        rel_tol=0.0,
    )
    finished = levenberg_marquardt(
        window.weights, X, Y, weight, settings.activation, max_steps=7, rel_tol=0.0
    )
    assert result.solver == "gd+lm" and not result.diverged
    assert (result.gd_steps, result.lm_steps) == (40, finished.n_steps) and finished.n_steps > 0
    assert result.step_size == window.step_size  # LM leaves the carried GD step alone
    assert result.loss == finished.loss < window.loss
    for mine, theirs in zip(result.weights, finished.weights):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
