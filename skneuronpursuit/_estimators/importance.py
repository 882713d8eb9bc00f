"""Feature importances of a grown network: its mean slope in each input (docs/algorithm.md §1).

The importance of input ``j`` is how much the network output moves when ``x_j`` moves by
one standard deviation, averaged over the training rows::

    importance_j  ∝  sum_i s_i sum_k |dH_k/dx_j (x_i)| / sum_i s_i  *  std_s(x_j)

with ``s_i`` the sample weights (the standard deviation is weighted by them too) and the
sum over all outputs ``k`` (for the classifier its scores or logits, whatever the loss),
normalised to sum to 1 (all 0 for a network with no neurons, or one that does not depend
on its inputs). The intercept feature is left out. Unlike a sum of weight products it
measures effects: a linear input gets the importance of its slope, an input the network
passes through neurons that cancel gets little.

It is computed in the fit's units, ``x / x_scale_`` and ``y / y_scale_``, with the
network's own forward and backward pass (``_kernels/network.py``, no autograd). The map to the
user's units multiplies ``dH_k/dx_j`` by ``y_scale_ / x_scale_j`` and the standard
deviation by ``x_scale_j``: the ``x_scale_j`` cancel, and ``y_scale_`` is the same for
every input and goes with the normalisation. So the importances do not depend on the
units of ``X`` or ``y`` (only on the network the fit grows in them).

The mean is taken over at most ``MAX_ROWS`` training rows (fewer for a wide ``X``, see
``MAX_SLOPES``), a subsample drawn with a copy of the fit's random state (so the fit's own
draws, and a warm start's, are unchanged); the standard deviation over all training rows.
Cost: one forward and ``m`` backward passes on those rows, and ``m`` products of
``(rows, k_1)`` by ``(k_1, d)``: ``rows * d * m`` slopes, each formed (``|.|`` is not
linear), at most ``MAX_SLOPES`` unless that leaves fewer than ``MIN_ROWS`` rows.
"""

import numpy as np
import scipy.sparse
import torch

from .._engine.data import _input_tensor
from .._kernels.network import backward, forward

# The most training rows the mean slope is taken over (a seeded subsample beyond).
MAX_ROWS = 4096

# Fewer rows when X is wide: rows * n_features * n_outputs slopes cost about 1 s per
# 2**27 on one core (measured: 4096 rows, 50000 features, 10 outputs took 17 s), so
# the rows are cut to keep within this many, down to MIN_ROWS.
MAX_SLOPES = 2**27
MIN_ROWS = 256

# Elements of the per-row slope matrix formed at once: rows are taken in chunks of
# about this many entries (32 MB in float64), so a wide X does not need n * d memory.
CHUNK_ELEMENTS = 2**22


@torch.inference_mode()
def gradient_importances(weights, inputs, sample_weight, x_std, activation):
    """Mean absolute slope of the network in each input, times its std; sums to 1.

    Everything in the fit's units (module docstring: the importances are the same in
    the user's).

    Parameters
    ----------
    weights : list of Tensor
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(k_l, k_{l-1})``.
    inputs : Tensor or SparseInputs of shape (n_rows, n_inputs)
        The rows the slopes are averaged over, as the network takes them (with the
        intercept column last, when there is one).
    sample_weight : Tensor of shape (n_rows,)
        Non-negative weights of the rows, not all zero.
    x_std : ndarray of shape (n_features,)
        Weighted standard deviation of each feature, in the units of ``inputs``
        (over all training rows); ``n_features`` is ``n_inputs`` or, with an
        intercept column, ``n_inputs - 1``.
    activation : HomogeneousActivation

    Returns
    -------
    ndarray of shape (n_features,)
        Non-negative, summing to 1, or all 0 when every slope or std is 0.
    """
    n_features = len(x_std)
    first = weights[0][:, :n_features]
    pre_activations, layer_inputs = forward(weights, inputs, activation, output=False)
    n_rows, n_outputs = inputs.shape[0], weights[-1].shape[0]
    chunk = max(1, CHUNK_ELEMENTS // max(n_features, 1))
    slopes = torch.zeros(n_features, dtype=first.dtype, device=first.device)
    for output in range(n_outputs):
        signal = torch.zeros(n_rows, n_outputs, dtype=first.dtype, device=first.device)
        signal[:, output] = 1
        # signals[0][i] = dH_output/dz_1 at x_i; times W_1, dH_output/dx at x_i.
        first_signal = backward(weights, pre_activations, layer_inputs, signal, activation)[0][0]
        for start in range(0, n_rows, chunk):
            rows = slice(start, start + chunk)
            slopes += sample_weight[rows] @ (first_signal[rows] @ first).abs()
    importances = slopes.cpu().numpy() / float(sample_weight.sum()) * x_std
    total = importances.sum()
    return importances / total if total > 0 else np.zeros(n_features)


def _weighted_std(X, sample_weight):
    """Standard deviation of each column of ``X`` (dense or sparse), weighted."""
    weight = sample_weight / sample_weight.sum()
    if scipy.sparse.issparse(X):
        mean = np.asarray(X.T @ weight).ravel()
        square = np.asarray(X.multiply(X).T @ weight).ravel()
        return np.sqrt(np.maximum(square - mean**2, 0))
    mean = weight @ X
    return np.sqrt(weight @ (X - mean) ** 2)


def feature_importances(
    fit_weights, X, sample_weight, x_scale, activation, fit_intercept, random_state
):
    """:func:`gradient_importances` of a fitted network on the data ``X``.

    Parameters
    ----------
    fit_weights : list of ndarray
        The network in the fit's units (``_fit_weights_``).
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        The training rows, in the user's units.
    sample_weight : ndarray of shape (n_samples,)
    x_scale : ndarray of shape (n_features,)
    activation : HomogeneousActivation
    fit_intercept : bool
    random_state : RandomState or None
        Chooses the rows when there are more than ``MAX_ROWS`` (or the fewer
        ``MAX_SLOPES`` allows); only a copy of it draws. None (a model pickled
        without it): seed 0.

    Returns
    -------
    ndarray of shape (n_features,)
    """
    scaled = X @ scipy.sparse.diags(1 / x_scale) if scipy.sparse.issparse(X) else X / x_scale
    x_std = _weighted_std(scaled, sample_weight)
    n_slopes = X.shape[1] * fit_weights[-1].shape[0]
    n_rows = min(MAX_ROWS, max(MIN_ROWS, MAX_SLOPES // max(n_slopes, 1)))
    if X.shape[0] > n_rows:
        draws = np.random.RandomState(0)
        if random_state is not None:
            draws.set_state(random_state.get_state())
        rows = np.sort(draws.choice(X.shape[0], n_rows, replace=False))
        X, sample_weight = X[rows], sample_weight[rows]
    weights = [torch.from_numpy(np.ascontiguousarray(w)) for w in fit_weights]
    return gradient_importances(
        weights,
        _input_tensor(X, fit_intercept, x_scale=x_scale),
        torch.from_numpy(np.asarray(sample_weight, dtype=np.float64)),
        x_std,
        activation,
    )
