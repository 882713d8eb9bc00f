"""The estimators as users meet them: accuracy on the paper's examples, sklearn tools, errors."""

import pickle

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import hypercube, modular_addition, sparse_relu_target
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import (
    NeuronPursuitClassifier,
    NeuronPursuitRegressor,
    NeuronPursuitRegressorCV,
    PursuitOptions,
)
from skneuronpursuit._kernels.activation import HomogeneousActivation

FAST = fast_params(FAST, max_iter=6)
ESTIMATORS = [NeuronPursuitRegressor, NeuronPursuitClassifier]


def relative_error(prediction, target):
    return np.sum((prediction - target) ** 2) / np.sum(target**2)


@pytest.fixture(scope="module")
def sparse_fit():
    """The paper's §5 example: a 3-coordinate ReLU target on {-1, 1}^10, 500 samples."""
    X = hypercube(500, 10, seed=0)
    reg = NeuronPursuitRegressor(
        depth=3, negative_slope=0.0, fit_intercept=False, early_stopping=False, random_state=0
    )
    return reg.fit(X, sparse_relu_target(X))


def test_sparse_relu_target_is_recovered(sparse_fit):
    X_test = hypercube(2000, 10, seed=1)
    error = relative_error(sparse_fit.predict(X_test), sparse_relu_target(X_test))
    assert error < 1e-2
    assert sparse_fit.n_iter_ <= 6
    first_layer = np.abs(sparse_fit.coefs_[0])  # (n_features, k_1)
    assert first_layer[3:].max() < 0.05 * first_layer.max()


def test_modular_addition_is_learned():
    # Paper §5.2.2 at p = 23: depth 2, square activation, [onehot(a), onehot(b), 1], the
    # paper's protocol (all samples): grown until every training sum is right. The
    # default's early stopping can give up during the first neurons, whose held-out
    # accuracy stays at chance (docs/algorithm.md §3.7).
    X_train, y_train, X_test, y_test = modular_addition(23)
    clf = NeuronPursuitClassifier(
        depth=2,
        activation_power=2,
        negative_slope=-1.0,
        loss="squared_error",  # the paper's loss, unpenalised
        alpha=0.0,
        options=PursuitOptions(gd_lr=0.5),
        tol=0.1,
        max_iter=60,
        dtype="float32",
        random_state=0,
        early_stopping=False,
    ).fit(X_train, y_train)
    assert clf.stop_reason_ == "tol"
    assert clf.score(X_train, y_train) == 1.0
    assert clf.score(X_test, y_test) >= 0.85


def test_coefs_define_the_predictions(sparse_fit):
    X = hypercube(50, 10, seed=2)
    hidden = X
    for coef in sparse_fit.coefs_[:-1]:
        hidden = np.maximum(hidden @ coef, 0)
    np.testing.assert_allclose(hidden @ sparse_fit.coefs_[-1], sparse_fit.predict(X)[:, None])


def test_coefs_and_the_offset_define_the_predictions():
    # predict = y_offset_ + the network coefs_ (the intercept feature its first layer's
    # last row); y_offset_ is the smallest training target (docs/algorithm.md §1): all of
    # them without early stopping.
    X = np.random.RandomState(0).normal(size=(80, 3)) + 5.0
    y = X[:, 0] ** 2
    reg = NeuronPursuitRegressor(depth=2, negative_slope=0.2, early_stopping=False, **FAST)
    reg.fit(X, y)
    assert reg.coefs_[0].shape[0] == 4
    np.testing.assert_allclose(reg.y_offset_, [y.min()])
    activation = HomogeneousActivation(1, 0.2)
    hidden = activation(torch.from_numpy(np.hstack([X, np.ones((80, 1))]) @ reg.coefs_[0]))
    output = hidden.numpy() @ reg.coefs_[1] + reg.y_offset_
    np.testing.assert_allclose(output, reg.predict(X)[:, None])


def test_multi_output_regression():
    X = hypercube(200, 6, seed=3)
    Y = np.column_stack([np.maximum(X[:, 0] + X[:, 1], 0), X[:, 2] * X[:, 3]])
    reg = NeuronPursuitRegressor(depth=2, **FAST).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.9


