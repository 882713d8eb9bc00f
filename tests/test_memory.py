"""Fits on many rows hold blocks of rows, not copies of all of them (docs/big-data.md,
"Memory"): every blocked computation gives the numbers of the computation it replaces,
bit for bit where it is exact and to rounding where its sums are split."""

import numpy as np
import pytest
import scipy.sparse
import torch
from conftest import FAST, fast_params
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import make_friedman1

from skneuronpursuit import NeuronPursuitRegressor
from skneuronpursuit._engine import data as _data
from skneuronpursuit._kernels import blocks as _blocks
from skneuronpursuit._kernels import ncf as _ncf
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows

VALUES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, 1e-300, np.inf])


@st.composite
def _samples(draw):
    n, d, m = draw(st.integers(1, 60)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    X = draw(hnp.arrays(np.float64, (n, d), elements=VALUES))
    Y = draw(hnp.arrays(np.float64, (n, m), elements=VALUES))
    return (np.asfortranarray(X) if draw(st.booleans()) else X), Y


def _numpys_unique(X, Y):
    rows = np.ascontiguousarray(np.hstack([X, Y]) + 0.0)  # -0.0 is the zero it equals
    keys = rows.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()


@given(_samples())
@settings(max_examples=80, deadline=None)
def test_unique_rows_are_numpys_unique_of_the_rows_bytes(samples):
    # Equal bytes, equal rows, once -0.0 is made 0.0 (np.unique of the rows' bytes).
    first, inverse = _data._unique_rows(*samples)
    expected_first, expected_inverse = _numpys_unique(*samples)
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(inverse, expected_inverse)


def test_unique_rows_compare_neighbours_across_blocks(monkeypatch):
    monkeypatch.setattr(_data, "INPUT_BLOCK_ROWS", 3)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(80, 2)).astype(float)
    Y = rng.integers(0, 2, size=(80, 1)).astype(float)
    first, inverse = _data._unique_rows(X, Y)
    expected_first, expected_inverse = _numpys_unique(X, Y)
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(inverse, expected_inverse)


def test_distinct_rows_in_their_order_are_not_copied():
    X = np.random.default_rng(1).normal(size=(30, 3))
    Y = X[:, :1] ** 2
    merged_X, merged_Y, weight = _data.merge_duplicates(X, Y, np.full(30, 2.0), sort=False)
    assert merged_X is X and merged_Y is Y
    np.testing.assert_array_equal(weight, np.full(30, 2.0))
    # With a zero weight or a repeated row the rows are new arrays, the user's untouched.
    weights = np.ones(30)
    weights[4] = 0
    merged_X, _, weight = _data.merge_duplicates(X, Y, weights, sort=False)
    assert merged_X.shape == (29, 3) and merged_X is not X
    np.testing.assert_array_equal(merged_X, np.delete(X, 4, axis=0))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("order", ["C", "F"])
def test_input_tensor_block_by_block_is_the_conversion_of_all_rows(
    dtype, fit_intercept, order, monkeypatch
):
    monkeypatch.setattr(_data, "INPUT_BLOCK_ROWS", 7)
    X = np.asarray(np.random.default_rng(2).normal(size=(40, 5)) * 1e3, order=order)
    x_scale = np.array([1.0, 3.0, 1e-3, 7.0, 0.1])
    whole = X / x_scale
    if fit_intercept:
        whole = np.hstack([whole, np.ones((40, 1))])
    expected = torch.as_tensor(np.ascontiguousarray(whole), dtype=dtype)
    built = _data._input_tensor(X, fit_intercept, dtype, "cpu", x_scale)
    assert built.dtype == dtype and torch.equal(built, expected)


def test_weighted_mean_square_is_numpys_weighted_average():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(500, 6)) * 10.0 ** rng.uniform(-5, 5, size=6)
    weight = rng.random(500)
    expected = np.average(values**2, axis=0, weights=weight)
    np.testing.assert_array_equal(_data._mean_square(values, weight), expected)


