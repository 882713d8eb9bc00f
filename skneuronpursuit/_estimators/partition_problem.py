"""Each process's rows in a data-parallel fit (docs/big-data.md): the rows each block
holds out for early stopping, the fit problem from statistics over every process's
rows, and early stopping scored on held-out rows spread over the processes.
:func:`~._estimators.partitioned.fit_partition` runs the fit on them.
"""

import numpy as np
import scipy.sparse
from sklearn.model_selection import train_test_split

from .._engine import data
from .._engine.data import merge_duplicates
from .._engine.problem import assemble_problem, target_scale
from .._kernels import reduction
from .tracking import EarlyStopping, gain_is_clear


def block_seed(split_seed, block):
    """The seed of the held-out split of block ``block``, from the fit's ``split_seed``."""
    state = np.random.SeedSequence([int(split_seed), int(block)]).generate_state(1)[0]
    return int(state % np.iinfo(np.int32).max)


def held_out_rows(n_rows, block, split_seed, fraction, stratify=None):
    """The rows of one block that early stopping holds out, and those it trains on.

    Each block (a Dask partition, or the rows of one process in :func:`fit_partition`)
    holds out its own part: ``sklearn.model_selection.train_test_split`` of its
    ``n_rows`` distinct samples (equal samples merged, in order of first occurrence) with
    ``test_size=fraction`` and the seed :func:`block_seed` ``(split_seed, block)``,
    stratified by the classes where the block allows it and not stratified where it does
    not (a class with one sample in the block). ``split_seed`` is drawn from the
    estimator's ``random_state`` as in a fit in one process. A block of fewer than two
    samples holds out none.

    Parameters
    ----------
    n_rows : int
    block : int
        The block's index: the partition's index in the Dask collection.
    split_seed : int
    fraction : float
        ``validation_fraction``.
    stratify : ndarray of shape (n_rows,), default=None
        Class indices to stratify on (the classifier).

    Returns
    -------
    train, held_out : ndarray of int
    """
    rows = np.arange(n_rows)
    if n_rows < 2:
        return rows, rows[:0]
    seed = block_seed(split_seed, block)
    try:
        train, held_out = train_test_split(
            rows, test_size=fraction, random_state=seed, stratify=stratify
        )
    except ValueError:
        if stratify is None:
            return rows, rows[:0]
        train, held_out = train_test_split(rows, test_size=fraction, random_state=seed)
    return train, held_out


# ---------------------------------------------------------------- the problem


def _column_max(values):
    """Largest magnitude per column, zeros for no rows."""
    if values.shape[0] == 0:
        return np.zeros(values.shape[1])
    peak = abs(values).max(axis=0)
    return np.asarray(peak.todense() if scipy.sparse.issparse(peak) else peak).ravel()


def _mean_square(values, sample_weight):
    """Weighted mean of the squares per column over every process's rows."""
    with np.errstate(over="ignore", under="ignore"):
        if scipy.sparse.issparse(values):
            squares = np.asarray(values.multiply(values).T @ sample_weight).ravel()
        else:
            squares = (values**2).T @ sample_weight
        total = reduction.sum_array(np.append(squares, sample_weight.sum()))
    return total[:-1] / total[-1]


def _root_mean_square(values, sample_weight, axis=None):
    """``_engine/data.py``'s ``_root_mean_square`` over every process's rows."""
    return data._root_mean_square(
        values,
        sample_weight,
        axis,
        mean_square=_mean_square,
        column_peak=lambda values: reduction.max_array(_column_max(values)),
    )


