"""Sparse X is used as sparse in the first layer and fits what dense X fits."""

import numpy as np
import pytest
import scipy.sparse
import torch
from conftest import fast_params
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor
from skneuronpursuit._engine.pursuit import _Pursuit
from skneuronpursuit._kernels.inputs import SparseInputs
from skneuronpursuit._kernels.network import predict


def _one_hot_sums(modulus=7):
    a, b = np.divmod(np.arange(modulus**2), modulus)
    X = np.hstack([np.eye(modulus)[a], np.eye(modulus)[b]])
    return X, (a + b) % modulus


@pytest.mark.parametrize("shape", [(5,), (5, 3), (4, 5, 3), (2, 4, 5, 3)])
def test_products_with_sparse_inputs_equal_the_dense_products(shape):
    rng = np.random.RandomState(0)
    dense = rng.standard_normal((6, 5)) * (rng.uniform(size=(6, 5)) < 0.4)
    X = SparseInputs.from_scipy(scipy.sparse.csr_matrix(dense), torch.float64, "cpu")
    dense = torch.from_numpy(dense)
    M = torch.from_numpy(rng.standard_normal(shape))
    torch.testing.assert_close(X @ M, dense @ M)
    if M.ndim >= 2:
        N = torch.from_numpy(rng.standard_normal(shape[:-2] + (shape[-1], 6)))
        torch.testing.assert_close(N @ X, N @ dense)
    scale = torch.tensor(2.5, dtype=torch.float64)
    torch.testing.assert_close((X / scale) @ M, (dense / scale) @ M)
    torch.testing.assert_close(X.squared_row_norms(), dense.square().sum(-1))