@pytest.mark.parametrize("columns", [1, 2, 6])
@pytest.mark.parametrize("order", ["C", "F"])
def test_weighted_mean_square_by_blocks_is_the_single_pass(columns, order, monkeypatch):
    rng = np.random.default_rng(4)
    values = np.asarray(
        rng.normal(size=(500, columns)) * 10.0 ** rng.uniform(-5, 5, size=columns), order=order
    )
    weight = rng.random(500)
    squares = np.square(values) * weight[:, None]
    expected = squares.sum(axis=0) / weight[:, None].sum(axis=0)
    monkeypatch.setattr(_data, "INPUT_BLOCK_ROWS", 7)
    np.testing.assert_array_equal(_data._mean_square(values, weight), expected)
    np.testing.assert_array_equal(_data._column_peak(values), np.abs(values).max(axis=0))


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_merging_rows_by_index_is_merging_the_rows_taken(sort, sparse):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(60, 2)).astype(float)
    X = scipy.sparse.csr_matrix(X) if sparse else X
    rows = rng.permutation(60)[:45]
    Y = rng.integers(0, 2, size=(45, 1)).astype(float)
    weight = rng.integers(0, 3, size=45).astype(float)
    by_index = _data.merge_duplicates(X, Y, weight, sort=sort, rows=rows)
    taken = _data.merge_duplicates(X[rows], Y, weight, sort=sort)
    for got, expected in zip(by_index, taken):
        got, expected = (a.toarray() if scipy.sparse.issparse(a) else a for a in (got, expected))
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("columns", [1, 4])
def test_taken_rows_are_the_rows_taken(columns, monkeypatch):
    monkeypatch.setattr(_data, "INPUT_BLOCK_ROWS", 7)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(90, columns)) * 10.0 ** rng.uniform(-3, 3, size=columns)
    index = rng.permutation(90)[:61]
    taken, rows = _data.TakenRows(X, index), X[index]
    weight = rng.random(61)
    np.testing.assert_array_equal(
        _data._mean_square(taken, weight), _data._mean_square(rows, weight)
    )
    np.testing.assert_array_equal(_data._column_peak(taken), _data._column_peak(rows))
    np.testing.assert_array_equal(
        _data._root_mean_square(taken, weight, axis=0),
        _data._root_mean_square(rows, weight, axis=0),
    )
    scale = rng.uniform(0.5, 2.0, size=columns)
    for fit_intercept in (True, False):
        assert torch.equal(
            _data._input_tensor(taken, fit_intercept, torch.float32, "cpu", scale),
            _data._input_tensor(rows, fit_intercept, torch.float32, "cpu", scale),
        )
    Y = rng.normal(size=(61, 1))
    lazy = _data.merge_duplicates(X, Y, weight, rows=index, take=False)
    assert isinstance(lazy[0], _data.TakenRows)
    for got, expected in zip(lazy, _data.merge_duplicates(X, Y, weight, rows=index)):
        np.testing.assert_array_equal(np.asarray(got), expected)


