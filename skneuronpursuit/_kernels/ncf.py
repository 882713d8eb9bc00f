"""Maximising constrained neural correlation functions (docs/algorithm.md §2, §3).

Both searches are projected gradient ascent on the unit sphere,
``w <- (w + eta grad) / ||w + eta grad||``, run for a fixed number of steps with all
restarts (and, for the candidates, all hidden layers) as one batched
computation and no host synchronisation inside the loop. A sparse input
(:class:`~skneuronpursuit._kernels.inputs.SparseInputs`) cannot be padded into that
batch: the first hidden layer's candidates then form a batch of their own.

The ascent runs on rescaled data: the inputs and the signal are divided by their
(sample-weighted) root-mean-square row norms. This multiplies the NCF by a positive constant, so
the maximisers are unchanged while ``eta`` becomes independent of the units of
the data **(choice)**. Values are reported in the original scale. ``normalise=False``
climbs the NCF of the data as given, as the paper does (its step sizes are for that).

On many samples the first steps of an ascent can run on a random subset of the
rows, ``rows`` (docs/algorithm.md §3.3, ``ncf_samples``): the NCF is a sum over
samples, which the subset estimates; the last steps use all rows, or on very many
samples a larger subset, and every value that is compared or reported uses all rows,
summed block by block on very many rows (``_kernels/ascent_rows.py``).
"""

import functools
from dataclasses import dataclass

import torch

from .ascent_rows import (
    RowBlocks,
    StackedLayers,
    block_rms_row_norms,
    safe_divide,
    value_on_all_rows,
    weighted_rms_row_norm,
)
from .blocks import row_blocks
from .inputs import SparseInputs, dense_product, transposed_product, transposed_product_buffer
from .network import backward, forward, matmul
from .reduction import all_sum, all_sum_list, count


def _sign_to_flip(values):
    return torch.where(values < 0, -1.0, 1.0).to(values.dtype)


def _project_to_sphere(parts, batch_ndim):
    """Rescale the parts in place so that, per batch entry, their joint norm is 1."""
    # In place where possible: called once per ascent step, on small tensors.
    squared = parts[0].square().flatten(batch_ndim).sum(-1)
    for part in parts[1:]:
        squared += part.square().flatten(batch_ndim).sum(-1)
    inverse_norm = squared.sqrt_().clamp_min_(torch.finfo(squared.dtype).tiny).reciprocal_()
    for part in parts:
        part.mul_(inverse_norm.view(inverse_norm.shape + (1,) * (part.ndim - batch_ndim)))


def _project_candidates(points, in_size, squares=None):
    """:func:`_project_to_sphere` of the candidates ``(a, b)``, the rows of ``points``
    (``a`` their first ``in_size`` entries): the same numbers, ``||a||^2`` and
    ``||b||^2`` summed apart, in half the operations (it runs once per ascent step).
    ``squares``: a tensor like ``points`` to hold their squares."""
    squares = torch.square(points, out=squares)
    squared = squares[..., :in_size].sum(-1)
    squared += squares[..., in_size:].sum(-1)
    inverse_norm = squared.sqrt_().clamp_min_(torch.finfo(squared.dtype).tiny).reciprocal_()
    points.mul_(inverse_norm[..., None])


def projected_gradient(parts, grads, batch_ndim):
    """``grad - <grad, w> w``: zero at a KKT point of the sphere-constrained problem."""
    inner = sum((p * g).flatten(batch_ndim).sum(-1) for p, g in zip(parts, grads))
    return [
        g - inner.reshape(inner.shape + (1,) * (g.ndim - batch_ndim)) * p
        for p, g in zip(parts, grads)
    ]


# ---------------------------------------------------------------- first iteration


