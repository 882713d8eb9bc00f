"""The network, its activation and its back-propagated signals (docs/algorithm.md §1–§3)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.inputs import dense_product
from skneuronpursuit._kernels.network import (
    ColumnPasses,
    backward,
    forward,
    loss,
    predict,
    push_forward,
)

ACTIVATIONS = [(1, 0.0), (1, 0.1), (2, 0.0), (2, -1.0), (3, 0.5)]


def random_network(sizes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randn(sizes[i + 1], sizes[i], generator=generator, dtype=torch.float64)
        for i in range(len(sizes) - 1)
    ]


def random_data(n_samples, n_features, n_outputs, seed=1):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n_samples, n_features, generator=generator, dtype=torch.float64)
    Y = torch.randn(n_samples, n_outputs, generator=generator, dtype=torch.float64)
    weight = torch.rand(n_samples, generator=generator, dtype=torch.float64) + 0.5
    return X, Y, weight / weight.mean()


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
def test_activation_is_max_of_z_and_alpha_z_to_the_power(power, slope):
    z = torch.linspace(-3, 3, 61, dtype=torch.float64)
    activation = HomogeneousActivation(power, slope)
    torch.testing.assert_close(activation(z), torch.maximum(z, slope * z) ** power)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
def test_activation_derivative_matches_autograd(power, slope):
    z = torch.linspace(-3, 3, 60, dtype=torch.float64, requires_grad=True)  # avoids z = 0
    activation = HomogeneousActivation(power, slope)
    (expected,) = torch.autograd.grad(activation(z).sum(), z)
    torch.testing.assert_close(activation.derivative(z.detach()), expected)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
def test_backpropagate_multiplies_by_the_derivative_exactly(power, slope):
    z = torch.tensor([-2.0, -0.5, 0.0, -0.0, 0.5, 2.0], dtype=torch.float64)
    activation = HomogeneousActivation(power, slope)
    from_z = activation.derivative(z)
    signal = torch.linspace(-1.5, 2.0, 6, dtype=torch.float64)
    through = activation.backpropagate(signal.clone(), z, activation(z))
    torch.testing.assert_close(through, signal * from_z, rtol=0, atol=0)
    assert from_z[2] == from_z[3] == (slope if power == 1 else 0.0)  # one-sided at z = 0


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_network_is_homogeneous_of_degree_D(depth, power, slope):
    # docs/algorithm.md §1: H(x; c w) = c^D H(x; w), D = 1 + p + ... + p^(L-1).
    activation = HomogeneousActivation(power, slope)
    sizes = [5] + [4] * (depth - 1) + [2]
    weights = random_network(sizes)
    X, _, _ = random_data(30, 5, 2)
    degree = activation.degree(depth)
    assert degree == sum(power**k for k in range(depth))
    for c in [0.3, 1.7]:
        scaled = predict([c * w for w in weights], X, activation)
        torch.testing.assert_close(scaled, c**degree * predict(weights, X, activation))


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("depth", [2, 3])
def test_backward_gives_the_loss_gradient(depth, power, slope):
    activation = HomogeneousActivation(power, slope)
    weights = [w.requires_grad_() for w in random_network([4] + [3] * (depth - 1) + [2])]
    X, Y, weight = random_data(25, 4, 2)
    value = loss(weights, X, Y, weight, activation)
    expected = torch.autograd.grad(value, weights)
    with torch.no_grad():
        pre_activations, layer_inputs = forward(weights, X, activation)
        residual = Y - pre_activations[-1]
        _, grads = backward(
            weights,
            pre_activations,
            layer_inputs,
            -weight[:, None] * residual / len(X),
            activation,
        )
    for grad, reference in zip(grads, expected):
        torch.testing.assert_close(grad, reference)


@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [[4, 3, 3, 2], [4, 1, 1, 1], [1, 5, 1]])
def test_samples_in_columns_give_the_same_network_and_gradients(sizes, power, slope):
    # The layout gradient descent uses for dense X; widths of 1 take the broadcast path.
    activation = HomogeneousActivation(power, slope)
    weights = random_network(sizes)
    X, Y, weight = random_data(25, sizes[0], sizes[-1])
    signal = weight[:, None] * (predict(weights, X, activation) - Y) / len(X)
    rows = forward(weights, X, activation)
    columns = forward(weights, X.mT.contiguous(), activation, columns=True)
    for by_row, by_column in zip(rows[0], columns[0]):
        torch.testing.assert_close(by_column, by_row.mT)
    _, row_grads = backward(weights, *rows, signal, activation)
    _, column_grads = backward(weights, *columns, signal.mT.contiguous(), activation, columns=True)
    for by_row, by_column in zip(row_grads, column_grads):
        torch.testing.assert_close(by_column, by_row)


@settings(max_examples=40, deadline=None)
@given(
    widths=st.lists(st.integers(1, 6), min_size=0, max_size=3),
    n_features=st.integers(1, 7),
    n_outputs=st.integers(1, 3),
    n_samples=st.integers(1, 60),
    slope=st.sampled_from([0.0, 0.1, -0.5]),
    double=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_buffered_column_passes_are_forward_and_backward_bit_for_bit(
    widths, n_features, n_outputs, n_samples, slope, double, seed
):
    # Gradient descent's buffered passes: the same kernels, so the same numbers, over
    # steps that change the weights in place (width-1 layers take the broadcast path).
    dtype = torch.float64 if double else torch.float32
    activation = HomogeneousActivation(1, slope)
    sizes = [n_features, *widths, n_outputs]
    weights = [w.to(dtype) for w in random_network(sizes, seed)]
    X, Y, _ = random_data(n_samples, n_features, n_outputs, seed + 1)
    X, Y = X.to(dtype).mT.contiguous(), Y.to(dtype).mT.contiguous()
    assert ColumnPasses.applies(X, activation)
    passes = ColumnPasses(weights, X, activation)

    def same(got, expected):  # bit for bit; a step too large for the weights gives NaN
        torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)

    for _ in range(3):
        pre_activations, layer_inputs = forward(weights, X, activation, columns=True)
        output = passes.forward()
        same(output, pre_activations[-1])
        signal = (output - Y) / n_samples
        _, expected = backward(
            weights, pre_activations, layer_inputs, signal, activation, columns=True
        )
        for grad, reference in zip(passes.gradients(signal), expected):
            same(grad, reference)
        torch._foreach_add_(weights, expected, alpha=-0.01)


def test_column_passes_leave_other_activations_to_forward_and_backward():
    X = torch.zeros(3, 5)
    assert not ColumnPasses.applies(X, HomogeneousActivation(2, 0.0))
    assert ColumnPasses.applies(X, HomogeneousActivation(1, 0.1))


def test_backward_signal_is_residual_pulled_back_through_the_jacobian():
    # docs/algorithm.md §3: g_i = J_{l+1}(x_i)^T r_i, and push_forward applies J_{l+1}.
    activation = HomogeneousActivation(2, 0.0)
    weights = random_network([4, 3, 3, 2])
    X, R, _ = random_data(10, 4, 2)
    pre_activations, layer_inputs = forward(weights, X, activation)
    signals, _ = backward(weights, pre_activations, layer_inputs, R, activation)
    for layer in range(len(weights)):
        direction = torch.randn_like(pre_activations[layer])
        pushed = push_forward(weights, pre_activations, layer, direction, activation)
        # <r_i, J d_i> = <J^T r_i, d_i> sample by sample.
        torch.testing.assert_close((R * pushed).sum(1), (signals[layer] * direction).sum(1))


def test_push_forward_is_the_derivative_of_the_output():
    activation = HomogeneousActivation(1, 0.1)
    weights = random_network([4, 5, 3, 2])
    X, _, _ = random_data(10, 4, 2)
    pre_activations, layer_inputs = forward(weights, X, activation)
    layer = 1
    direction = torch.randn_like(pre_activations[layer])

    def output_from(z):
        h = activation(z)
        for weight in weights[layer + 1 :]:
            z = h @ weight.mT
            h = activation(z)
        return z

    step = 1e-7
    finite_difference = (
        output_from(pre_activations[layer] + step * direction)
        - output_from(pre_activations[layer])
    ) / step
    pushed = push_forward(weights, pre_activations, layer, direction, activation)
    torch.testing.assert_close(pushed, finite_difference, rtol=1e-5, atol=1e-6)


def test_batched_weights_evaluate_independent_networks():
    activation = HomogeneousActivation(1, 0.0)
    networks = [random_network([3, 1, 1, 2], seed=s) for s in range(4)]
    batched = [torch.stack([net[i] for net in networks]) for i in range(3)]
    X, _, _ = random_data(7, 3, 2)
    outputs = predict(batched, X, activation)
    for index, net in enumerate(networks):
        torch.testing.assert_close(outputs[index], predict(net, X, activation))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dense_product_gives_the_numbers_of_matmul_to_the_bit(dtype):
    # The engine's speed-ups must not move a fit: bmm where it is the kernel @ uses.
    generator = torch.Generator().manual_seed(0)
    for batch, n, k, r in [(2, 135, 5, 16), (3, 40, 1, 16), (16, 50, 10, 1)]:
        H = torch.randn(batch, n, k, generator=generator, dtype=dtype)
        V = torch.randn(batch, n, r, generator=generator, dtype=dtype)
        A = torch.randn(batch, r, k, generator=generator, dtype=dtype)
        for a, b in [(H.mT, V), (V.mT, H), (H, A.mT), (V, A), (H[0], A[0].mT)]:
            assert torch.equal(dense_product(a, b), a @ b)


def test_dense_product_folds_a_batch_against_one_matrix():
    # One matrix times a batch (either side) becomes one product, and batched dot
    # products a multiply and a sum: the numbers of @ up to rounding.
    generator = torch.Generator().manual_seed(0)
    for batch, n, k, r in [(16, 50, 10, 1), (16, 50, 1, 1), (4, 30, 6, 3)]:
        X = torch.randn(n, k, generator=generator, dtype=torch.float64)
        V = torch.randn(batch, n, r, generator=generator, dtype=torch.float64)
        W = torch.randn(batch, r, k, generator=generator, dtype=torch.float64)
        for a, b in [(X, W.mT), (V.mT, X), (V[..., :1].mT, V[..., -1:])]:
            product = dense_product(a, b)
            assert product.is_contiguous()
            torch.testing.assert_close(product, a @ b, rtol=1e-12, atol=1e-12)
