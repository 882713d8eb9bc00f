"""Bad input, numerical faults, interrupts, determinism and memory (issue: robustness)."""

import _thread
import hashlib
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import hypercube, modular_addition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions

FAST = fast_params(FAST, n_restarts=4, ncf_steps=40, gd_steps=200, max_iter=3)
ESTIMATORS = [NeuronPursuitRegressor, NeuronPursuitClassifier]
X_OK = hypercube(30, 3, seed=0)
Y_OK = X_OK[:, 0] * X_OK[:, 1]


@pytest.mark.parametrize("dtype, ncf_lr", [("float32", 1e30), ("float64", 1e300)])
def test_an_overflowing_search_is_reported_as_such(dtype, ncf_lr):
    # The ascent's first step overflows the projection onto the sphere and zeroes the
    # point: that was reported as "no positive KKT point", a claim about the data.
    params = fast_params(FAST, dtype=dtype, early_stopping=False, ncf_lr=ncf_lr)
    model = NeuronPursuitRegressor(**params)
    with pytest.warns(ConvergenceWarning, match="overflowed"):
        model.fit(X_OK, Y_OK)
    assert model.stop_reason_ == "non_finite" and model.n_iter_ == 0
    np.testing.assert_allclose(model.predict(X_OK), Y_OK.mean())


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "X, message",
    [
        (np.empty((0, 3)), "0 sample"),
        (np.empty((30, 0)), "0 feature"),
        (np.arange(30.0), "Expected 2D array"),
        (X_OK + 1j, "Complex data not supported"),
    ],
)
def test_malformed_X_is_rejected(Estimator, X, message):
    y = Y_OK[: len(X)] > 0
    with pytest.raises(ValueError, match=message):
        Estimator(**FAST).fit(X, y)


def test_string_data_is_rejected_by_the_regressor():
    with pytest.raises(ValueError, match="could not convert string to float"):
        NeuronPursuitRegressor(**FAST).fit(X_OK.astype(str).astype(object) + "x", Y_OK)
    with pytest.raises(ValueError, match="could not convert string to float|Unknown label"):
        NeuronPursuitRegressor(**FAST).fit(X_OK, np.array(["a", "b"] * 15, dtype=object))


def test_complex_targets_are_rejected():
    with pytest.raises(ValueError, match="Complex data not supported"):
        NeuronPursuitRegressor(**FAST).fit(X_OK, Y_OK + 1j)


def test_sample_weight_of_the_wrong_length_is_rejected():
    with pytest.raises(ValueError, match="sample_weight.shape"):
        NeuronPursuitRegressor(**FAST).fit(X_OK, Y_OK, sample_weight=np.ones(29))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n_samples=st.integers(2, 12),
    n_features=st.integers(1, 4),
    fit_intercept=st.booleans(),
)
def test_fit_on_any_finite_input_gives_finite_predictions(
    data, n_samples, n_features, fit_intercept
):
    values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    X = data.draw(arrays(np.float64, (n_samples, n_features), elements=values))
    y = data.draw(arrays(np.float64, n_samples, elements=values))
    reg = NeuronPursuitRegressor(fit_intercept=fit_intercept, **FAST).fit(X, y)
    assert np.all(np.isfinite(reg.predict(X)))
    labels = data.draw(arrays(np.int64, n_samples, elements=st.integers(0, 2)))
    if len(np.unique(labels)) >= 2:
        clf = NeuronPursuitClassifier(fit_intercept=fit_intercept, **FAST).fit(X, labels)
        assert np.all(np.isfinite(clf.decision_function(X)))
        assert set(clf.predict(X)) <= set(labels)


def test_several_labels_per_sample_point_to_multioutput():
    labels = np.column_stack([Y_OK > 0, Y_OK > 0.5])
    with pytest.raises(ValueError, match=r"one label per sample.*MultiOutputClassifier"):
        NeuronPursuitClassifier(**FAST).fit(X_OK, labels)
    # One column is one label per sample, as scikit-learn's classifiers take it.
    with pytest.warns(DataConversionWarning):
        NeuronPursuitClassifier(**FAST).fit(X_OK, labels[:, :1])