def network_ncf(weights, X, signal, activation, with_value=True):
    """``NCF(w) = sum_i <signal_i, H(x_i; w)>`` and its gradient, batched over restarts.

    ``signal`` carries the factors ``s_i / n``. ``weights`` have a leading restart
    dimension; the value has shape ``(R,)``. ``with_value=False`` skips the value
    and the network output it needs (the ascent steps use only the gradient).
    """
    pre_activations, layer_inputs = forward(weights, X, activation, output=with_value)
    value = all_sum((pre_activations[-1] * signal).sum(dim=(-2, -1))) if with_value else None
    _, grads = backward(weights, pre_activations, layer_inputs, signal, activation)
    return value, grads


def network_value(weights, X, signal, activation):
    """``sum_i <signal_i, H(x_i; w)>`` over these rows, without the gradient: the value of
    :func:`network_ncf` before its sum over processes."""
    output = forward(weights, X, activation)[0][-1]
    return (output * signal).sum(dim=(-2, -1))


@dataclass
class NetworkSearchResult:
    """Dominant KKT point of ``NCF_Y`` for the network with one neuron per layer."""

    weights: list  # unit-norm point, one tensor per layer, no restart dimension
    ncf_value: float  # NCF at that point, in the units of the data


def search_network(
    X, Y, sample_weight, activation, initial_weights, n_steps, step_size, rows=None, normalise=True
):
    """Iteration 1 (docs/algorithm.md §3): maximise ``NCF_Y`` over ``||w|| = 1``.

    Parameters
    ----------
    X : Tensor of shape (n, d)
    Y : Tensor of shape (n, m)
    sample_weight : Tensor of shape (n,)
        Non-negative, mean 1.
    initial_weights : list of Tensor
        Starting points with a leading restart dimension ``R``; any scale.
    rows : Tensor of int, optional
        A subset of the samples for the first steps of the ascent (docs/algorithm.md
        §3.3); ignored for sparse ``X``.
    normalise : bool, default=True
        Climb on inputs and signal divided by their RMS row norms; False: as given.
    """
    n_rows, sparse = X.shape[0], isinstance(X, SparseInputs)
    weight = sample_weight[:, None] / count(n_rows)
    signal = weight * Y
    signal_hat, x_scale = signal, None
    if normalise:
        raw = row_blocks(n_rows, sparse), lambda rows: (X if sparse else X[rows],)
        (x_scale,) = block_rms_row_norms(*raw, sample_weight)
        signal_hat = safe_divide(signal, weighted_rms_row_norm(Y, sample_weight))

    def climbed(rows):  # the inputs and signal the ascent climbs, on these rows
        inputs = X if sparse else X[rows]
        return inputs if x_scale is None else safe_divide(inputs, x_scale), signal_hat[rows]

    data = RowBlocks(climbed, n_rows, sparse)
    weights = [w.clone() for w in initial_weights]
    # (choice) Start every restart where it is alive and ascending: a negative
    # hidden-to-hidden weight in a chain of single ReLU neurons silences the chain
    # for good, and NCF is linear in W_L, so flipping W_L makes the start value >= 0.
    for weight in weights[1:-1]:
        weight.abs_()
    _project_to_sphere(weights, batch_ndim=1)
    value = functools.partial(network_value, weights, activation=activation)  # in place
    weights[-1].mul_(_sign_to_flip(value_on_all_rows(data, value))[:, None, None])
    for inputs, target in data.per_step(rows, n_steps):
        _, grads = network_ncf(weights, inputs, target, activation, with_value=False)
        for weight, grad in zip(weights, grads):
            weight.add_(grad, alpha=step_size)
        _project_to_sphere(weights, batch_ndim=1)
    normalised = value_on_all_rows(data, value)
    best = int(torch.argmax(torch.nan_to_num(normalised, nan=-torch.inf)))
    point = [w[best] for w in weights]
    given = RowBlocks(lambda rows: (X if sparse else X[rows], signal[rows]), n_rows, sparse)
    point_value = functools.partial(network_value, point, activation=activation)
    return NetworkSearchResult(point, float(value_on_all_rows(given, point_value)))


# ---------------------------------------------------------------- later iterations


