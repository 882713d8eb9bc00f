"""KKT points of the constrained NCF: balance, stationarity, first-order exactness."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skneuronpursuit._kernels import ncf as _ncf
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.ncf import (
    candidate_ncf,
    network_ncf,
    projected_gradient,
    search_candidates,
    search_network,
)
from skneuronpursuit._kernels.network import backward, forward, loss, weighted_squared_norm
from skneuronpursuit._kernels.neurons import insert_neuron, keep_neurons

ACTIVATIONS = [(1, 0.0), (1, 0.2), (2, 0.0), (2, -1.0)]
# With ReLU (1, 0) the dominant point can sit on a kink, where some a . h_i = 0 and
# the gradient, hence the KKT conditions, are not defined (paper Remark 2).
SMOOTH_ACTIVATIONS = [(1, 0.2), (2, 0.0), (2, -1.0)]


def problem(power, slope, seed=0, outgoing=2):
    """A 3-layer network away from any optimum, its data, residual and signals.

    Every candidate has ``outgoing`` outgoing weights: the second hidden layer and the
    output have that width. With one, the ascent's gradient folds (``_folded_gradient``).
    """
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    X, Y = randn(60, 5), randn(60, outgoing)
    weight = torch.rand(60, generator=generator, dtype=torch.float64) + 0.5
    weight = weight / weight.mean()
    weights = [0.5 * randn(3, 5), 0.5 * randn(outgoing, 3), 0.5 * randn(outgoing, outgoing)]
    activation = HomogeneousActivation(power, slope)
    pre_activations, layer_inputs = forward(weights, X, activation)
    signals, _ = backward(
        weights, pre_activations, layer_inputs, Y - pre_activations[-1], activation
    )
    return X, Y, weight, weights, activation, layer_inputs[:2], signals[1:]


def search(layer_inputs, signals, weight, activation, n_steps=4000, seed=0, rows=None):
    generator = torch.Generator().manual_seed(seed)
    draw = torch.randn(2, 8, 5 + 3, generator=generator, dtype=torch.float64)
    return search_candidates(
        HiddenRows(layer_inputs, signals),
        weight,
        activation,
        draw[..., :5],
        draw[..., 5:],
        n_steps,
        0.5,
        rows,
    )


def weighted(signal, weight):
    return signal * (weight[:, None] / len(weight))


@pytest.mark.parametrize("power, slope", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("outgoing", [1, 2])
def test_candidate_is_a_balanced_kkt_point(power, slope, outgoing):
    # docs/algorithm.md §3 properties: ||a||^2 = p/(1+p), ||b||^2 = 1/(1+p), projected gradient 0.
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=outgoing)
    found = search(inputs, signals, weight, activation)
    a, b = found.incoming, found.outgoing
    assert found.ncf_value > 0
    torch.testing.assert_close(
        a.square().sum() + b.square().sum(), torch.tensor(1.0, dtype=a.dtype)
    )
    torch.testing.assert_close(a.square().sum().item(), power / (1 + power), rtol=0, atol=1e-6)
    torch.testing.assert_close(b.square().sum().item(), 1 / (1 + power), rtol=0, atol=1e-6)
    value, grad_a, grad_b = candidate_ncf(
        inputs[found.layer], weighted(signals[found.layer], weight), a[None], b[None], activation
    )
    torch.testing.assert_close(value.item(), found.ncf_value)
    grad_a, grad_b = grad_a[0], grad_b[0]
    tangent = projected_gradient([a, b], [grad_a, grad_b], batch_ndim=0)
    tangent_norm = torch.cat([t.flatten() for t in tangent]).norm()
    assert tangent_norm <= 1e-6 * torch.cat([grad_a, grad_b]).norm()
    # Euler's identity for the degree-(p+1) candidate: <w, grad N> = (p + 1) N.
    inner = (a * grad_a).sum() + (b * grad_b).sum()
    torch.testing.assert_close(inner.item(), (power + 1) * found.ncf_value)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("outgoing", [1, 2])
def test_candidate_is_the_best_over_layers_and_restarts(power, slope, outgoing):
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=outgoing)
    found = search(inputs, signals, weight, activation)
    assert found.ncf_value == pytest.approx(max(found.layer_values))
    # Any unit-norm pair is a lower bound for the dominant KKT value.
    for layer in range(2):
        k_in, k_out = inputs[layer].shape[1], signals[layer].shape[1]
        pairs = torch.randn(200, k_in + k_out, dtype=torch.float64)
        pairs /= pairs.norm(dim=1, keepdim=True)
        values, _, _ = candidate_ncf(
            inputs[layer],
            weighted(signals[layer], weight),
            pairs[:, :k_in],
            pairs[:, k_in:],
            activation,
        )
        assert values.max() <= found.ncf_value + 1e-12


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("outgoing", [1, 2])
def test_candidate_ncf_is_the_first_order_loss_decrease(power, slope, outgoing):
    # docs/algorithm.md §3: (loss(w) - loss(w + neuron(t a, t b))) / t^(p+1) -> N* as t -> 0.
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=outgoing)
    found = search(inputs, signals, weight, activation)
    layer, a, b = found.layer, found.incoming, found.outgoing
    base = loss(weights, X, Y, weight, activation)

    errors = []
    for t in [1e-2, 1e-3]:
        grown = insert_neuron(weights, layer, t * a, t * b)
        decrease = (base - loss(grown, X, Y, weight, activation)) / t ** (power + 1)
        errors.append(abs(decrease.item() - found.ncf_value))
    assert errors[1] <= 2e-3 * found.ncf_value
    assert errors[1] < errors[0]


@pytest.mark.parametrize("power, slope", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("depth", [2, 3])
def test_first_neurons_are_a_balanced_kkt_point(depth, power, slope):
    # docs/algorithm.md §3 iteration 1 and the KKT balance ||in_j||^2 = p ||out_j||^2.
    generator = torch.Generator().manual_seed(3)
    X = torch.randn(50, 4, generator=generator, dtype=torch.float64)
    Y = X[:, :2].relu() + 0.1 * torch.randn(50, 2, generator=generator, dtype=torch.float64)
    weight = torch.ones(50, dtype=torch.float64)
    activation = HomogeneousActivation(power, slope)
    sizes = [4] + [1] * (depth - 1) + [2]
    initial = [
        torch.randn(8, sizes[i + 1], sizes[i], generator=generator, dtype=torch.float64)
        for i in range(depth)
    ]
    found = search_network(X, Y, weight, activation, initial, n_steps=4000, step_size=0.5)
    point = found.weights
    assert found.ncf_value > 0
    assert sum(w.square().sum() for w in point).item() == pytest.approx(1.0)
    value, grads = network_ncf(point, X, weight[:, None] * Y / 50, activation)
    assert value.item() == pytest.approx(found.ncf_value)
    tangent = projected_gradient(point, grads, batch_ndim=0)
    assert (
        torch.cat([t.flatten() for t in tangent]).norm()
        <= 1e-6 * torch.cat([g.flatten() for g in grads]).norm()
    )
    for index in range(depth - 1):
        incoming = point[index].square().sum()
        outgoing = point[index + 1].square().sum()
        assert incoming.item() == pytest.approx(power * outgoing.item(), abs=1e-6)


def _twice(values):
    """Every sample twice: the samples, then the same samples again."""
    return torch.cat([values, values], dim=-2)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("outgoing", [1, 2])
def test_candidate_search_on_one_copy_of_doubled_data_is_the_search_on_all(power, slope, outgoing):
    # docs/algorithm.md §3.3 (ncf_samples): the first steps run on the rows given, with
    # their NCF scaled by n / m to estimate that of all samples. On data made of two
    # copies of every sample, one copy scaled by 2 *is* the NCF of all samples, so a
    # search that starts on it follows the full search. 20 steps: far from converged,
    # so a wrong scale (a smaller step in effect) would end elsewhere.
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=outgoing)
    inputs, signals = [_twice(h) for h in inputs], [_twice(g) for g in signals]
    weight = _twice(weight[:, None])[:, 0]
    full = search(inputs, signals, weight, activation, n_steps=20)
    one_copy = search(inputs, signals, weight, activation, n_steps=20, rows=torch.arange(60))
    other_copy = search(
        inputs, signals, weight, activation, n_steps=20, rows=torch.arange(60, 120)
    )
    assert (one_copy.layer, other_copy.layer) == (full.layer, full.layer)
    for found in (one_copy, other_copy):
        torch.testing.assert_close(found.incoming, full.incoming, rtol=0, atol=1e-12)
        torch.testing.assert_close(found.outgoing, full.outgoing, rtol=0, atol=1e-12)
        assert found.ncf_value == pytest.approx(full.ncf_value, rel=1e-12)
    # Half of the samples of data that are not doubled: another search, whose value is
    # still the NCF of all samples at the point it returns.
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=outgoing)
    half = search(inputs, signals, weight, activation, n_steps=20, rows=torch.arange(0, 60, 2))
    value, _, _ = candidate_ncf(
        inputs[half.layer],
        weighted(signals[half.layer], weight),
        half.incoming[None],
        half.outgoing[None],
        activation,
    )
    assert value.item() == pytest.approx(half.ncf_value, rel=1e-12)
    assert half.ncf_value != pytest.approx(
        search(inputs, signals, weight, activation, 20).ncf_value
    )


@pytest.mark.parametrize("power, slope", ACTIVATIONS + [(3, 0.5)])
def test_the_folded_ascent_is_the_ascent(power, slope, monkeypatch):
    # docs/algorithm.md §8: with one outgoing weight per candidate, both gradients come
    # from one product (Euler's identity for the activation). The same gradient, so the
    # same search up to rounding (50 ascent steps amplify it), as candidate_ncf's.
    X, Y, weight, weights, activation, inputs, signals = problem(power, slope, outgoing=1)
    signal = weighted(signals[0], weight)
    generator = torch.Generator().manual_seed(1)
    A = torch.randn(7, 5, generator=generator, dtype=torch.float64)
    B = torch.randn(7, 1, generator=generator, dtype=torch.float64)
    _, grad_a, grad_b = candidate_ncf(inputs[0], signal, A, B, activation)
    folded = torch.empty(7, 6, dtype=torch.float64)
    _ncf._folded_gradient(inputs[0], inputs[0] * signal, A, B, activation, out=folded)
    folded_a, folded_b = folded[:, :5], folded[:, 5:]
    torch.testing.assert_close(folded_a, grad_a, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(folded_b, grad_b, rtol=1e-12, atol=1e-14)

    folded = search(inputs, signals, weight, activation, n_steps=50)
    monkeypatch.setattr(_ncf, "_folds", lambda inputs, signal: False)
    unfolded = search(inputs, signals, weight, activation, n_steps=50)
    assert folded.layer == unfolded.layer
    torch.testing.assert_close(folded.incoming, unfolded.incoming, rtol=0, atol=1e-8)
    torch.testing.assert_close(folded.outgoing, unfolded.outgoing, rtol=0, atol=1e-8)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
def test_first_search_on_one_copy_of_doubled_data_is_the_search_on_all(power, slope):
    # As above, for iteration 1's chains of single neurons.
    generator = torch.Generator().manual_seed(5)
    X = torch.randn(40, 4, generator=generator, dtype=torch.float64)
    Y = X[:, :2].relu() + 0.1 * torch.randn(40, 2, generator=generator, dtype=torch.float64)
    weight = torch.rand(40, generator=generator, dtype=torch.float64) + 0.5
    activation = HomogeneousActivation(power, slope)
    initial = [
        torch.randn(8, *shape, generator=generator, dtype=torch.float64)
        for shape in [(1, 4), (1, 1), (2, 1)]
    ]
    X, Y, weight = _twice(X), _twice(Y), _twice(weight[:, None])[:, 0]
    weight = weight / weight.mean()

    def first(rows):
        return search_network(X, Y, weight, activation, initial, 20, 0.5, rows)

    full = first(None)
    for rows in (torch.arange(40), torch.arange(40, 80)):
        found = first(rows)
        for mine, theirs in zip(found.weights, full.weights):
            torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-12)
        assert found.ncf_value == pytest.approx(full.ncf_value, rel=1e-12)


def test_first_iteration_loss_along_the_ray_is_quadratic_in_t_to_the_D():
    # docs/algorithm.md §3: loss(t w*) = loss(0) - t^D N* + t^2D Q/(2n), which defines t_opt.
    generator = torch.Generator().manual_seed(4)
    X = torch.randn(40, 3, generator=generator, dtype=torch.float64)
    Y = (X[:, :1] + X[:, 1:2]).relu()
    weight = torch.ones(40, dtype=torch.float64)
    activation = HomogeneousActivation(1, 0.0)
    initial = [
        torch.randn(4, *shape, generator=generator, dtype=torch.float64)
        for shape in [(1, 3), (1, 1), (1, 1)]
    ]
    found = search_network(X, Y, weight, activation, initial, n_steps=500, step_size=0.5)
    degree = activation.degree(3)
    output = forward(found.weights, X, activation)[0][-1]
    quadratic = weighted_squared_norm(output, weight).item()
    zero = loss([0 * w for w in found.weights], X, Y, weight, activation).item()
    for t in [0.3, 1.0, 2.0]:
        expected = zero - t**degree * found.ncf_value + t ** (2 * degree) * quadratic / 80
        actual = loss([t * w for w in found.weights], X, Y, weight, activation).item()
        assert actual == pytest.approx(expected, rel=1e-12)


def test_keeping_all_but_an_inserted_neuron_gives_the_network_back():
    # insert_neuron and keep_neurons are inverse edits: the new neuron is the last of its
    # layer, and H changes by exactly its term (docs/algorithm.md §3).
    X, Y, weight, weights, activation, inputs, signals = problem(1, 0.0)
    a = torch.randn(weights[0].shape[1], dtype=torch.float64)
    b = torch.randn(weights[1].shape[0], dtype=torch.float64)
    grown = insert_neuron(weights, 0, a, b)
    assert grown[0].shape[0] == weights[0].shape[0] + 1 and torch.equal(grown[0][-1], a)
    assert torch.equal(grown[1][:, -1], b) and all(g is w for g, w in zip(grown[2:], weights[2:]))
    masks = [torch.arange(w.shape[0]) < w.shape[0] - (k == 0) for k, w in enumerate(grown[:-1])]
    for kept, original in zip(keep_neurons(grown, masks), weights):
        assert torch.equal(kept, original)


# A batch of searched layers' candidates, as the hypothesis tests of the step draw them.
_CANDIDATES = dict(
    layers=st.integers(1, 3),
    restarts=st.integers(1, 17),
    double=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)


@settings(max_examples=40, deadline=None)
@given(**_CANDIDATES, in_size=st.integers(1, 70), out_size=st.integers(1, 12))
def test_the_candidates_projection_is_the_projection_of_both_parts(
    layers, restarts, in_size, out_size, double, seed
):
    # The search's projection of its points (a, b) in one tensor gives the numbers of
    # projecting the two parts as separate tensors, bit for bit (docs/engineering.md, "The
    # fixed cost of a step"); a zero point stays zero.
    dtype = torch.float64 if double else torch.float32
    generator = torch.Generator().manual_seed(seed)
    shape = (layers, restarts, in_size + out_size)
    points = torch.randn(shape, generator=generator, dtype=dtype) * 10.0 ** (seed % 7 - 3)
    points[0, 0] = 0
    A, B = points[..., :in_size].clone(), points[..., in_size:].clone()
    _ncf._project_to_sphere([A, B], batch_ndim=2)
    squares = torch.empty_like(points) if seed % 2 else None  # a buffer for the squares
    _ncf._project_candidates(points, in_size, squares)
    assert torch.equal(points, torch.cat([A, B], dim=-1))
    assert not points[0, 0].any()


@settings(max_examples=40, deadline=None)
@given(
    **_CANDIDATES,
    activation=st.sampled_from([(1, 0.0), (1, 0.1), (1, -1.0), (2, -1.0), (2, 0.0), (3, 0.5)]),
    rows=st.integers(1, 300),
    in_size=st.integers(1, 12),
    out_size=st.integers(1, 4),
)
def test_an_ascent_step_into_its_buffers_is_the_step(
    activation, layers, restarts, rows, in_size, out_size, double, seed
):
    # The search writes a step's tensors (its (layers, n, R) ones and the gradients) into
    # buffers kept from step to step (docs/engineering.md, "Fresh memory"): the same
    # gradient, bit for bit, for the general step and the folded one, and twice in a row
    # (the buffers are overwritten).
    activation = HomogeneousActivation(*activation)
    dtype = torch.float64 if double else torch.float32
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return torch.randn(shape, generator=generator, dtype=dtype)

    inputs, signal = draw(layers, rows, in_size), draw(layers, rows, out_size)
    buffers = _ncf._step_buffers(inputs, signal, restarts)
    for _ in range(2):
        A, B = draw(layers, restarts, in_size), draw(layers, restarts, out_size)
        plain = candidate_ncf(inputs, signal, A, B, activation, with_value=False)[1:]
        into = candidate_ncf(inputs, signal, A, B, activation, False, buffers)[1:]
        for expected, got in zip(plain, into):
            assert torch.equal(got, expected)
        if out_size == 1:
            plain = torch.empty(layers, restarts, in_size + 1, dtype=dtype)
            into = torch.empty_like(plain)
            folded = inputs * signal
            _ncf._folded_gradient(inputs, folded, A, B, activation, plain)
            _ncf._folded_gradient(inputs, folded, A, B, activation, into, buffers)
            assert torch.equal(into, plain)