def test_binary_classifier_decision_function_has_one_column():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0.2, "yes", "no")
    clf = NeuronPursuitClassifier(depth=2, **FAST).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (120,) and clf.n_outputs_ == 1
    np.testing.assert_array_equal(clf.predict(X), np.where(scores > 0, "yes", "no"))
    assert clf.score(X, y) > 0.95


def test_pipeline_grid_search_and_cross_validation():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    y = np.maximum(X[:, 0], 0) + 0.5 * X[:, 1]
    pipe = make_pipeline(StandardScaler(), NeuronPursuitRegressor(depth=2, **FAST))
    search = GridSearchCV(pipe, {"neuronpursuitregressor__delta": [0.1, 0.3]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    scores = cross_val_score(NeuronPursuitClassifier(depth=2, **FAST), X, X[:, 0] > 0, cv=3)
    assert scores.mean() > 0.85


def test_same_random_state_gives_the_same_network():
    X = hypercube(100, 5, seed=4)
    y = X[:, 0] * X[:, 1]
    first = NeuronPursuitRegressor(**FAST).fit(X, y)
    second = clone(first).fit(X, y)
    for a, b in zip(first.coefs_, second.coefs_):
        np.testing.assert_array_equal(a, b)


def test_fit_leaves_global_random_generators_alone():
    X = hypercube(60, 4, seed=5)
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    NeuronPursuitRegressor(**FAST).fit(X, X[:, 0] * X[:, 1])
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_round_trip_holds_only_numpy(Estimator):
    X = hypercube(80, 4, seed=6)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = Estimator(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert not any(isinstance(value, torch.Tensor) for value in vars(model).values())
    assert all(isinstance(coef, np.ndarray) for coef in model.coefs_)


def test_the_network_is_stored_once_and_coefs_derived_from_it():
    X = hypercube(80, 4, seed=6)
    model = NeuronPursuitRegressor(**FAST).fit(X, X[:, 0] * X[:, 1])
    assert "coefs_" not in vars(model)
    model.coefs_[0][:] = 0  # a derived copy: the model is unchanged
    assert np.any(model.coefs_[0])


def test_float32_fit_matches_float64_closely():
    X = hypercube(150, 5, seed=7)
    y = np.maximum(X[:, 0] + X[:, 1], 0)
    params = dict(depth=2, fit_intercept=False, tol=1e-4, **{**FAST, "max_iter": 3})
    single = NeuronPursuitRegressor(dtype="float32", **params).fit(X, y)
    double = NeuronPursuitRegressor(dtype="float64", **params).fit(X, y)
    assert single.hidden_layer_sizes_ == double.hidden_layer_sizes_
    np.testing.assert_allclose(single.predict(X), double.predict(X), atol=1e-3)
    assert single.predict(X).dtype == np.float64


def test_verbose_prints_one_line_per_iteration(capsys):
    X = hypercube(80, 4, seed=8)
    reg = NeuronPursuitRegressor(verbose=1, tol=0, **{**FAST, "max_iter": 3})
    reg.fit(X, X[:, 0] * X[:, 1])
    lines = capsys.readouterr().out.strip().splitlines()
    iterations = [line for line in lines if " iter " in line]
    assert len(iterations) == reg.n_iter_ == 3
    assert "iter   1" in iterations[0] and "first" in iterations[0] and "layer" in iterations[1]
    assert "train error" in iterations[-1] and "widths" in iterations[-1]
    assert lines[-1].startswith("[NeuronPursuit] stopped after 3 iterations: max_iter")


def test_verbose_with_early_stopping_prints_the_scores_and_the_kept_iteration(capsys):
    # As MLPClassifier(verbose=True) prints its validation score: each iteration's line
    # is followed by its score and the kept iteration, and the fit ends with its stop.
    X = hypercube(120, 4, seed=8)
    reg = NeuronPursuitRegressor(verbose=1, early_stopping=True, **{**FAST, "max_iter": 3})
    reg.fit(X, X[:, 0] * X[:, 1])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 * reg.n_iter_ + 1
    for index, score in enumerate(reg.validation_scores_):
        assert " iter " in lines[2 * index]
        assert f"validation score {score:.6g} | kept: iteration" in lines[2 * index + 1]
    assert lines[-1] == (
        f"[NeuronPursuit] stopped after {reg.n_iter_} iterations: {reg.stop_reason_}; "
        f"kept iteration {reg.best_iteration_}; hidden layer sizes {reg.hidden_layer_sizes_}"
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_grows_the_same_network_and_predicts_on_cpu():
    X = hypercube(300, 6, seed=9)
    y = sparse_relu_target(X)
    # float64: the devices sum in different orders, and NP's growth can follow
    # float32 rounding differences (benchmarks/README.md).
    params = dict(depth=3, fit_intercept=False, dtype="float64", **FAST)
    cpu = NeuronPursuitRegressor(device="cpu", **params).fit(X, y)
    gpu = NeuronPursuitRegressor(device="cuda", **params).fit(X, y)
    assert [r["layer"] for r in gpu.history_] == [r["layer"] for r in cpu.history_]
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), atol=1e-6)
    assert all(isinstance(coef, np.ndarray) for coef in gpu.coefs_)


# ------------------------------------------------------------------ bad input

X_OK = hypercube(20, 3, seed=10)
Y_OK = X_OK[:, 0] * X_OK[:, 1]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_rejected(Estimator, bad):
    X = X_OK.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        Estimator(**FAST).fit(X, Y_OK > 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_is_rejected(bad):
    y = Y_OK.copy()
    y[2] = bad
    with pytest.raises(ValueError, match="Input y contains (NaN|infinity)"):
        NeuronPursuitRegressor(**FAST).fit(X_OK, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_mismatched_lengths_are_rejected(Estimator):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator(**FAST).fit(X_OK, (Y_OK > 0)[:-1])


def test_a_single_class_is_rejected():
    with pytest.raises(ValueError, match="at least 2 classes"):
        NeuronPursuitClassifier(**FAST).fit(X_OK, np.ones(20))
    with pytest.raises(ValueError, match=r"2 classes with positive weight \(sample_weight"):
        NeuronPursuitClassifier(**FAST).fit(X_OK, Y_OK > 0, sample_weight=(Y_OK > 0) * 1.0)


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, "heavy"])
def test_class_weight_values_are_checked_by_name(weight):
    # They were reported as sample_weight's ("Negative values in data passed to
    # `sample_weight`") though no sample_weight was passed.
    with pytest.raises(ValueError, match="class_weight must give every class a finite"):
        NeuronPursuitClassifier(**FAST, class_weight={True: weight}).fit(X_OK, Y_OK > 0)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_too_few_samples_are_rejected(Estimator):
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        Estimator(**FAST).fit(X_OK[:1], [1])


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (-np.ones(20), "Negative values in data"),
        (np.zeros(20), "at least one non-zero"),
        (np.full(20, np.nan), "NaN"),
    ],
)
def test_bad_sample_weight_is_rejected(sample_weight, message):
    with pytest.raises(ValueError, match=message):
        NeuronPursuitRegressor(**FAST).fit(X_OK, Y_OK, sample_weight=sample_weight)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "param, value",
    [
        ("depth", 1),
        ("activation_power", 0),
        ("negative_slope", 1.5),
        ("delta", 0.0),
        ("delta", 1.2),
        ("n_restarts", 0),
        ("ncf_steps", 0),
        ("ncf_lr", 0.0),
        ("ncf_samples", 0),
        ("gd_steps", -1),
        ("gd_lr", -0.1),
        ("gd_momentum", 1.0),
        ("gd_momentum", -0.1),
        ("max_iter", 0),
        ("tol", -1.0),
        ("fit_intercept", "yes"),
        ("rebalance", 2),
        ("dtype", "float16"),
        ("device", 3),
        ("random_state", "seed"),
        ("verbose", "loud"),
        ("depth", 2.5),
    ],
)
def test_invalid_hyperparameters_are_rejected_with_their_name(Estimator, param, value):
    with pytest.raises(ValueError, match=f"'{param}' parameter of {Estimator.__name__}"):
        Estimator(**fast_params(FAST, **{param: value})).fit(X_OK, Y_OK > 0)


