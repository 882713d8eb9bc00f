"""The data as the network sees it: weights, scales, a canonical form, input tensors.

The estimators divide ``X`` per feature by its root mean square and each output of ``y``
by its spread before the fit (docs/algorithm.md §1, a change of units mapped back in ``coefs_``).
"""

import functools

import numpy as np
import scipy.sparse
import torch

from .._kernels.inputs import SparseInputs, as_tensor
from .._kernels.network import predict as network_predict

# A feature (or target) whose root mean square is below this is treated as zero: the
# reciprocal of a smaller scale, times the weights, would overflow in ``coefs_``
# (tiny / eps ~ 1e-292 leaves a factor 1/eps of headroom).
SMALLEST_SCALE = np.finfo(np.float64).tiny / np.finfo(np.float64).eps
# Rows prepared at a time: converted to the network's inputs, or compared with their
# neighbours when equal samples are found (choice: 8 MiB of float64 at d = 16).
INPUT_BLOCK_ROWS = 1 << 16


class TakenRows:
    """``X[index]`` of a dense ``X``, never copied whole: a slice of rows takes those rows.

    The sorted training rows of a fit (``merge_duplicates(..., take=False)``), read block
    by block by the scales and the input tensor, so that the fit never holds a float64
    copy of all of them (docs/big-data.md, "Memory"). The same numbers as ``X[index]``.
    """

    def __init__(self, X, index):
        self.X, self.index = X, index
        self.shape = (len(index), X.shape[1])

    def __getitem__(self, rows):
        return self.X[self.index[rows]]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.X[self.index], dtype=dtype)


def _mean_square(values, sample_weight):
    with np.errstate(over="ignore", under="ignore"):  # handled by _root_mean_square
        if scipy.sparse.issparse(values):
            squares = values.multiply(values).T @ sample_weight
            return np.asarray(squares).ravel() / sample_weight.sum()
        # np.average(values**2, axis=0, weights=sample_weight), block by block: the
        # squares of one block at a time (docs/big-data.md, "Memory"). numpy sums the
        # rows of a C-ordered array of two or more columns one after another, so each
        # block's sum, started from the rows before it, is the sum of a single pass; a
        # single column it sums pairwise, whole.
        if not isinstance(values, TakenRows):
            values = np.asarray(values)
        if len(values.shape) < 2 or values.shape[1] < 2 or not _c_ordered(values):
            squares = np.square(np.asarray(values))
            np.multiply(squares, sample_weight[:, None], out=squares)
            return squares.sum(axis=0) / sample_weight[:, None].sum(axis=0)
        total = np.zeros((1, values.shape[1]))
        for start in range(0, values.shape[0], INPUT_BLOCK_ROWS):
            block = values[start : start + INPUT_BLOCK_ROWS]
            squares = np.empty((len(block) + 1, values.shape[1]))
            squares[0] = total
            np.square(block, out=squares[1:])
            weights = sample_weight[start : start + len(block), None]
            np.multiply(squares[1:], weights, out=squares[1:])
            total = squares.sum(axis=0, keepdims=True)
        return total[0] / sample_weight[:, None].sum(axis=0)


def _c_ordered(values):
    """Whether each block of rows of ``values`` is a C-ordered array."""
    return isinstance(values, TakenRows) or values.flags.c_contiguous


def _column_peak(values):
    """Largest magnitude per column (of dense values without a copy of them)."""
    if scipy.sparse.issparse(values):
        return np.asarray(abs(values).max(axis=0).todense()).ravel()
    if isinstance(values, TakenRows):  # maxima are the same in any grouping
        blocks = range(0, values.shape[0], INPUT_BLOCK_ROWS)
        return functools.reduce(
            np.maximum, (_column_peak(values[i : i + INPUT_BLOCK_ROWS]) for i in blocks)
        )
    return np.maximum(values.max(axis=0), -values.min(axis=0))


def _root_mean_square(
    values, sample_weight, axis=None, mean_square=_mean_square, column_peak=_column_peak
):
    """Weighted RMS per column (``axis=0``) or of all values; 1 where it is (nearly) 0.

    ``mean_square`` and ``column_peak`` compute the column statistics; a data-parallel
    fit passes versions over every process's rows (``_estimators/partition_problem.py``).
    """
    mean = mean_square(values, sample_weight)
    scale = np.sqrt(mean if axis is not None else np.mean(mean))
    peak = column_peak(values)
    if axis is None:
        peak = peak.max()
    # Squares of values below ~1e-154 underflow (above ~1e154 overflow): then
    # divide by the largest magnitude first.
    if np.any((peak > 0) & ~((scale > 0) & np.isfinite(scale))):
        peak = np.where(peak > 0, peak, 1.0)
        if scipy.sparse.issparse(values):
            scaled = values @ scipy.sparse.diags(1 / np.broadcast_to(peak, values.shape[1]))
        else:
            scaled = np.asarray(values) / peak
        mean = mean_square(scaled, sample_weight)
        scale = peak * np.sqrt(mean if axis is not None else np.mean(mean))
    return np.where(scale >= SMALLEST_SCALE, scale, 1.0)


