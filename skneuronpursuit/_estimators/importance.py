"""Feature importances of a grown network: how much its output moves when an input is
resampled (docs/algorithm.md §1, "Feature importances").

The importance of input ``j`` is the root mean square change of the network's outputs
when ``x_j`` alone is replaced by its value in another training row, drawn with the
sample weights::

    importance_j  ∝  sqrt( sum_i s_i ||H(x_i) - H(x_i with x_ij := x_r(i)j)||^2 / sum_i s_i )

normalised to sum to 1 (all 0 for a network whose output does not depend on its
inputs). It is permutation importance measured on the model's own outputs rather than
on a score: it needs no targets, is the same for the regressor's and the classifier's
outputs, and measures effects, not weights: an input that enters linearly as
``b x_j`` gets ``|b|`` times the spread of ``x_j``, an input the network does not use
gets 0, and an input whose slope is large where it hardly varies gets little. The
intercept feature is left out.

Computed in the fit's units (``x / x_scale_``, each output divided by its
``y_scale_``): a column's resampled values move with its scale, and an output's scale
is common to every input, so the importances do not depend on the units of ``X`` or of
any output. The mean runs over at most ``MAX_ROWS`` training rows (fewer for a
wide ``X``: at most ``MAX_ENTRIES`` dense entries; of a sparse ``X`` only the columns
stored in those rows are densified, the others' importances are 0), a subsample and
replacement rows drawn with a copy of the fit's random state, so the fit's own draws
are unchanged.
Cost: one pass of the network's hidden layers per input and row; the first layer's
product is formed once and changed by one column per input.
"""

import math

import numpy as np
import scipy.sparse
import torch

from .._kernels.inputs import as_tensor
from .._kernels.network import predict

MAX_ROWS = 4096
# Outputs above this are scaled down before their changes are squared (float64's squares
# overflow from 2**512).
HUGE_OUTPUT = 2.0**256
# A wide X is densified over fewer rows: rows x features at most this (32 MB in float64).
MAX_ENTRIES = 2**22
MIN_ROWS = 64
# Entries of the first layer's changed products formed at once (inputs x rows x width).
CHUNK_ELEMENTS = 2**22


@torch.inference_mode()
def resampling_importances(weights, rows, sample_weight, replacement, activation):
    """The importances of the module docstring, in the fit's units; they sum to 1.

    Parameters
    ----------
    weights : list of Tensor
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(k_l, k_{l-1})``, float64.
    rows : Tensor of shape (n_rows, n_features)
        Dense training rows divided by ``x_scale_``, without the intercept column.
    sample_weight : Tensor of shape (n_rows,)
        Non-negative, not all zero.
    replacement : Tensor of shape (n_rows,)
        For every row, the row whose values replace its ``x_j``.
    activation : HomogeneousActivation

    Returns
    -------
    ndarray of shape (n_features,)
    """
    n_rows, n_features = rows.shape
    first = weights[0]  # (k_1, n_features [+ 1 for the intercept])
    pre_activation = rows @ first[:, :n_features].T
    if first.shape[1] > n_features:
        pre_activation = pre_activation + first[:, n_features]
    output = predict(weights[1:], activation(pre_activation), activation)
    largest = float(output.abs().max()) if output.numel() else 0.0
    if math.isfinite(largest) and largest > HUGE_OUTPUT:
        # The squares of such changes overflow: scale the last layer, and so every
        # output, by a power of two, which is exact and cancels in the normalisation.
        shift = 2.0 ** -math.frexp(largest)[1]
        weights = [*weights[:-1], weights[-1] * shift]
        output = output * shift
    change = rows[replacement] - rows  # (n_rows, n_features)
    weight = sample_weight / sample_weight.sum()
    mean_square = torch.zeros(n_features, dtype=rows.dtype)
    chunk = max(1, CHUNK_ELEMENTS // max(n_rows * first.shape[0], 1))
    for start in range(0, n_features, chunk):
        columns = slice(start, min(start + chunk, n_features))
        # (inputs, rows, k_1): the first layer's product with x_j changed, input by input.
        moved = pre_activation + change[:, columns].T[:, :, None] * first[:, columns].T[:, None]
        moved_output = predict(weights[1:], activation(moved), activation)
        mean_square[columns] = ((moved_output - output).square().sum(dim=2) @ weight).clamp(min=0)
    importances = mean_square.sqrt().numpy()
    total = importances.sum()
    # Zeros too where the outputs themselves overflowed (no finite total to divide by).
    return importances / total if 0 < total < np.inf else np.zeros(n_features)


def feature_importances(
    fit_weights, X, sample_weight, x_scale, activation, random_state, max_rows=MAX_ROWS, rows=None
):
    """:func:`resampling_importances` of a fitted network on the training rows ``X``.

    Parameters
    ----------
    fit_weights : list of ndarray
        The network in the fit's units (``_fit_weights_``).
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        The training rows, in the user's units (with ``rows``, ``X[rows]`` are).
    sample_weight : ndarray of shape (n_samples,)
        Of the training rows.
    x_scale : ndarray of shape (n_features,)
    activation : HomogeneousActivation
    random_state : RandomState or None
        A copy of it draws the rows and their replacements (None: seed 0).
    max_rows : int, default=MAX_ROWS
        The most rows the mean runs over.
    rows : ndarray of int, optional
        The training rows' indices in ``X``: only the rows drawn are taken from it.

    Returns
    -------
    ndarray of shape (n_features,)
    """
    draws = np.random.RandomState(0)
    if random_state is not None:
        draws.set_state(random_state.get_state())
    n_rows = min(max_rows, max(MIN_ROWS, MAX_ENTRIES // max(X.shape[1], 1)))
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    n_training = X.shape[0] if rows is None else len(rows)
    if n_training > n_rows:
        chosen = np.sort(draws.choice(n_training, n_rows, replace=False))
        X = X[chosen if rows is None else rows[chosen]]
        sample_weight = sample_weight[chosen]
    elif rows is not None:
        X = X[rows]
    n_features, weights = X.shape[1], list(fit_weights)
    columns = slice(None)
    if scipy.sparse.issparse(X):
        # Only the columns stored in these rows can change an output when resampled (the
        # others are 0 in every row and replacement): densify those alone, not the
        # whole width (a million columns would be 0.5 GB per copy over 64 rows).
        X = scipy.sparse.csr_matrix(X)
        columns = np.unique(X.indices)
        first = weights[0]
        weights[0] = np.concatenate([first[:, columns], first[:, n_features:]], axis=1)
        X = X[:, columns].toarray()
    rows = np.asarray(X)
    # Only the weights' ratios matter: divided by the largest, no sum of them overflows.
    sample_weight = sample_weight / sample_weight.max()
    probability = sample_weight / sample_weight.sum()
    replacement = draws.choice(len(rows), len(rows), p=probability)
    importances = np.zeros(n_features)
    if rows.shape[1]:
        importances[columns] = resampling_importances(
            [as_tensor(w) for w in weights],
            torch.from_numpy(rows / x_scale[columns]),
            as_tensor(sample_weight),
            torch.from_numpy(replacement),
            activation,
        )
    return importances
