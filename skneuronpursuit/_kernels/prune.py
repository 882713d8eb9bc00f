"""Removing hidden neurons that do not change the network's output."""

import torch

from .network import predict
from .neurons import keep_neurons


def prune_neurons(weights, X, activation, rtol):
    """Drop hidden neurons while the output on ``X`` moves by at most ``rtol``.

    Neurons are tried from the smallest bound on their effect,
    ``||out_j|| * ||in_j||**p`` (a neuron's output is ``out_j sigma(in_j . h)``),
    and removed when the network output on ``X`` stays within ``rtol``
    (relative Frobenius norm) of the unpruned one.

    Returns
    -------
    weights : list of Tensor
        The pruned network.
    masks : list of Tensor of bool
        Per hidden layer, the neurons kept.
    """
    power = activation.power
    reference = predict(weights, X, activation)
    budget = rtol * reference.norm()
    masks = [torch.ones(w.shape[0], dtype=torch.bool, device=w.device) for w in weights[:-1]]
    bounds = [
        (float(weights[layer + 1][:, j].norm() * weights[layer][j].norm() ** power), layer, j)
        for layer in range(len(weights) - 1)
        for j in range(weights[layer].shape[0])
    ]
    for _, layer, j in sorted(bounds):
        masks[layer][j] = False
        if (predict(keep_neurons(weights, masks), X, activation) - reference).norm() > budget:
            masks[layer][j] = True
    if not all(mask.any() for mask in masks):
        # An empty layer passes nothing on: the output is zero, the neurons left are dead.
        masks = [torch.zeros_like(mask) for mask in masks]
    return keep_neurons(weights, masks), masks
