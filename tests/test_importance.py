"""feature_importances_: path sums of the grown network's weights."""

import numpy as np
import pytest
import torch
from conftest import FAST
from datasets import sparse_relu_target
from sklearn.feature_selection import SelectFromModel
from sklearn.pipeline import make_pipeline

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
from skneuronpursuit._estimators.importance import path_importances


@pytest.fixture(scope="module")
def sparse_fit():
    X = np.random.RandomState(0).normal(size=(300, 10))
    reg = NeuronPursuitRegressor(depth=3, negative_slope=0.1, max_iter=6, **FAST)
    return X, reg.fit(X, sparse_relu_target(X))


def test_importances_find_the_inputs_the_target_uses(sparse_fit):
    _, reg = sparse_fit
    importances = reg.feature_importances_
    assert importances.shape == (10,) and np.all(importances >= 0)
    assert importances.sum() == pytest.approx(1.0)
    assert importances[:3].sum() > 0.9


def test_importances_do_not_depend_on_the_units_of_the_inputs(sparse_fit):
    X, reg = sparse_fit
    scaled = X * np.array([1e3, 1, 1, 1e-3, 1, 1, 1, 1, 1, 7])
    other = NeuronPursuitRegressor(**reg.get_params()).fit(scaled, sparse_relu_target(X))
    np.testing.assert_allclose(other.feature_importances_, reg.feature_importances_, atol=1e-4)


def test_path_sums_bound_the_gradient_of_a_relu_type_network(sparse_fit):
    # p = 1, |alpha| <= 1: |dH/dx_j| * rms_j <= path sum of input j, at any x.
    X, reg = sparse_fit
    bound = path_importances(reg.coefs_, reg.x_scale_, normalise=False)
    model = reg.to_torch().double()
    points = torch.tensor(np.random.RandomState(1).normal(size=(200, 10)), requires_grad=True)
    (gradient,) = torch.autograd.grad(model(points).sum(), points)
    slopes = gradient.abs().numpy() * reg.x_scale_
    assert np.all(slopes <= bound * (1 + 1e-9))
    assert slopes.max(axis=0)[:3].min() > 0.1 * bound[:3].min()


def test_select_from_model_keeps_the_used_inputs(sparse_fit):
    X, reg = sparse_fit
    selector = SelectFromModel(NeuronPursuitRegressor(**reg.get_params()), threshold=0.05)
    pipeline = make_pipeline(selector, NeuronPursuitRegressor(**reg.get_params()))
    pipeline.fit(X, sparse_relu_target(X))
    kept = np.flatnonzero(pipeline[0].get_support())
    assert set(kept) >= {0, 1, 2} and len(kept) <= 5


def test_classifier_importances_and_empty_network():
    X = np.random.RandomState(0).normal(size=(120, 4))
    y = (X[:, 2] > 0).astype(int)
    clf = NeuronPursuitClassifier(depth=2, max_iter=3, **FAST).fit(X, y)
    assert np.argmax(clf.feature_importances_) == 2
    zero = NeuronPursuitRegressor(**FAST).fit(X, np.zeros(120))  # stops before any neuron
    np.testing.assert_array_equal(zero.feature_importances_, np.zeros(4))


def test_importances_need_a_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NeuronPursuitRegressor().feature_importances_
