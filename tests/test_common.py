"""scikit-learn's estimator checks, on small fast settings (defaults: see test_default_checks)."""

import os

import pytest
from conftest import FAST, fast_params
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
    parametrize_with_checks,
)

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

# The checks set random_state themselves.
FAST = fast_params(FAST, ncf_steps=100, gd_steps=300, max_iter=8)
del FAST["random_state"]
SAMPLE_WEIGHT_EQUIVALENCE = [
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
]


# Weighted and repeated samples reach the fit as the same arrays (merged duplicates),
# so the sample-weight equivalence checks pass in the default float32 too.
@parametrize_with_checks(
    [
        NeuronPursuitRegressor(**FAST),
        NeuronPursuitClassifier(**FAST),
        NeuronPursuitClassifier(loss="squared_error", alpha=0.0, **FAST),
        NeuronPursuitClassifier(alpha=0.0, **FAST),
        NeuronPursuitRegressor(
            **fast_params(FAST, solver="gd"),
        ),
        NeuronPursuitClassifier(
            **fast_params(FAST, solver="gd"),
        ),
        NeuronPursuitRegressor(
            **fast_params(FAST, solver="lm"),
        ),
        NeuronPursuitClassifier(
            **fast_params(FAST, solver="lm"),
        ),
        NeuronPursuitRegressor(**FAST, alpha=0.01),
        NeuronPursuitRegressor(
            **fast_params(FAST, neurons_per_iteration=3),
        ),
        NeuronPursuitClassifier(
            **fast_params(FAST, neurons_per_iteration=1),
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# early_stopping=True refuses data too small to hold out a scorable split (docs/
# reliability.md); the checks fit such data (1 to 10 samples, classes of one sample).
HELD_OUT = "early_stopping=True refuses too few samples to hold out (HeldOutSplitError)"
HELD_OUT_CHECKS = {
    "NeuronPursuitRegressor": [
        "check_sample_weights_shape",
        "check_sample_weights_not_overwritten",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
        "check_estimators_nan_inf",
        "check_regressors_no_decision_function",
        "check_fit2d_1feature",
    ],
    "NeuronPursuitClassifier": [
        "check_dont_overwrite_parameters",
        "check_n_features_in_after_fitting",
        "check_sample_weights_shape",
        "check_sample_weights_not_overwritten",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
        "check_estimators_nan_inf",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit2d_predict1d",
    ],
}


@parametrize_with_checks(
    [
        NeuronPursuitRegressor(**FAST, early_stopping=True),
        NeuronPursuitClassifier(**FAST, alpha=0.0, early_stopping=True),
    ],
    expected_failed_checks=lambda estimator: dict.fromkeys(
        HELD_OUT_CHECKS[type(estimator).__name__], HELD_OUT
    ),
)
def test_sklearn_checks_with_early_stopping(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", SAMPLE_WEIGHT_EQUIVALENCE)
def test_sample_weight_equivalence_with_balanced_classes(check):
    # "balanced" counts the classes by sample weight, as compute_class_weight does.
    check("NeuronPursuitClassifier", NeuronPursuitClassifier(**FAST, class_weight="balanced"))


@pytest.mark.parametrize("check", SAMPLE_WEIGHT_EQUIVALENCE)
@pytest.mark.parametrize(
    "Estimator, params",
    [
        (NeuronPursuitRegressor, {}),
        (NeuronPursuitClassifier, {}),
        (NeuronPursuitClassifier, {"loss": "squared_error", "alpha": 0.0}),
    ],
)
def test_sample_weight_equivalence_in_float64(Estimator, params, check):
    check(Estimator.__name__, Estimator(**FAST, **params, dtype="float64"))


@pytest.mark.skipif(
    not os.environ.get("SKNP_SLOW_TESTS"),
    reason="several minutes on 2 cores; set SKNP_SLOW_TESTS=1 to run",
)
@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_default_checks(Estimator):
    check_estimator(Estimator())