READ_ONLY = """
import sys, tempfile, warnings
import joblib, numpy as np, scipy.sparse
# torch warns once per process when it is handed a read-only array: a fresh process.
warnings.filterwarnings("error", message=".*not writable")
from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
def read_only(a):
    a = np.array(a)
    a.setflags(write=False)
    return a
rng = np.random.RandomState(0)
X = read_only(rng.normal(size=(200, 4)))
y = read_only(X[:, 0] * X[:, 1] + X[:, 2])
weight = read_only(rng.uniform(0.5, 2.0, size=200))
quick = dict(n_restarts=2, gd_steps=50, max_iter=2, random_state=0)
for intercept in (True, False):
    reg = NeuronPursuitRegressor(fit_intercept=intercept, **quick).fit(X, y, sample_weight=weight)
    reg.predict(X), reg.score(X, y, sample_weight=weight), reg.prune(X, 0.01)
clf = NeuronPursuitClassifier(**quick).fit(X, read_only(y > 0), sample_weight=weight)
clf.predict_proba(X)
sparse = scipy.sparse.csr_matrix(np.array(X))
for part in (sparse.data, sparse.indices, sparse.indptr):
    part.setflags(write=False)
NeuronPursuitRegressor(fit_intercept=False, **quick).fit(sparse, y).predict(sparse)
with tempfile.TemporaryDirectory() as folder:  # a model whose arrays are memory-mapped
    joblib.dump(reg, folder + "/model")
    mapped = joblib.load(folder + "/model", mmap_mode="r")
    mapped.predict(X), mapped.prune(X, 0.01), mapped.to_torch()
"""


