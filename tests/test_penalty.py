"""The L2 penalty ``alpha`` (docs/algorithm.md §10): descent, solvers, scale, stopping."""

import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import assert_every_iteration_descends, pursuit_settings
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._engine.pursuit import grow
from skneuronpursuit._engine.records import STALL_FRACTION
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.damped_systems import _Dual, _Explicit, _MatrixFree, _system_type
from skneuronpursuit._kernels.gradient_descent import lay_out, run_window
from skneuronpursuit._kernels.levenberg_marquardt import levenberg_marquardt
from skneuronpursuit._kernels.losses import LOSSES
from skneuronpursuit._kernels.network import loss
from skneuronpursuit._kernels.neuron_scale import _model, lowest_descending_scale, optimal_scale


def problem(depth=3, n=40, outputs=2, seed=0, power=1, slope=0.1):
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    X, Y = randn(n, 4), randn(n, outputs)
    sizes = [4] + [3] * (depth - 1) + [outputs]
    weights = [0.7 * randn(sizes[i + 1], sizes[i]) for i in range(depth)]
    weight = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    return X, Y, weight / weight.mean(), weights, HomogeneousActivation(power, slope)


def penalised_gradient(weights, X, Y, weight, activation, objective, alpha):
    leaves = [w.clone().requires_grad_(True) for w in weights]
    loss(leaves, X, Y, weight, activation, objective, alpha).backward()
    return [w.grad for w in leaves]


@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss"])
def test_a_descent_step_follows_the_penalised_gradient(loss_name):
    X, Y, weight, weights, activation = problem()
    objective = LOSSES[loss_name]
    if loss_name == "log_loss":
        Y = torch.nn.functional.one_hot(Y.argmax(1), 2).to(Y.dtype)
    alpha, step = 0.3, 1e-3
    expected = penalised_gradient(weights, X, Y, weight, activation, objective, alpha)
    stepped = [w.clone() for w in weights]
    after = run_window(stepped, lay_out(X, Y, weight, objective), activation, step, 1, alpha=alpha)
    for w, moved, grad in zip(weights, stepped, expected):
        torch.testing.assert_close((w - moved) / step, grad, rtol=1e-9, atol=1e-12)
    # The window's value is the penalised objective of the weights it ends with.
    value = loss(stepped, X, Y, weight, activation, objective, alpha)
    torch.testing.assert_close(after, value, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [40, 6], ids=["explicit", "dual"])
def test_the_penalised_systems_solve_the_same_damped_step(n):
    # (A + (lambda + alpha) I) p = g - alpha w, whichever way the system is solved.
    X, Y, weight, weights, activation = problem(n=n)
    alpha = 0.05
    explicit = _Explicit(weights, X, Y, weight, activation, alpha)
    expected = penalised_gradient(
        weights, X, Y, weight, activation, LOSSES["squared_error"], alpha
    )
    flat = -torch.cat([g.reshape(-1) for g in expected])
    torch.testing.assert_close(explicit.g, flat, rtol=1e-9, atol=1e-12)
    others = [_MatrixFree(weights, X, Y, weight, activation, alpha)]
    if _system_type(weights, Y.shape) is _Dual:
        others.append(_Dual(weights, X, Y, weight, activation, alpha))
    for damping in (1e-4, 1e-1):
        step = explicit.solve(damping)
        shifted = explicit.A + (damping + alpha) * torch.eye(len(step), dtype=step.dtype)
        torch.testing.assert_close(shifted @ step, explicit.g, rtol=1e-8, atol=1e-10)
        for system in others:
            torch.testing.assert_close(system.g, explicit.g, rtol=1e-10, atol=1e-12)
            # (CG stops at a residual of 1e-6 of ||g||.)
            assert (system.solve(damping) - step).norm() <= 1e-4 * step.norm()
            torch.testing.assert_close(system.curvature(step), explicit.curvature(step))


@pytest.mark.parametrize(
    "max_explicit, n", [(10**6, 40), (10**6, 6), (0, 40)], ids=["cholesky", "dual", "cg"]
)
def test_levenberg_marquardt_reaches_a_stationary_point_of_the_penalised_loss(max_explicit, n):
    # The square activation is smooth, so the gradient vanishes at a minimum.
    X, Y, weight, weights, activation = problem(n=n, power=2, slope=-1.0)
    objective, alpha = LOSSES["squared_error"], 0.05
    start = loss(weights, X, Y, weight, activation, objective, alpha).item()
    result = levenberg_marquardt(
        weights, X, Y, weight, activation, rel_tol=1e-12, max_explicit=max_explicit, alpha=alpha
    )
    assert result.loss == loss(result.weights, X, Y, weight, activation, objective, alpha).item()
    assert result.loss < start
    norm = lambda grads: torch.cat([g.reshape(-1) for g in grads]).norm()  # noqa: E731
    at_end = penalised_gradient(result.weights, X, Y, weight, activation, objective, alpha)
    at_start = penalised_gradient(weights, X, Y, weight, activation, objective, alpha)
    assert norm(at_end) < 1e-4 * norm(at_start)


