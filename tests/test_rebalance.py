"""Rebalancing (docs/algorithm.md §5): balanced neurons, the same network output."""

import pytest
import torch
from conftest import FAST, fast_params
from datasets import hypercube, sparse_relu_target

from skneuronpursuit import NeuronPursuitRegressor
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.network import predict
from skneuronpursuit._kernels.rebalance import neuron_balance, rebalance


@pytest.mark.parametrize("power, slope", [(1, 0.0), (1, 0.3), (2, 0.0), (2, -1.0)])
def test_rebalancing_balances_and_preserves_predictions(power, slope):
    # docs/algorithm.md §5: ||in_j||^2 = p ||out_j||^2 for every hidden neuron, H unchanged.
    generator = torch.Generator().manual_seed(0)
    weights = [
        torch.randn(5, 4, generator=generator, dtype=torch.float64) * 3,
        torch.randn(3, 5, generator=generator, dtype=torch.float64) * 0.2,
        torch.randn(2, 3, generator=generator, dtype=torch.float64),
    ]
    X = torch.randn(30, 4, generator=generator, dtype=torch.float64)
    activation = HomogeneousActivation(power, slope)
    balanced, n_sweeps = rebalance(weights, power)
    assert n_sweeps >= 1
    torch.testing.assert_close(predict(balanced, X, activation), predict(weights, X, activation))
    for ratios in neuron_balance(balanced, power):
        torch.testing.assert_close(ratios, torch.ones_like(ratios), rtol=1e-6, atol=0)
    assert not all(torch.allclose(r, torch.ones_like(r)) for r in neuron_balance(weights, power))


@pytest.mark.parametrize("solver", ["auto", "gd", "lm"])
def test_rebalance_option_leaves_balanced_neurons(solver):
    X = hypercube(150, 6, seed=4)
    reg = NeuronPursuitRegressor(
        depth=3,
        max_iter=4,
        dtype="float64",
        **fast_params(FAST, rebalance=True, solver=solver),
    )
    reg.fit(X, sparse_relu_target(X))
    # The balance holds in the units the fit worked in, those of the stored network.
    weights = [torch.from_numpy(w) for w in reg._fit_weights_]
    for ratios in neuron_balance(weights, 1):
        torch.testing.assert_close(ratios, torch.ones_like(ratios), rtol=1e-5, atol=0)


def test_with_a_penalty_the_recorded_loss_is_that_of_the_rebalanced_network():
    # Rebalancing lowers the L2 penalty (docs/algorithm.md §10.2): each record's loss,
    # and the next iteration's loss_before, are the objective of the network returned.
    X = hypercube(200, 4, seed=0)
    y = sparse_relu_target(X) + 5.0
    alpha = 0.01
    params = fast_params(FAST, rebalance=True, solver="gd", gd_lr=1.0, gd_momentum=0.0)
    reg = NeuronPursuitRegressor(
        alpha=alpha, max_iter=3, early_stopping=False, dtype="float64", **params
    ).fit(X, y)
    inputs = torch.from_numpy(X / reg.x_scale_)
    inputs = torch.cat([inputs, torch.ones(len(X), 1, dtype=inputs.dtype)], dim=1)
    targets = torch.from_numpy((y[:, None] - reg._growth_offset_) / reg.y_scale_)
    weights = [torch.from_numpy(w) for w in reg._fit_weights_]
    output = predict(weights, inputs, HomogeneousActivation(1, 0.1))
    objective = (targets - output).square().sum() / (2 * len(X))
    objective += alpha / 2 * sum(w.square().sum() for w in weights)
    assert reg.history_[-1].loss == pytest.approx(float(objective), rel=1e-12)
    for before, after in zip(reg.history_, reg.history_[1:]):
        assert after.loss_before == before.loss