def candidate_ncf(
    layer_input, signal, incoming, outgoing, activation, with_value=True, buffers=None
):
    """NCF of candidate neurons and its gradient (docs/algorithm.md §3, ``N_l(a, b)``).

    ``N(a, b) = sum_i (g_i . b) * sigma(a . h_i)`` for many candidates at once.

    Parameters
    ----------
    layer_input : Tensor of shape (..., n, k_in)
        ``h_{l-1}``, the input of the layer that receives the neuron.
    signal : Tensor of shape (..., n, k_out)
        ``g`` at ``z_{l+1}``, with the factors ``s_i / n`` folded in.
    incoming : Tensor of shape (..., R, k_in)
    outgoing : Tensor of shape (..., R, k_out)
    with_value : bool
        False skips the value (the ascent steps need only the gradient).
    buffers : _StepBuffers, optional
        Tensors that the step's products are written into (:func:`_step_buffers`).

    Returns
    -------
    value : Tensor of shape (..., R), or None
    grad_incoming, grad_outgoing : Tensor
        Shaped like ``incoming`` and ``outgoing``.
    """
    work = buffers or _StepBuffers()
    z = dense_product(layer_input, incoming.mT, work.z)
    activated = activation(z, work.activated)
    correlation = matmul(signal, outgoing.mT, work.correlation)
    value = all_sum((activated * correlation).sum(-2)) if with_value else None
    grad_incoming = transposed_product(
        activation.backpropagate(correlation, z, activated, work.correlation),
        layer_input,
        work.grad_incoming,
    )
    grad_outgoing = transposed_product(activated, signal, work.grad_outgoing)
    grad_incoming, grad_outgoing = all_sum_list([grad_incoming, grad_outgoing])
    return value, grad_incoming, grad_outgoing


def candidate_value(layer_input, signal, incoming, outgoing, activation):
    """``N(a, b)`` of many candidates over these rows, without its gradient: the value of
    :func:`candidate_ncf` before its sum over processes."""
    activated = activation(dense_product(layer_input, incoming.mT))
    return (activated * matmul(signal, outgoing.mT)).sum(-2)


def _folds(inputs, signal):
    """Whether the candidates' gradient folds into one product: one outgoing weight each."""
    return not isinstance(inputs, SparseInputs) and signal.shape[-1] == 1


def _folded_gradient(inputs, folded, incoming, outgoing, activation, out, buffers=None):
    """The gradient of ``N(a, b)`` for candidates with one outgoing weight (``k_out = 1``).

    With ``T = sum_i sigma'(a . h_i) g_i h_i`` (``folded`` holds the rows ``g_i h_i``),
    ``grad_a N = b T`` and, by Euler's identity ``sigma(z) = z sigma'(z) / p`` for a
    positively homogeneous ``sigma``, ``grad_b N = a . T / p`` (docs/algorithm.md §8):
    two matrix products and one pass over the ``n x R`` pre-activations per step,
    where :func:`candidate_ncf` needs four passes and a third product. Written into
    ``out``, the rows ``(grad_a, grad_b)``; the ``n x R`` pre-activations and ``T``
    into ``buffers`` (:class:`_StepBuffers`) when given.
    """
    work = buffers or _StepBuffers()
    slopes = activation.derivative(dense_product(inputs, incoming.mT, work.z), work.z)
    # T, shape (..., R, k_in)
    total = all_sum(transposed_product(slopes, folded, work.grad_incoming))
    k_in = incoming.shape[-1]
    torch.mul(total, outgoing, out=out[..., :k_in])
    torch.div((total * incoming).sum(-1, keepdim=True), activation.power, out=out[..., k_in:])


@dataclass
class _StepBuffers:
    """Tensors an ascent step on dense rows writes into, kept from step to step (None:
    allocated by the step)."""

    z: torch.Tensor = None  # (..., n, R), as activated and correlation
    activated: torch.Tensor = None
    correlation: torch.Tensor = None
    grad_incoming: torch.Tensor = None  # transposed_product_buffer: (..., R, k_in) or mT
    grad_outgoing: torch.Tensor = None


