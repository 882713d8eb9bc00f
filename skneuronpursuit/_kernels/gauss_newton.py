"""The Gauss-Newton products Levenberg-Marquardt's systems are made of
(docs/levenberg-marquardt.md).

``A = J^T S J / n`` (for the log loss ``J^T S D J / n``) and ``g = J^T S r / n``, with
``J`` the Jacobian of the outputs with respect to all weights, built from one
hand-written backward pass per output and never stored whole: ``A`` is formed in chunks
of samples, ``A v`` from a forward and a backward pass. ``A``, ``g`` and the step are
float64 whatever the fit's dtype. The damped systems that use them, and how each is
solved, are in ``_kernels/damped_systems.py``.
"""

import torch

from .blocks import row_blocks, sum_lists
from .inputs import SparseInputs, _with_values, transposed_product
from .network import SQUARED_ERROR, backward, forward
from .reduction import all_sum, all_sum_list, count

# A is formed and factorised while weights x outputs (J's columns times its rows per
# sample: forming A costs n m P^2) is at most this; conjugate gradients beyond (choice).
MAX_EXPLICIT = 1500
CHUNK = 2**21  # entries of one chunk of J (samples x outputs x weights) (choice)
SOLVE_DTYPE = torch.float64


def has_explicit_system(weights, n_outputs, max_explicit=None):
    """Whether ``A`` is formed and factorised: weights times outputs at most ``max_explicit``.

    ``MAX_EXPLICIT`` by default. ``solver="auto"`` uses Levenberg-Marquardt exactly then.
    """
    max_explicit = MAX_EXPLICIT if max_explicit is None else max_explicit
    return sum(w.numel() for w in weights) * n_outputs <= max_explicit


def _flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors]).to(SOLVE_DTYPE)


def _unflat(vector, like):
    parts, start = [], 0
    for w in like:
        parts.append(vector[start : start + w.numel()].reshape(w.shape).to(w.dtype))
        start += w.numel()
    return parts


def _penalised(gradient, weights, alpha):
    """``g - alpha w``: the negative gradient of the loss with the L2 penalty (§10)."""
    return gradient - alpha * _flat(weights) if alpha else gradient


def _output_signals(weights, pre_activations, layer_inputs, activation, n_outputs):
    """``dH_o/dz_l`` for every output ``o``: a list over ``o`` of lists over layers."""
    signals = []
    for o in range(n_outputs):
        unit = torch.zeros_like(pre_activations[-1])
        unit[:, o] = 1
        signals.append(
            backward(weights, pre_activations, layer_inputs, unit, activation, grads=False)[0]
        )
    return signals


def _dense_rows(X, start, stop):
    """Rows ``start:stop`` of the inputs as a dense tensor (``X`` dense or sparse)."""
    if not isinstance(X, SparseInputs):
        return X[start:stop]
    crow = X.matrix.crow_indices().to(torch.int64)
    begin, end = int(crow[start]), int(crow[stop])
    rows = torch.repeat_interleave(
        torch.arange(stop - start, device=crow.device),
        crow[start + 1 : stop + 1] - crow[start:stop],
    )
    dense = X.matrix.values().new_zeros(stop - start, X.shape[1])
    dense[rows, X.matrix.col_indices()[begin:end].to(torch.int64)] = X.matrix.values()[begin:end]
    return dense


def _whole_pass(weights, X, activation, passes=None):
    """:func:`forward` over all rows of ``X``: ``passes``' only block when given as one
    (``loss_and_passes`` at these weights), computed otherwise."""
    if passes is not None and len(passes) == 1:
        return passes[0]
    return forward(weights, X, activation)