def test_running_sums_and_rows_by_blocks_are_sums_and_concatenations():
    parts = [torch.randn(3, 4, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    first = parts[0].clone()
    assert torch.equal(
        _blocks.sum_of(iter(parts)), parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
    )
    assert torch.equal(parts[0], first)  # the caller's first part is not added into
    assert _blocks.sum_of(iter(parts[:1])) is parts[0]
    lists = [[p, 2 * p] for p in parts]
    sums = _blocks.sum_lists(iter(lists))
    expected = 2 * parts[0]
    for part in parts[1:]:
        expected = expected + 2 * part
    assert torch.equal(sums[0], _blocks.sum_of(parts)) and torch.equal(sums[1], expected)
    blocks = [slice(0, 2), slice(2, 4), slice(4, 5)]
    data = torch.randn(2, 5, 3)
    built = _blocks.rows_by_blocks(blocks, 5, lambda rows: data[:, rows] * 2)
    assert torch.equal(built, torch.cat([data[:, rows] * 2 for rows in blocks], dim=-2))


def _layers(seed=0, n=240):
    generator = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(n, 5, generator=generator, dtype=torch.float64)]
    inputs.append(torch.relu(torch.randn(n, 3, generator=generator, dtype=torch.float64)))
    signals = [torch.randn(n, k, generator=generator, dtype=torch.float64) for k in (3, 1)]
    weight = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    starts = torch.randn(2, 6, 8, generator=generator, dtype=torch.float64)
    return inputs, signals, weight / weight.mean(), starts


@pytest.mark.parametrize("rows", [None, "first", "first and last"])
def test_candidate_search_in_blocks_is_the_search_of_one_block(rows, monkeypatch):
    inputs, signals, weight, starts = _layers()
    activation = HomogeneousActivation(1, 0.1)
    subsets = {
        None: None,
        "first": torch.arange(0, 240, 3),
        "first and last": (torch.arange(0, 240, 3), torch.arange(0, 240, 2)),
    }[rows]

    def search():
        return _ncf.search_candidates(
            HiddenRows(inputs, signals),
            weight,
            activation,
            starts[..., :5],
            starts[..., 5:],
            30,
            1.0,
            subsets,
        )

    whole = search()
    monkeypatch.setattr(_blocks, "BLOCK_ROWS", 50)  # five blocks, the last of 40 rows
    blocked = search()
    assert blocked.layer == whole.layer
    assert blocked.ncf_value == pytest.approx(whole.ncf_value, rel=1e-12)
    torch.testing.assert_close(blocked.incoming, whole.incoming, rtol=0, atol=1e-12)
    torch.testing.assert_close(blocked.outgoing, whole.outgoing, rtol=0, atol=1e-12)


@pytest.mark.parametrize("normalise", [True, False])
def test_first_search_in_blocks_is_the_search_of_one_block(normalise, monkeypatch):
    generator = torch.Generator().manual_seed(4)
    X = torch.randn(200, 4, generator=generator, dtype=torch.float64)
    Y = X[:, :1].relu() + 0.1 * torch.randn(200, 1, generator=generator, dtype=torch.float64)
    weight = torch.ones(200, dtype=torch.float64)
    initial = [
        torch.randn(8, *shape, generator=generator, dtype=torch.float64)
        for shape in [(1, 4), (1, 1), (1, 1)]
    ]
    activation = HomogeneousActivation(1, 0.1)
    rows = (torch.arange(0, 200, 4), torch.arange(0, 200, 2))

    def search():
        return _ncf.search_network(
            X, Y, weight, activation, initial, 30, 0.5, rows, normalise=normalise
        )

    whole = search()
    monkeypatch.setattr(_blocks, "BLOCK_ROWS", 64)
    blocked = search()
    for mine, theirs in zip(blocked.weights, whole.weights):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-12)
    assert blocked.ncf_value == pytest.approx(whole.ncf_value, rel=1e-12)


def test_a_fit_in_blocks_is_the_fit_of_one_block(monkeypatch):
    # Searches on subsets of 64 rows whose values on all rows are summed over 100-row
    # blocks: the same network up to rounding (float64).
    X, y = make_friedman1(600, noise=0.5, random_state=0)
    params = fast_params(FAST, max_iter=4, dtype="float64", ncf_samples=64, early_stopping=False)
    whole = NeuronPursuitRegressor(**params).fit(X, y)
    monkeypatch.setattr(_blocks, "BLOCK_ROWS", 100)
    blocked = NeuronPursuitRegressor(**params).fit(X, y)
    assert blocked.hidden_layer_sizes_ == whole.hidden_layer_sizes_
    np.testing.assert_allclose(blocked.predict(X), whole.predict(X), rtol=0, atol=1e-8 * y.std())