def _normalised_weights(sample_weight):
    """Weights of mean 1, computed in float64 before any cast to the fit's dtype.

    Dividing by the largest weight first keeps the sum finite for weights near the
    float64 maximum; the fit then depends on the weights' ratios only.
    """
    sample_weight = sample_weight / sample_weight.max()
    return sample_weight / sample_weight.mean()


def _signed_zeros_cleared(values):
    """``values`` with every -0.0 made +0.0 (a copy only where there is one): equal in
    value, the two differ in bytes, and rows are compared by their bytes."""
    if values.dtype.kind != "f":
        return values
    for start in range(0, values.shape[0], INPUT_BLOCK_ROWS):
        block = values[start : start + INPUT_BLOCK_ROWS]
        if np.any(np.signbit(block) & (block == 0)):
            return values + 0.0  # -0.0 + 0.0 is +0.0
    return values


def _sparse_row_keys(X, Y):
    """One bytes key per row of a canonical CSR ``X`` and of ``Y``: equal rows, equal keys.

    The length of a key fixes the row's number of non-zeros, so keys cannot collide.
    """
    indices, data, indptr = X.indices, X.data, X.indptr  # stored zeros, -0.0 too, dropped
    Y = _signed_zeros_cleared(Y)
    keys = np.empty(X.shape[0], dtype=object)
    for row in range(X.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        keys[row] = indices[start:end].tobytes() + data[start:end].tobytes() + Y[row].tobytes()
    return keys


def _row_keys(values):
    """Each row of a 2-D array as one opaque value: a view of rows already contiguous."""
    values = np.ascontiguousarray(_signed_zeros_cleared(values))
    return values.view(np.dtype((np.void, values.dtype.itemsize * values.shape[1]))).ravel()


def _neighbours_differ(keys, order):
    """Whether each key, in ``order``, differs from the one before it (True for the first),
    compared block by block."""
    differ = np.empty(len(order), dtype=bool)
    differ[:1] = True
    for start in range(1, len(order), INPUT_BLOCK_ROWS):
        end = min(start + INPUT_BLOCK_ROWS, len(order))
        differ[start:end] = keys[order[start:end]] != keys[order[start - 1 : end - 1]]
    return differ


def _unique_rows(X, Y):
    """``np.unique(keys, return_index=True, return_inverse=True)[1:]`` for ``keys`` the
    bytes of the rows of ``[X, Y]``, without forming them or copying them: the bytes of
    ``x`` sort first (a stable sort), those of ``y`` break ties, and neighbours are
    compared block by block. The same unique rows, in the same order (that of the
    concatenated bytes), with the same first occurrences; sorting bytes is ~7x faster
    than ``np.unique(axis=0)``."""
    x_keys, y_keys = _row_keys(X), _row_keys(Y)
    order = np.argsort(x_keys, kind="stable")
    new_x = _neighbours_differ(x_keys, order)
    if not new_x.all():  # equal inputs: their targets' bytes decide, stably
        by_y = np.argsort(y_keys, kind="stable")
        y_rank = np.empty(len(y_keys), dtype=np.intp)
        y_rank[by_y] = np.cumsum(_neighbours_differ(y_keys, by_y))
        order = order[np.lexsort((y_rank[order], np.cumsum(new_x)))]
        new_x = _neighbours_differ(x_keys, order)
        starts = new_x | _neighbours_differ(y_keys, order)
    else:
        starts = new_x
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse


def merge_duplicates(X, Y, sample_weight, sort=True, rows=None, take=True):
    """The weighted samples in a canonical form, the same for any equivalent input.

    Samples of zero weight are dropped, equal samples (same ``x`` and ``y``) are
    merged into one whose weight is the sum of theirs, and the samples are sorted.
    The squared loss is unchanged, so the fit is the same function of the data, but
    a weighted fit and a fit on the repeated samples (or on any permutation of them)
    now run on identical arrays and give identical networks, with no rounding
    difference to grow along the fit.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, not all zero.
    sort : bool, default=True
        Sort the samples by the bytes of their rows (the canonical form); False keeps
        them in the order of their first occurrence, so that what depends on the order
        (the held-out split) does not depend on the units or layout of ``X``.
    rows : ndarray of int, optional
        The samples are ``X[rows]`` (``Y`` and ``sample_weight`` are theirs already).
        Their copy is freed before the unique ones are taken from ``X``, so that two
        copies of the rows never live at once (docs/big-data.md, "Memory").
    take : bool, default=True
        False: dense rows are returned as :class:`TakenRows`, not copied.

    Returns
    -------
    X, Y, sample_weight
        The unique weighted samples.
    """
    positive = sample_weight > 0
    if not positive.all():
        rows = np.flatnonzero(positive) if rows is None else rows[positive]
        Y, sample_weight = Y[positive], sample_weight[positive]
    if scipy.sparse.issparse(X):
        X = scipy.sparse.csr_matrix(X if rows is None else X[rows], copy=True)
        X.sum_duplicates()
        X.eliminate_zeros()
        rows = None
        _, first, inverse = np.unique(
            _sparse_row_keys(X, Y), return_index=True, return_inverse=True
        )
    else:
        first, inverse = _unique_rows(X if rows is None else X[rows], Y)
    inverse = inverse.ravel()
    exact = np.all(sample_weight == np.round(sample_weight)) and sample_weight.sum() < 2.0**53
    if len(first) < len(inverse) and not exact:
        # Weights of equal samples are added in the order of their values, not of the
        # rows: any permutation of the rows gives the same sums, bit for bit (integer
        # weights whose total is below 2^53 add exactly in any order; others need not).
        order = np.lexsort((sample_weight, inverse))
        inverse, sample_weight = inverse[order], sample_weight[order]
    weights = np.bincount(inverse, weights=sample_weight, minlength=len(first))
    if not sort:
        order = np.argsort(first, kind="stable")
        first, weights = first[order], weights[order]
        if len(first) == Y.shape[0] and rows is None:
            # No two samples equal: the rows as they are, uncopied.
            return X, Y, weights
    index = first if rows is None else rows[first]
    if not take and not scipy.sparse.issparse(X):
        return TakenRows(X, index), Y[first], weights
    return X[index], Y[first], weights


def user_units(fit_weights, x_scale, y_scale):
    """``coefs_`` from the weights of the fit: ``(n_in, n_out)`` arrays in the data's units.

    ``fit_weights`` are ``[W_1, ..., W_L]`` (float64 arrays, ``W_l`` of shape
    ``(k_l, k_{l-1})``) on inputs divided by ``x_scale`` and targets divided by
    ``y_scale`` (docs/algorithm.md §1); the first layer is linear in ``x`` and the
    output linear in ``W_L``, so the map back is exact up to rounding.
    """
    coefs = [w.T.copy() for w in fit_weights]
    coefs[0][: len(x_scale)] /= x_scale[:, None]
    coefs[-1] *= y_scale
    return coefs


def fit_units(coefs, x_scale, y_scale):
    """The inverse of :func:`user_units`: ``coefs`` as weights on data in other units."""
    weights = [c.T.copy() for c in coefs]
    weights[0][:, : len(x_scale)] *= x_scale[None, :]
    weights[-1] /= np.reshape(y_scale, (-1, 1))  # one scale per output (row of W_L)
    return weights


def _input_tensor(X, fit_intercept, dtype=torch.float64, device="cpu", x_scale=None):
    """``X`` (divided by ``x_scale``, with the intercept column) for the network.

    Sparse ``X`` stays sparse: :class:`SparseInputs`, used in the first layer.
    """
    if scipy.sparse.issparse(X):
        if x_scale is not None:
            X = X @ scipy.sparse.diags(1 / x_scale)
        if fit_intercept:
            X = scipy.sparse.hstack([X, np.ones((X.shape[0], 1))])
        return SparseInputs.from_scipy(X, dtype, device)
    if x_scale is None and not fit_intercept:
        return as_tensor(X, dtype=dtype, device=device)
    # Block by block into the tensor: no float64 copy of all rows on the way (the same
    # numbers: each block is divided in float64, then rounded to dtype).
    n_rows, n_columns = X.shape
    inputs = torch.empty((n_rows, n_columns + bool(fit_intercept)), dtype=dtype, device=device)
    for start in range(0, n_rows, INPUT_BLOCK_ROWS):
        block = X[start : start + INPUT_BLOCK_ROWS]
        if x_scale is not None:
            block = block / x_scale
        block = as_tensor(block)
        inputs[start : start + len(block), :n_columns] = block
    if fit_intercept:
        inputs[:, n_columns] = 1
    return inputs


def _network_output(coefs, X, activation, fit_intercept):
    """Output of the network ``coefs`` (original units) on validated ``X``, float64."""
    weights = [as_tensor(c.T) for c in coefs]
    return network_predict(weights, _input_tensor(X, fit_intercept), activation).numpy()