def _jacobian_chunks(
    weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, chunk=CHUNK, passes=None
):
    """Rows of ``sqrt(S / n) J`` and of ``sqrt(S / n) r`` in float64, by chunks of samples.

    Yields ``(jacobian, residual)`` of shapes ``(c m, P)`` and ``(c m,)`` for chunks of
    ``c`` samples; ``jacobian`` is a view of one buffer that the next chunk overwrites.
    For a loss other than the squared one the rows are whitened by its Hessian
    (``objective.whiten_``), so that ``J^T J`` is the Gauss-Newton matrix, and
    ``residual`` is None: ``g`` no longer pairs with those rows. ``passes``: the forward
    passes of ``loss_and_passes`` at these weights, if kept.
    """
    pre_activations, layer_inputs = _whole_pass(weights, X, activation, passes)
    n, m = Y.shape
    squared = objective.name == "squared_error"
    if squared:  # other losses' g comes from a backward pass (_normal_equations)
        residual = (Y - pre_activations[-1]).to(SOLVE_DTYPE)
    signals = _output_signals(weights, pre_activations, layer_inputs, activation, m)
    P = sum(w.numel() for w in weights)
    root = (sample_weight.to(SOLVE_DTYPE) / count(n)).sqrt()
    size = max(1, chunk // (m * P))
    # One buffer for every chunk's rows of J, written in place: building each chunk
    # from concatenated pieces cost as much as the product J^T J (16,000 samples).
    buffer = torch.empty(min(size, n), m, P, dtype=SOLVE_DTYPE, device=Y.device)
    for start in range(0, n, size):
        stop = min(n, start + size)
        inputs = [_dense_rows(X, start, stop)] + [h[start:stop] for h in layer_inputs[1:]]
        inputs = [h.to(SOLVE_DTYPE) for h in inputs]
        jacobian = buffer[: stop - start]  # (c, m, P)
        # J[(i, o), (l, j, k)] = dH_o/dz_l[i, j] * h_{l-1}[i, k]
        for o in range(m):
            offset = 0
            for layer, h in enumerate(inputs):
                signal = signals[o][layer][start:stop].to(SOLVE_DTYPE)
                width = signal.shape[1] * h.shape[1]
                block = jacobian[:, o, offset : offset + width].view(
                    stop - start, signal.shape[1], h.shape[1]
                )
                torch.mul(signal[:, :, None], h[:, None, :], out=block)
                offset += width
        jacobian.mul_(root[start:stop, None, None])
        if not squared:
            objective.whiten_(jacobian, pre_activations[-1][start:stop])
            yield jacobian.reshape(-1, P), None
            continue
        weighted_residual = residual[start:stop] * root[start:stop, None]
        yield jacobian.reshape(-1, P), weighted_residual.reshape(-1)


def _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective):
    """``g = J^T S r / n``, minus the loss's gradient, by one backward pass from a forward
    one; ``scale`` is ``S / n`` as a column."""
    signal = scale * objective.negative_gradient(pre_activations[-1], Y)
    return _flat(_transposed_product(weights, pre_activations, layer_inputs, signal, activation))


def _normal_equations(
    weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, chunk=CHUNK, passes=None
):
    """``A = J^T S J / n`` and ``g = J^T S r / n`` in float64, built by chunks of samples.

    For the log loss ``A = J^T S D J / n`` with ``D`` the loss's Hessian in ``H`` (the
    generalised Gauss-Newton matrix) and ``r`` its negative gradient. ``passes``: as for
    :func:`_jacobian_chunks`.
    """
    P = sum(w.numel() for w in weights)
    A = torch.zeros(P, P, dtype=SOLVE_DTYPE, device=Y.device)
    g = torch.zeros(P, dtype=SOLVE_DTYPE, device=Y.device)
    chunks = _jacobian_chunks(weights, X, Y, sample_weight, activation, objective, chunk, passes)
    for jacobian, residual in chunks:
        A.addmm_(jacobian.mT, jacobian)
        if residual is not None:
            g.addmv_(jacobian.mT, residual)
    A, g = all_sum(A), all_sum(g)  # over all processes' rows (_kernels/reduction.py)
    if objective.name != "squared_error":
        pre_activations, layer_inputs = _whole_pass(weights, X, activation, passes)
        scale = (sample_weight / count(X.shape[0]))[:, None]
        g = _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective)
    return A, g