@pytest.mark.parametrize("degree", [2, 3, 4, 6])
@pytest.mark.parametrize("penalty", [0.01, 0.3, 1.5])
def test_the_penalised_scale_minimises_the_model(degree, penalty):
    # model(t) = -t^D N + t^2D Q/(2n) + penalty t^2 / 2 along the ray (§3.4, §10).
    N, Q, n = 1.0, 50.0, 100
    q = Q / n
    t_opt = optimal_scale(N, Q, n, degree, penalty)
    grid = np.geomspace(1e-3, 10, 400_001)
    values = _model(grid, degree, N, q, penalty)
    if t_opt is None:
        assert values.min() >= 0
        return
    assert values.min() < 0
    assert t_opt == pytest.approx(grid[values.argmin()], rel=1e-4)
    assert _model(t_opt, degree, N, q, penalty) <= values.min()
    lowest = lowest_descending_scale(N, Q, n, degree, penalty, t_opt)
    if degree == 2:
        assert lowest == 0
    else:  # the model crosses zero there, from above
        assert _model(lowest * (1 - 1e-9), degree, N, q, penalty) > 0
        assert _model(lowest * (1 + 1e-9), degree, N, q, penalty) < 0


def test_a_neuron_of_degree_two_needs_an_ncf_above_half_the_penalty():
    assert optimal_scale(0.5, 3.0, 10, 2, penalty=0.999) == pytest.approx((10 * 0.0005 / 3) ** 0.5)
    assert optimal_scale(0.5, 3.0, 10, 2, penalty=1.0) is None
    assert optimal_scale(0.5, 3.0, 10, 2, penalty=0.0) == (10 * 0.5 / 3) ** 0.5


@pytest.mark.parametrize(
    "loss_name, solver",
    [
        ("squared_error", "gd"),
        ("squared_error", "lm"),
        ("squared_error", "auto"),
        ("log_loss", "gd"),
    ],
)
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_every_penalised_iteration_descends(loss_name, solver, depth, momentum):
    rng = np.random.RandomState(0)
    X = torch.as_tensor(rng.normal(size=(80, 5)))
    if loss_name == "log_loss":
        labels = (X[:, 0] * X[:, 1] > 0).long() + (X[:, 2] > 1).long()
        Y = torch.nn.functional.one_hot(labels, 3).double()
    else:
        Y = torch.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
        Y = Y / Y.square().mean().sqrt()
    weight = torch.ones(80, dtype=torch.float64)
    activation = HomogeneousActivation(1, 0.1)
    settings = pursuit_settings(
        depth=depth,
        activation=activation,
        gd_momentum=momentum,
        max_iter=6,
        tol=1e-6,
        solver=solver,
        objective=LOSSES[loss_name],
        alpha=1e-3,
    )
    result = grow(X, Y, weight, settings, np.random.RandomState(0))
    assert len(result.history) >= 3
    assert_every_iteration_descends(result.history, exact=True)
    # The recorded loss is the penalised objective of the network.
    value = loss(result.weights, X, Y, weight, activation, LOSSES[loss_name], 1e-3).item()
    assert result.history[-1]["loss"] == value
    unpenalised = loss(result.weights, X, Y, weight, activation, LOSSES[loss_name]).item()
    assert value > unpenalised


@pytest.mark.parametrize(
    "Estimator, params",
    [(NeuronPursuitRegressor, {}), (NeuronPursuitClassifier, {"loss": "log_loss"})],
)
def test_a_penalty_too_strong_for_any_neuron_stops_the_growth_and_says_so(Estimator, params):
    # The model is then the zero network (the targets' mean): the user has something
    # to fix, the penalty, whatever stopped the growth.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = X[:, 0] * X[:, 1] if Estimator is NeuronPursuitRegressor else X[:, 0] > 0
    with pytest.warns(ConvergenceWarning, match="no better than the zero.*smaller alpha"):
        model = Estimator(alpha=100.0, early_stopping=False, **FAST, **params).fit(X, y)
    assert model.stop_reason_ == "penalty" and model.n_iter_ == 0
    # A weaker penalty lets neurons grow, and shrinks the weights against no penalty.
    sizes = {}
    for alpha in (0.0, 0.05):
        model = Estimator(alpha=alpha, early_stopping=False, max_iter=4, **FAST, **params)
        model.fit(X, y)
        assert model.n_iter_ >= 1
        sizes[alpha] = sum(np.square(w).sum() for w in model.coefs_) / model.n_iter_
    assert sizes[0.05] < sizes[0.0]


