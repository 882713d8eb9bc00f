"""The reference NP loop of benchmarks/reference_loop.py is a correct Neuron Pursuit.

Its searches are checked against the package's on the same starts (the two are written
independently: autograd there, a hand-written backward pass here), and a short fit
against the descent property of docs/algorithm.md §3.4.
"""

import numpy as np
import pytest
import torch

from benchmarks.reference_loop import (
    ReferenceSettings,
    ascend_candidate,
    ascend_network,
    fit_reference,
    signals,
)
from benchmarks.runner import error
from benchmarks.tasks import TASKS
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.ncf import search_candidates, search_network
from skneuronpursuit._kernels.network import backward, forward

# Tests of the benchmark tooling, not of the package: -m 'not benchmark' skips them.
pytestmark = pytest.mark.benchmark

SLOPE = 0.1
SETTINGS = ReferenceSettings(depth=3, negative_slope=SLOPE, n_restarts=1, ncf_steps=60)


def cube_problem(n_samples=80, n_features=6, seed=0):
    """Hypercube inputs, the target of cube-f1, both as float64 tensors."""
    rng = np.random.RandomState(seed)
    X = rng.choice([-1.0, 1.0], size=(n_samples, n_features))
    y = X[:, 0] * X[:, 1] * (1 + X[:, 2] * X[:, 3])
    return torch.from_numpy(X), torch.from_numpy(y / np.sqrt(np.mean(y**2)))[:, None]


def test_first_neuron_search_matches_the_package_on_the_same_start():
    X, Y = cube_problem()
    generator = torch.Generator().manual_seed(1)
    start = [
        torch.randn(*shape, generator=generator, dtype=torch.float64)
        for shape in ((1, 6), (1, 1), (1, 1))
    ]
    start[1] = -start[1]  # both make it non-negative
    point, value = ascend_network(X, Y, start, SETTINGS)
    found = search_network(
        X,
        Y,
        torch.ones(len(X), dtype=torch.float64),
        HomogeneousActivation(1, SLOPE),
        [w[None] for w in start],
        SETTINGS.ncf_steps,
        SETTINGS.ncf_lr,
    )
    assert value > 0
    assert value == pytest.approx(found.ncf_value, rel=1e-9)
    for mine, theirs in zip(point, found.weights):
        torch.testing.assert_close(mine, theirs, rtol=1e-8, atol=1e-10)


def test_candidate_search_matches_the_package_on_the_same_start():
    X, Y = cube_problem()
    generator = torch.Generator().manual_seed(2)
    weights = [
        0.5 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for shape in ((3, 6), (2, 3), (1, 2))
    ]
    activation = HomogeneousActivation(1, SLOPE)
    pre_activations, layer_inputs = forward(weights, X, activation)
    residual = Y - pre_activations[-1]
    package_signals, _ = backward(weights, pre_activations, layer_inputs, residual, activation)
    inputs, outputs = signals(weights, X, residual, SLOPE)
    for mine, theirs in zip(inputs + outputs, layer_inputs[:2] + package_signals[1:]):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12)

    # One restart per hidden layer; the package ignores the entries past a layer's widths.
    incoming = torch.randn(2, 1, 6, generator=generator, dtype=torch.float64)
    outgoing = torch.randn(2, 1, 2, generator=generator, dtype=torch.float64)
    found = search_candidates(
        HiddenRows(inputs, outputs),
        torch.ones(len(X), dtype=torch.float64),
        activation,
        incoming,
        outgoing,
        SETTINGS.ncf_steps,
        SETTINGS.ncf_lr,
    )
    values = []
    for layer, (h, g) in enumerate(zip(inputs, outputs)):
        start = (incoming[layer, 0, : h.shape[1]], outgoing[layer, 0, : g.shape[1]])
        (a, b), value = ascend_candidate(h, g, start, SETTINGS)
        values.append(value)
        if layer == found.layer:
            torch.testing.assert_close(a, found.incoming, rtol=1e-8, atol=1e-10)
            torch.testing.assert_close(b, found.outgoing, rtol=1e-8, atol=1e-10)
    assert values == pytest.approx(found.layer_values, rel=1e-9)
    assert max(values) > 0


def test_every_iteration_lowers_the_loss_and_the_fit_learns():
    task = TASKS["cube-f1"]
    X, y, X_test, y_test = task.sample(100, np.random.RandomState(0))
    settings = ReferenceSettings(
        depth=3, negative_slope=SLOPE, n_restarts=2, ncf_steps=30, gd_steps=500, max_iter=3
    )
    predict, info = fit_reference(task, X, y, 0, settings)
    history = info["history"]
    assert len(history) == 3 and info["neurons"] == 4
    assert [r["layer"] for r in history][0] is None
    for record in history:
        assert record["ncf_value"] > 0
        assert record["loss_after_add"] < record["loss_before"]
        assert record["loss"] <= record["loss_after_add"]
    assert history[-1]["train_error"] < 0.75 * history[0]["train_error"]
    train_error = error(task, predict(X), y)
    assert train_error == pytest.approx(history[-1]["train_error"], rel=1e-9)
