"""Progress, callbacks, warm start, early stopping, export, pruning, plots, parallel search."""

import importlib
import sys
import types
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import hypercube, sparse_relu_target
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
from skneuronpursuit._engine.data import merge_duplicates

FAST = fast_params(FAST, ncf_steps=100, gd_steps=300, tol=0)
X_CUBE = hypercube(200, 6, seed=0)
Y_WAVE = np.sin(X_CUBE @ np.arange(1.0, 7.0))


# ---------------------------------------------------------------- progress


def test_verbose_2_adds_the_new_neuron_and_descent_detail(capsys):
    reg = NeuronPursuitRegressor(max_iter=3, verbose=2, early_stopping=False, **FAST)
    reg.fit(X_CUBE, Y_WAVE)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 * reg.n_iter_ + 1  # and the stop
    assert "iter   2" in lines[2] and "delta" in lines[3] and "GD steps" in lines[3]
    assert f"after {reg.history_[-1]['gd_steps']} GD steps" in lines[-2]


class CountingCallback:
    """A FitCallback that records its hooks and can ask to stop after some iterations."""

    def __init__(self, stop_after=None):
        self.stop_after, self.calls = stop_after, []

    def setup(self, estimator, context):
        self.calls.append("setup")

    def teardown(self, estimator, context):
        self.calls.append("teardown")

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        self.calls.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        self.calls.append(("end", context.task_name))
        if context.task_name == "iteration":
            self.last_prediction = fitted_estimator.predict(X_CUBE)
            n_done = sum(call == ("end", "iteration") for call in self.calls)
            return self.stop_after is not None and n_done >= self.stop_after
        return False


def test_sklearn_callbacks_see_every_iteration_and_a_fitted_model():
    pytest.importorskip("sklearn.callback")
    callback = CountingCallback()
    # Without early stopping the last iteration's model is the fitted one.
    reg = NeuronPursuitRegressor(max_iter=4, early_stopping=False, **FAST)
    reg.set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_CUBE, Y_WAVE)
    assert callback.calls[0] == "setup" and callback.calls[-1] == "teardown"
    assert callback.calls.count(("end", "iteration")) == reg.n_iter_ == 4
    # The fit's own task begins first and ends last, as in scikit-learn's estimators.
    root = callback.calls[1]
    assert root[0] == "begin" and root[1] != "iteration"
    assert callback.calls[-2] == ("end", root[1])
    np.testing.assert_allclose(callback.last_prediction, reg.predict(X_CUBE))


