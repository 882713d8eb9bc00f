"""Feature importances of a grown network, from its weights (docs/algorithm.md §1).

Each input's importance is the sum, over every path from that input through the hidden
neurons to an output, of the product of the absolute weights along the path, with the
inputs in the unit-RMS scale the fit works in. For a ReLU-type network (``p = 1``,
``|alpha| <= 1``) this path sum bounds ``|dH/dx_j|`` times the RMS of ``x_j``
everywhere, so an input of importance 0 does not affect the output at all; for
``p > 1`` it is the same measure of how much weight connects the input to the output.
The importances are normalised to sum to 1 (all 0 for a network with no neurons).
"""

import numpy as np


def path_importances(coefs, x_scale, normalise=True):
    """Path sums of the inputs, normalised to sum to 1 unless ``normalise`` is False.

    Parameters
    ----------
    coefs : list of ndarray
        Weights in the data's units, ``coefs[l]`` of shape ``(k_l, k_{l+1})``; the first
        may have one more row than ``x_scale`` (the intercept feature), which is left out.
    x_scale : ndarray of shape (n_features,)
        RMS of each feature, by which the fit divided it.
    normalise : bool, default=True

    Returns
    -------
    ndarray of shape (n_features,)
    """
    flow = np.abs(coefs[0][: len(x_scale)] * x_scale[:, None])
    for weight in coefs[1:]:
        flow = flow @ np.abs(weight)
    total = flow.sum(axis=1)
    mass = total.sum()
    if not normalise:
        return total
    return total / mass if mass > 0 else np.zeros_like(total)