def build_partition_problem(blocks, settings, *, fit_intercept, dtype, device, center, per_output):
    """``_engine/problem.py``'s ``build_problem`` for this process's blocks of rows in a
    data-parallel fit: every scale, offset and weight normalisation over all rows.

    ``blocks`` is a list of ``(index, X, Y, sample_weight)``. Equal samples are merged,
    and sorted, within a block only: the rows of the fit are the blocks in the order of
    their indices, on any placement of the blocks on the processes. Returns the problem
    and this process's rows and weights (normalised) in that order.
    """
    blocks = sorted(blocks, key=lambda block: block[0])
    merged = [(index, *merge_duplicates(X, Y, w)) for index, X, Y, w in blocks]
    state = reduction._active()
    if state is not None:
        state.set_blocks([(index, X.shape[0]) for index, X, _, _ in merged])
    X, Y, sample_weight = _stack([(X, Y, w) for _, X, Y, w in merged], merged, 0)
    n_total = reduction.count(X.shape[0])
    largest = reduction.max_array(np.array([sample_weight.max(initial=0.0)]))[0]
    sample_weight = sample_weight / largest
    total = reduction.sum_array(np.array([sample_weight.sum()]))[0]
    sample_weight = sample_weight / (total / n_total)
    x_scale = _root_mean_square(X, sample_weight, axis=0)
    rescale = settings.objective.rescales_targets
    y_scale = np.ones(Y.shape[1])
    if rescale:
        y_scale = target_scale(Y, sample_weight, per_output, _root_mean_square)
    offset = centred = mean = None
    if center and rescale:
        peak = reduction.max_array(_column_max(Y))
        peak = np.where(peak > 0, peak, 1.0)
        sums = reduction.sum_array(np.append((Y / peak).T @ sample_weight, sample_weight.sum()))
        mean = peak * (sums[:-1] / sums[-1])
        centred = Y - mean
        y_scale = target_scale(centred, sample_weight, per_output, _root_mean_square)
        smallest = Y.min(axis=0) if Y.shape[0] else np.full(Y.shape[1], np.inf)
        offset = -reduction.max_array(-smallest)
        Y = Y - offset
    problem = assemble_problem(
        X,
        Y,
        sample_weight,
        settings,
        x_scale=x_scale,
        y_scale=y_scale,
        offset=offset,
        centred=centred,
        mean=mean,
        fit_intercept=fit_intercept,
        dtype=dtype,
        device=device,
    )
    return problem, X, sample_weight


# ---------------------------------------------------------------- early stopping


def _clearly_better(terms, kept_terms, standard_errors=None):
    """``tracking.clearly_better`` over every process's held-out rows."""
    gain = terms - kept_terms
    m = reduction.count(gain.size)
    total = reduction.sum_array(np.array([gain.sum()]))[0]
    squares = reduction.sum_array(np.array([np.sum((gain - total / m) ** 2)]))[0]
    return gain_is_clear(total, squares, m, standard_errors)


class _PartitionedEarlyStopping(EarlyStopping):
    """Early stopping on held-out rows spread over the processes: R^2 or accuracy, and
    their per-sample terms, from sums over every process's held-out rows."""

    _clearly_better = staticmethod(_clearly_better)

    def __init__(self, classifier, *args):
        self.classifier = classifier
        super().__init__(*args)

    def _score_and_terms(self, weights):
        inputs, Y, weight = self.validation
        output = self.problem.scaled_output(weights, inputs)
        if self.classifier:
            hits = _class_index(output) == _class_index(Y)
            sums = reduction.sum_array(np.array([weight @ hits, weight.sum()]))
            return float(sums[0] / sums[1]), hits * (weight / sums[1])
        m = Y.shape[1]
        first = reduction.sum_array(
            np.concatenate([[weight.sum()], weight @ Y, weight @ (Y - output) ** 2])
        )
        total, mean, errors = first[0], first[1 : m + 1] / first[0], first[m + 1 :]
        spread = reduction.sum_array(weight @ (Y - mean) ** 2)
        # r2_score with sample weights, one score per output averaged (force_finite).
        perfect = np.where(errors == 0, 1.0, 0.0)
        positive = spread > 0
        scores = np.where(positive, 1 - errors / np.where(positive, spread, 1.0), perfect)
        relative = weight / total
        per_output = np.where(spread > 0, spread / total, 1.0) * m
        terms = -relative * (((Y - output) ** 2) / per_output).sum(axis=1)
        return float(scores.mean()), terms


def _class_index(scores):
    if scores.ndim == 1 or scores.shape[1] == 1:
        return (scores.ravel() > 0).astype(int)
    return np.argmax(scores, axis=1)


def _stack(parts, merged, n_outputs):
    """The rows of ``parts`` (``(X, Y, w)`` each) as one ``(X, Y, w)``."""
    if not parts:
        width = merged[0][1].shape[1] if merged else 0
        return np.empty((0, width)), np.empty((0, n_outputs)), np.empty(0)
    Xs = [X for X, _, _ in parts]
    X = scipy.sparse.vstack(Xs, format="csr") if scipy.sparse.issparse(Xs[0]) else np.vstack(Xs)
    Y = np.vstack([Y for _, Y, _ in parts])
    return X, Y, np.concatenate([w for _, _, w in parts])
