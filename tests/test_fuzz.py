"""Property-based fuzzing of the estimators' contract on tiny fits.

Whatever the data (dtype, scale, shape, dense or sparse format, pandas when it is
installed) and the hyperparameters, ``fit`` either raises a ``ValueError`` or
``TypeError`` that names the problem and leaves the estimator as it was, or
returns a fitted model whose attributes agree with each other and whose
predictions are finite. ``SKNP_FUZZ_EXAMPLES`` raises the number of examples
(200 by default); the examples are derandomised so that CI is reproducible.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse
from conftest import fast_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

try:
    import pandas
except ImportError:  # pandas is optional: its containers are then not drawn
    pandas = None

N_EXAMPLES = int(os.environ.get("SKNP_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("SKNP_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Tiny budgets: every fit takes milliseconds.
TINY = fast_params(n_restarts=2, ncf_steps=5, gd_steps=10)
CONTAINERS = ["array", "list", "csr", "csc", "coo"] + (["pandas"] if pandas else [])
DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.bool_]
SCALES = [1e-300, 1e-30, 1e-6, 1.0, 1e6, 1e30, 1e300]

valid_hyperparameters = st.fixed_dictionaries(
    {
        "depth": st.integers(2, 4),
        "activation_power": st.integers(1, 3),
        "negative_slope": st.sampled_from([0.0, 0.1, -1.0, 1.0]),
        "delta": st.sampled_from([0.1, 0.5, 1.0]),
        "ncf_lr": st.sampled_from([1e-3, 1.0, 1e3]),
        "gd_lr": st.sampled_from([1e-3, 0.1, 10.0, 1e30]),
        "gd_momentum": st.sampled_from([0.0, 0.9]),
        "max_iter": st.integers(1, 3),
        "tol": st.sampled_from([0.0, 1e-3, 0.5]),
        "fit_intercept": st.booleans(),
        "rebalance": st.booleans(),
        "early_stopping": st.booleans(),
        "validation_fraction": st.sampled_from([0.2, 0.5]),
        "n_iter_no_change": st.one_of(st.integers(1, 2), st.just("auto")),
        "dtype": st.sampled_from(["float32", "float64"]),
        "random_state": st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    }
)
# One hyperparameter replaced by a value that must be refused.
invalid_values = st.sampled_from(
    [
        ("depth", 1),
        ("depth", True),
        ("depth", 2.0),
        ("activation_power", 0),
        ("negative_slope", float("nan")),
        ("negative_slope", 2.0),
        ("delta", 0.0),
        ("n_restarts", np.bool_(True)),
        ("ncf_lr", True),
        ("ncf_lr", float("inf")),
        ("ncf_lr", 1e39),  # above the float32 maximum (the test sets dtype="float32")
        ("gd_lr", -1.0),
        ("gd_lr", "0.1"),
        ("gd_momentum", 1.0),
        ("max_iter", 0),
        ("tol", -1.0),
        ("tol", float("nan")),
        ("fit_intercept", "yes"),
        ("validation_fraction", 1.0),
        ("n_iter_no_change", 0),
        ("n_iter_no_change", "fixed"),
        ("dtype", "float16"),
        ("device", "meta"),
        ("device", "no-such-device"),
        ("random_state", "seed"),
    ]
)


def _container(values, kind):
    if kind == "list":
        return values.tolist()
    if kind == "pandas":
        return pandas.DataFrame(values, columns=[f"x{j}" for j in range(values.shape[1])])
    if kind in ("csr", "csc", "coo"):
        if values.dtype == np.float16:  # scipy.sparse has no float16
            values = values.astype(np.float32)
        return getattr(scipy.sparse, f"{kind}_matrix")(values)
    return values


@st.composite
def data_sets(draw, classifier):
    n_samples = draw(st.integers(1, 10))
    n_features = draw(st.integers(0, 3))
    dtype = draw(st.sampled_from(DTYPES))
    scale = draw(st.sampled_from(SCALES))
    unit = draw(
        st.lists(
            st.floats(-1, 1, allow_nan=False),
            min_size=n_samples * n_features,
            max_size=n_samples * n_features,
        )
    )
    with np.errstate(over="ignore", invalid="ignore"):
        X = (np.reshape(unit, (n_samples, n_features)) * scale).astype(dtype)
    if n_samples * n_features and draw(st.integers(0, 9)) == 0:  # a missing value
        X = X.astype(np.float64)
        X.flat[draw(st.integers(0, X.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    container = draw(st.sampled_from(CONTAINERS))
    if container == "list" and n_features == 0:
        container = "array"
    if classifier:
        labels = draw(st.lists(st.integers(0, 2), min_size=n_samples, max_size=n_samples))
        y = np.array(labels)
        if draw(st.booleans()):
            y = np.array(["a", "b", "c"])[y]
    else:
        values = draw(
            st.lists(st.floats(-1, 1, allow_nan=False), min_size=n_samples, max_size=n_samples)
        )
        y = np.array(values) * draw(st.sampled_from(SCALES))
        if n_samples > 1 and draw(st.booleans()):
            y = np.column_stack([y, y[::-1]])
    weight_kind = draw(st.sampled_from(["none", "positive", "some zero", "scaled", "negative"]))
    sample_weight = None
    if weight_kind != "none":
        sample_weight = np.array(
            draw(st.lists(st.integers(0, 3), min_size=n_samples, max_size=n_samples)), float
        )
        if weight_kind == "positive":
            sample_weight += 1
        elif weight_kind == "scaled":
            sample_weight = (sample_weight + 1) * draw(st.sampled_from(SCALES))
        elif weight_kind == "negative" and n_samples:
            sample_weight[0] = -1.0
    return _container(X, container), X, y, sample_weight


def _assert_consistent(model, X_values, n_outputs):
    n_samples, n_features = X_values.shape
    assert model.n_features_in_ == n_features
    assert model.n_iter_ == len(model.history_) == len(model.loss_curve_)
    assert model.hidden_layer_sizes_ == tuple(c.shape[1] for c in model.coefs_[:-1])
    assert len(model.coefs_) == model.get_params()["depth"]
    assert model.coefs_[0].shape[0] == n_features + int(model.get_params()["fit_intercept"])
    assert model.coefs_[-1].shape[1] == model.n_outputs_ == n_outputs
    assert all(np.all(np.isfinite(c)) for c in model.coefs_)
    if model.history_:
        kept = model.best_iteration_ or model.n_iter_
        record = model.history_[kept - 1]
        assert record["iteration"] == kept
        if record["train_error"] > 1:  # worse than no neuron: that network is kept
            assert sum(model.hidden_layer_sizes_) == 0
        elif model.early_stopping_ and sum(model.hidden_layer_sizes_) == 0:
            # Or the mean scored clearly higher on the held-out rows (docs/algorithm.md
            # §3.5): the growth path is kept aside for a warm start.
            assert model._grown_weights_ is not None
            assert model.best_validation_score_ > model.validation_scores_[kept - 1]
        else:
            assert model.hidden_layer_sizes_ == record["hidden_layer_sizes"]
    else:
        assert sum(model.hidden_layer_sizes_) == 0
    if model.get_params()["early_stopping"]:
        assert len(model.validation_scores_) == model.n_iter_
    else:
        assert model.validation_scores_ is None and model.best_iteration_ is None


def _fit_or_refuse(model, X, y, sample_weight):
    """The fitted model, or None after a ValueError/TypeError that left it unfitted."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y, sample_weight=sample_weight)
    except (ValueError, TypeError) as error:
        assert str(error), "an error must say what is wrong"
        assert not [name for name in vars(model) if name.endswith("_")]
        return None


