"""The rows an NCF ascent climbs (docs/algorithm.md §3.3, docs/big-data.md "Memory").

An ascent's data are the inputs and signals of the layers it searches, rescaled and
weighted (``_kernels/ncf.py``), on the rows each step climbs: all rows, a subset for the
first steps and a larger one for the last. :class:`RowBlocks` builds them for the rows
asked for, once for all rows on one block of rows (``_kernels/blocks.py``) and per block
beyond, so that a search never holds them, or one number per sample and restart, for
all rows at once. :class:`HiddenRows` and :class:`StackedLayers` give a batch of hidden
layers' inputs and signals on any rows.
"""

import torch

from .blocks import row_blocks, sum_lists, sum_of
from .inputs import SparseInputs
from .reduction import all_sum, count

# (choice) With ``rows``, this fraction of an ascent's steps (the last ones) runs on
# all samples, so that the point returned has climbed the NCF of all samples last.
FULL_DATA_STEPS_FRACTION = 0.1


class RowBlocks:
    """The data an ascent climbs, ``make(index) -> (inputs, signal)`` for any rows.

    With one block of rows (``_kernels/blocks.py``; or sparse inputs, which are not
    split) the data of all rows is built once and reused; beyond, it is built per block
    of rows when a value on all rows is needed, and per subset for the ascent's steps.
    """

    def __init__(self, make, n_rows, sparse=False):
        self.make, self.n_rows, self.sparse = make, n_rows, sparse
        self.blocks = row_blocks(n_rows, sparse)
        self.whole = make(slice(None)) if len(self.blocks) == 1 else None

    def each_block(self):
        """``(inputs, signal)`` of each block of rows in turn."""
        if self.whole is not None:
            yield self.whole
            return
        for block in self.blocks:
            yield self.make(block)

    def per_step(self, rows, n_steps):
        """The ``(inputs, signal)`` each of ``n_steps`` ascent steps climbs (docs/algorithm.md
        §3.3).

        Without ``rows`` (or with sparse inputs), all samples at every step. With
        ``rows``, the subset first, its signal scaled by ``n / len(rows)`` so that its NCF
        estimates that of all ``n`` samples, then all samples for the last
        ``FULL_DATA_STEPS_FRACTION`` of the steps; ``rows`` a pair ``(first, last)``: the
        subset ``last`` for those. Samples run along dim -2.
        """
        if rows is None or self.sparse:
            return [self._all_rows()] * n_steps
        first, last = rows if isinstance(rows, tuple) else (rows, None)
        n_on_rows = n_steps - max(1, round(FULL_DATA_STEPS_FRACTION * n_steps))

        def subset(chosen):
            factor = count(self.n_rows) / count(len(chosen))
            inputs, signal = self.make(chosen)
            return inputs, signal.mul_(factor)

        final = self._all_rows() if last is None else subset(last)
        return [subset(first)] * n_on_rows + [final] * (n_steps - n_on_rows)

    def _all_rows(self):
        return self.whole if self.whole is not None else self.make(slice(None))


def value_on_all_rows(data, value):
    """``value(inputs, signal)`` (a sum over the rows given) summed over every block of
    ``data`` and over every process's rows."""
    return all_sum(sum_of(value(*part) for part in data.each_block()))


def _weighted_squares(values, sample_weight):
    """``sum_i s_i ||values_i||^2`` over the sample dimension (-2) of these rows."""
    if isinstance(values, SparseInputs):
        return (sample_weight * values.squared_row_norms()).sum()
    return (sample_weight[:, None] * values.square()).sum(dim=(-2, -1))


def weighted_rms_row_norm(values, sample_weight):
    """``sqrt(mean_i s_i ||values_i||^2)`` over the sample dimension (-2); ``s`` has mean 1."""
    return _root_mean(_weighted_squares(values, sample_weight), sample_weight)


def _root_mean(total, sample_weight):
    """``sqrt(total / n)`` with ``total`` summed over every process's rows."""
    return all_sum(total).div(count(len(sample_weight))).sqrt()


def block_rms_row_norms(blocks, raw, sample_weight):
    """:func:`weighted_rms_row_norm` of each part of ``raw(index)`` (a tuple of tensors),
    summed block by block."""
    totals = sum_lists(
        [_weighted_squares(part, sample_weight[block]) for part in raw(block)] for block in blocks
    )
    return [_root_mean(total, sample_weight) for total in totals]


def safe_divide(values, scale):
    """``values`` divided by ``scale`` per batch entry, a zero scale read as the smallest
    normal number (the zero rows stay zero)."""
    tiny = torch.finfo(values.dtype).tiny
    return values / scale.clamp_min(tiny)[..., None, None]


class HiddenRows:
    """The hidden layers' inputs ``h_{l-1}`` and signals ``g`` (at ``z_{l+1}``) on any rows,
    from tensors on all rows; ``self(rows)`` gives both lists on those rows.

    The engine passes an object with the same attributes that computes them per block
    of rows instead (``_engine/passes.py``).
    """

    def __init__(self, layer_inputs, signals):
        self.layer_inputs, self.signals = layer_inputs, signals
        self.in_sizes = [h.shape[1] for h in layer_inputs]
        self.out_sizes = [g.shape[1] for g in signals]
        self.sparse = isinstance(layer_inputs[0], SparseInputs)
        self.n_rows = signals[0].shape[0]

    def __call__(self, rows):
        # Sparse inputs are not split: their batch is only ever asked for all rows.
        inputs = [h if isinstance(h, SparseInputs) else h[rows] for h in self.layer_inputs]
        return inputs, [g[rows] for g in self.signals]


class StackedLayers:
    """A batch of hidden layers as one ascent climbs them: ``self(rows)`` is ``(H, G)``,
    their inputs and signals on those rows, zero-padded to common widths, one batch entry
    per layer. Padded input columns get zero gradient, so padded weights stay zero. A
    sparse first layer is a batch of its own, on all rows."""

    def __init__(self, hidden, layers):
        self.hidden, self.layers = hidden, layers
        self.sparse = hidden.sparse and layers == [0]
        self.in_size = max(hidden.in_sizes[i] for i in layers)
        self.out_size = max(hidden.out_sizes[i] for i in layers)

    def __call__(self, rows):
        layer_inputs, signals = self.hidden(rows)
        if self.sparse:
            return layer_inputs[0], signals[0][None]
        inputs = [layer_inputs[i] for i in self.layers]
        signals = [signals[i] for i in self.layers]
        n_rows = signals[0].shape[0]
        H = signals[0].new_zeros(len(inputs), n_rows, self.in_size)
        G = signals[0].new_zeros(len(inputs), n_rows, self.out_size)
        for index, (h, g) in enumerate(zip(inputs, signals)):
            H[index, :, : h.shape[1]] = h
            G[index, :, : g.shape[1]] = g
        return H, G

    def starting_points(self, initial_incoming, initial_outgoing):
        """Every candidate ``(a, b)`` one row, ``a`` its first ``in_size`` entries."""
        n_restarts = initial_incoming.shape[1]
        points = initial_incoming.new_zeros(
            len(self.layers), n_restarts, self.in_size + self.out_size
        )
        for index, layer in enumerate(self.layers):
            k_in, k_out = self.hidden.in_sizes[layer], self.hidden.out_sizes[layer]
            points[index, :, :k_in] = initial_incoming[layer, :, :k_in]
            outgoing = slice(self.in_size, self.in_size + k_out)
            points[index, :, outgoing] = initial_outgoing[layer, :, :k_out]
        return points
