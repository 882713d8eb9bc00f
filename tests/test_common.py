"""scikit-learn's estimator checks, on small fast settings (defaults: see test_default_checks)."""

import os

import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

FAST = dict(n_restarts=8, ncf_steps=100, gd_steps=300, max_iter=5)


@parametrize_with_checks([NeuronPursuitRegressor(**FAST), NeuronPursuitClassifier(**FAST)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.skipif(
    not os.environ.get("SKNP_SLOW_TESTS"),
    reason="several minutes on 2 cores; set SKNP_SLOW_TESTS=1 to run",
)
@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_default_checks(Estimator):
    check_estimator(Estimator())
