"""The patience benchmark: recorded growth paths and the rules replayed on them."""

import numpy as np
import pandas as pd
import pytest

from benchmarks import corpus, patience

pytestmark = pytest.mark.benchmark


def _path(scores, dataset="d", fold=0):
    """A recorded path: iteration i scores ``scores[i - 1]``, its kept network tests i/10,
    and each iteration takes one second of a fit of twice as many seconds."""
    return [
        dict(
            dataset=dataset,
            repeat=0,
            fold=fold,
            iteration=i,
            validation_score=s,
            kept_iteration=1,
            test_score=i / 10,
            seconds=1.0,
            fit_seconds=2.0 * len(scores),
        )
        for i, s in enumerate(scores, start=1)
    ]


def test_replay_stops_each_path_where_its_rule_says():
    # The best score at iteration 1, then only gains below tol (1e-3): "auto" waits 3.
    flat = _path([0.5, 0.5005, 0.4, 0.45, 0.3, 0.2, 0.1, 0.0])
    assert patience.replay(flat, patience.RULES["auto: 2 x best in [3, 10]"]) == {"d": (0.4, 8.0)}
    # A path that ends before its patience runs out counts whole.
    assert patience.replay(flat, patience.RULES["fixed 10"]) == {"d": (0.8, 16.0)}
    # Restarted at iteration 3: "auto" then waits 6, and the path ends first.
    rising = _path([0.5, 0.4, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert patience.replay(rising, patience.RULES["auto: 2 x best in [3, 10]"])["d"][0] == 0.8
    # Folds of one dataset are averaged.
    both = flat + _path([0.5] * 8, fold=1)
    assert patience.replay(both, patience.RULES["fixed 5"]) == {"d": (0.6, 12.0)}


def test_record_follows_the_fit_it_records(monkeypatch):
    # The last recorded test R^2 of each fold is the fitted estimator's own score on it.
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(150, 4)), columns=list("abcd"))
    y = X["a"] + 0.5 * rng.normal(size=150)
    data = corpus.Dataset("synthetic", "numpy", lambda: (X, y.to_numpy(), "regression", []))
    monkeypatch.setattr(patience, "_datasets", lambda which: {"synthetic": data})
    monkeypatch.setattr(corpus, "SMALL", 0)  # one cross-validation
    scores = []
    fit = patience.NeuronPursuitRegressor.fit

    def fit_and_score(self, X_train, y_train):
        fit(self, X_train, y_train)
        scores.append(self)
        return self

    monkeypatch.setattr(patience.NeuronPursuitRegressor, "fit", fit_and_score)
    rows = patience.record("unseen")
    assert {r["fold"] for r in rows} == set(range(5))
    assert all(est.n_iter_no_change == 10 for est in scores)
    for fold, est in enumerate(scores):
        path = [r for r in rows if r["fold"] == fold]
        assert [r["iteration"] for r in path] == list(range(1, est.n_iter_ + 1))
        assert path[-1]["kept_iteration"] == est.best_iteration_
