"""Adding a hidden neuron to a network and keeping a subset of them: inverse edits.

Weights are ``[W_1, ..., W_L]``, ``W_l`` of shape ``(k_l, k_{l-1})``; hidden neuron ``j``
of hidden layer ``l`` (0-based) is row ``j`` of ``W_{l+1}`` (its incoming weights) and
column ``j`` of ``W_{l+2}`` (its outgoing weights), docs/algorithm.md §1.
"""

import torch


def insert_neuron(weights, layer, incoming, outgoing):
    """The network with one more neuron, last in hidden layer ``layer`` (0-based).

    Parameters
    ----------
    weights : list of Tensor
    layer : int
        Hidden layer that grows: ``weights[layer]`` gains the row ``incoming`` and
        ``weights[layer + 1]`` the column ``outgoing``.
    incoming : Tensor of shape (k_{layer},)
    outgoing : Tensor of shape (k_{layer + 2},)

    Returns
    -------
    list of Tensor
        New tensors for the two layers that change; the others are shared.
    """
    grown = list(weights)
    grown[layer] = torch.cat([weights[layer], incoming[None, :]], dim=0)
    grown[layer + 1] = torch.cat([weights[layer + 1], outgoing[:, None]], dim=1)
    return grown


def keep_neurons(weights, masks):
    """The network restricted to the hidden neurons where ``masks`` are True."""
    kept = list(weights)
    for layer, mask in enumerate(masks):
        kept[layer] = kept[layer][mask]
        kept[layer + 1] = kept[layer + 1][:, mask]
    return kept
