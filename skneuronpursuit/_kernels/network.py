"""The bias-free homogeneous network: forward, back-propagated signals, loss.

Weights are a list ``[W_1, ..., W_L]`` of tensors, ``W_l`` of shape
``(..., k_l, k_{l-1})`` as in docs/algorithm.md §1; leading dimensions, when present,
batch independent networks (the restarts of the first iteration). Rows of ``X``
are samples, so a layer computes ``z_l = h_{l-1} @ W_l.mT``.

``X`` is a tensor or :class:`~skneuronpursuit._kernels.inputs.SparseInputs`; everything
here is plain torch, device- and dtype-agnostic, and is the single
place where the network is evaluated: the first iteration, the candidate search,
gradient descent and ``predict`` all call it.
"""

import torch

from .blocks import row_blocks, rows_by_blocks, sum_of
from .inputs import SparseInputs, dense_product, transposed_product
from .losses import LOSSES, weighted_squared_norm  # noqa: F401 (weighted_squared_norm: re-export)
from .reduction import all_sum, all_sum_list, count

SQUARED_ERROR = LOSSES["squared_error"]
# (choice) The most activation memory a loss keeps for the gradient after it
# (loss_and_passes; Levenberg-Marquardt's accepted steps): 90,000 rows of a (15, 7, 1)
# network take 15.5 MiB in float32. On 10^6 rows a depth-3 network's never fit, so a fit
# there peaks where it did: 64 MiB raised that peak by 61 MiB (docs/big-data.md).
KEPT_PASS_BYTES = 1 << 24


def matmul(values, other, out=None):
    """``values @ other``; with an inner size of 1 an outer product, by broadcasting.

    Used wherever the engine multiplies activations or signals by weights. ``out``: as
    for :func:`~skneuronpursuit._kernels.inputs.dense_product` (and the outer product).

    The same single products, so exactly the same numbers, but several times
    faster on the CPU than a batched matrix product (a chain of one-neuron layers,
    the restarts of the first iteration).
    """
    if isinstance(values, torch.Tensor) and values.shape[-1] == 1:
        return values * other if out is None else torch.mul(values, other, out=out)
    return dense_product(values, other, out)


def _columns_product(weight, values, out=None):
    """``weight @ values`` for two matrices, as :func:`matmul` computes it (samples in
    columns: gradient descent's layout, where this is the innermost call); written into
    ``out`` when it is given."""
    if weight.shape[-1] == 1:
        return torch.mul(weight, values, out=out)
    return torch.mm(weight, values, out=out)


def forward(weights, X, activation, output=True, columns=False):
    """Evaluate the network.

    Parameters
    ----------
    weights : list of Tensor
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(..., k_l, k_{l-1})``.
    X : Tensor of shape (n, d)
        Inputs, one sample per row.
    activation : HomogeneousActivation
    output : bool
        False skips the last product, ``H(X)`` itself: enough for :func:`backward`.
    columns : bool
        Samples in columns: ``X`` is a dense ``(d, n)`` tensor and every ``z_l``,
        ``h_l`` is ``(k_l, n)``. The same numbers up to rounding; on the CPU the
        products of thin layers are 1.2-2.4x faster this way round (benchmarks/
        README.md), which is why gradient descent uses it.

    Returns
    -------
    pre_activations : list of Tensor
        ``[z_1, ..., z_L]``, ``z_l`` of shape ``(..., n, k_l)``; ``z_L = H(X)``
        (absent when ``output`` is False).
    layer_inputs : list of Tensor
        ``[h_0, ..., h_{L-1}]`` with ``h_0 = X``: the input of each weight layer.
    """
    layer_inputs = [X]
    pre_activations = []
    last = len(weights) - 1
    for index, weight in enumerate(weights):
        if index == last and not output:
            break
        inputs = layer_inputs[-1]
        z = _columns_product(weight, inputs) if columns else matmul(inputs, weight.mT)
        pre_activations.append(z)
        if index < last:
            layer_inputs.append(activation(z))
    return pre_activations, layer_inputs