@pytest.mark.parametrize("device", ["tpu:9", "not-a-device"])
def test_unknown_device_is_rejected(device):
    with pytest.raises(ValueError, match="device="):
        NeuronPursuitRegressor(device=device, **FAST).fit(X_OK, Y_OK)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_rejected():
    with pytest.raises(ValueError, match="CUDA is not available"):
        NeuronPursuitRegressor(device="cuda", **FAST).fit(X_OK, Y_OK)


def test_predict_checks_the_number_of_features():
    reg = NeuronPursuitRegressor(**FAST).fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="X has 2 features"):
        reg.predict(X_OK[:, :2])


def test_options_print_only_what_differs_from_their_defaults():
    # As scikit-learn prints an estimator's changed parameters: a pipeline or a grid
    # search with options shows the knob that was set, not thirteen.
    from sklearn import config_context

    options = PursuitOptions(solver="gd", gd_tol=0.0)
    assert repr(options) == "PursuitOptions(gd_tol=0.0, solver='gd')"
    assert repr(PursuitOptions()) == "PursuitOptions()"
    assert repr(PursuitOptions(ncf_lr=1)) == "PursuitOptions(ncf_lr=1)"  # not 1.0
    assert eval(repr(options)) == options
    estimator = NeuronPursuitRegressor(depth=2, options=options)
    assert repr(estimator) == (
        "NeuronPursuitRegressor(depth=2, options=PursuitOptions(gd_tol=0.0, solver='gd'))"
    )
    with config_context(print_changed_only=False):
        assert repr(options).count("=") == len(PursuitOptions.__dataclass_fields__)