def _step_buffers(inputs, signal, n_candidates):
    """:class:`_StepBuffers` for ascent steps on the dense rows ``(inputs, signal)``.

    A tensor of ``n x R`` allocated afresh each step is memory the C allocator has often
    handed back to the system since the last one: touching its pages again costs more
    than the step's arithmetic on many rows (docs/engineering.md, "Fresh memory"); on a
    few hundred rows, allocating a step's every result costs as much as computing it.
    """
    z = inputs.new_empty(inputs.shape[:-1] + (n_candidates,))
    return _StepBuffers(
        z,
        torch.empty_like(z),
        torch.empty_like(z),
        transposed_product_buffer(z, inputs),
        transposed_product_buffer(z, signal),
    )


@dataclass
class CandidateSearchResult:
    """Dominant KKT point over all hidden layers and restarts, and each layer's best."""

    layer: int  # 0-based hidden layer: the neuron's row goes into weights[layer]
    incoming: torch.Tensor  # a*, shape (k_in,)
    outgoing: torch.Tensor  # b*, shape (k_out,)
    ncf_value: float  # N*, in the units of the data
    layer_values: list  # best N per hidden layer, in the units of the data
    layer_points: list  # (a, b) of each hidden layer's best restart
    # (N, a, b) of every restart of each hidden layer, shapes (R,), (R, k_in), (R, k_out)
    layer_restarts: list


def _ascend(
    layers, points, sample_weight, activation, n_steps, step_size, rows=None, normalise=True
):
    """Projected gradient ascent of ``N_l`` for a batch of layers, in place on ``points``.

    ``layers``: a :class:`StackedLayers`. Each row of ``points`` is one candidate ``(a, b)``,
    ``a`` its first ``layers.in_size`` entries: one tensor, so that a step is one
    operation. The projection sums ``||a||^2`` and ``||b||^2`` apart, as when they were
    separate tensors, so a search whose candidates do not fold is the search it was, bit
    for bit. ``rows``: a subset of the samples for the first steps (ignored for sparse
    inputs); ``normalise=False``: climb on the inputs and signals as given. Returns the NCF
    values of the final points, shape (layers, R), in the units of the data.
    """
    A, B = points[..., : layers.in_size], points[..., layers.in_size :]  # views
    n_rows = len(sample_weight)
    n_samples = count(n_rows)
    if normalise:
        blocks = row_blocks(n_rows, layers.sparse)
        input_scale, signal_scale = block_rms_row_norms(blocks, layers, sample_weight)
        input_scale = input_scale.reshape(-1)
    else:
        input_scale = signal_scale = points.new_ones(points.shape[0])

    def climbed(rows):  # the rescaled inputs and weighted signals, on these rows
        H, G = layers(rows)
        G = G * (sample_weight[rows][:, None] / n_samples)
        return safe_divide(H, input_scale), safe_divide(G, signal_scale)

    data = RowBlocks(climbed, n_rows, layers.sparse)
    value = functools.partial(candidate_value, incoming=A, outgoing=B, activation=activation)
    in_size = layers.in_size
    _project_candidates(points, in_size)
    # (choice) N is linear in b: flip b so that every restart starts at N >= 0.
    B.mul_(_sign_to_flip(value_on_all_rows(data, value))[..., None])
    folded = {}  # the products g_i h_i of each (inputs, signal), when they fold
    buffers = {}  # the step's buffers for each (inputs, signal), on dense rows
    gradient = torch.empty_like(points)  # each step's (grad_a, grad_b), one row a candidate
    grad_a, grad_b = gradient[..., :in_size], gradient[..., in_size:]
    squares = torch.empty_like(points)
    for inputs, signal in data.per_step(rows, n_steps):
        if not layers.sparse and id(inputs) not in buffers:
            buffers[id(inputs)] = _step_buffers(inputs, signal, points.shape[-2])
        work = buffers.get(id(inputs))
        if _folds(inputs, signal):
            if id(inputs) not in folded:
                folded[id(inputs)] = inputs * signal
            _folded_gradient(inputs, folded[id(inputs)], A, B, activation, gradient, work)
        else:
            _, grad_incoming, grad_outgoing = candidate_ncf(
                inputs, signal, A, B, activation, with_value=False, buffers=work
            )
            grad_a.copy_(grad_incoming)
            grad_b.copy_(grad_outgoing)
        points.add_(gradient, alpha=step_size)
        _project_candidates(points, in_size, squares)
    normalised = torch.nan_to_num(value_on_all_rows(data, value), nan=-torch.inf)
    # N = N_hat * signal_scale * input_scale**p: compare layers in true units.
    return normalised * (signal_scale * input_scale**activation.power)[:, None]