def predict(weights, X, activation):
    """Network output ``H(X)`` of shape ``(..., n, m)``."""
    return forward(weights, X, activation)[0][-1]


def predict_by_blocks(weights, X, activation):
    """:func:`predict` on dense ``X`` of shape ``(n, d)``, one block of rows at a time
    (``_kernels/blocks.py``): a pass over many rows holds one block's layers."""
    blocks = row_blocks(X.shape[0], isinstance(X, SparseInputs))
    if len(blocks) == 1:
        return predict(weights, X, activation)
    return rows_by_blocks(blocks, X.shape[0], lambda rows: predict(weights, X[rows], activation))


def backward(
    weights,
    pre_activations,
    layer_inputs,
    output_signal,
    activation,
    columns=False,
    grads=True,
    reduce=True,
):
    """Back-propagate a signal from the output to every pre-activation.

    With ``output_signal = dloss/dH`` this is back-propagation: ``signals[l]`` is
    ``dloss/dz_{l+1}`` and ``grads[l]`` is ``dloss/dW_{l+1}``. With
    ``output_signal = s * r / n`` (weighted residual), ``signals[l]`` are the
    ``g_i = J_{l+1}(x_i)^T r_i`` of docs/algorithm.md §3 with the weights ``s_i / n``
    folded in, and ``grads`` is the gradient of ``NCF_r``. ``columns``: samples in
    columns, as in :func:`forward`. ``grads=False`` skips the gradients (None);
    ``reduce=False`` leaves them summed over these rows only, not over the processes
    (a sum over blocks of rows adds them up first: ``_kernels/blocks.py``).

    Returns
    -------
    signals : list of Tensor
        One per weight layer, shaped like ``pre_activations``.
    grads : list of Tensor, or None
        One per weight layer, shaped like ``weights``.
    """
    depth = len(weights)
    signals = [None] * depth
    signals[-1] = output_signal
    for index in range(depth - 1, 0, -1):
        if columns:
            back = _columns_product(weights[index].mT, signals[index])
        else:
            back = matmul(signals[index], weights[index])
        signals[index - 1] = activation.backpropagate(
            back, pre_activations[index - 1], layer_inputs[index]
        )
    if not grads:
        return signals, None
    if columns:
        sums = [torch.mm(signal, inputs.mT) for signal, inputs in zip(signals, layer_inputs)]
    else:
        sums = [transposed_product(s, inputs) for s, inputs in zip(signals, layer_inputs)]
    # Sums over samples: over all processes' rows.
    return signals, all_sum_list(sums) if reduce else sums


class ColumnPasses:
    """Forward and backward passes of one network over fixed dense inputs with samples in
    columns (gradient descent's layout), into buffers allocated once.

    The same products and activation kernels as :func:`forward` and :func:`backward`
    with ``columns=True``, so the same numbers bit for bit; a step of gradient descent
    on a small network is bound by the calls themselves, and writing into buffers
    (``out=``) makes it about 1.4x as fast (docs/engineering.md). ``weights`` may change
    in place between passes; their shapes may not. For activations of power 1
    (:meth:`applies`).
    """

    def __init__(self, weights, X, activation):
        self.weights, self.activation = weights, activation
        n = X.shape[1]
        self.inputs = [X] + [X.new_empty(w.shape[0], n) for w in weights[:-1]]
        self.pre_activations = [X.new_empty(w.shape[0], n) for w in weights]
        # back[l]: the signal passed back through W_l (the signal of z_{l-1}).
        self.back = [None] + [X.new_empty(w.shape[1], n) for w in weights[1:]]
        self.grads = [torch.empty_like(w) for w in weights]
        self.transposed_inputs = [h.mT for h in self.inputs]
        self.transposed_weights = [w.mT for w in weights]

    @staticmethod
    def applies(X, activation):
        """Whether these passes serve ``X`` (dense, samples in columns) and ``activation``."""
        return isinstance(X, torch.Tensor) and X.dim() == 2 and activation.power == 1

    def forward(self):
        """``H(X)`` of shape ``(m, n)``, a buffer the next pass overwrites."""
        z, h, activation = self.pre_activations, self.inputs, self.activation
        last = len(self.weights) - 1
        for index, weight in enumerate(self.weights):
            _columns_product(weight, h[index], out=z[index])
            if index < last:
                activation(z[index], out=h[index + 1])
        return z[-1]

    def gradients(self, output_signal):
        """The gradients ``dloss/dW_l`` for ``output_signal = dloss/dH`` (summed over the
        processes), after the last :meth:`forward`: buffers the next call overwrites."""
        z, h = self.pre_activations, self.inputs
        signal = output_signal
        for index in range(len(self.weights) - 1, 0, -1):
            back = self.back[index]
            _columns_product(self.transposed_weights[index], signal, out=back)
            signal = self.activation.backpropagate(back, z[index - 1], h[index], out=back)
            torch.mm(signal, self.transposed_inputs[index - 1], out=self.grads[index - 1])
        torch.mm(output_signal, self.transposed_inputs[-1], out=self.grads[-1])
        return all_sum_list(self.grads)