def test_duplicate_entries_are_summed_and_the_callers_matrix_is_left_alone():
    # Row 0 holds column 1 twice (1 + 2), row 1 holds column 0 (4).
    matrix = scipy.sparse.csr_matrix(([1.0, 2.0, 4.0], [1, 1, 0], [0, 2, 3]), shape=(2, 2))
    assert not matrix.has_canonical_format
    X = SparseInputs.from_scipy(matrix, torch.float64, "cpu")
    expected = torch.tensor([[0.0, 3.0], [4.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(X @ torch.eye(2, dtype=torch.float64), expected)
    torch.testing.assert_close(torch.eye(2, dtype=torch.float64) @ X, expected)
    np.testing.assert_array_equal(matrix.data, [1.0, 2.0, 4.0])


@pytest.mark.parametrize("depth", [2, 3])
def test_every_step_on_sparse_inputs_equals_the_step_on_dense_inputs(depth):
    # Same state in, same state out, up to rounding: the first neurons, a later
    # neuron (candidate search over all layers) and gradient descent. Whole fits
    # are compared loosely below: rounding differences can grow along a fit.
    X, y = _one_hot_sums()
    Y = torch.from_numpy(np.eye(7)[y])
    weight = torch.ones(len(X), dtype=torch.float64)
    model = NeuronPursuitClassifier(
        depth=depth,
        activation_power=2,
        negative_slope=-1.0,
        max_iter=2,
        fit_intercept=False,
        random_state=0,
    )
    model.fit(X, y)
    weights = [torch.from_numpy(w) for w in model._fit_weights_]
    results = []
    for inputs in (
        torch.from_numpy(X),
        SparseInputs.from_scipy(scipy.sparse.csr_matrix(X), torch.float64, "cpu"),
    ):
        run = _Pursuit(inputs, Y, weight, model._settings(), np.random.RandomState(3))
        first, first_value, _ = run.first_neurons()
        grown, value, record = run.next_neuron(weights, run.loss(weights))
        descent = run.minimise(grown)
        results.append((first, first_value, grown, value, record.layer, descent))
    (first, first_value, grown, value, layer, descent), other = results
    assert other[4] == layer and other[5].gd_steps == descent.gd_steps
    assert other[5].lm_steps == descent.lm_steps
    np.testing.assert_allclose([other[1], other[3]], [first_value, value], rtol=1e-12)
    # sigma(z) = z^2 is even: (a, b) and (-a, b) are the same neuron, and restarts that
    # reach the two tie to rounding, so either may win. Compare up to that sign, and
    # compare what the networks compute; the descent's many steps amplify rounding.
    dense_X = torch.from_numpy(X)
    activation = model._settings().activation
    for mine, theirs, rtol in [
        (other[0], first, 1e-10),
        (other[2], grown, 1e-10),
        (other[5].weights, descent.weights, 1e-7),
    ]:
        for w_mine, w_theirs in zip(mine, theirs):
            torch.testing.assert_close(w_mine.abs(), w_theirs.abs(), rtol=rtol, atol=1e-12)
        torch.testing.assert_close(
            predict(mine, dense_X, activation),
            predict(theirs, dense_X, activation),
            rtol=rtol,
            atol=1e-12,
        )


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_sparse_fit_grows_the_network_of_the_dense_fit(fit_intercept):
    X, y = _one_hot_sums()
    params = dict(depth=2, activation_power=2, negative_slope=-1.0, max_iter=4)
    params.update(ncf_steps=50, gd_steps=200, fit_intercept=fit_intercept, random_state=0)
    params.update(dtype="float64")  # the same computation: compared to rounding
    # A loss check at every step: the windowed descent lets rounding differences grow
    # (docs/inner-descent.md, "Consequences"); the step-by-step test above covers windows.
    params = fast_params(params, gd_window=1)
    dense = NeuronPursuitClassifier(**params).fit(X, y)
    for matrix in (scipy.sparse.csr_matrix(X), scipy.sparse.csc_array(X)):
        sparse = NeuronPursuitClassifier(**params).fit(matrix, y)
        assert sparse.hidden_layer_sizes_ == dense.hidden_layer_sizes_
        np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-6)
        # One fitted network gives the same output on sparse and dense X.
        np.testing.assert_allclose(
            sparse.decision_function(matrix), sparse.decision_function(X), rtol=1e-12, atol=1e-14
        )


def test_sparse_regression_with_sample_weight_early_stopping_and_pruning():
    rng = np.random.RandomState(1)
    X = scipy.sparse.random(120, 30, density=0.2, random_state=rng, format="csr")
    y = np.maximum(X @ rng.standard_normal(30), 0)
    weight = rng.uniform(0.5, 2.0, size=120)
    params = fast_params(
        max_iter=5, ncf_steps=50, gd_steps=300, random_state=0, early_stopping=True
    )
    params.update(dtype="float64")  # the same computation: compared to rounding
    # A loss check at every step: the windowed descent lets rounding differences grow
    # (docs/inner-descent.md, "Consequences"); the step-by-step test above covers windows.
    params = fast_params(params, gd_window=1)
    sparse = NeuronPursuitRegressor(**params).fit(X, y, sample_weight=weight)
    dense = NeuronPursuitRegressor(**params).fit(X.toarray(), y, sample_weight=weight)
    assert sparse.hidden_layer_sizes_ == dense.hidden_layer_sizes_
    assert sparse.best_iteration_ == dense.best_iteration_
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-6)
    before = sparse.predict(X)
    sparse.prune(X, tol=1e-3)
    assert np.linalg.norm(sparse.predict(X) - before) <= 1e-3 * np.linalg.norm(before)


def test_a_pipeline_with_a_sparse_one_hot_encoder_learns_modular_addition():
    modulus = 7
    a, b = np.divmod(np.arange(modulus**2), modulus)
    pipeline = make_pipeline(
        OneHotEncoder(),  # sparse output by default
        NeuronPursuitClassifier(
            depth=2, activation_power=2, negative_slope=-1.0, tol=0.05, max_iter=40, random_state=0
        ),
    )
    pipeline.fit(np.column_stack([a, b]), (a + b) % modulus)
    assert pipeline.score(np.column_stack([a, b]), (a + b) % modulus) == 1.0
