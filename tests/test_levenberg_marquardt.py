"""Levenberg-Marquardt, solver="lm" (docs/levenberg-marquardt.md): Jacobian, step, descent."""

import numpy as np
import pytest
import scipy.sparse
import torch
from conftest import FAST, fast_params
from datasets import hypercube, sparse_relu_target

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.damped_systems import (
    _Dual,
    _Explicit,
    _MatrixFree,
    _system_type,
)
from skneuronpursuit._kernels.gauss_newton import (
    _diagonal,
    _normal_equations,
    _transposed_product,
    jacobian_product,
)
from skneuronpursuit._kernels.inputs import SparseInputs
from skneuronpursuit._kernels.levenberg_marquardt import levenberg_marquardt
from skneuronpursuit._kernels.losses import LOSSES
from skneuronpursuit._kernels.network import forward, loss, predict

ACTIVATIONS = [(1, 0.0), (1, 0.1), (2, 0.0), (2, -1.0)]
FAST = fast_params(FAST, ncf_steps=100, gd_steps=300)


def problem(depth, power, slope, weighted, seed=0, n=30):
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    X, Y = randn(n, 4), randn(n, 2)
    sizes = [4] + [3] * (depth - 1) + [2]
    weights = [0.7 * randn(sizes[i + 1], sizes[i]) for i in range(depth)]
    weight = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    if not weighted:
        weight = torch.ones(n, dtype=torch.float64)
    return X, Y, weight, weights, HomogeneousActivation(power, slope)


def autograd_jacobian(weights, X, activation):
    """``dH/dw``, rows (sample, output), columns the weights flattened layer by layer."""
    flat = torch.cat([w.reshape(-1) for w in weights])

    def outputs(vector):
        parts, start = [], 0
        for w in weights:
            parts.append(vector[start : start + w.numel()].reshape(w.shape))
            start += w.numel()
        return predict(parts, X, activation)

    return torch.autograd.functional.jacobian(outputs, flat).reshape(-1, flat.numel())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("power, slope", ACTIVATIONS)
@pytest.mark.parametrize("depth", [2, 3])
def test_jacobian_products_match_autograd(depth, power, slope, weighted):
    X, Y, weight, weights, activation = problem(depth, power, slope, weighted)
    J = autograd_jacobian(weights, X, activation)
    S = (weight / len(weight)).repeat_interleave(Y.shape[1])
    residual = (Y - predict(weights, X, activation)).reshape(-1)
    A, g = _normal_equations(weights, X, Y, weight, activation)
    torch.testing.assert_close(A, J.T @ (S[:, None] * J), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g, J.T @ (S * residual), rtol=1e-12, atol=1e-14)

    pre_activations, layer_inputs = forward(weights, X, activation)
    generator = torch.Generator().manual_seed(1)
    directions = [torch.randn(w.shape, generator=generator, dtype=w.dtype) for w in weights]
    flat = torch.cat([d.reshape(-1) for d in directions])
    change = jacobian_product(weights, pre_activations, layer_inputs, directions, activation)
    torch.testing.assert_close(change.reshape(-1), J @ flat)
    signal = torch.randn(Y.shape, generator=generator, dtype=Y.dtype)
    pulled = _transposed_product(weights, pre_activations, layer_inputs, signal, activation)
    torch.testing.assert_close(
        torch.cat([p.reshape(-1) for p in pulled]), J.T @ signal.reshape(-1)
    )
    diagonal = _diagonal(weights, X, Y, weight, activation, pre_activations, layer_inputs)
    torch.testing.assert_close(diagonal, A.diagonal())