def test_a_callback_can_stop_the_fit():
    pytest.importorskip("sklearn.callback")
    reg = NeuronPursuitRegressor(max_iter=10, early_stopping=False, **FAST)
    reg.set_callbacks(CountingCallback(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # asked to stop: no warning
        reg.fit(X_CUBE, Y_WAVE)
    assert reg.stop_reason_ == "callback" and reg.n_iter_ == 2


def test_a_callback_failing_in_its_teardown_fails_the_fit_which_changes_nothing():
    # The callbacks' teardown ran outside the restore of a failed fit: fit raised, and
    # the model was the new one anyway.
    pytest.importorskip("sklearn.callback")

    class FailingTeardown(CountingCallback):
        def teardown(self, estimator, context):
            raise RuntimeError("teardown failed")

    reg = NeuronPursuitRegressor(max_iter=2, early_stopping=False, **FAST).fit(X_CUBE, Y_WAVE)
    before = [c.copy() for c in reg.coefs_]
    reg.set_params(max_iter=4).set_callbacks(FailingTeardown())
    with pytest.raises(RuntimeError, match="teardown failed"):
        reg.fit(X_CUBE, Y_WAVE)
    assert reg.n_iter_ == 2
    for a, b in zip(reg.coefs_, before):
        np.testing.assert_array_equal(a, b)


def test_progress_bar_inside_grid_search():
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    search = GridSearchCV(
        NeuronPursuitRegressor(max_iter=2, **FAST), {"delta": [0.1, 0.3]}, cv=2
    ).set_callbacks(ProgressBar())
    search.fit(X_CUBE, Y_WAVE)
    assert search.best_estimator_.n_iter_ == 2


# ---------------------------------------------------------------- warm start


@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_warm_start_continues_to_the_same_network(Estimator):
    # Without early stopping (with it, a warm start grows from the network of
    # best_iteration_, not from the last one).
    y = Y_WAVE if Estimator is NeuronPursuitRegressor else np.digitize(Y_WAVE, [-0.3, 0.3])
    params = dict(early_stopping=False, **FAST)
    warm = Estimator(max_iter=5, warm_start=True, **params).fit(X_CUBE, y)
    warm.set_params(max_iter=10).fit(X_CUBE, y)
    direct = Estimator(max_iter=10, **params).fit(X_CUBE, y)
    assert warm.n_iter_ == direct.n_iter_ == 10
    assert [r["layer"] for r in warm.history_] == [r["layer"] for r in direct.history_]
    for a, b in zip(warm.coefs_, direct.coefs_):
        np.testing.assert_array_equal(a, b)


def test_warm_start_rejects_other_shapes_and_classes():
    reg = NeuronPursuitRegressor(max_iter=2, warm_start=True, **FAST).fit(X_CUBE, Y_WAVE)
    with pytest.raises(ValueError, match="warm_start=True needs data of the shape"):
        reg.set_params(max_iter=3).fit(X_CUBE[:, :4], Y_WAVE)
    clf = NeuronPursuitClassifier(max_iter=2, warm_start=True, **FAST).fit(X_CUBE, Y_WAVE > 0)
    with pytest.raises(ValueError, match="classes of the first fit"):
        clf.set_params(max_iter=3).fit(X_CUBE, np.where(Y_WAVE > 0, "a", "b"))


def test_warm_start_without_a_fit_is_a_fresh_fit():
    warm = NeuronPursuitRegressor(max_iter=3, warm_start=True, **FAST).fit(X_CUBE, Y_WAVE)
    cold = NeuronPursuitRegressor(max_iter=3, **FAST).fit(X_CUBE, Y_WAVE)
    np.testing.assert_array_equal(warm.predict(X_CUBE), cold.predict(X_CUBE))


# ---------------------------------------------------------------- early stopping


def test_early_stopping_keeps_the_best_validated_network(monkeypatch):
    import skneuronpursuit._estimators.tracking as tracking

    # Keeping a network for any higher score (the default asks for a clear gain, below).
    monkeypatch.setattr(tracking, "KEEP_STANDARD_ERRORS", 0.0)
    X = np.random.RandomState(1).normal(size=(150, 5))
    y = X[:, 0] + 0.5 * np.random.RandomState(2).normal(size=150)  # noisy: overfits
    reg = NeuronPursuitRegressor(
        max_iter=30, early_stopping=True, n_iter_no_change=3, validation_fraction=0.3, **FAST
    ).fit(X, y)
    scores = reg.validation_scores_
    assert len(scores) == reg.n_iter_ and reg.stop_reason_ == "early_stopping"
    assert reg.best_validation_score_ == max(scores)
    assert scores[reg.best_iteration_ - 1] == max(scores)
    assert (reg.n_iter_, reg.best_iteration_) == _patience_replayed(scores, reg.tol, 3)
    best = reg.history_[reg.best_iteration_ - 1]
    assert reg.hidden_layer_sizes_ == best["hidden_layer_sizes"]
    assert all(r["validation_score"] == s for r, s in zip(reg.history_, scores))


def _patience_replayed(scores, tol, n_iter_no_change):
    """(stop iteration or None, best iteration) of MLPClassifier's rule on ``scores``."""
    best = best_iteration = None
    waited = 0
    for iteration, score in enumerate(scores, start=1):
        waited = 0 if best is None or score > best + tol else waited + 1
        if best is None or score > best:
            best, best_iteration = score, iteration
        if waited >= n_iter_no_change:
            return iteration, best_iteration
    return None, best_iteration


def test_early_stopping_waits_only_for_gains_above_tol(monkeypatch):
    import skneuronpursuit._estimators.tracking as tracking

    # Scores creep up by less than 0.01 once the signal is fitted (noise 0.2): with
    # tol=0.01 patience runs out there, while any higher score is still the one kept
    # when a network is kept for any gain (tested below for the default rule).
    monkeypatch.setattr(tracking, "KEEP_STANDARD_ERRORS", 0.0)
    y = Y_WAVE + 0.2 * np.random.RandomState(5).normal(size=len(Y_WAVE))
    params = dict(max_iter=20, early_stopping=True, n_iter_no_change=3, validation_fraction=0.3)
    strict = NeuronPursuitRegressor(**params, **FAST).fit(X_CUBE, y)
    tolerant = NeuronPursuitRegressor(**params, **{**FAST, "tol": 0.01}).fit(X_CUBE, y)
    assert tolerant.stop_reason_ == "early_stopping" and tolerant.n_iter_ <= strict.n_iter_
    # Early stopping only ends the growth: the same path, stopped sooner.
    np.testing.assert_array_equal(
        tolerant.validation_scores_, strict.validation_scores_[: tolerant.n_iter_]
    )
    for fit, tol in ((strict, 0.0), (tolerant, 0.01)):
        stop, best = _patience_replayed(fit.validation_scores_, tol, 3)
        assert fit.n_iter_ == (stop or params["max_iter"]) and fit.best_iteration_ == best
    # Scores that creep (scripted, whatever the growth path; no stall stops it first):
    # with tol=0.01 the patience runs out three iterations after the last clear gain, and
    # a gain below tol replaced the kept network without restarting the patience.
    import skneuronpursuit._engine.pursuit as pursuit

    creeping = [0.5, 0.9, 0.905, 0.906, 0.9, 0.9, 0.9]

    def scripted(self, weights):
        if not any(w.shape[0] for w in weights[:-1]):  # the mean, compared at the end
            return 0.0, np.zeros(8)
        score = creeping[len(self.scores)]
        return score, np.full(8, score)

    monkeypatch.setattr(tracking.EarlyStopping, "_score_and_terms", scripted)
    monkeypatch.setattr(pursuit, "stalled", lambda losses, floor=0.0: False)
    strict = NeuronPursuitRegressor(**params, **FAST).fit(X_CUBE, y)
    tolerant = NeuronPursuitRegressor(**params, **{**FAST, "tol": 0.01}).fit(X_CUBE, y)
    np.testing.assert_array_equal(tolerant.validation_scores_, creeping[:5])
    assert (tolerant.n_iter_, tolerant.best_iteration_) == (5, 4)
    assert (strict.n_iter_, strict.best_iteration_) == (7, 4)


def test_auto_patience_is_twice_the_iterations_to_the_best_score_within_3_and_10():
    from skneuronpursuit._estimators.tracking import patience

    assert [patience("auto", best) for best in (1, 2, 3, 4, 5, 6, 30)] == [3, 4, 6, 8, 10, 10, 10]
    assert patience(7, 1) == 7 and patience(1, 30) == 1  # a number is the patience itself


def test_auto_patience_stops_the_same_growth_sooner_when_its_best_came_early():
    # Noisy data whose best network comes early: "auto" ends the growth that a fixed
    # patience of 10 runs, at the iteration the rule says, with the same kept network.
    X = np.random.RandomState(1).normal(size=(150, 5))
    y = X[:, 0] + 0.5 * np.random.RandomState(2).normal(size=150)
    params = dict(max_iter=31, early_stopping=True, validation_fraction=0.3, **FAST)
    fixed = NeuronPursuitRegressor(n_iter_no_change=10, **params).fit(X, y)
    auto = NeuronPursuitRegressor(**params).fit(X, y)
    assert auto.n_iter_no_change == "auto" and auto.stop_reason_ == "early_stopping"
    assert auto.n_iter_ < fixed.n_iter_
    np.testing.assert_array_equal(
        auto.validation_scores_, fixed.validation_scores_[: auto.n_iter_]
    )
    assert auto.best_iteration_ == fixed.best_iteration_
    np.testing.assert_array_equal(auto.predict(X), fixed.predict(X))
    # Replayed: the patience restarts at gains above tol and waits 2x that iteration.
    restarted, best = 1, fixed.validation_scores_[0]
    for iteration, score in enumerate(fixed.validation_scores_[1:], start=2):
        if score > best + fixed.tol:
            restarted = iteration
        best = max(best, score)
        if iteration - restarted >= min(10, max(3, 2 * restarted)):
            break
    assert auto.n_iter_ == iteration


def test_a_gain_counts_only_above_its_standard_error():
    from skneuronpursuit._estimators.tracking import clearly_better

    kept = np.zeros(30)
    assert clearly_better(kept + 1e-9, kept)  # the same small gain on every sample
    for size in (1e-3, 1.0, 1e3):  # one sample's gain, however large, is noise
        assert not clearly_better(np.r_[size, kept[1:]], kept)
    assert clearly_better(np.r_[1.0, 1.0, kept[2:]], kept)  # two agree: sqrt(2) < 2
    assert not clearly_better(np.r_[[1.0] * 3, [-1.0] * 2, kept[5:]], kept)
    # The mean replaces a grown network only by two standard errors (MEAN_STANDARD_ERRORS).
    assert not clearly_better(np.r_[1.0, 1.0, kept[2:]], kept, standard_errors=2.0)
    assert clearly_better(np.r_[[1.0] * 5, kept[5:]], kept, standard_errors=2.0)
    assert not clearly_better(kept, kept)
    assert clearly_better(np.ones(1), np.zeros(1)) and not clearly_better(kept[:1], kept[:1])


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_validation_terms_sum_to_the_validation_score(n_outputs):
    # The rule compares scores through these terms: R^2 is 1 minus their sum, accuracy
    # their sum, with sample weights and several outputs.
    rng = np.random.RandomState(0)
    Y = rng.normal(size=(40, n_outputs))
    output = Y + rng.normal(size=Y.shape)
    weight = rng.uniform(0.1, 2.0, size=40)
    reg = NeuronPursuitRegressor()
    np.testing.assert_allclose(
        1 + reg._validation_terms(output, Y, weight).sum(),
        reg._validation_score(output, Y, weight),
        rtol=1e-12,
    )
    clf = NeuronPursuitClassifier()
    np.testing.assert_allclose(
        clf._validation_terms(output, Y, weight).sum(),
        clf._validation_score(output, Y, weight),
        rtol=1e-12,
    )


def test_early_stopping_keeps_a_larger_network_only_when_clearly_better(monkeypatch):
    import skneuronpursuit._estimators.tracking as tracking

    y = Y_WAVE + 0.2 * np.random.RandomState(5).normal(size=len(Y_WAVE))
    params = dict(max_iter=20, early_stopping=True, n_iter_no_change=3, validation_fraction=0.3)
    verdicts = []

    def recorded(terms, kept_terms, standard_errors=None):
        verdicts.append(clearly_better(terms, kept_terms, standard_errors))
        return verdicts[-1]

    clearly_better = tracking.clearly_better
    monkeypatch.setattr(tracking, "clearly_better", recorded)
    fit = NeuronPursuitRegressor(**params, **FAST).fit(X_CUBE, y)
    # Iterations 2, 3, ... against the kept network, then the mean against the kept one.
    *growth, mean_is_better = verdicts
    assert len(growth) == fit.n_iter_ - 1 and not mean_is_better
    assert fit.best_iteration_ == max([1] + [i + 2 for i, kept in enumerate(growth) if kept])
    scores = fit.validation_scores_
    assert fit.best_validation_score_ == scores[fit.best_iteration_ - 1] <= max(scores)
    best = fit.history_[fit.best_iteration_ - 1]
    assert fit.hidden_layer_sizes_ == best["hidden_layer_sizes"]
    # The rule decides what is kept, never the path: asking for a gain of a million
    # standard errors keeps the first network, asking for none keeps the highest score.
    monkeypatch.setattr(tracking, "clearly_better", clearly_better)
    monkeypatch.setattr(tracking, "KEEP_STANDARD_ERRORS", 1e6)
    first = NeuronPursuitRegressor(**params, **FAST).fit(X_CUBE, y)
    np.testing.assert_array_equal(first.validation_scores_, scores)
    assert first.best_iteration_ == 1 and first.best_validation_score_ < max(scores)
    monkeypatch.setattr(tracking, "KEEP_STANDARD_ERRORS", 0.0)
    any_gain = NeuronPursuitRegressor(**params, **FAST).fit(X_CUBE, y)
    np.testing.assert_array_equal(any_gain.validation_scores_, scores)
    assert any_gain.best_iteration_ == 1 + int(np.argmax(scores))


def test_early_stopping_classifier_scores_accuracy():
    y = np.digitize(Y_WAVE, [-0.3, 0.3])
    clf = NeuronPursuitClassifier(max_iter=6, early_stopping=True, **FAST).fit(X_CUBE, y)
    # The split is drawn on the distinct rows, each weighted by its count.
    X_rows, Y_rows, weight = merge_duplicates(X_CUBE, y[:, None], np.ones(len(y)), sort=False)
    labels = Y_rows[:, 0]
    _, held_out = train_test_split(
        np.arange(len(labels)), test_size=0.1, random_state=clf._split_seed_, stratify=labels
    )
    kept = clf.validation_scores_[clf.best_iteration_ - 1]
    score = clf.score(X_rows[held_out], labels[held_out], sample_weight=weight[held_out])
    assert kept == clf.best_validation_score_ == pytest.approx(score, abs=1e-12)
    without = NeuronPursuitClassifier(max_iter=2, early_stopping=False, **FAST).fit(X_CUBE, y)
    assert without.validation_scores_ is None and without.best_iteration_ is None


def test_a_perfect_validation_score_stops_with_the_network_patience_would_keep(monkeypatch):
    import skneuronpursuit._estimators.tracking as tracking

    y = np.digitize(X_CUBE[:, 0] + X_CUBE[:, 1], [-0.5, 0.5])  # held out: 1.0 at 4 neurons
    params = dict(max_iter=12, early_stopping=True, n_iter_no_change=3, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # nothing to fix: no warning
        clf = NeuronPursuitClassifier(**params).fit(X_CUBE, y)
    assert clf.stop_reason_ == "perfect_validation"
    assert clf.best_validation_score_ == 1.0 and clf.n_iter_ == clf.best_iteration_
    assert max(clf.validation_scores_[:-1]) < 1.0
    # The same fit, waiting out its patience after the perfect score.
    monkeypatch.setattr(tracking, "PERFECT_VALIDATION_SCORE", 2.0)
    patient = NeuronPursuitClassifier(**params).fit(X_CUBE, y)
    assert patient.stop_reason_ == "early_stopping"
    assert patient.n_iter_ == clf.n_iter_ + 3 and patient.best_iteration_ == clf.n_iter_
    for a, b in zip(clf.coefs_, patient.coefs_):
        np.testing.assert_array_equal(a, b)


def test_a_warm_start_keeps_the_best_network_of_the_whole_growth():
    X = np.random.RandomState(1).normal(size=(150, 5))
    y = X[:, 0] + 0.5 * np.random.RandomState(2).normal(size=150)  # noisy: overfits
    reg = NeuronPursuitRegressor(
        max_iter=30,
        early_stopping=True,
        n_iter_no_change=3,
        validation_fraction=0.3,
        warm_start=True,
        **FAST,
    ).fit(X, y)
    first_best, first_score = reg.best_iteration_, reg.best_validation_score_
    before = reg.predict(X)
    reg.set_params(max_iter=40).fit(X, y)
    scores = reg.validation_scores_
    assert reg.best_validation_score_ == max(scores) >= first_score
    assert scores[reg.best_iteration_ - 1] == reg.best_validation_score_
    # Here no new neuron scores higher: the warm start keeps the network it grew from.
    assert reg.best_iteration_ == first_best and reg.n_iter_ == first_best + 3
    np.testing.assert_array_equal(reg.predict(X), before)


def test_a_warm_start_from_a_perfect_validation_score_adds_one_iteration():
    y = np.digitize(X_CUBE[:, 0] + X_CUBE[:, 1], [-0.5, 0.5])
    clf = NeuronPursuitClassifier(max_iter=12, early_stopping=True, warm_start=True, **FAST).fit(
        X_CUBE, y
    )
    assert clf.stop_reason_ == "perfect_validation"
    before, best = clf.decision_function(X_CUBE), clf.best_iteration_
    clf.set_params(max_iter=20).fit(X_CUBE, y)
    assert clf.stop_reason_ == "perfect_validation" and clf.n_iter_ == best + 1
    assert clf.best_iteration_ == best
    np.testing.assert_array_equal(clf.decision_function(X_CUBE), before)


def test_the_tracker_returns_its_score_and_leaves_the_engines_record_alone():
    from skneuronpursuit._engine.problem import FitProblem
    from skneuronpursuit._estimators.tracking import EarlyStopping
    from skneuronpursuit._kernels.activation import HomogeneousActivation

    Y = Y_WAVE[:, None]
    problem = FitProblem(
        None, None, None, np.full(6, 2.0), 3.0, True, HomogeneousActivation(1, 0.0)
    )
    validation = (X_CUBE, Y, np.ones(len(Y)))
    tracker = EarlyStopping(
        validation,
        NeuronPursuitRegressor._validation_score,
        NeuronPursuitRegressor._validation_terms,
        problem,
        tol=1e-3,
        n_iter_no_change=10,
        previous=None,
    )
    generator = torch.Generator().manual_seed(0)
    weights = [
        torch.randn(*shape, generator=generator, dtype=torch.float64) for shape in [(2, 7), (1, 2)]
    ]
    record = types.SimpleNamespace(iteration=1, loss=0.5)
    assert tracker(weights, record) is None
    assert vars(record) == {"iteration": 1, "loss": 0.5}  # the engine's record is left alone
    hidden = np.maximum(X_CUBE / 2.0 @ weights[0][:, :6].numpy().T + weights[0][:, 6].numpy(), 0)
    output = 3.0 * hidden @ weights[1].numpy().T
    expected = r2_score(Y, output)
    assert tracker.scores == {1: pytest.approx(expected)}


# ---------------------------------------------------------------- export


@pytest.mark.parametrize(
    "Estimator, target",
    [
        (NeuronPursuitRegressor, Y_WAVE),
        (NeuronPursuitRegressor, np.column_stack([Y_WAVE, X_CUBE[:, 0]])),
        (NeuronPursuitClassifier, Y_WAVE > 0),
        (NeuronPursuitClassifier, np.digitize(Y_WAVE, [-0.3, 0.3])),
    ],
)
def test_to_torch_reproduces_the_network_output(Estimator, target):
    model = Estimator(max_iter=5, negative_slope=0.1, **FAST).fit(X_CUBE, target)
    module = model.to_torch()
    assert isinstance(module, torch.nn.Module) and not module.training
    X = np.random.RandomState(3).normal(size=(100, 6))
    with torch.no_grad():
        output = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    expected = (
        model.predict(X) if Estimator is NeuronPursuitRegressor else (model.decision_function(X))
    )
    np.testing.assert_allclose(output.reshape(expected.shape), expected, rtol=1e-5, atol=1e-5)


def test_to_torch_without_intercept_and_in_float64():
    reg = NeuronPursuitRegressor(max_iter=3, fit_intercept=False, **FAST).fit(X_CUBE, Y_WAVE)
    module = reg.to_torch(dtype=torch.float64)
    with torch.no_grad():
        output = module(torch.from_numpy(X_CUBE)).numpy().ravel()
    np.testing.assert_allclose(output, reg.predict(X_CUBE), rtol=1e-12)


def test_to_torch_takes_dtype_names_and_checks_its_device_as_the_estimators_do():
    reg = NeuronPursuitRegressor(max_iter=3, **FAST).fit(X_CUBE, Y_WAVE)
    by_name = reg.to_torch(dtype="float64")
    assert next(by_name.parameters()).dtype == torch.float64
    with torch.no_grad():
        same = torch.equal(
            by_name(torch.from_numpy(X_CUBE)),
            reg.to_torch(torch.float64)(torch.from_numpy(X_CUBE)),
        )
    assert same
    for dtype in ("int32", torch.int64, "nonsense", 32):
        with pytest.raises(ValueError, match="not a floating torch dtype"):
            reg.to_torch(dtype=dtype)
    assert next(reg.to_torch(device="auto").parameters()).device.type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="not a valid torch device"):
        reg.to_torch(device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            reg.to_torch(device="cuda")


@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_to_torch_traces_and_exports_without_warnings(Estimator):
    # What a PyTorch user does with the module: torch.jit.trace and torch.export.
    target = Y_WAVE if Estimator is NeuronPursuitRegressor else Y_WAVE > np.median(Y_WAVE)
    module = Estimator(max_iter=3, **FAST).fit(X_CUBE, target).to_torch()
    x = torch.as_tensor(X_CUBE[:7], dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated
        # A TracerWarning would say the trace may not generalise to other inputs.
        warnings.simplefilter("error", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, x)
    batch = {"X": {0: torch.export.Dim("batch")}}  # any number of rows
    exported = torch.export.export(module, (x,), dynamic_shapes=batch).module()
    other = torch.as_tensor(X_CUBE[7:20], dtype=torch.float32)  # another batch size
    with torch.no_grad():
        expected = module(other)
        torch.testing.assert_close(traced(other), expected)
        torch.testing.assert_close(exported(other), expected)
    assert expected.shape == (13,)


# ---------------------------------------------------------------- pruning


def test_prune_removes_negligible_neurons_and_keeps_predictions():
    X = hypercube(300, 12, seed=4)
    reg = NeuronPursuitRegressor(
        depth=3, fit_intercept=False, max_iter=6, n_iter_no_change=10, **FAST
    )
    reg.fit(X, sparse_relu_target(X))
    before, sizes = reg.predict(X), sum(reg.hidden_layer_sizes_)
    reg.prune(X, tol=1e-3)
    assert reg.n_pruned_ > 0
    assert sum(reg.hidden_layer_sizes_) == sizes - reg.n_pruned_
    assert [c.shape[1] for c in reg.coefs_[:-1]] == list(reg.hidden_layer_sizes_)
    change = np.linalg.norm(reg.predict(X) - before) / np.linalg.norm(before)
    assert change <= 1e-3
    X_test = hypercube(500, 12, seed=5)
    error = np.sum((reg.predict(X_test) - sparse_relu_target(X_test)) ** 2)
    assert error / np.sum(sparse_relu_target(X_test) ** 2) < 1e-2


def test_prune_with_zero_tolerance_keeps_every_useful_neuron():
    reg = NeuronPursuitRegressor(max_iter=4, **FAST).fit(X_CUBE, Y_WAVE)
    sizes = reg.hidden_layer_sizes_
    reg.prune(X_CUBE, tol=0.0)
    assert reg.hidden_layer_sizes_ == sizes and reg.n_pruned_ == 0


def test_pruning_every_neuron_predicts_the_mean_of_the_unpruned_predictions():
    # The network with no neuron predicts the regressor's offset, the smallest target:
    # pruned to nothing it predicted that (training R^2 -4.5); now the constant closest
    # to the predictions it replaces.
    reg = NeuronPursuitRegressor(max_iter=4, **FAST).fit(X_CUBE, Y_WAVE + 50.0)
    before = reg.predict(X_CUBE)
    reg.prune(X_CUBE, tol=10.0)
    assert sum(reg.hidden_layer_sizes_) == 0
    np.testing.assert_allclose(reg.predict(X_CUBE), before.mean(), rtol=1e-12)
    assert reg.score(X_CUBE, Y_WAVE + 50.0) == pytest.approx(0.0, abs=0.05)


def test_a_layer_pruned_empty_takes_the_neurons_behind_it():
    # The two second-layer neurons cancel (output 0.1 h): either alone moves the output
    # tenfold, so both stay while tried; then the first layer's neuron goes (output 0,
    # within tol=1), and they were left dead, the model predicting its offset.
    from skneuronpursuit._kernels.activation import HomogeneousActivation
    from skneuronpursuit._kernels.prune import prune_neurons

    X = torch.from_numpy(np.random.RandomState(0).normal(size=(50, 2)))
    weights = [
        torch.tensor([[10.0, 0.0]], dtype=torch.float64),
        torch.tensor([[1.0], [1.0]], dtype=torch.float64),
        torch.tensor([[1.0, -0.9]], dtype=torch.float64),
    ]
    pruned, masks = prune_neurons(weights, X, HomogeneousActivation(1, 0.0), 1.0)
    assert not any(mask.any() for mask in masks)
    assert [w.shape[0] for w in pruned[:-1]] == [0, 0]


# ---------------------------------------------------------------- plots


@pytest.fixture(scope="module")
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plots_return_their_axes(pyplot):
    from skneuronpursuit.plotting import plot_first_layer_dft, plot_growth, plot_weights

    reg = NeuronPursuitRegressor(max_iter=4, early_stopping=True, **FAST).fit(X_CUBE, Y_WAVE)
    ax = plot_growth(reg)
    assert ax.get_xlabel().startswith("iteration") and len(ax.collections) >= 2
    axes = plot_weights(reg)
    assert len(axes) == len(reg.coefs_)
    assert axes[0].images[0].get_array().shape == reg.coefs_[0].T.shape
    ax = plot_first_layer_dft(reg, n_blocks=2)
    assert ax.images[0].get_array().shape == (reg.hidden_layer_sizes_[0], 6)
    with pytest.raises(ValueError, match="equal blocks"):
        plot_first_layer_dft(reg, n_blocks=4)
    ax = plot_first_layer_dft(reg, n_blocks=2, n_features=4)
    assert ax.images[0].get_array().shape == (reg.hidden_layer_sizes_[0], 4)


def test_the_weights_of_the_papers_protocol_plot_as_an_estimators(pyplot):
    from skneuronpursuit import neuron_pursuit, paper_settings
    from skneuronpursuit.plotting import (
        dominant_frequency_order,
        plot_first_layer_dft,
        plot_growth,
        plot_weights,
    )

    settings = replace(paper_settings("sphere-f1"), max_iter=2, gd_steps=300)
    fit = neuron_pursuit(X_CUBE, Y_WAVE[:, None], settings, random_state=0)
    axes = plot_weights(fit)
    assert [ax.images[0].get_array().shape for ax in axes] == [c.T.shape for c in fit.coefs]
    order = dominant_frequency_order(fit, 3)
    assert sorted(order) == list(range(fit.hidden_layer_sizes[0]))
    # The paper's Fig. 10 from the paper's protocol (it was refused as not an estimator).
    ax = plot_first_layer_dft(fit, n_blocks=2, neuron_order=order)
    assert ax.images[0].get_array().shape == (fit.hidden_layer_sizes[0], 6)
    # Its growth too (refused with the whole fit's repr as the message).
    ax = plot_growth(fit)
    assert ax.get_title() == f"neuron_pursuit: stopped on {fit.stop_reason}"
    assert len(ax.lines) == 2  # the loss and the training error


def test_plots_draw_whole_iterations_and_the_weights_in_the_order_asked(pyplot):
    from skneuronpursuit.plotting import dominant_frequency_order, plot_growth, plot_weights

    reg = NeuronPursuitRegressor(depth=3, max_iter=4, **FAST).fit(X_CUBE, Y_WAVE)
    ax = plot_growth(reg)
    pyplot.gcf().canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    # The lines are drawn over the markers of the training error, not under them.
    assert min(line.get_zorder() for line in ax.lines) > max(
        c.get_zorder() for c in ax.collections
    )
    order = np.arange(reg.hidden_layer_sizes_[0])[::-1]
    axes = plot_weights(reg, neuron_order=[order, None])
    W_1, W_2 = (ax.images[0].get_array() for ax in axes[:2])
    np.testing.assert_array_equal(W_1, reg.coefs_[0].T[order])
    np.testing.assert_array_equal(W_2, reg.coefs_[1].T[:, order])
    low, high = axes[0].images[0].get_clim()
    assert low == -high  # a diverging colormap centred at 0
    # Rows that are cosines of frequencies 3, 1, 2 over 12 inputs sort as 1, 2, 3.
    inputs = np.arange(12)
    rows = np.cos(2 * np.pi * np.outer([3, 1, 2], inputs) / 12)
    model = _Fitted()
    model.coefs_ = [rows.T]
    assert list(dominant_frequency_order(model, 12)) == [1, 2, 0]


def test_plots_refuse_what_they_cannot_draw_with_the_argument_named(pyplot):
    from skneuronpursuit import NeuronPursuitRegressorCV
    from skneuronpursuit.plotting import (
        dominant_frequency_order,
        plot_first_layer_dft,
        plot_growth,
        plot_weights,
    )

    reg = NeuronPursuitRegressor(depth=3, max_iter=4, early_stopping=False, **FAST)
    reg.fit(X_CUBE, Y_WAVE)
    k = reg.hidden_layer_sizes_[0]
    with pytest.raises(ValueError, match=r"neuron_order\[0\] must be a permutation"):
        plot_weights(reg, neuron_order=[np.arange(k - 1)])
    with pytest.raises(ValueError, match="neuron_order has 3 entries"):
        plot_weights(reg, neuron_order=[None, None, None])
    # One permutation of integers, as dominant_frequency_order returns it: the first
    # layer's (an array failed on its truth value, a list counted its entries as layers).
    backwards = np.arange(k)[::-1]
    for order in (backwards, list(backwards)):
        first = plot_weights(reg, neuron_order=order)[0].images[0].get_array()
        np.testing.assert_array_equal(first, reg.coefs_[0].T[backwards])
    with pytest.raises(ValueError, match="neuron_order must be a permutation of the"):
        plot_first_layer_dft(reg, n_blocks=1, neuron_order=[0] * 7)  # drew 7 rows
    with pytest.raises(ValueError, match="axes needs one Axes per weight layer, 3; got 1"):
        plot_weights(reg, axes=[pyplot.subplots()[1]])
    grid = plot_weights(reg, axes=pyplot.subplots(2, 2)[1])  # any array of Axes
    assert len(grid) == 3 and grid[2].images[0].get_array().shape == reg.coefs_[2].T.shape
    for call, name in [
        (lambda: plot_first_layer_dft(reg, n_blocks=0), "n_blocks"),
        (lambda: plot_first_layer_dft(reg, n_features=7), "n_features"),
        (lambda: dominant_frequency_order(reg, 1), "block_size"),
        (lambda: dominant_frequency_order(reg, 7), "block_size"),  # 6 inputs and intercept
    ]:
        with pytest.raises(ValueError, match=f"{name} must be an integer"):
            call()
    pipeline = make_pipeline(StandardScaler(), NeuronPursuitRegressor(max_iter=2, **FAST))
    with pytest.raises(TypeError, match=r"pipeline\[-1\]"):
        plot_growth(pipeline.fit(X_CUBE, Y_WAVE))
    cv = NeuronPursuitRegressorCV(NeuronPursuitRegressor(max_iter=2, **FAST), cv=2)
    with pytest.raises(TypeError, match="estimator_"):
        plot_weights(cv.fit(X_CUBE, Y_WAVE))


def test_plots_of_a_pruned_network_and_of_one_iteration(pyplot):
    from skneuronpursuit.plotting import plot_first_layer_dft, plot_growth, plot_weights

    reg = NeuronPursuitRegressor(max_iter=3, early_stopping=False, **FAST).fit(X_CUBE, Y_WAVE)
    reg.prune(X_CUBE, tol=1e9)  # every neuron removed
    assert sum(reg.hidden_layer_sizes_) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        axes = plot_weights(reg)
    assert [ax.get_title() for ax in axes] == ["W_1  (0 x 7)", "W_2  (0 x 0)", "W_3  (1 x 0)"]
    ax = plot_first_layer_dft(reg, n_blocks=1)  # an empty image of 0 rows before
    assert not ax.images and ax.texts[0].get_text() == "no weights"
    one = NeuronPursuitRegressor(max_iter=1, early_stopping=True, **FAST).fit(X_CUBE, Y_WAVE)
    ax = plot_growth(one)
    assert all(line.get_marker() == "." for line in ax.lines)  # one point: visible
    # The mean kept instead of the growth: marked as such, not as an iteration.
    rng = np.random.RandomState(0)
    X_wide = rng.normal(size=(80, 1000))
    y_wide = X_wide[:, 0] + np.sin(X_wide[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mean = NeuronPursuitRegressor(max_iter=4, n_restarts=4, gd_steps=100, random_state=0)
        mean.fit(X_wide, y_wide)
    assert sum(mean.hidden_layer_sizes_) == 0 < mean.n_iter_
    ax = plot_growth(mean)
    labels = ax.get_legend().get_texts()
    assert "kept: no neuron (the targets' mean)" in [t.get_text() for t in labels]
    assert ax.get_title().endswith("; kept: no neuron")


class _Fitted(BaseEstimator):
    """An estimator with only the weights that a plot reads."""

    def fit(self, X=None, y=None):
        return self


# ---------------------------------------------------------------- parallel search


def _example(name):
    """The module ``examples/<name>.py``, imported."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def test_distributed_search_example_runs_on_a_local_dask_cluster():
    pytest.importorskip("dask.distributed")
    result = _example("distributed_search").search(n_workers=2)
    assert result.best_score_ > 0.9


def test_dask_fit_example_fits_across_a_local_cluster():
    pytest.importorskip("dask.distributed")
    result = _example("dask_fit").fit_on_cluster(n_rows=1_200, n_partitions=4)
    # float32 fits agree only up to rounding's growth (docs/big-data.md): both learn it.
    assert result["distributed_r2"] > 0.85 and result["local_r2"] > 0.85
    assert type(result["distributed"].to_local()) is NeuronPursuitRegressor
    assert result["first_predictions"].shape == (5,)


def test_n_pruned_is_set_by_fit_and_counts_across_a_warm_start():
    reg = NeuronPursuitRegressor(max_iter=6, warm_start=True, early_stopping=False, **FAST)
    reg.fit(X_CUBE, Y_WAVE)
    assert reg.n_pruned_ == 0
    reg.prune(X_CUBE, tol=0.5)
    pruned = reg.n_pruned_
    assert pruned > 0
    reg.set_params(max_iter=7).fit(X_CUBE, Y_WAVE)  # keeps growing the pruned network
    assert reg.n_pruned_ == pruned
    reg.set_params(warm_start=False).fit(X_CUBE, Y_WAVE)
    assert reg.n_pruned_ == 0


def test_the_readmes_call_for_modular_arithmetic_generalises():
    # Half of the pairs (a, b) of Z_23 for training, one-hot inputs: the README's call
    # scored test accuracy 1.0 and 0.996 on two splits; the log loss memorises (0.14).
    p = 23
    a, b = np.divmod(np.arange(p * p), p)
    X, y = np.hstack([np.eye(p)[a], np.eye(p)[b]]), (a + b) % p
    order = np.random.RandomState(0).permutation(p * p)
    train, test = order[: p * p // 2], order[p * p // 2 :]
    clf = NeuronPursuitClassifier(
        depth=2, activation_power=2, negative_slope=-1.0, loss="squared_error", random_state=0
    ).fit(X[train], y[train])
    assert clf.score(X[test], y[test]) >= 0.9


def test_the_citation_file_names_the_package_version_and_the_paper():
    import re

    import skneuronpursuit

    root = Path(__file__).parents[1]
    citation = (root / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", citation, re.M).group(1) == skneuronpursuit.__version__
    assert (
        "arXiv:2509.12154" in citation and "Learning Neural Networks by Neuron Pursuit" in citation
    )
    assert "@article{kumar2025neuronpursuit" in (root / "README.md").read_text()


def test_the_public_docstrings_separate_entries_by_one_blank_line():
    # help() printed runs of 5-7 empty lines where parameters had been removed.
    import re

    import skneuronpursuit

    for name in skneuronpursuit.__all__:
        doc = getattr(skneuronpursuit, name).__doc__ or ""
        assert not re.search(r"\n[ \t]*\n[ \t]*\n", doc), name
