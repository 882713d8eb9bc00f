"""class_weight of NeuronPursuitClassifier: class weights are sample weights."""

import numpy as np
import pytest
from conftest import FAST, fast_params
from sklearn.metrics import recall_score
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from skneuronpursuit import NeuronPursuitClassifier

FAST = fast_params(FAST, n_restarts=4, ncf_steps=50, gd_steps=200, max_iter=4)


def imbalanced(n_samples=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 1.0, "rare", "common")
    return X, y


def assert_same_network(first, second):
    for mine, theirs in zip(first.coefs_, second.coefs_):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("class_weight", ["balanced", {"rare": 4.0, "common": 0.5}])
def test_class_weight_equals_the_equivalent_sample_weight(class_weight):
    X, y = imbalanced()
    weighted = NeuronPursuitClassifier(class_weight=class_weight, **FAST).fit(X, y)
    by_samples = NeuronPursuitClassifier(**FAST).fit(
        X, y, sample_weight=compute_sample_weight(class_weight, y)
    )
    assert_same_network(weighted, by_samples)


def test_class_weight_multiplies_sample_weight():
    # "balanced" counts the samples by their weights, as scikit-learn's classifiers do
    # (compute_class_weight with sample_weight): integer weights then equal repeats.
    X, y = imbalanced()
    sample_weight = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    both = NeuronPursuitClassifier(class_weight="balanced", **FAST)
    both.fit(X, y, sample_weight=sample_weight)
    classes = np.unique(y)
    per_class = compute_class_weight("balanced", classes=classes, y=y, sample_weight=sample_weight)
    product = sample_weight * per_class[np.searchsorted(classes, y)]
    assert_same_network(both, NeuronPursuitClassifier(**FAST).fit(X, y, sample_weight=product))


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_balanced_integer_weights_equal_repeated_rows(loss):
    X, y = imbalanced(60)
    counts = np.random.RandomState(2).randint(0, 4, size=len(y))
    params = dict(class_weight="balanced", loss=loss, **FAST)
    weighted = NeuronPursuitClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = NeuronPursuitClassifier(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert_same_network(weighted, repeated)


def overlapping(n_samples, seed):
    """Imbalanced classes that overlap (noisy labels): no fit recalls every rare sample."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    score = X[:, 0] + 0.3 * X[:, 1] + 0.5 * rng.normal(size=n_samples)
    return X, np.where(score > 1.2, "rare", "common")


def test_balanced_classes_recall_the_rare_class_better():
    X, y = overlapping(400, seed=0)
    X_test, y_test = overlapping(2000, seed=1)
    assert np.mean(y == "rare") < 0.2
    plain = NeuronPursuitClassifier(depth=2, **FAST).fit(X, y)
    balanced = NeuronPursuitClassifier(depth=2, class_weight="balanced", **FAST).fit(X, y)
    recall = {
        name: recall_score(y_test, model.predict(X_test), pos_label="rare")
        for name, model in (("plain", plain), ("balanced", balanced))
    }
    assert recall["balanced"] > recall["plain"] + 0.1


@pytest.mark.parametrize("class_weight", ["bal", 3.0, {"unknown": 1.0}])
def test_invalid_class_weight_is_rejected(class_weight):
    X, y = imbalanced()
    with pytest.raises(ValueError, match="class_weight"):
        NeuronPursuitClassifier(class_weight=class_weight, **FAST).fit(X, y)