@pytest.mark.parametrize("sparse", [False, True])
def test_normal_equations_do_not_depend_on_the_chunks(sparse):
    # J is built chunk by chunk in one reused buffer: 30 samples in chunks of 7 (the last
    # one of 2) must give the system of one chunk, and that of autograd's Jacobian.
    X, Y, weight, weights, activation = problem(3, 1, 0.1, True)
    J = autograd_jacobian(weights, X, activation)
    S = (weight / len(weight)).repeat_interleave(Y.shape[1])
    if sparse:
        X[X.abs() < 0.8] = 0
        J = autograd_jacobian(weights, X, activation)
        X = SparseInputs.from_scipy(scipy.sparse.csr_matrix(X.numpy()), X.dtype, X.device)
    whole = _normal_equations(weights, X, Y, weight, activation)
    n_weights = sum(w.numel() for w in weights)
    chunked = _normal_equations(
        weights, X, Y, weight, activation, chunk=7 * Y.shape[1] * n_weights
    )
    for mine, theirs in zip(chunked, whole):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(chunked[0], J.T @ (S[:, None] * J), rtol=1e-12, atol=1e-14)


def test_sparse_inputs_give_the_normal_equations_of_dense_ones():
    X, Y, weight, weights, activation = problem(3, 1, 0.1, True)
    X[X.abs() < 0.8] = 0
    sparse = SparseInputs.from_scipy(scipy.sparse.csr_matrix(X.numpy()), X.dtype, X.device)
    for dense_part, sparse_part in zip(
        _normal_equations(weights, X, Y, weight, activation),
        _normal_equations(weights, sparse, Y, weight, activation),
    ):
        torch.testing.assert_close(sparse_part, dense_part)
    dense_cg = _MatrixFree(weights, X, Y, weight, activation)
    sparse_cg = _MatrixFree(weights, sparse, Y, weight, activation)
    torch.testing.assert_close(sparse_cg.diagonal, dense_cg.diagonal)
    torch.testing.assert_close(sparse_cg.solve(1e-2), dense_cg.solve(1e-2))