@FUZZ
@given(data=data_sets(classifier=False), params=valid_hyperparameters)
def test_regressor_fits_or_refuses_clearly(data, params):
    X, X_values, y, sample_weight = data
    reg = _fit_or_refuse(
        NeuronPursuitRegressor(**fast_params(TINY, **params)), X, y, sample_weight
    )
    if reg is None:
        return
    _assert_consistent(reg, X_values, 1 if y.ndim == 1 else y.shape[1])
    prediction = reg.predict(X)
    assert prediction.shape == y.shape
    assert np.all(np.isfinite(prediction))


@FUZZ
@given(data=data_sets(classifier=True), params=valid_hyperparameters)
def test_classifier_fits_or_refuses_clearly(data, params):
    X, X_values, y, sample_weight = data
    clf = _fit_or_refuse(
        NeuronPursuitClassifier(**fast_params(TINY, **params)), X, y, sample_weight
    )
    if clf is None:
        return
    n_classes = len(clf.classes_)
    _assert_consistent(clf, X_values, 1 if n_classes == 2 else n_classes)
    assert np.all(np.isfinite(clf.decision_function(X)))
    assert set(clf.predict(X)) <= set(y)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(invalid=invalid_values, params=valid_hyperparameters)
def test_invalid_hyperparameters_are_refused_before_anything_is_fitted(invalid, params):
    name, value = invalid
    X = np.random.RandomState(0).normal(size=(12, 3))
    reg = NeuronPursuitRegressor(
        **fast_params(TINY, **{**params, "dtype": "float32", name: value})
    )
    with pytest.raises((ValueError, TypeError), match=name if name != "device" else "device"):
        reg.fit(X, X[:, 0])
    assert not [attribute for attribute in vars(reg) if attribute.endswith("_")]


def test_pandas_inputs_keep_their_feature_names_through_a_failed_refit():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    reg = NeuronPursuitRegressor(**TINY, max_iter=2, random_state=0).fit(X, X["a"] * X["b"])
    before = reg.predict(X)
    with pytest.raises(ValueError, match="NaN, infinity or None"):
        reg.fit(X.rename(columns={"a": "z"}), pd.Series([1.0, None] * 15, dtype=object))
    np.testing.assert_array_equal(reg.feature_names_in_, ["a", "b", "c"])
    np.testing.assert_array_equal(reg.predict(X), before)