def search_candidates(
    hidden,
    sample_weight,
    activation,
    initial_incoming,
    initial_outgoing,
    n_steps,
    step_size,
    rows=None,
    normalise=True,
):
    """Iterations k >= 2: maximise every ``N_l`` on the sphere, all layers at once.

    Parameters
    ----------
    hidden : HiddenRows (``_kernels/ascent_rows.py``)
        For each hidden layer ``l`` its input ``h_{l-1}`` (``n x k_{l-1}``; the first may
        be :class:`SparseInputs`, searched in a batch of its own) and the signal
        ``g = J_{l+1}^T r`` at ``z_{l+1}`` (``n x k_{l+1}``, without the sample
        weights), on any rows.
    sample_weight : Tensor of shape (n,)
        Non-negative, mean 1.
    initial_incoming, initial_outgoing : Tensor
        Starting points of shape ``(n_hidden, R, >= max k_in)`` and
        ``(n_hidden, R, >= max k_out)``; entries beyond a layer's sizes are ignored.
    rows : Tensor of int, optional
        A subset of the samples for the first steps of the ascent (docs/algorithm.md
        §3.3); a sparse first layer ignores it.
    normalise : bool, default=True
        Climb on inputs and signals divided by their RMS row norms; False: as given.
    """
    n_hidden = len(hidden.in_sizes)
    if hidden.sparse:
        groups = [[0]] + ([list(range(1, n_hidden))] if n_hidden > 1 else [])
    else:
        groups = [list(range(n_hidden))]
    values, points = [], []
    for layers in groups:
        data = StackedLayers(hidden, layers)
        starts = data.starting_points(initial_incoming, initial_outgoing)
        values.append(
            _ascend(data, starts, sample_weight, activation, n_steps, step_size, rows, normalise)
        )
        k_in = data.in_size
        points += [
            (starts[index, :, :k_in], starts[index, :, k_in:]) for index in range(len(layers))
        ]
    values = torch.cat(values)
    best_per_layer = values.max(dim=1)
    layer = int(torch.argmax(best_per_layer.values))
    restart = int(best_per_layer.indices[layer])
    layer_points = [
        (
            incoming[best, : hidden.in_sizes[index]].clone(),
            outgoing[best, : hidden.out_sizes[index]].clone(),
        )
        for index, ((incoming, outgoing), best) in enumerate(
            zip(points, best_per_layer.indices.tolist())
        )
    ]
    layer_restarts = [
        (
            values[index],
            incoming[:, : hidden.in_sizes[index]],
            outgoing[:, : hidden.out_sizes[index]],
        )
        for index, (incoming, outgoing) in enumerate(points)
    ]
    return CandidateSearchResult(
        layer=layer,
        incoming=layer_points[layer][0],
        outgoing=layer_points[layer][1],
        ncf_value=float(values[layer, restart]),
        layer_values=best_per_layer.values.tolist(),
        layer_points=layer_points,
        layer_restarts=layer_restarts,
    )
