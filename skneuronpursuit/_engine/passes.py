"""The network's pass over a fit's rows, as the candidate search and the scale use it.

What an iteration's search needs from the grown network, ``H``, the residual ``r`` and,
on any rows, each hidden layer's input ``h_{l-1}`` and signal ``g = J_{l+1}^T r``
(docs/algorithm.md §3), comes from one forward and one backward pass. On one block of
rows (``_kernels/blocks.py``) the pass runs once over all rows and is kept; on more, it
runs per block of rows whenever rows are asked for, so that no pass over all rows is
held at once (docs/big-data.md, "Memory"). ``H``, ``r`` and a candidate's change of
``H`` are kept for all rows: ``n x m`` numbers each.
"""

from .._kernels.blocks import row_blocks, rows_by_blocks
from .._kernels.inputs import SparseInputs
from .._kernels.network import backward, forward, push_forward


class NetworkPasses:
    """The pass of the network ``weights`` over ``X``; the hidden layers' inputs and
    signals on any rows (``self(rows)``, the interface of
    :class:`~skneuronpursuit._kernels.ascent_rows.HiddenRows`).

    ``signals=False``: only ``output``, ``residual`` and :meth:`change` are needed.
    """

    def __init__(self, weights, X, Y, objective, activation, signals=True):
        self.weights, self.X, self.Y = weights, X, Y
        self.objective, self.activation, self.with_signals = objective, activation, signals
        self.sparse = isinstance(X, SparseInputs)
        self.n_rows = X.shape[0]
        self.in_sizes = [w.shape[1] for w in weights[:-1]]
        self.out_sizes = [w.shape[0] for w in weights[1:]]
        self.blocks = row_blocks(self.n_rows, self.sparse)
        self.whole = None
        if len(self.blocks) == 1:
            self.whole = self._pass(X, Y)
            self.output, self.residual = self.whole[0][-1], self.whole[2]
        else:
            self.output = rows_by_blocks(
                self.blocks, self.n_rows, lambda rows: forward(weights, X[rows], activation)[0][-1]
            )
            self.residual = objective.negative_gradient(self.output, Y)

    def _pass(self, X, Y):
        pre_activations, layer_inputs = forward(self.weights, X, self.activation)
        # The negative gradient of the loss in H: the residual Y - H for the squared loss.
        residual = self.objective.negative_gradient(pre_activations[-1], Y)
        signals = None
        if self.with_signals:  # g = J^T r for every layer in one backward pass
            signals, _ = backward(
                self.weights, pre_activations, layer_inputs, residual, self.activation, grads=False
            )
        return pre_activations, layer_inputs, residual, signals

    def __call__(self, rows):
        """The hidden layers' inputs and the signals at the layers after them, on ``rows``."""
        n_hidden = len(self.weights) - 1
        if self.whole is None:
            _, layer_inputs, _, signals = self._pass(self.X[rows], self.Y[rows])
            return layer_inputs[:n_hidden], signals[1:]
        _, layer_inputs, _, signals = self.whole
        # Sparse inputs are not split: their batch is only ever asked for all rows.
        inputs = [h if isinstance(h, SparseInputs) else h[rows] for h in layer_inputs[:n_hidden]]
        return inputs, [g[rows] for g in signals[1:]]

    def change(self, layer, a, b):
        """The linearised change of ``H`` on all rows made by the candidate ``(a, b)`` of
        hidden layer ``layer`` (0-based; docs/algorithm.md §3.4)."""
        if self.whole is not None:
            return self._change(*self.whole[:2], layer, a, b)
        return rows_by_blocks(
            self.blocks,
            self.n_rows,
            lambda rows: self._change(
                *forward(self.weights, self.X[rows], self.activation), layer, a, b
            ),
        )

    def _change(self, pre_activations, layer_inputs, layer, a, b):
        activated = self.activation(layer_inputs[layer] @ a)
        perturbation = activated[:, None] * b[None, :]
        weights, activation = self.weights, self.activation
        return push_forward(weights, pre_activations, layer + 1, perturbation, activation)
