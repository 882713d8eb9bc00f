"""Several neurons per iteration (docs/algorithm.md §3.8)."""

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import assert_every_iteration_descends, pursuit_settings
from sklearn.datasets import load_iris

import skneuronpursuit._engine.companions as companions
from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._engine.pursuit import grow
from skneuronpursuit._engine.steps import _Pursuit
from skneuronpursuit._kernels.losses import LOSSES


def _problem(loss_name, n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = torch.as_tensor(rng.normal(size=(n, 6)))
    if loss_name == "log_loss":
        labels = (X[:, 0] * X[:, 1] > 0).long() + (X[:, 2] + X[:, 3] > 1).long()
        Y = torch.nn.functional.one_hot(labels, 3).double()
    else:
        Y = torch.relu(X[:, :1] + X[:, 1:2]) - torch.relu(X[:, 2:3] - X[:, 3:4]) + X[:, 4:5] ** 2
        Y = Y / Y.square().mean().sqrt()
    return X, Y, torch.ones(n, dtype=torch.float64)


def _settings(loss_name, depth, neurons, **changes):
    return pursuit_settings(
        depth=depth,
        n_restarts=16,
        gd_steps=300,
        tol=1e-6,
        solver="gd",
        objective=LOSSES[loss_name],
        layer_choice="decrease" if loss_name == "squared_error" else "ncf",
        neurons_per_iteration=neurons,
        **changes,
    )


@pytest.mark.parametrize(
    "loss_name, alpha", [("squared_error", 0.0), ("squared_error", 1e-3), ("log_loss", 1e-3)]
)
@pytest.mark.parametrize("depth", [2, 3])
def test_every_iteration_descends_and_grows_one_layer_by_at_most_k(loss_name, alpha, depth):
    X, Y, weight = _problem(loss_name)
    settings = _settings(loss_name, depth, 3, alpha=alpha)
    result = grow(X, Y, weight, settings, np.random.RandomState(0))
    assert len(result.history) >= 3
    assert_every_iteration_descends(result.history, exact=True)
    widths = [(1,) * (depth - 1)] + [r["hidden_layer_sizes"] for r in result.history]
    grew_more_than_one = False
    for record, before, after in zip(result.history[1:], widths[1:], widths[2:]):
        growth = np.subtract(after, before)
        # Only the recorded layer grows, by one to three neurons.
        assert 1 <= growth[record["layer"] - 1] <= 3 and growth.sum() == growth.max()
        grew_more_than_one |= growth.max() > 1
    assert grew_more_than_one


def test_the_neurons_of_an_iteration_are_distinct_and_each_lowers_the_objective():
    X, Y, weight = _problem("squared_error")
    settings = _settings("squared_error", 2, 4)
    run = _Pursuit(X, Y, weight, settings, np.random.RandomState(0))
    weights, _, _ = run.first_neurons()
    loss = run.loss(weights)
    seen = 0
    for _ in range(6):
        grown, _, record = run.next_neuron(weights, loss)
        added = grown[0][weights[0].shape[0] :]
        directions = added / added.norm(dim=1, keepdim=True)
        cosines = (directions @ directions.T).abs() - torch.eye(len(added))
        assert cosines.max() <= companions.COMPANION_COSINE
        # Each neuron lowers the objective of the network it joins.
        width = weights[0].shape[0]
        for k in range(1, len(added) + 1):
            fewer = [grown[0][: width + k - 1], grown[1][:, : width + k - 1]]
            more = [grown[0][: width + k], grown[1][:, : width + k]]
            assert run.loss(more) < run.loss(fewer)
        assert record.loss_after_add == run.loss(grown)
        seen = max(seen, len(added))
        descent = run.minimise(grown)
        weights, loss = descent.weights, descent.loss
    assert seen > 1


def test_one_neuron_per_iteration_is_the_paper_s_growth_to_the_bit():
    X, Y, weight = _problem("squared_error")
    one = grow(X, Y, weight, _settings("squared_error", 3, 1), np.random.RandomState(0))
    # A value no companion can reach: the companions' code runs and adds none.
    many = _settings("squared_error", 3, 3)
    original = companions.COMPANION_VALUE
    try:
        companions.COMPANION_VALUE = 1.0
        same = grow(X, Y, weight, many, np.random.RandomState(0))
    finally:
        companions.COMPANION_VALUE = original
    for a, b in zip(one.weights, same.weights):
        assert torch.equal(a, b)


def test_the_classifier_default_grows_faster_to_the_same_labels():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    three = NeuronPursuitClassifier(random_state=0).fit(X, y)
    one = NeuronPursuitClassifier(
        options=PursuitOptions(neurons_per_iteration=1), random_state=0
    ).fit(X, y)
    assert three.options is None and three.options_.neurons_per_iteration == 3
    assert three.n_iter_ <= one.n_iter_
    assert (three.predict(X) == one.predict(X)).mean() >= 0.97


@pytest.mark.parametrize("value", [0, -1, 1.5, "3"])
def test_a_bad_neurons_per_iteration_is_refused_by_name(value):
    with pytest.raises(ValueError, match="'neurons_per_iteration'"):
        NeuronPursuitRegressor(**fast_params(FAST, neurons_per_iteration=value)).fit(
            np.eye(5), np.arange(5.0)
        )
