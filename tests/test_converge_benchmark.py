"""The converge benchmark: it minimises exactly the objective the fit minimised."""

import numpy as np
import pytest
import torch
from conftest import fast_params
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler

from benchmarks.converge import converge, evaluate, summary, training_problem
from benchmarks.realdata import DATASETS
from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

SMALL = fast_params(n_restarts=2, ncf_steps=20, gd_steps=50, max_iter=3, random_state=0)

# Tests of the benchmark tooling, not of the package: -m 'not benchmark' skips them.
pytestmark = pytest.mark.benchmark


def _data(load, n=120):
    X, y = load(return_X_y=True)
    rows = np.random.default_rng(0).permutation(len(X))[:n]
    return StandardScaler().fit_transform(X[rows]), y[rows]


@pytest.mark.parametrize(
    "Estimator, load, settings",
    [
        (NeuronPursuitClassifier, load_iris, dict(alpha=0.01)),
        (NeuronPursuitClassifier, load_breast_cancer, dict(alpha=0.01)),
        (NeuronPursuitClassifier, load_iris, dict(alpha=0.01, loss="squared_error")),
        (NeuronPursuitRegressor, load_diabetes, dict(alpha=0.0)),
        (NeuronPursuitRegressor, load_diabetes, dict(alpha=0.01)),
    ],
)
def test_the_objective_is_the_one_the_fit_reports(Estimator, load, settings):
    X, y = _data(load)
    X[1] = X[0]  # a duplicate row: the fit merges it into one weighted sample
    y[1] = y[0]
    fitted = Estimator(**SMALL, **settings, dtype="float64", early_stopping=False).fit(X, y)
    objective = training_problem(fitted, X, y)
    value = float(objective([torch.as_tensor(w) for w in fitted._fit_weights_]))
    assert value == pytest.approx(fitted.history_[-1]["loss"], rel=1e-12)


def test_converging_lowers_the_objective_to_a_stationary_point():
    X, y = _data(load_iris)
    # One descent step per iteration: the fitted network is far from stationary.
    settings = fast_params(SMALL, gd_steps=1, solver="gd", alpha=0.01, early_stopping=False)
    fitted = NeuronPursuitClassifier(**settings).fit(X, y)
    objective = training_problem(fitted, X, y)

    def largest_gradient(weights):
        parameters = [torch.tensor(w, requires_grad=True) for w in weights]
        objective(parameters).backward()
        return max(float(p.grad.abs().max()) for p in parameters)

    start = float(objective([torch.as_tensor(w) for w in fitted._fit_weights_]))
    weights, value, n_iter = converge(objective, fitted._fit_weights_)
    assert value < start and n_iter > 0
    assert [w.shape for w in weights] == [w.shape for w in fitted._fit_weights_]
    assert largest_gradient(weights) < 1e-2 * largest_gradient(fitted._fit_weights_)


def test_a_fit_with_a_hold_out_is_refused():
    X, y = _data(load_iris)
    fitted = NeuronPursuitClassifier(**SMALL, early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping=False"):
        training_problem(fitted, X, y)


def test_each_fold_is_scored_before_and_after(tmp_path):
    from benchmarks.__main__ import main

    settings = {k: v for k, v in SMALL.items() if k != "random_state"}  # the seed's
    rows = evaluate(DATASETS["iris"], dict(settings, alpha=0.01), n_splits=3)
    assert [r["fold"] for r in rows] == [0, 1, 2]
    assert all(r["converged_objective"] <= r["objective"] for r in rows)
    assert all(0 <= r["converged_score"] <= 1 for r in rows)
    assert "| iris |" in summary(rows)
    out = tmp_path / "converge.csv"
    main(
        ["converge", "--datasets", "wine", "--np", "max_iter=2", "n_restarts=2"]
        + ["--out", str(out)]
    )
    assert out.read_text().count("\nwine,") == 5
