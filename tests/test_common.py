"""scikit-learn's estimator checks, on small fast settings (defaults: see test_default_checks)."""

import os

import pytest
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
    parametrize_with_checks,
)

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

FAST = dict(n_restarts=8, ncf_steps=100, gd_steps=300, max_iter=8)
SAMPLE_WEIGHT_EQUIVALENCE = [
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
]


def rounding_amplified(estimator):
    """Checks that compare two fits at 1e-7: a weighted fit and one on repeated samples.

    They sum the same losses in another order. The inner descent judges rises over
    windows of ``gd_window`` steps, so it keeps steps at the edge of stability, where
    the loss oscillates and rounding differences grow (docs/inner-descent.md); the two
    fits then agree to about 1e-3, not 1e-7. With a check at every step
    (``gd_window=1``) they agree to 1e-7 in float64: that is tested below.
    """
    if estimator.dtype == "float64" and estimator.gd_window == 1:
        return {}
    reason = "compares fits at rtol=1e-7; the windowed descent amplifies rounding"
    return {check.__name__: reason for check in SAMPLE_WEIGHT_EQUIVALENCE}


@parametrize_with_checks(
    [NeuronPursuitRegressor(**FAST), NeuronPursuitClassifier(**FAST)],
    expected_failed_checks=rounding_amplified,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", SAMPLE_WEIGHT_EQUIVALENCE)
@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_sample_weight_equivalence_in_float64(Estimator, check):
    # The weights enter every loss, gradient and NCF exactly as repeated samples do.
    check(Estimator.__name__, Estimator(**FAST, dtype="float64", gd_window=1))


@pytest.mark.skipif(
    not os.environ.get("SKNP_SLOW_TESTS"),
    reason="several minutes on 2 cores; set SKNP_SLOW_TESTS=1 to run",
)
@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_default_checks(Estimator):
    estimator = Estimator()
    check_estimator(estimator, expected_failed_checks=rounding_amplified(estimator))