@pytest.mark.parametrize("depth", [2, 3])
def test_undamped_step_solves_the_gauss_newton_system(depth):
    # With lambda -> 0 the step is a Gauss-Newton step: a least-squares solution of
    # sqrt(S) J p = sqrt(S) r. J is rank-deficient (each hidden neuron's rescaling
    # symmetry), so the solutions differ by null vectors of J and J p is what is unique.
    X, Y, weight, weights, activation = problem(depth, 1, 0.1, True, n=60)
    J = autograd_jacobian(weights, X, activation)
    root = (weight / len(weight)).sqrt().repeat_interleave(Y.shape[1])
    residual = (Y - predict(weights, X, activation)).reshape(-1)
    expected = torch.linalg.lstsq(root[:, None] * J, root * residual, driver="gelsd").solution
    explicit = _Explicit(weights, X, Y, weight, activation)
    step = explicit.solve(1e-12)
    torch.testing.assert_close(J @ step, J @ expected, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(explicit.A @ step, explicit.g, rtol=1e-6, atol=1e-10)
    # Conjugate gradients solve the same damped system as the Cholesky factorisation.
    matrix_free = _MatrixFree(weights, X, Y, weight, activation)
    damping = 1e-2 * float(explicit.diagonal.max())
    # (CG stops at a residual of CG_TOL = 1e-6 of ||g||.)
    difference = matrix_free.solve(damping) - explicit.solve(damping)
    assert difference.norm() <= 1e-4 * explicit.solve(damping).norm()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("depth", [2, 3])
def test_the_dual_system_gives_the_step_of_the_normal_equations(depth, sparse):
    # 8 samples x 2 outputs = 16 residuals, 18 or 27 weights: J^T (J J^T + lambda I)^-1 r
    # is the damped Gauss-Newton step (A + lambda I)^-1 g, and levenberg_marquardt uses it.
    X, Y, weight, weights, activation = problem(depth, 1, 0.1, True, n=8)
    if sparse:
        X[X.abs() < 0.8] = 0
        X = SparseInputs.from_scipy(scipy.sparse.csr_matrix(X.numpy()), X.dtype, X.device)
    assert _system_type(weights, Y.shape) is _Dual
    assert _system_type(weights, (50, 2)) is _Explicit
    dual = _Dual(weights, X, Y, weight, activation)
    explicit = _Explicit(weights, X, Y, weight, activation)
    torch.testing.assert_close(dual.g, explicit.g, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(dual.diagonal, explicit.diagonal, rtol=1e-12, atol=1e-14)
    for fraction in (1e-6, 1e-3, 1.0):
        damping = fraction * float(explicit.diagonal.max())
        step = dual.solve(damping)
        torch.testing.assert_close(step, explicit.solve(damping), rtol=1e-7, atol=1e-10)
        torch.testing.assert_close(dual.curvature(step), explicit.curvature(step))


def test_the_dual_system_does_not_depend_on_the_chunks():
    # J is kept whole for the dual system: chunks of 3 samples (the last of 2) through the
    # one reused buffer must give the J, and so the step, of a single chunk.
    X, Y, weight, weights, activation = problem(3, 1, 0.1, True, n=8)
    whole = _Dual(weights, X, Y, weight, activation)
    n_weights = sum(w.numel() for w in weights)
    chunked = _Dual(weights, X, Y, weight, activation, chunk=3 * Y.shape[1] * n_weights)
    torch.testing.assert_close(chunked.J, whole.J, rtol=0, atol=0)
    torch.testing.assert_close(chunked.solve(1e-3), whole.solve(1e-3), rtol=0, atol=0)


@pytest.mark.parametrize(
    "max_explicit, n", [(10**6, 50), (10**6, 8), (0, 50)], ids=["cholesky", "dual", "cg"]
)
@pytest.mark.parametrize("power, slope", ACTIVATIONS)
def test_levenberg_marquardt_never_raises_the_loss_and_reaches_a_minimum(
    power, slope, max_explicit, n
):
    X, Y, weight, weights, activation = problem(3, power, slope, True, n=n)
    start = loss(weights, X, Y, weight, activation).item()
    result = levenberg_marquardt(
        weights, X, Y, weight, activation, rel_tol=1e-8, max_explicit=max_explicit
    )
    assert not result.diverged
    assert result.loss == loss(result.weights, X, Y, weight, activation).item()
    assert result.loss < start and 0 < result.n_steps <= 100
    # Close to a stationary point: the gradient is small against the start's. (With
    # power 1 a minimum can sit on a kink, where the one-sided gradient need not vanish.)
    if power == 1:
        return
    gradient = _Explicit(result.weights, X, Y, weight, activation).g.norm()
    assert gradient < 1e-2 * _Explicit(weights, X, Y, weight, activation).g.norm()
    # The steps did not change the starting weights.
    assert all(not torch.equal(a, b) for a, b in zip(weights, result.weights))


def test_levenberg_marquardt_stops_at_the_target_and_on_a_flat_start():
    X, Y, weight, weights, activation = problem(2, 1, 0.1, False)
    start = loss(weights, X, Y, weight, activation).item()
    at_target = levenberg_marquardt(weights, X, Y, weight, activation, target_loss=start)
    assert at_target.n_steps == 0 and at_target.loss == start
    # The zero network: every Jacobian entry is zero, the outputs cannot move.
    zeros = [torch.zeros_like(w) for w in weights]
    flat = levenberg_marquardt(zeros, X, Y, weight, activation)
    assert flat.n_steps == 0 and not flat.diverged
    assert all(torch.equal(w, torch.zeros_like(w)) for w in flat.weights)


def test_float32_fit_solves_in_float64_and_returns_float32():
    X, Y, weight, weights, activation = problem(3, 1, 0.1, False, n=50)
    to32 = [w.float() for w in weights]
    result = levenberg_marquardt(to32, X.float(), Y.float(), weight.float(), activation)
    assert all(w.dtype == torch.float32 for w in result.weights)
    assert result.loss < loss(to32, X.float(), Y.float(), weight.float(), activation).item()


# Estimator level: the invariants that involve the inner minimisation hold with "lm".


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_sparse_inputs_fit_like_dense_ones(Estimator, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 5)) * (rng.uniform(size=(80, 5)) < 0.5)
    y = X[:, 0] - np.abs(X[:, 1]) if Estimator is NeuronPursuitRegressor else X[:, 0] > 0
    params = fast_params(FAST, solver="lm", max_iter=4, negative_slope=0.1, dtype=dtype)
    dense = Estimator(**params).fit(X, y)
    sparse = Estimator(**params).fit(scipy.sparse.csr_matrix(X), y)
    tolerance = 1e-8 if dtype == "float64" else 1e-3
    if dtype == "float32" and Estimator is NeuronPursuitClassifier:
        # The classifier's default, the penalised log loss, is nearly flat near its
        # minimiser, and float32 Levenberg-Marquardt stops where rounding lets it: the
        # two fits grow the same layers and end with objectives within 0.2% and the same
        # labels, but logits up to 3% apart (its float64 fits agree to 1e-8).
        assert [r["layer"] for r in sparse.history_] == [r["layer"] for r in dense.history_]
        np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=5e-3)
        np.testing.assert_array_equal(sparse.predict(X), dense.predict(X))
        return
    np.testing.assert_allclose(
        sparse.decision_function(X) if hasattr(sparse, "classes_") else sparse.predict(X),
        dense.decision_function(X) if hasattr(dense, "classes_") else dense.predict(X),
        rtol=tolerance,
        atol=tolerance,
    )