def test_read_only_data_and_memory_mapped_models_raise_no_torch_warning():
    # Read-only arrays are what joblib's workers get (memory-mapped rows) and what
    # joblib.load(..., mmap_mode="r") gives; torch's "not writable" warning would say
    # the fit may write to them, which it never does.
    done = subprocess.run([sys.executable, "-c", READ_ONLY], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


# ---------------------------------------------------------------- numerical faults


@pytest.mark.parametrize(
    "x_scale, y_scale",
    # 1e-225 and 1e200: squares underflow and overflow in float64.
    [(1e6, 1e-6), (1e-6, 1e6), (1e6, 1e6), (1e-225, 1e200), (1e200, 1e-225)],
)
def test_huge_and_tiny_scales_fit_the_same_network_in_other_units(x_scale, y_scale):
    X = hypercube(80, 4, seed=1)
    y = np.maximum(X[:, 0] + X[:, 1], 0) - X[:, 2]
    reference = NeuronPursuitRegressor(**FAST).fit(X, y)
    scaled = NeuronPursuitRegressor(**FAST).fit(X * x_scale, y * y_scale)
    prediction = scaled.predict(X * x_scale)
    assert np.all(np.isfinite(prediction))
    np.testing.assert_allclose(prediction / y_scale, reference.predict(X), rtol=1e-6, atol=1e-8)


def test_gradient_descent_that_cannot_recover_stops_with_a_usable_model():
    X = hypercube(40, 3, seed=2)
    reg = NeuronPursuitRegressor(**fast_params(FAST, gd_lr=1e30, gd_steps=4000))
    with pytest.warns(ConvergenceWarning, match="gradient descent could not lower the loss"):
        reg.fit(X, X[:, 0] * X[:, 1] + X[:, 2])
    assert reg.stop_reason_ == "diverged" and reg.n_iter_ >= 1
    assert reg.history_[-1]["gd_halvings"] > 30
    record = reg.history_[-1]
    assert record["loss"] == record["loss_after_add"] < record["loss_before"]
    assert np.all(np.isfinite(reg.predict(X)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_ncf_of_a_linear_network_stops_cleanly(dtype):
    # docs/algorithm.md §7: with a linear activation (p = 1, alpha = 1), once the network fits
    # the best linear map no neuron can lower the loss to first order.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(100, 4))
    y = X @ rng.normal(size=4) + 0.1 * rng.normal(size=100)
    params = {**FAST, "max_iter": 10, "dtype": dtype}
    reg = NeuronPursuitRegressor(depth=3, negative_slope=1.0, **params)
    with pytest.warns(ConvergenceWarning, match="no positive KKT point"):
        reg.fit(X, y)
    assert reg.stop_reason_ == "no_positive_kkt" and reg.n_iter_ < 10
    assert reg.score(X, y) > 0.99


def test_wide_one_hot_inputs_are_not_mistaken_for_a_zero_ncf():
    # 119 one-hot features spread a neuron's correlation thin: its NCF is small in
    # normalised units, yet the neuron explains a fair share of the loss (modadd-59).
    X, y, _, _ = modular_addition(59)
    clf = NeuronPursuitClassifier(
        depth=2,
        activation_power=2,
        negative_slope=-1.0,
        loss="squared_error",  # the paper's modadd-59, unpenalised
        alpha=0.0,
        max_iter=1,
        options=PursuitOptions(ncf_steps=50),
        gd_steps=10,
        dtype="float32",
        random_state=0,
    )
    clf.fit(X, y)
    assert clf.n_iter_ == 1 and clf.history_[0]["loss"] < clf.history_[0]["loss_before"]


# ---------------------------------------------------------------- interrupts


def test_an_interrupt_before_any_iteration_completed_goes_on(monkeypatch):
    # Caught, it left a "fitted" model with no neuron, whose warning called the growth
    # stuck, and Ctrl-C could not stop a loop of fits (cross_val_score went on).
    from skneuronpursuit._engine import steps as _pursuit

    X = hypercube(100, 6, seed=1)
    y = np.sin(X @ np.arange(1.0, 7.0))
    reg = NeuronPursuitRegressor(max_iter=2, n_restarts=4, gd_steps=50, random_state=0)
    reg.set_params(warm_start=True).fit(X, y)
    before = [c.copy() for c in reg.coefs_]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_pursuit, "minimise", interrupted)
    for model in (reg.set_params(max_iter=4), NeuronPursuitRegressor(max_iter=2)):
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    assert reg.n_iter_ == 2
    for a, b in zip(reg.coefs_, before):
        np.testing.assert_array_equal(a, b)


def test_interrupt_from_another_thread_leaves_a_consistent_model(monkeypatch):
    # A real SIGINT-like interrupt (interrupt_main from another thread), sent while
    # the third inner minimisation runs, so that it lands inside the fit whatever the
    # machine's speed (a fixed timer could fire before or after).
    from skneuronpursuit._engine import steps as _pursuit

    X = hypercube(300, 8, seed=4)
    y = np.sin(X @ np.arange(1.0, 9.0))
    original, calls = _pursuit.minimise, []

    def interrupted_during_third(*args, **kwargs):
        calls.append(None)
        if len(calls) == 3:
            sender = threading.Thread(target=_thread.interrupt_main)
            sender.start()
            sender.join()
            time.sleep(1.0)  # the KeyboardInterrupt is raised here at the latest
        return original(*args, **kwargs)

    monkeypatch.setattr(_pursuit, "minimise", interrupted_during_third)
    reg = NeuronPursuitRegressor(max_iter=500, tol=0, random_state=0, gd_steps=2000)
    # A process started in the background by a non-interactive shell ignores SIGINT,
    # and then interrupt_main does nothing: give SIGINT Python's handler for the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.warns(ConvergenceWarning, match="interrupted"):
            reg.fit(X, y)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reg.stop_reason_ == "interrupted" and reg.n_iter_ == 2
    assert reg.n_iter_ == len(reg.history_)
    kept = reg.best_iteration_ or reg.n_iter_  # early stopping keeps its network
    assert reg.hidden_layer_sizes_ == reg.history_[kept - 1]["hidden_layer_sizes"]
    assert np.all(np.isfinite(reg.predict(X)))


# ---------------------------------------------------------------- determinism

FIT_AND_HASH = """
import hashlib, sys
import numpy as np
sys.path.insert(0, "tests")
from datasets import hypercube
from skneuronpursuit import NeuronPursuitRegressor, PursuitOptions
X = hypercube(120, 5, seed=5)
reg = NeuronPursuitRegressor(n_restarts=4, options=PursuitOptions(ncf_steps=40),
                             gd_steps=200, max_iter=3,
                             random_state=0).fit(X, X[:, 0] * X[:, 1] + X[:, 2])
print(hashlib.sha256(b"".join(c.tobytes() for c in reg.coefs_)).hexdigest())
"""


def _coefficients_digest(estimator):
    return hashlib.sha256(b"".join(c.tobytes() for c in estimator.coefs_)).hexdigest()


def test_same_seed_gives_identical_weights_across_processes():
    X = hypercube(120, 5, seed=5)
    reg = NeuronPursuitRegressor(**FAST).fit(X, X[:, 0] * X[:, 1] + X[:, 2])
    digest = _coefficients_digest(reg)
    other = subprocess.run(
        [sys.executable, "-c", FIT_AND_HASH], capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == digest


def test_grid_search_results_do_not_depend_on_n_jobs():
    X = hypercube(60, 4, seed=6)
    y = X[:, 0] * X[:, 1]
    grid = {"delta": [0.1, 0.3]}
    serial = GridSearchCV(NeuronPursuitRegressor(**FAST), grid, cv=2, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(NeuronPursuitRegressor(**FAST), grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )


def test_a_small_fit_does_not_depend_on_torchs_threads():
    # docs/engineering.md, "Threads and parallel fits": a CPU fit of at most
    # ONE_THREAD_VALUES input values runs on one thread. With two threads torch's products
    # of this fit were rounded otherwise (its first descent's W @ X, 5 x 11 by 11 x 270)
    # and it grew another network. The process's thread count is restored after it.
    from sklearn.datasets import make_friedman1

    from skneuronpursuit._engine.device import ONE_THREAD_VALUES

    X, y = make_friedman1(300, noise=1.0, random_state=0)
    assert X.size <= ONE_THREAD_VALUES
    previous = torch.get_num_threads()
    digests = []
    try:
        for threads in (2, 1):
            torch.set_num_threads(threads)
            reg = NeuronPursuitRegressor(random_state=0, max_iter=8).fit(X, y)
            assert torch.get_num_threads() == threads
            digests.append(_coefficients_digest(reg))
    finally:
        torch.set_num_threads(previous)
    assert digests[0] == digests[1]


# ---------------------------------------------------------------- memory


def test_a_fit_too_large_for_memory_is_refused_before_it_starts(monkeypatch):
    monkeypatch.setattr("skneuronpursuit._engine.memory.available_memory", lambda device: 2**20)
    with pytest.raises(MemoryError, match="GiB of cpu memory"):
        NeuronPursuitRegressor(**FAST).fit(hypercube(2000, 20, seed=7), np.ones(2000))
    # The message names every setting the estimate grows with, depth too (it did not).
    with pytest.raises(MemoryError, match=r"depth=3 .* a smaller depth, n_restarts or max_iter"):
        NeuronPursuitRegressor(**FAST).fit(hypercube(2000, 20, seed=7), np.ones(2000))


def test_a_fit_too_large_for_memory_is_refused_before_its_data_are_copied(monkeypatch):
    # The check ran once the rows were merged, split and made a tensor: a dense X had
    # grown the process by 2-3 times its size by then.
    import skneuronpursuit._estimators.base as base

    prepared = []
    monkeypatch.setattr(base, "merge_duplicates", lambda *a, **k: prepared.append(1))
    monkeypatch.setattr("skneuronpursuit._engine.memory.available_memory", lambda device: 2**20)
    with pytest.raises(MemoryError, match="GiB of cpu memory"):
        NeuronPursuitRegressor(**FAST).fit(hypercube(2000, 20, seed=7), np.ones(2000))
    assert not prepared


def test_memory_estimate_grows_with_the_problem():
    from skneuronpursuit._engine.memory import estimate_working_set

    small = estimate_working_set(1000, 20, 1, 3, 16, 31, torch.float32)
    assert estimate_working_set(2000, 20, 1, 3, 16, 31, torch.float32) > 1.9 * small
    assert estimate_working_set(1000, 20, 1, 3, 64, 31, torch.float32) > small
    # Twice the bytes per number, except the restarts' starting points (always float64).
    assert 1.9 * small < estimate_working_set(1000, 20, 1, 3, 16, 31, torch.float64) <= 2 * small


def test_a_curvature_that_rounds_below_zero_declines_the_candidate(monkeypatch):
    # The log loss's curvature is a variance, sum p c^2 - (sum p c)^2, which float32 can
    # round below zero; raised to 1/D it was complex and the fit failed inside torch
    # ("expected m1 and m2 to have the same dtype") or on a comparison (TypeError).
    from skneuronpursuit._kernels import losses

    monkeypatch.setattr(losses.LogLoss, "curvature", lambda self, *args: -0.1653)
    X = hypercube(40, 3, seed=4)
    labels = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])  # three classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = NeuronPursuitClassifier(**fast_params(FAST, max_iter=3)).fit(X, labels)
    assert model.stop_reason_ == "no_positive_kkt" and model.n_iter_ == 0
    assert np.all(np.isfinite(model.decision_function(X)))


def test_held_out_inputs_far_outside_the_training_rows_score_minus_infinity_quietly():
    # A degree-9 network on a held-out input 1e20 times the others outputs ~1e170: its
    # R^2 is -inf, and numpy's overflow warnings in scoring it are not the user's.
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 2))
    X[:3, 0] *= 1e20
    reg = NeuronPursuitRegressor(
        **fast_params(n_restarts=4, ncf_steps=40, max_iter=4, random_state=1),
        depth=3,
        activation_power=3,
        early_stopping=True,
        validation_fraction=0.8,
        dtype="float64",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, rng.normal(size=30))
    assert reg.best_iteration_ >= 1 and len(reg.validation_scores_) == reg.n_iter_
