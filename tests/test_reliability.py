"""Regression tests for ways a fit could end wrong or inconsistent, found by fuzzing.

Each test backs a promise of docs/reliability.md.
"""

import re
import threading
import types
import warnings

import numpy as np
import pytest
import scipy.sparse
import torch
from conftest import FAST, fast_params
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._kernels.inputs import SparseInputs

FAST = fast_params(FAST, n_restarts=4, ncf_steps=20, gd_steps=50, max_iter=3)
ESTIMATORS = [NeuronPursuitRegressor, NeuronPursuitClassifier]
RNG = np.random.RandomState(0)
X = RNG.normal(size=(60, 4))
Y = np.maximum(X[:, 0] + X[:, 1], 0) - X[:, 2]
LABELS = (X[:, 0] * X[:, 1] > 0).astype(int)


def targets(Estimator):
    return Y if Estimator is NeuronPursuitRegressor else LABELS


def outputs(model, data=X):
    if isinstance(model, NeuronPursuitClassifier):
        return model.decision_function(data)
    return model.predict(data)


def fitted_state(model):
    return {name: value for name, value in vars(model).items() if name.endswith("_")}


# ---------------------------------------------------------------- a failed fit


def test_a_failed_refit_leaves_the_previous_model_untouched():
    clf = NeuronPursuitClassifier(**FAST).fit(X, LABELS)
    before, state = clf.predict(X), fitted_state(clf)
    with pytest.raises(ValueError, match="(?i)negative"):
        clf.fit(X, np.where(LABELS, "a", "b"), sample_weight=-np.ones(60))
    assert fitted_state(clf).keys() == state.keys()
    assert all(fitted_state(clf)[name] is value for name, value in state.items())
    np.testing.assert_array_equal(clf.predict(X), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_refit_on_other_features_keeps_the_feature_count(Estimator):
    model = Estimator(**FAST).fit(X, targets(Estimator))
    with pytest.raises(ValueError, match="(?i)negative"):
        model.fit(X[:, :3], targets(Estimator), sample_weight=-np.ones(60))
    assert model.n_features_in_ == 4
    assert np.all(np.isfinite(outputs(model)))


def test_a_failed_warm_start_leaves_the_random_stream_where_it_was(monkeypatch):
    # The fitted random state was the object the warm fit drew from: restoring the
    # attribute restored an advanced stream, and a retry grew another network.
    import copy

    from skneuronpursuit._estimators import base

    params = fast_params(FAST, max_iter=2, early_stopping=False, warm_start=True)
    model = NeuronPursuitRegressor(**params).fit(X, Y)
    untouched = copy.deepcopy(model)
    grow = base.grow

    def failing(X, Y, weights, settings, random_state, **kwargs):
        random_state.randint(10)  # draws, as a growth does, then fails
        raise RuntimeError("failed mid-growth")

    monkeypatch.setattr(base, "grow", failing)
    with pytest.raises(RuntimeError, match="mid-growth"):
        model.set_params(max_iter=4).fit(X, Y)
    monkeypatch.setattr(base, "grow", grow)
    model.fit(X, Y)
    untouched.set_params(max_iter=4).fit(X, Y)
    for a, b in zip(model.coefs_, untouched.coefs_):
        np.testing.assert_array_equal(a, b)


def test_a_random_state_instance_drawn_from_after_fit_leaves_the_model_alone():
    # The user's RandomState was the model's own stream: drawing from it after fit (or
    # fitting another model with it) changed what a warm start grew.
    params = fast_params(FAST, max_iter=2, early_stopping=False, warm_start=True)
    shared = np.random.RandomState(0)
    model = NeuronPursuitRegressor(**{**params, "random_state": shared}).fit(X, Y)
    untouched = NeuronPursuitRegressor(**{**params, "random_state": 0}).fit(X, Y)
    shared.randint(10, size=100)
    for fitted in (model, untouched):
        fitted.set_params(max_iter=4).fit(X, Y)
    assert model.hidden_layer_sizes_ == untouched.hidden_layer_sizes_
    for a, b in zip(model.coefs_, untouched.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_first_fit_leaves_an_unfitted_estimator(Estimator):
    model = Estimator(**FAST)
    with pytest.raises(ValueError, match="(?i)negative"):
        model.fit(X, targets(Estimator), sample_weight=-np.ones(60))
    assert fitted_state(model) == {}
    with pytest.raises(NotFittedError):
        model.predict(X)


# ---------------------------------------------------------------- predict after set_params


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_changing_hyperparameters_after_fit_does_not_change_predictions(Estimator):
    model = Estimator(**FAST).fit(X, targets(Estimator))
    before = outputs(model)
    exported = model.to_torch(dtype=torch.float64)(torch.from_numpy(X)).detach().numpy()
    model.set_params(activation_power=2, negative_slope=0.5, fit_intercept=False)
    np.testing.assert_array_equal(outputs(model), before)
    changed = model.to_torch(dtype=torch.float64)(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_array_equal(changed, exported)
    model.prune(X, tol=0.0)  # prunes the fitted network, in its own activation
    np.testing.assert_allclose(outputs(model), before, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "change",
    [
        {"activation_power": 2},
        {"negative_slope": 0.0},
        {"fit_intercept": False},
        # numpy compared it with the fitted 0.1 at float32 precision: equal.
        {"negative_slope": np.float32(0.1)},
    ],
)
def test_warm_start_refuses_to_change_the_network_it_grows(change):
    reg = NeuronPursuitRegressor(**FAST, warm_start=True).fit(X, Y)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"cannot change {name}"):
        reg.set_params(**change, max_iter=5).fit(X, Y)
    assert reg.n_iter_ <= 3


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_refuses_to_turn_early_stopping_on_and_keeps_the_model(Estimator):
    # The network so far saw every sample: none is left out to score it. Refused before
    # anything changes (it used to fail in the stop warning, after the refit was set).
    y = LABELS if Estimator is NeuronPursuitClassifier else Y
    model = Estimator(**FAST, early_stopping=False, warm_start=True).fit(X, y)
    before = outputs(model)
    with pytest.raises(ValueError, match="cannot turn early stopping on"):
        model.set_params(early_stopping=True, max_iter=5).fit(X, y)
    assert model.n_iter_ <= 3 and not model.early_stopping_
    np.testing.assert_array_equal(outputs(model), before)
    model.set_params(early_stopping="auto").fit(X, y)  # keeps the fit's choice: grows on
    assert not model.early_stopping_ and model.validation_scores_ is None


def test_warm_start_says_when_max_iter_leaves_nothing_to_grow():
    # As scikit-learn's forests with n_estimators: fewer iterations than the fitted
    # network's is an error, as many a warning; the model is kept either way.
    model = NeuronPursuitRegressor(**FAST, early_stopping=False, warm_start=True).fit(X, Y)
    n_done, before = model.n_iter_, outputs(model)
    with pytest.raises(ValueError, match=f"network of {n_done} iterations, but max_iter=1"):
        model.set_params(max_iter=1).fit(X, Y)
    with pytest.warns(UserWarning, match="this fit adds no neuron"):
        model.set_params(max_iter=n_done).fit(X, Y)
    assert model.n_iter_ == n_done
    np.testing.assert_array_equal(outputs(model), before)
    # A fit stopped by its penalty keeps its stop reason; the fit that adds nothing
    # rewrote it as "max_iter" and warned about max_iter.
    penalised = NeuronPursuitRegressor(**fast_params(FAST, alpha=0.05, max_iter=20))
    penalised.set_params(early_stopping=False, warm_start=True).fit(X, Y)
    assert penalised.stop_reason_ == "penalty" and penalised.n_iter_ < 20
    state = fitted_state(penalised)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        penalised.set_params(max_iter=penalised.n_iter_).fit(X, Y)
    assert [type(w.message) for w in caught] == [UserWarning]
    assert all(fitted_state(penalised)[name] is value for name, value in state.items())


# ---------------------------------------------------------------- sample weights


# The last two sum to inf over 60 rows: the held-out scores and the importances' draws
# overflowed (NaN scores, "probabilities do not sum to 1").
@pytest.mark.parametrize("scale", [1e38, 1e39, 1e-46, 1e-300, 1e300, 1e307, np.finfo(float).max])
def test_the_scale_of_sample_weight_does_not_change_the_fit(scale):
    reference = NeuronPursuitRegressor(**FAST).fit(X, Y)
    weighted = NeuronPursuitRegressor(**FAST).fit(X, Y, sample_weight=np.full(60, scale))
    assert weighted.n_iter_ == reference.n_iter_ > 0
    np.testing.assert_array_equal(weighted.predict(X), reference.predict(X))
    np.testing.assert_allclose(
        weighted.feature_importances_, reference.feature_importances_, rtol=1e-12
    )


@pytest.mark.parametrize(
    "check",
    [
        check_sample_weight_equivalence_on_dense_data,
        check_sample_weight_equivalence_on_sparse_data,
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_equivalence_with_the_default_float32(Estimator, check):
    # scikit-learn's own checks, with the default hyperparameters (float32).
    check(Estimator.__name__, Estimator())


def test_a_negative_zero_is_the_zero_it_equals():
    # Rows are compared by their bytes, in which -0.0 and +0.0 differ: equal rows were not
    # merged, so a row repeated with -0.0 (np.round and masks make them) held out other
    # rows than the same row weighted 2.
    X_zeros = np.round(X * 0.3)  # -0.0 wherever a negative entry rounds to 0
    assert np.any(np.signbit(X_zeros) & (X_zeros == 0))
    Y_zeros = Y + X_zeros[:, 0]
    given = NeuronPursuitRegressor(**FAST).fit(X_zeros, Y_zeros)
    cleared = NeuronPursuitRegressor(**FAST).fit(X_zeros + 0.0, Y_zeros)
    for a, b in zip(given.coefs_, cleared.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_weights_equal_repeated_samples_exactly(Estimator):
    weights = RNG.randint(0, 4, size=60)
    weights[:2] = 1  # both classes keep a sample
    repeated = Estimator(**FAST).fit(
        np.repeat(X, weights, axis=0), np.repeat(targets(Estimator), weights)
    )
    weighted = Estimator(**FAST).fit(X, targets(Estimator), sample_weight=weights)
    for mine, theirs in zip(weighted.coefs_, repeated.coefs_):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("sparse", [False, True])
def test_the_order_of_the_samples_does_not_change_the_fit(sparse):
    order = RNG.permutation(60)
    data = scipy.sparse.csr_matrix(X) if sparse else X
    # Without a held-out split, which follows the rows' order as train_test_split's does.
    reference = NeuronPursuitRegressor(early_stopping=False, **FAST).fit(data, Y)
    shuffled = NeuronPursuitRegressor(early_stopping=False, **FAST).fit(data[order], Y[order])
    for mine, theirs in zip(shuffled.coefs_, reference.coefs_):
        np.testing.assert_array_equal(mine, theirs)


def test_the_order_of_equal_samples_with_fractional_weights_does_not_change_the_fit():
    # Their merged weight is a sum in the order of the weights' values, not of the rows
    # (it differed by ~1e-14 between permutations, and so did the fit).
    rows = np.r_[np.arange(60), np.arange(0, 60, 2), np.arange(0, 60, 3)]
    weight = np.random.RandomState(1).uniform(0.1, 3.0, size=len(rows))
    order = RNG.permutation(len(rows))
    params = {**FAST, "early_stopping": False, "dtype": "float64"}
    reference = NeuronPursuitRegressor(**params).fit(X[rows], Y[rows], sample_weight=weight)
    shuffled = NeuronPursuitRegressor(**params).fit(
        X[rows][order], Y[rows][order], sample_weight=weight[order]
    )
    for mine, theirs in zip(shuffled.coefs_, reference.coefs_):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_early_stopping_on_too_few_weighted_samples_is_refused_by_name(Estimator):
    # Zero weights are dropped before the split: one weighted sample per class is
    # too few to hold any out, and the message names what to change.
    weight = np.zeros(60)
    weight[[np.flatnonzero(LABELS == 0)[0], np.flatnonzero(LABELS == 1)[0]]] = 1.0
    model = Estimator(**FAST, early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping.*validation_fraction"):
        model.fit(X, targets(Estimator), sample_weight=weight)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("lone", ["zebra", 7])
def test_a_class_with_one_sample_under_early_stopping_is_refused_by_name(lone):
    # scikit-learn's stratified split refuses it in terms of the class indices it was
    # given; ours name the user's class and the fix.
    first, second = ("cat", "dog") if isinstance(lone, str) else (0, 1)
    labels = np.array([first] * 30 + [second] * 29 + [lone])
    model = NeuronPursuitClassifier(**FAST, early_stopping=True)
    fix = "early_stopping.*stratified.*early_stopping=False"
    with pytest.raises(ValueError, match=fix) as raised:
        model.fit(X, labels)
    assert f"classes [{lone!r}]" in str(raised.value)


def test_auto_early_stopping_fits_on_all_samples_where_none_can_be_held_out():
    labels = np.r_[np.zeros(30), np.ones(29), 2]
    model = NeuronPursuitClassifier(**FAST, alpha=0.0, early_stopping="auto").fit(X, labels)
    assert model.early_stopping_ is False and model.validation_scores_ is None
    assert set(model.predict(X)) <= {0, 1, 2}


# ---------------------------------------------------------------- targets


@pytest.mark.parametrize(
    "y", [np.array([1.0, None] * 30, dtype=object), [1.0, None] * 30, np.array([None] * 60)]
)
def test_none_in_regression_targets_is_rejected(y):
    with pytest.raises(ValueError, match="NaN, infinity or None"):
        NeuronPursuitRegressor(**FAST).fit(X, y)


def test_none_among_labels_is_rejected():
    with pytest.raises(TypeError, match="one comparable type"):
        NeuronPursuitClassifier(**FAST).fit(X, np.array(["a", None] * 30, dtype=object))


def test_bytes_labels_get_scikit_learns_message_alone():
    # They are of one comparable type: only scikit-learn's reason is true.
    with pytest.raises(TypeError, match="^Support for labels represented as bytes"):
        NeuronPursuitClassifier(**FAST).fit(X, np.array([b"x", b"y"] * 30))


def test_string_regression_targets_are_rejected_clearly():
    with pytest.raises(ValueError, match="needs numeric targets"):
        NeuronPursuitRegressor(**FAST).fit(X, np.array(["a", "b"] * 30))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparse_targets_are_rejected_clearly(Estimator):
    y = scipy.sparse.csr_matrix(np.asarray(targets(Estimator), dtype=float)[:, None])
    with pytest.raises(TypeError, match="dense"):
        Estimator(**FAST).fit(X, y)


# ---------------------------------------------------------------- scales


@pytest.mark.parametrize("tiny", [1e-320, 5e-324, 1e-300])
def test_a_feature_of_subnormal_scale_is_treated_as_zero(tiny):
    data = X.copy()
    data[:, 3] = 0.0
    reference = NeuronPursuitRegressor(**FAST).fit(data, Y)
    data[0, 3] = tiny
    reg = NeuronPursuitRegressor(**FAST).fit(data, Y)
    assert all(np.all(np.isfinite(c)) for c in reg.coefs_)
    np.testing.assert_allclose(reg.predict(data), reference.predict(data), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- hyperparameters


@pytest.mark.parametrize(
    "params, error, message",
    [
        (fast_params(gd_lr=3.5e38), ValueError, "at most 3.403e\\+38"),
        (fast_params(ncf_lr=1e39), ValueError, "at most 3.403e\\+38"),
        (fast_params(gd_lr=float("inf"), dtype="float64"), ValueError, "in the range"),
        (fast_params(ncf_lr=True), ValueError, "not a bool"),
        ({"max_iter": np.bool_(True)}, ValueError, "not a bool"),
        ({"depth": True}, TypeError, "not a bool"),
        ({"device": "meta"}, ValueError, "cannot compute with tensors"),
        ({"device": "xpu"}, ValueError, "cannot compute with tensors"),
        ({"device": "lazy"}, ValueError, "cannot compute with tensors"),
    ],
)
def test_hyperparameters_that_would_fail_inside_torch_are_refused(params, error, message):
    with pytest.raises(error, match=message):
        NeuronPursuitRegressor(**{**FAST, **params}).fit(X, Y)


def test_numpy_integer_hyperparameters_fit_like_python_integers():
    small = dict(max_iter=np.int8(2), depth=np.int8(2), n_restarts=np.int8(2))
    reference = NeuronPursuitRegressor(**{**FAST, **{k: int(v) for k, v in small.items()}})
    reg = NeuronPursuitRegressor(**{**FAST, **small}).fit(X, Y)
    np.testing.assert_array_equal(reg.predict(X), reference.fit(X, Y).predict(X))
    assert reg.get_params()["max_iter"] is small["max_iter"]  # stored untouched


def test_the_memory_estimate_does_not_wrap_around_for_numpy_integers():
    from skneuronpursuit._engine.memory import estimate_working_set

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy warns where an int64 product overflows
        needed = estimate_working_set(60, 5, 1, 3, np.int64(2**61), 3, torch.float32)
    assert needed > 2**61


@pytest.mark.parametrize(
    "tol, error", [(float("nan"), ValueError), (-1.0, ValueError), ("0.1", TypeError)]
)
def test_prune_refuses_an_invalid_tol(tol, error):
    reg = NeuronPursuitRegressor(**FAST).fit(X, Y)
    before = reg._fit_weights_  # the stored network; coefs_ is derived from it
    with pytest.raises(error, match="'tol' parameter"):
        reg.prune(X, tol=tol)
    assert reg._fit_weights_ is before


# ---------------------------------------------------------------- memory


def test_wide_sparse_input_is_sized_by_its_non_zeros(monkeypatch):
    monkeypatch.setattr("skneuronpursuit._engine.memory.available_memory", lambda device: 2**31)
    n, d = 200, 10**6
    X_wide = scipy.sparse.csr_matrix(
        (np.ones(n), (np.arange(n), RNG.randint(0, 50, size=n))), shape=(n, d)
    )
    y = np.asarray(X_wide[:, :25].sum(axis=1)).ravel()
    reg = NeuronPursuitRegressor(
        n_restarts=2, options=PursuitOptions(ncf_steps=5), gd_steps=10, max_iter=2
    )
    reg.set_params(random_state=0).fit(X_wide, y)  # about 44 GiB if counted as dense
    assert reg.n_iter_ >= 1


FAKE_FILES = {
    "/proc/meminfo": "MemTotal: 16777216 kB\nMemFree: 1048576 kB\nMemAvailable: 8388608 kB\n",
    "/sys/fs/cgroup/memory.max": f"{4 * 2**30}\n",
    "/sys/fs/cgroup/memory.current": f"{2**30}\n",
}


@pytest.mark.parametrize(
    "files, expected",
    [
        (FAKE_FILES, 3 * 2**30),  # the cgroup leaves 3 GiB
        ({**FAKE_FILES, "/sys/fs/cgroup/memory.max": "max\n"}, 8 * 2**30),  # MemAvailable
    ],
)
def test_free_cpu_memory_is_what_is_available_within_the_cgroup(monkeypatch, files, expected):
    from skneuronpursuit._engine import memory as _memory

    def fake_open(path, *args, **kwargs):
        if path not in files:
            raise FileNotFoundError(path)
        import io

        return io.StringIO(files[path])

    monkeypatch.setattr(_memory, "open", fake_open, raising=False)
    assert _memory.available_memory(torch.device("cpu")) == expected


# ---------------------------------------------------------------- interrupts


def test_an_interrupt_between_new_weights_and_their_record_keeps_them_together(monkeypatch):
    # The last perf_counter call of an iteration times its record, after gradient
    # descent and before the commit: interrupting the second iteration's last call
    # lands between its new weights and its record.
    from skneuronpursuit._engine import pursuit as _pursuit

    calls, interrupt_at = [], []

    def perf_counter():
        calls.append(None)
        if len(calls) == (interrupt_at or [None])[0]:
            raise KeyboardInterrupt
        return 0.0

    monkeypatch.setattr(_pursuit, "time", types.SimpleNamespace(perf_counter=perf_counter))
    NeuronPursuitRegressor(**{**FAST, "tol": 0.0, "max_iter": 1}).fit(X, Y)
    interrupt_at.append(2 * len(calls))
    calls.clear()
    reg = NeuronPursuitRegressor(**{**FAST, "tol": 0.0})
    with pytest.warns(Warning, match="interrupted"):
        reg.fit(X, Y)
    assert reg.stop_reason_ == "interrupted" and reg.n_iter_ == len(reg.history_) == 1
    assert reg.hidden_layer_sizes_ == reg.history_[-1]["hidden_layer_sizes"]


# ---------------------------------------------------------------- random state


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_without_a_seed_leaves_the_global_generators_alone(Estimator):
    numpy_state, torch_state = np.random.get_state(), torch.random.get_rng_state()
    Estimator(**{**FAST, "random_state": None, "early_stopping": True}).fit(X, targets(Estimator))
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and after[2:] == numpy_state[2:]
    np.testing.assert_array_equal(after[1], numpy_state[1])
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_fits_without_a_seed_differ():
    first = NeuronPursuitRegressor(**{**FAST, "random_state": None}).fit(X, Y)
    second = NeuronPursuitRegressor(**{**FAST, "random_state": None}).fit(X, Y)
    assert not np.array_equal(first.coefs_[0], second.coefs_[0])


def test_warm_start_with_early_stopping_keeps_the_held_out_samples():
    reg = NeuronPursuitRegressor(
        **{**FAST, "max_iter": 2}, early_stopping=True, warm_start=True, n_iter_no_change=5
    )
    reg.fit(X, Y)
    first_scale = reg.x_scale_  # computed on the training part only
    reg.set_params(max_iter=4).fit(X, Y)
    np.testing.assert_array_equal(reg.x_scale_, first_scale)


# ---------------------------------------------------------------- threads


def test_sparse_inputs_built_in_threads_leave_the_warning_filters_alone(monkeypatch):
    # Two threads build sparse inputs at once, the first to start finishing first:
    # swapping the process-wide filter list in and out would leave the second's
    # copy, with any filter added inside, installed for good.
    original = torch.sparse_csr_tensor
    first_inside, second_inside, first_done = (threading.Event() for _ in range(3))

    def interleaved(*args, **kwargs):
        if threading.current_thread().name == "first":
            first_inside.set()
            second_inside.wait(timeout=5)
        else:
            second_inside.set()
            first_done.wait(timeout=5)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "sparse_csr_tensor", interleaved)
    matrix = scipy.sparse.random(20, 5, density=0.3, format="csr", random_state=0)
    before = list(warnings.filters)

    def build(done=None):
        SparseInputs.from_scipy(matrix, torch.float32, "cpu")
        if done is not None:
            done.set()

    first = threading.Thread(target=build, args=(first_done,), name="first")
    second = threading.Thread(target=build, name="second")
    first.start()
    first_inside.wait(timeout=5)
    second.start()
    first.join()
    second.join()
    assert warnings.filters == before


# ---------------------------------------------------------------- the README's promises


def test_every_test_the_reliability_contract_names_exists():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    contract = (root / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"`(test_\w+)`", contract))
    defined = set()
    for path in (root / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
    assert len(named) > 20 and named <= defined, sorted(named - defined)
