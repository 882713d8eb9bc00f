"""Rebalancing hidden neurons without changing the network (docs/algorithm.md §5)."""

import torch

MAX_SWEEPS = 1000


def neuron_balance(weights, power):
    """Per hidden layer, ``||in_j||^2 / (p ||out_j||^2)`` for every neuron (1 = balanced)."""
    return [
        weights[index].square().sum(1) / (power * weights[index + 1].square().sum(0))
        for index in range(len(weights) - 1)
    ]


def rebalance(weights, power, rtol=None):
    """Rescale hidden neurons until ``||in_j||^2 = p ||out_j||^2`` for all of them.

    Neuron ``j`` of a hidden layer is scaled by ``c_j > 0``: incoming row times
    ``c_j``, outgoing column times ``c_j**-p``, which leaves ``H`` unchanged since
    ``sigma(c z) = c**p sigma(z)``. ``c_j = (p ||out_j||^2 / ||in_j||^2)**(1/(2+2p))``
    balances neuron ``j`` exactly but changes the incoming norms of the next layer,
    hence sweeps until every ratio is within ``rtol`` of 1 (for ``p = 1``, Saul 2023).
    Neurons with a zero incoming or outgoing vector are left alone.

    Returns
    -------
    weights : list of Tensor
        New tensors; the input is not modified.
    n_sweeps : int
    """
    if rtol is None:
        rtol = 10 * torch.finfo(weights[0].dtype).eps ** 0.5
    weights = [w.clone() for w in weights]
    for sweep in range(1, MAX_SWEEPS + 1):
        for index in range(len(weights) - 1):
            incoming = weights[index].square().sum(1)
            outgoing = weights[index + 1].square().sum(0)
            active = (incoming > 0) & (outgoing > 0)
            ratio = torch.where(active, power * outgoing / incoming, 1.0)
            factor = ratio ** (1 / (2 + 2 * power))
            weights[index].mul_(factor[:, None])
            weights[index + 1].mul_(factor[None, :] ** -power)
        worst = max(
            (
                torch.where(torch.isfinite(ratio), (ratio - 1).abs(), 0.0).max()
                for ratio in neuron_balance(weights, power)
                if ratio.numel()
            ),
            default=torch.zeros(()),
        )
        if float(worst) <= rtol:
            break
    return weights, sweep