@pytest.mark.parametrize(
    "name, value, hint",
    [
        ("solver", "gd", r"pass \['solver'\] in options=PursuitOptions"),
        ("ncf_steps", 50, r"pass \['ncf_steps'\] in options=PursuitOptions"),
        ("hidden_layer_sizes", (10,), "depth sets its layers, max_iter bounds its neurons"),
        ("learning_rate_init", 0.01, r"PursuitOptions\(gd_lr=...\)"),
        ("activation", "relu", "activation_power and negative_slope"),
    ],
)
def test_unknown_parameters_say_where_their_setting_lives(name, value, hint):
    # The research knobs live in PursuitOptions; an MLP's parameters have equivalents.
    for Estimator in (NeuronPursuitRegressor, NeuronPursuitClassifier):
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'.*{hint}"):
            Estimator(**{name: value})


def test_options_fields_are_parameters_of_the_estimator():
    # options__<field> as a grid's key: scikit-learn's nested-parameter syntax, for an
    # immutable options object (replaced, never changed).
    X = hypercube(80, 4, seed=3)
    y = X[:, 0] * X[:, 1]
    options = PursuitOptions(gd_lr=0.05)
    reg = NeuronPursuitRegressor(options=options)
    # get_params lists options itself: the parameters rebuild the estimator.
    assert NeuronPursuitRegressor(**reg.get_params(deep=True)).options is options
    reg.set_params(options__solver="gd", depth=2)
    assert reg.options == PursuitOptions(gd_lr=0.05, solver="gd") and reg.depth == 2
    assert options == PursuitOptions(gd_lr=0.05)  # the user's object is untouched
    assert NeuronPursuitRegressor().set_params(options__lm_steps=5).options == PursuitOptions(
        lm_steps=5
    )
    assert clone(reg).options == reg.options
    with pytest.raises(ValueError, match="options__lm_step .*no field 'lm_step'"):
        reg.set_params(options__lm_step=5)
    # options that is not a PursuitOptions has no fields to set (a dataclasses TypeError
    # before, after depth and options had been set).
    plain = NeuronPursuitRegressor(options={"solver": "gd"})
    with pytest.raises(ValueError, match="options__ncf_steps .*must be a PursuitOptions"):
        plain.set_params(depth=2, options__ncf_steps=50)
    assert plain.depth == 3 and plain.options == {"solver": "gd"}
    # Nested, as in a grid over a CV estimator's network.
    cv = NeuronPursuitRegressorCV(NeuronPursuitRegressor()).set_params(
        estimator__options__lm_steps=5
    )
    assert cv.estimator.options == PursuitOptions(lm_steps=5)
    grid = {"options__solver": ["gd", "lm"]}
    search = GridSearchCV(NeuronPursuitRegressor(**FAST), grid, cv=2).fit(X, y)
    assert [p["options__solver"] for p in search.cv_results_["params"]] == ["gd", "lm"]
    best = search.best_estimator_
    assert best.options.solver == search.best_params_["options__solver"]
    assert {record.solver for record in best.history_} == {best.options.solver}  # what ran
