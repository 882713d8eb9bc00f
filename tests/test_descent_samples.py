"""The descent on many samples (docs/inner-descent.md, "Many samples"): subsamples for the
gradient-descent window and Levenberg-Marquardt's curvature, all samples for the rest."""

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from sklearn.datasets import make_friedman1
from sklearn.utils._param_validation import InvalidParameterError

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.damped_systems import _Explicit, _MatrixFree
from skneuronpursuit._kernels.gauss_newton import _full_gradient
from skneuronpursuit._kernels.losses import LOSSES


def _problem(n=120, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    Y = torch.randn(n, 1, generator=generator, dtype=torch.float64)
    weights = [
        0.7 * torch.randn(3, 4, generator=generator, dtype=torch.float64),
        0.7 * torch.randn(1, 3, generator=generator, dtype=torch.float64),
    ]
    sample_weight = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    return weights, X, Y, sample_weight / sample_weight.mean()


@pytest.mark.parametrize("System", [_Explicit, _MatrixFree])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_every_row_as_the_subsample_is_the_full_system(System, loss):
    # A on rows scaled by 1 / len(rows) estimates A on all rows: with every row (in
    # another order) it is A, and g is always all rows'.
    weights, X, Y, sample_weight = _problem()
    if loss == "log_loss":
        Y = (Y > 0).to(Y.dtype)
    activation, objective = HomogeneousActivation(1, 0.1), LOSSES[loss]
    full = System(weights, X, Y, sample_weight, activation, objective=objective)
    rows = torch.randperm(len(X), generator=torch.Generator().manual_seed(1))
    sub = System(weights, X, Y, sample_weight, activation, objective=objective, rows=rows)
    torch.testing.assert_close(sub.g, full.g, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(sub.diagonal, full.diagonal, rtol=1e-10, atol=1e-12)
    p = torch.randn(len(full.g), generator=torch.Generator().manual_seed(2), dtype=X.dtype)
    assert float(sub.curvature(p)) == pytest.approx(float(full.curvature(p)), rel=1e-10)


def test_a_subsample_keeps_the_gradient_of_all_rows():
    weights, X, Y, sample_weight = _problem()
    activation, objective = HomogeneousActivation(1, 0.1), LOSSES["squared_error"]
    rows = torch.arange(0, len(X), 3)
    system = _Explicit(weights, X, Y, sample_weight, activation, objective=objective, rows=rows)
    full = _full_gradient(weights, X, Y, sample_weight, activation, objective)
    torch.testing.assert_close(system.g, full)
    only_rows = _Explicit(
        weights, X[rows], Y[rows], sample_weight[rows], activation, objective=objective
    )
    torch.testing.assert_close(system.A, only_rows.A)


def test_a_fit_on_more_rows_than_the_subsample_descends_and_scores_as_one_on_all():
    X, y = make_friedman1(n_samples=1500, noise=0.5, random_state=0)
    X_test, y_test = make_friedman1(n_samples=2000, noise=0.0, random_state=1)
    params = fast_params(FAST, max_iter=8, early_stopping=False)
    sub = NeuronPursuitRegressor(**fast_params(params, descent_samples=300)).fit(X, y)
    full = NeuronPursuitRegressor(**fast_params(params, descent_samples=None)).fit(X, y)
    assert sub.options_.descent_samples == 300
    assert any(r.solver == "gd+lm" for r in sub.history_)
    # Every neuron's descent lowers the loss on all rows (the window on the subsample
    # may raise it; Levenberg-Marquardt, judged on all rows, and the guard do not).
    for record in sub.history_:
        assert record.loss <= record.loss_after_add
    assert sub.score(X_test, y_test) >= full.score(X_test, y_test) - 0.02


def test_the_window_runs_on_its_own_fewer_rows(monkeypatch):
    # On more rows than descent_samples the window of gradient descent runs on at most
    # WINDOW_ROWS samples of a draw of its own; Levenberg-Marquardt's curvature on
    # descent_samples (docs/inner-descent.md, "Many samples").
    import skneuronpursuit._engine.inner_solver as inner_solver
    import skneuronpursuit._engine.steps as steps

    monkeypatch.setattr(steps, "WINDOW_ROWS", 50)
    draws, windows = [], []
    minimise, descend = steps.minimise, inner_solver.gradient_descent

    def drawn(*args, rows=None, window_rows=None, **kwargs):
        draws.append((rows, window_rows))
        return minimise(*args, rows=rows, window_rows=window_rows, **kwargs)

    def window(weights, X, *args, **kwargs):
        windows.append(X.shape[0])
        return descend(weights, X, *args, **kwargs)

    monkeypatch.setattr(steps, "minimise", drawn)
    monkeypatch.setattr(inner_solver, "gradient_descent", window)
    X, y = make_friedman1(n_samples=1500, noise=0.5, random_state=0)
    params = fast_params(FAST, max_iter=3, early_stopping=False, descent_samples=300)
    NeuronPursuitRegressor(**params).fit(X, y)
    assert windows == [50] * 3
    assert [(len(rows), len(window_rows)) for rows, window_rows in draws] == [(300, 50)] * 3
    for rows, window_rows in draws:
        # Drawn afresh over all the rows, not the curvature's first ones.
        assert int(window_rows.max()) > 1000
        assert not torch.equal(window_rows, rows[:50])
    # Never more rows than descent_samples: at most as many as the curvature's.
    monkeypatch.setattr(steps, "WINDOW_ROWS", 10_000)
    windows.clear()
    NeuronPursuitRegressor(**params).fit(X, y)
    assert windows == [300] * 3
    # Where no window runs (Levenberg-Marquardt alone: the penalised classifier) none is
    # drawn, so the fit's other draws are those of the code before the window had rows.
    draws.clear()
    labels = (y > np.median(y)).astype(int)
    NeuronPursuitClassifier(**params).fit(X, labels)
    assert draws and all(len(rows) == 300 and window is None for rows, window in draws)


@pytest.mark.parametrize("solver", ["auto", "lm"])
def test_a_subsample_on_wide_data_forms_the_explicit_system(solver):
    # More weights than residuals picks the dual system, which pairs J with every
    # residual: on a subsample it raised "the dual system pairs J with all residuals".
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 10))
    y = np.maximum(X[:, 0], 0) - np.maximum(X[:, 1], 0) + X[:, 2] * X[:, 3]
    params = fast_params(FAST, max_iter=8, early_stopping=False, descent_samples=16, solver=solver)
    reg = NeuronPursuitRegressor(**params).fit(X, y)
    assert reg.n_iter_ > 1 and any(record.lm_steps for record in reg.history_)
    assert np.all(np.isfinite(reg.predict(X)))


def test_the_subsample_size_is_validated():
    with pytest.raises(InvalidParameterError, match="descent_samples"):
        NeuronPursuitRegressor(options=PursuitOptions(descent_samples=0)).fit(
            np.zeros((4, 2)), np.arange(4.0)
        )