@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_auto_momentum_is_momentum_exactly_with_a_penalty(Estimator, alpha):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = X[:, 0] * X[:, 1] if Estimator is NeuronPursuitRegressor else X[:, 0] * X[:, 1] > 0
    params = fast_params(FAST, alpha=alpha, solver="gd", early_stopping=False, max_iter=3)

    def coefs(momentum):
        return Estimator(**fast_params(params, gd_momentum=momentum)).fit(X, y).coefs_

    auto = Estimator(**params).fit(X, y)
    meant, other = (0.9, 0.0) if alpha > 0 else (0.0, 0.9)
    assert auto.options.gd_momentum is None and auto.options_.gd_momentum == meant
    for a, b in zip(auto.coefs_, coefs(meant)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(auto.coefs_, coefs(other)))


@pytest.mark.parametrize("momentum", [-0.1, 1.0, "fast"])
def test_a_bad_momentum_is_refused_by_name(momentum):
    with pytest.raises(ValueError, match="'gd_momentum'"):
        NeuronPursuitClassifier(options=PursuitOptions(gd_momentum=momentum)).fit(
            np.eye(4), [0, 1, 0, 1]
        )


@pytest.mark.parametrize("alpha", [-1.0, "0.1", None])
def test_a_bad_alpha_is_refused_by_name(alpha):
    with pytest.raises(ValueError, match="'alpha'"):
        NeuronPursuitRegressor(alpha=alpha).fit(np.eye(5), np.arange(5.0))


def test_a_penalised_fit_that_stalls_is_not_warned_about():
    # With alpha > 0 a stall means the penalised loss has converged (§10): nothing to fix.
    X, y = np.random.RandomState(0).normal(size=(30, 3)), np.arange(30.0)
    for alpha, warns in ((0.0, True), (0.01, False)):
        model = NeuronPursuitRegressor(alpha=alpha, max_iter=1, early_stopping=False, **FAST)
        model.fit(X, y)
        model.stop_reason_ = "stalled"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model._warn_about_stop()
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught) == warns


def test_a_converged_penalised_fit_declines_copies_of_its_neurons(monkeypatch):
    # At a stationary point of the penalised objective the network's neurons are KKT
    # points with N* = alpha/2: their copies, found a little above it, promise nothing
    # (docs/algorithm.md §10.2). Without the rule they ran until the stall rule stopped
    # the fit, five iterations later.
    import skneuronpursuit._engine.scale as scale

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    clf = NeuronPursuitClassifier(random_state=0).fit(X, y)  # alpha = 0.01
    assert clf.stop_reason_ == "penalty"
    last = clf.history_[-1]
    assert last["loss_before"] - last["loss"] <= STALL_FRACTION * last["loss_before"]
    monkeypatch.setattr(scale, "NEGLIGIBLE_PROMISE", 0.0)
    patient = NeuronPursuitClassifier(random_state=0).fit(X, y)
    assert patient.stop_reason_ == "stalled" and patient.n_iter_ >= clf.n_iter_ + 3
    # The same growth up to the decline; the copies it declined changed next to nothing.
    for kept, grown in zip(clf.history_, patient.history_):
        assert kept["loss"] == grown["loss"]
    np.testing.assert_allclose(patient.predict_proba(X), clf.predict_proba(X), atol=1e-2)
    np.testing.assert_array_equal(patient.predict(X), clf.predict(X))


def test_a_warm_start_declines_the_copies_a_fit_at_once_declines():
    # A fit continued in parts grows the network of a fit run at once: whether the last
    # iteration settled comes from the earlier fit's history.
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    at_once = NeuronPursuitClassifier(random_state=0).fit(X, y)
    assert at_once.stop_reason_ == "penalty"
    warm = NeuronPursuitClassifier(max_iter=at_once.n_iter_, warm_start=True, random_state=0)
    warm.fit(X, y).set_params(max_iter=31).fit(X, y)
    assert warm.stop_reason_ == "penalty" and warm.n_iter_ == at_once.n_iter_
    for a, b in zip(warm.coefs_, at_once.coefs_):
        np.testing.assert_array_equal(a, b)