def test_the_gradient_descent_step_is_carried_untouched():
    # With solver="lm" the record's gd_step_size is the GD step in force, not lambda:
    # a warm start that switches back to "gd" resumes the step a "gd" fit would have.
    X = np.random.RandomState(0).normal(size=(100, 4))
    y = np.sin(X[:, 0]) + X[:, 1]
    reg = NeuronPursuitRegressor(max_iter=3, **fast_params(FAST, solver="lm", gd_lr=0.05)).fit(
        X, y
    )
    assert all(record["gd_step_size"] == 0.05 for record in reg.history_)
    assert all(record["lm_steps"] <= 20 and record["gd_steps"] == 0 for record in reg.history_)


def test_warm_start_with_lm_grows_the_network_of_a_fit_run_at_once():
    X = np.random.RandomState(0).normal(size=(100, 4))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    params = fast_params(
        FAST, solver="lm", tol=0, negative_slope=0.1, early_stopping=False, dtype="float64"
    )
    once = NeuronPursuitRegressor(max_iter=6, **params).fit(X, y)
    parts = NeuronPursuitRegressor(max_iter=3, warm_start=True, **params).fit(X, y)
    parts.set_params(max_iter=6).fit(X, y)
    np.testing.assert_array_equal(parts.predict(X), once.predict(X))


def test_sparse_relu_target_is_recovered_with_lm():
    # docs/algorithm.md, "Properties the test-suite checks", sparsity (paper §5, Figure 6),
    # as tests/test_estimators.py::test_sparse_relu_target_is_recovered, with solver="lm".
    X = hypercube(500, 10, seed=0)
    reg = NeuronPursuitRegressor(
        depth=3,
        negative_slope=0.0,
        fit_intercept=False,
        early_stopping=False,
        random_state=0,
        options=PursuitOptions(solver="lm"),
    )
    reg.fit(X, sparse_relu_target(X))
    X_test = hypercube(2000, 10, seed=1)
    target = sparse_relu_target(X_test)
    error = np.sum((reg.predict(X_test) - target) ** 2) / np.sum(target**2)
    assert error < 1e-2 and reg.n_iter_ <= 6
    first_layer = np.abs(reg.coefs_[0])
    assert first_layer[3:].max() < 0.05 * first_layer.max()


# The log loss: Levenberg-Marquardt on its generalised Gauss-Newton matrix J^T S D J / n,
# D the cross-entropy's Hessian in H (docs/levenberg-marquardt.md, "The log loss").