def _full_gradient(weights, X, Y, sample_weight, activation, objective, passes=None):
    """``g``, minus the loss's gradient, on all samples: one forward and one backward pass
    (on many rows one per block, their sums added: ``_kernels/blocks.py``). ``passes``:
    the forward passes of ``loss_and_passes`` at these weights, if kept."""
    scale = (sample_weight / count(X.shape[0]))[:, None]
    blocks = row_blocks(X.shape[0], isinstance(X, SparseInputs))
    if len(blocks) == 1:
        pre_activations, layer_inputs = _whole_pass(weights, X, activation, passes)
        return _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective)
    kept = iter(passes) if passes is not None else None

    def block_sums(rows):
        if kept is None:
            pre_activations, layer_inputs = forward(weights, X[rows], activation)
        else:
            pre_activations, layer_inputs = next(kept)
        signal = scale[rows] * objective.negative_gradient(pre_activations[-1], Y[rows])
        _, grads = backward(
            weights, pre_activations, layer_inputs, signal, activation, reduce=False
        )
        return grads

    return _flat(all_sum_list(sum_lists(block_sums(rows) for rows in blocks)))


def _rows_of(rows, X, Y, sample_weight):
    """The samples ``rows`` of dense ``X``, ``Y`` and the weights: with ``/ len(rows)``
    in place of ``/ n``, their ``A`` estimates all samples' (docs/inner-descent.md)."""
    return X[rows], Y[rows], sample_weight[rows]


def jacobian_product(weights, pre_activations, layer_inputs, directions, activation):
    """``J v``: the change of ``H`` along weight directions ``v = [V_1, ..., V_L]``.

    Forward mode: ``dz_1 = X V_1^T``, ``dz_{l+1} = (sigma'(z_l) dz_l) W_{l+1}^T + h_l V_{l+1}^T``.
    """
    change = layer_inputs[0] @ directions[0].mT
    for index in range(1, len(weights)):
        change = (change * activation.derivative(pre_activations[index - 1])) @ weights[index].mT
        change = change + layer_inputs[index] @ directions[index].mT
    return change


def _transposed_product(weights, pre_activations, layer_inputs, signal, activation):
    """``J^T u`` for a signal ``u`` on the outputs (a backward pass)."""
    return backward(weights, pre_activations, layer_inputs, signal, activation)[1]


def _diagonal(
    weights,
    X,
    Y,
    sample_weight,
    activation,
    pre_activations,
    layer_inputs,
    objective=SQUARED_ERROR,
):
    """``diag(A)`` without forming ``A``: sum_o (dH_o/dz_l)^2 against h_{l-1}^2.

    For the log loss, a bound: each output's share weighted by ``objective.hessian_bound``
    (it sets the damping's scale only).
    """
    n, m = Y.shape
    signals = _output_signals(weights, pre_activations, layer_inputs, activation, m)
    scale = (sample_weight / count(n))[:, None]
    squares = [[signal.square() for signal in per_output] for per_output in signals]
    bound = objective.hessian_bound(pre_activations[-1])
    if bound is not None:
        squares = [[square * bound[:, o : o + 1] for square in squares[o]] for o in range(m)]
    squares_in = list(layer_inputs)
    if isinstance(X, SparseInputs):
        squares_in[0] = SparseInputs(
            _with_values(X.matrix, X.matrix.values().square()),
            _with_values(X.transposed, X.transposed.values().square()),
        )
    else:
        squares_in[0] = X.square()
    squares_in[1:] = [h.square() for h in layer_inputs[1:]]
    parts = []
    for layer in range(len(weights)):
        total = sum(squares[o][layer] for o in range(m)) * scale
        parts.append(transposed_product(total, squares_in[layer]))
    return _flat(all_sum_list(parts))