def _network(seed=0, n=240, outputs=1):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    Y = torch.randn(n, outputs, generator=generator, dtype=torch.float64)
    weights = [
        torch.randn(5, 4, generator=generator, dtype=torch.float64),
        torch.randn(3, 5, generator=generator, dtype=torch.float64),
        torch.randn(outputs, 3, generator=generator, dtype=torch.float64),
    ]
    weight = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    return weights, X, Y, weight / weight.mean(), HomogeneousActivation(1, 0.1)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_loss_and_gradient_in_blocks_are_those_of_one_block(loss, monkeypatch):
    from skneuronpursuit._kernels.gauss_newton import _full_gradient
    from skneuronpursuit._kernels.losses import LOSSES
    from skneuronpursuit._kernels.network import loss as network_loss

    weights, X, Y, weight, activation = _network(outputs=3)
    objective = LOSSES[loss]
    if loss == "log_loss":
        Y = torch.nn.functional.one_hot(Y.argmax(1), 3).to(Y.dtype)
    whole = network_loss(weights, X, Y, weight, activation, objective, alpha=0.1)
    gradient = _full_gradient(weights, X, Y, weight, activation, objective)
    monkeypatch.setattr(_blocks, "BLOCK_ROWS", 70)  # four blocks, the last of 30 rows
    blocked = network_loss(weights, X, Y, weight, activation, objective, alpha=0.1)
    assert float(blocked) == pytest.approx(float(whole), rel=1e-13)
    torch.testing.assert_close(
        _full_gradient(weights, X, Y, weight, activation, objective), gradient, rtol=1e-12, atol=0
    )


def test_network_passes_in_blocks_are_the_pass_of_one_block(monkeypatch):
    from skneuronpursuit._engine.passes import NetworkPasses
    from skneuronpursuit._kernels.losses import LOSSES

    weights, X, Y, _, activation = _network()
    a = torch.tensor([0.3, -0.2, 0.5, 0.1, 0.7], dtype=torch.float64)
    b = torch.tensor([0.4, -0.9, 0.2], dtype=torch.float64)
    rows = torch.arange(0, 240, 7)

    def passes():
        found = NetworkPasses(weights, X, Y, LOSSES["squared_error"], activation)
        return found, found(rows), found(slice(None)), found.change(1, a, b[:1])

    whole, whole_rows, whole_all, whole_change = passes()
    monkeypatch.setattr(_blocks, "BLOCK_ROWS", 50)
    blocked, blocked_rows, blocked_all, blocked_change = passes()
    assert len(blocked.blocks) == 5 and blocked.whole is None
    torch.testing.assert_close(blocked.output, whole.output, rtol=1e-14, atol=0)
    torch.testing.assert_close(blocked.residual, whole.residual, rtol=1e-14, atol=0)
    torch.testing.assert_close(blocked_change, whole_change, rtol=1e-14, atol=0)
    for mine, theirs in zip(blocked_rows[0] + blocked_rows[1], whole_rows[0] + whole_rows[1]):
        torch.testing.assert_close(mine, theirs, rtol=1e-14, atol=0)
    for mine, theirs in zip(blocked_all[0] + blocked_all[1], whole_all[0] + whole_all[1]):
        torch.testing.assert_close(mine, theirs, rtol=1e-14, atol=0)
    assert whole.change(0, a[:4], b).shape == blocked.change(0, a[:4], b).shape == (240, 1)


@pytest.mark.parametrize("max_rows", [40, 1000])  # drawn from the rows, or all of them
def test_importances_drawn_by_index_are_those_of_the_rows_taken(max_rows):
    from skneuronpursuit._estimators.importance import feature_importances

    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 4))
    rows = rng.permutation(300)[:200]
    weight = rng.uniform(0.5, 2.0, size=200)
    weights = [rng.normal(size=(3, 5)), rng.normal(size=(1, 3))]
    args = weight, np.ones(4), HomogeneousActivation(1, 0.1)
    by_index = feature_importances(
        weights, X, *args, np.random.RandomState(0), max_rows=max_rows, rows=rows
    )
    taken = feature_importances(weights, X[rows], *args, np.random.RandomState(0), max_rows)
    np.testing.assert_array_equal(by_index, taken)