def log_loss_problem(n_outputs, n=12, power=1, slope=0.1):
    X, Y, weight, weights, activation = problem(2, power, slope, True, n=n)
    labels = Y[:, 0] > 0 if n_outputs == 1 else (Y[:, 0] > 0).long() + (Y[:, 1] > 0.5).long()
    if n_outputs == 1:
        targets = labels[:, None].to(X.dtype)
    else:
        targets = torch.nn.functional.one_hot(labels, n_outputs).to(X.dtype)
    weights[-1] = (
        weights[-1][:1].repeat(n_outputs, 1) * torch.linspace(0.5, 1.5, n_outputs)[:, None]
    )
    return X, targets, weight, weights, activation


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_log_loss_systems_hold_the_generalised_gauss_newton_matrix(n_outputs):
    X, Y, weight, weights, activation = log_loss_problem(n_outputs)
    objective = LOSSES["log_loss"]
    J = autograd_jacobian(weights, X, activation)
    H = predict(weights, X, activation)
    # D from autograd: the Hessian of the loss in the outputs (block-diagonal by sample).
    D = torch.autograd.functional.hessian(lambda out: objective.value(out, Y, weight), H)
    D = D.reshape(H.numel(), H.numel())
    expected_A = J.mT @ D @ J
    leaves = [w.clone().requires_grad_(True) for w in weights]
    loss(leaves, X, Y, weight, activation, objective).backward()
    expected_g = -torch.cat([w.grad.reshape(-1) for w in leaves])
    explicit = _Explicit(weights, X, Y, weight, activation, objective=objective)
    torch.testing.assert_close(explicit.A, expected_A, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(explicit.g, expected_g, rtol=1e-10, atol=1e-12)
    matrix_free = _MatrixFree(weights, X, Y, weight, activation, objective=objective)
    torch.testing.assert_close(matrix_free.g, expected_g, rtol=1e-10, atol=1e-12)
    vector = torch.linspace(-1, 1, len(expected_g), dtype=torch.float64)
    torch.testing.assert_close(matrix_free.apply(vector), expected_A @ vector)
    # The damping's scale from a bound of the diagonal: at least the true diagonal.
    assert (matrix_free.diagonal >= expected_A.diagonal() * (1 - 1e-12)).all()
    # The dual system pairs r with J's rows, which the log loss whitens: never used.
    assert _system_type(weights, (1, n_outputs), objective=objective) is _Explicit


@pytest.mark.parametrize("max_explicit", [10**6, 0], ids=["cholesky", "cg"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_log_loss_levenberg_marquardt_descends_to_a_stationary_point(n_outputs, max_explicit):
    # The square activation is smooth; a small penalty gives the cross-entropy a minimum.
    X, Y, weight, weights, activation = log_loss_problem(n_outputs, n=30, power=2, slope=-1.0)
    objective, alpha = LOSSES["log_loss"], 1e-2
    start = loss(weights, X, Y, weight, activation, objective, alpha).item()
    result = levenberg_marquardt(
        weights,
        X,
        Y,
        weight,
        activation,
        max_steps=200,
        rel_tol=1e-12,
        max_explicit=max_explicit,
        alpha=alpha,
        objective=objective,
    )
    assert not result.diverged and result.loss < start
    assert result.loss == loss(result.weights, X, Y, weight, activation, objective, alpha).item()
    gradient = _Explicit(result.weights, X, Y, weight, activation, alpha, objective).g.norm()
    assert (
        gradient < 1e-5 * _Explicit(weights, X, Y, weight, activation, alpha, objective).g.norm()
    )


# The forward passes of the loss that accepted a step, kept for the next system's gradient.


def _counting_forward(monkeypatch, modules):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[1].shape[0])
        return forward(*args, **kwargs)

    for module in modules:
        monkeypatch.setattr(module, "forward", counted)
    return calls


@pytest.mark.parametrize("block_rows", [None, 7], ids=["one-block", "blocks"])
@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss"])
@pytest.mark.parametrize("System", [_Explicit, _MatrixFree, _Dual])
@pytest.mark.parametrize("subset", [False, True])
def test_systems_from_kept_passes_are_the_same_bit_for_bit(
    monkeypatch, System, loss_name, block_rows, subset
):
    from skneuronpursuit._kernels import blocks, damped_systems, gauss_newton
    from skneuronpursuit._kernels.network import loss_and_passes

    if System is _Dual and (subset or loss_name != "squared_error"):
        pytest.skip("the dual system: the squared loss on all rows only")
    if block_rows is not None:
        monkeypatch.setattr(blocks, "BLOCK_ROWS", block_rows)
    if loss_name == "log_loss":
        X, Y, weight, weights, activation = log_loss_problem(1, n=30)
    else:
        X, Y, weight, weights, activation = problem(3, 1, 0.1, True)
    objective = LOSSES[loss_name]
    rows = torch.arange(0, len(X), 2) if subset else None
    fresh = System(weights, X, Y, weight, activation, 0.01, objective, rows=rows)
    value, passes = loss_and_passes(weights, X, Y, weight, activation, objective, 0.01)
    assert torch.equal(value, loss(weights, X, Y, weight, activation, objective, 0.01))
    assert len(passes) == (1 if block_rows is None else 5)
    calls = _counting_forward(monkeypatch, [gauss_newton, damped_systems])
    kept = System(weights, X, Y, weight, activation, 0.01, objective, rows=rows, passes=passes)
    if subset:  # passes over the subset (A) only, none over all rows or their blocks
        assert calls and all(n_rows == len(rows) for n_rows in calls)
    elif block_rows is None:  # A and g from the kept pass
        assert calls == []
    assert torch.equal(kept.g, fresh.g) and torch.equal(kept.diagonal, fresh.diagonal)
    p = torch.linspace(-1, 1, len(fresh.g), dtype=fresh.g.dtype)
    assert torch.equal(kept.solve(0.1), fresh.solve(0.1))
    assert torch.equal(kept.curvature(p), fresh.curvature(p))


def test_passes_above_the_budget_are_not_kept(monkeypatch):
    from skneuronpursuit._kernels import network
    from skneuronpursuit._kernels.network import loss_and_passes

    X, Y, weight, weights, activation = problem(3, 1, 0.1, True)
    bytes_kept = len(X) * (3 + 3 + 2 + 3 + 3) * 8  # z_1..z_3 and h_1, h_2, float64
    monkeypatch.setattr(network, "KEPT_PASS_BYTES", bytes_kept)
    assert loss_and_passes(weights, X, Y, weight, activation)[1] is not None
    monkeypatch.setattr(network, "KEPT_PASS_BYTES", bytes_kept - 1)
    value, passes = loss_and_passes(weights, X, Y, weight, activation)
    assert passes is None and torch.equal(value, loss(weights, X, Y, weight, activation))


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_the_jacobians_signals_reduce_no_gradient(monkeypatch, n_outputs):
    # dH_o/dz_l for each output needs the backward pass's signals only: the weight
    # gradients of the unit signals are neither formed nor all-reduced (a data-parallel
    # fit's collectives are A and g).
    from skneuronpursuit._kernels import network

    X, Y, weight, weights, activation = problem(3, 1, 0.1, True)
    weights[-1] = weights[-1][:1].repeat(n_outputs, 1)
    Y = Y[:, :1].repeat(1, n_outputs)
    calls = []
    monkeypatch.setattr(network, "all_sum_list", lambda tensors: calls.append(1) or tensors)
    system = _Explicit(weights, X, Y, weight, activation)
    assert calls == []
    A, g = _normal_equations(weights, X, Y, weight, activation)
    assert torch.equal(system.A, A) and torch.equal(system.g, g)