def push_forward(weights, pre_activations, layer, perturbation, activation):
    """Linearised effect on ``H`` of perturbing the pre-activation ``z_{layer+1}``.

    Returns ``J_{layer+1}(x_i) perturbation_i`` for every sample (the Jacobian of
    ``H`` with respect to ``z_{layer+1}``, applied row-wise; docs/algorithm.md §3).
    ``layer`` indexes ``pre_activations`` (0-based).
    """
    delta = perturbation
    for index in range(layer + 1, len(weights)):
        delta = (delta * activation.derivative(pre_activations[index - 1])) @ weights[index].mT
    return delta


def weight_penalty(weights, alpha):
    """``alpha / 2 * sum_l ||W_l||_F^2``, the L2 penalty (docs/algorithm.md §10); 0-d tensor."""
    return alpha / 2 * sum(w.square().sum() for w in weights)


def loss(weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, alpha=0.0):
    """The objective of the network (docs/algorithm.md §2); the squared loss by default.

    With ``alpha > 0`` the L2 penalty :func:`weight_penalty` is added (§10). On many
    rows the loss is summed block by block (``_kernels/blocks.py``).
    """
    return loss_and_passes(weights, X, Y, sample_weight, activation, objective, alpha, False)[0]


def _pass_bytes(weights, n_rows, Y):
    """The memory of a forward pass's activations: every ``z_l`` and ``h_l`` over the rows."""
    widths = sum(w.shape[-2] for w in weights) + sum(w.shape[-2] for w in weights[:-1])
    return n_rows * widths * Y.element_size()


def loss_and_passes(
    weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, alpha=0.0, keep=True
):
    """:func:`loss`, and the forward passes it made, for a gradient at the same weights.

    Returns
    -------
    value : Tensor
        0-d, :func:`loss`'s value.
    passes : list or None
        ``(pre_activations, layer_inputs)`` of :func:`forward` for each block of
        :func:`~skneuronpursuit._kernels.blocks.row_blocks`, in their order; None when
        ``keep`` is False or their activations would take more than ``KEPT_PASS_BYTES``.
    """
    blocks = row_blocks(X.shape[0], isinstance(X, SparseInputs))
    kept = [] if keep and _pass_bytes(weights, X.shape[0], Y) <= KEPT_PASS_BYTES else None

    def output(inputs):
        passes = forward(weights, inputs, activation)
        if kept is not None:
            kept.append(passes)
        return passes[0][-1]

    if len(blocks) == 1:
        value = objective.value(output(X), Y, sample_weight)
    else:
        sums = (
            objective.row_sum(output(X[rows]), Y[rows], sample_weight[rows]) for rows in blocks
        )
        value = objective.value_of_sum(all_sum(sum_of(sums)), count(X.shape[0]))
    if alpha:
        value = value + weight_penalty(weights, alpha)
    return value, kept
