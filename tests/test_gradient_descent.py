"""The inner descent (docs/inner-descent.md): windows, roll-backs, the carried step."""

import numpy as np
import pytest
import torch
from datasets import hypercube

import skneuronpursuit._engine.inner_solver as inner_solver
from skneuronpursuit import NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._kernels import gradient_descent as gradient_descent_module
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.gradient_descent import (
    GROWTH,
    MAX_HALVINGS,
    WINDOW,
    gradient_descent,
    next_step_size,
)
from skneuronpursuit._kernels.network import loss

RELU = HomogeneousActivation(1, 0.0)


def small_problem(seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(40, 3, generator=generator, dtype=dtype)
    Y = (X[:, :1] - X[:, 1:2]).relu()
    weights = [
        0.5 * torch.randn(4, 3, generator=generator, dtype=dtype),
        0.5 * torch.randn(1, 4, generator=generator, dtype=dtype),
    ]
    return X, Y, torch.ones(40, dtype=dtype), weights


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_gradient_descent_halves_the_step_and_never_raises_the_loss(momentum):
    X, Y, weight, weights = small_problem()
    start = loss(weights, X, Y, weight, RELU).item()
    result = gradient_descent(
        weights, X, Y, weight, RELU, step_size=1e3, max_steps=2000, momentum=momentum
    )
    assert result.n_halvings > 0 and result.step_size < 1e3
    assert result.loss < start
    assert result.loss == pytest.approx(loss(result.weights, X, Y, weight, RELU).item())
    assert all(torch.isfinite(w).all() for w in result.weights)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_rolled_back_window_leaves_no_trace_and_costs_no_budget(momentum):
    # A descent that starts with a step too large rolls back to its checkpoint and halves:
    # what it returns is the descent started at the halved step, bit for bit, with the
    # same number of accepted steps (the rolled-back window is not charged). One window's
    # budget: a later rise would halve the step again, after the fact.
    X, Y, weight, weights = small_problem()
    rolled = gradient_descent(
        weights, X, Y, weight, RELU, step_size=1e3, max_steps=WINDOW, momentum=momentum
    )
    assert rolled.n_halvings > 0 and rolled.n_steps == WINDOW
    direct = gradient_descent(
        weights,
        X,
        Y,
        weight,
        RELU,
        step_size=1e3 / 2**rolled.n_halvings,
        max_steps=WINDOW,
        momentum=momentum,
    )
    assert direct.n_halvings == 0
    assert (rolled.n_steps, rolled.loss, rolled.step_size) == (
        direct.n_steps,
        direct.loss,
        direct.step_size,
    )
    for mine, theirs in zip(rolled.weights, direct.weights):
        assert torch.equal(mine, theirs)


def test_rounding_noise_does_not_halve_the_step():
    # float32 near a minimum: single steps raise the loss by a few ulps all the time; a
    # rule that halves on such rises collapsed the step 4-9 times per iteration. Judged
    # over a window, a stable step is kept.
    X, Y, weight, weights = small_problem(dtype=torch.float32)
    result = gradient_descent(
        weights, X, Y, weight, RELU, step_size=0.5, max_steps=20_000, rel_tol=-1.0
    )
    assert result.n_halvings == 0 and result.step_size == 0.5
    assert result.n_steps == 20_000


def test_halvings_are_bounded_and_end_at_the_checkpoint(monkeypatch):
    # After a first accepted window every later window rises: the descent halves at most
    # MAX_HALVINGS times, then stops at the accepted checkpoint.
    X, Y, weight, weights = small_problem()
    original = gradient_descent_module.run_window
    calls = []

    def rising_after_first(current, data, activation, step_size, n_steps, *rest):
        calls.append(step_size)
        result = original(current, data, activation, step_size, n_steps, *rest)
        if len(calls) == 1:
            return result
        for w in current:
            w.mul_(3.0)  # a big rise, as a diverging step would make
        return original(current, data, activation, step_size, 0, *rest)

    monkeypatch.setattr(gradient_descent_module, "run_window", rising_after_first)
    first = gradient_descent(weights, X, Y, weight, RELU, step_size=0.05, max_steps=250)
    calls.clear()
    result = gradient_descent(weights, X, Y, weight, RELU, step_size=0.05, max_steps=10_000)
    assert result.n_halvings == MAX_HALVINGS + 1 and not result.diverged
    assert result.n_steps == 250 and result.step_size == 0.05 / 2 ** (MAX_HALVINGS + 1)
    assert calls[-MAX_HALVINGS - 1 :] == [0.05 / 2**k for k in range(MAX_HALVINGS + 1)]
    for mine, theirs in zip(result.weights, first.weights):
        assert torch.equal(mine, theirs)


def test_gradient_descent_stops_when_converged():
    X, Y, weight, weights = small_problem()
    result = gradient_descent(weights, X, Y, weight, RELU, step_size=0.1, max_steps=100_000)
    assert result.n_steps < 100_000
    again = gradient_descent(result.weights, X, Y, weight, RELU, step_size=0.1, max_steps=1000)
    assert again.loss >= result.loss * (1 - 1e-3)


def test_the_step_grows_back_up_to_gd_lr():
    assert next_step_size(None, 0.1) == 0.1
    assert next_step_size(0.025, 0.1) == 0.025 * GROWTH
    assert next_step_size(0.08, 0.1) == 0.1


def test_each_iteration_starts_from_the_step_the_last_one_ended_with(monkeypatch):
    starts, ends = [], []
    original = inner_solver.gradient_descent

    def recording(*args, step_size, **kwargs):
        starts.append(step_size)
        result = original(*args, step_size=step_size, **kwargs)
        ends.append(result.step_size)
        return result

    monkeypatch.setattr(inner_solver, "gradient_descent", recording)
    X = hypercube(100, 5, seed=3)
    NeuronPursuitRegressor(
        options=PursuitOptions(solver="gd", gd_lr=50.0, ncf_steps=50),
        max_iter=5,
        tol=0,
        n_restarts=4,
        gd_steps=300,
        random_state=0,
    ).fit(X, X[:, 0] * X[:, 1] + X[:, 2])
    assert starts[0] == 50.0 and len(starts) == 5
    assert any(end < 50.0 for end in ends)  # too large a step for this data: halved
    for previous_end, start in zip(ends, starts[1:]):
        assert start == min(50.0, GROWTH * previous_end)


def test_momentum_steps_are_nesterov_steps():
    # v <- mu v + g, w <- w - eta (g + mu v), from v = 0; checked against steps taken
    # by hand with autograd, in float64 and with a step small enough never to roll back.
    X, Y, weight, weights = small_problem()
    step_size, momentum, n_steps = 0.05, 0.9, 7
    expected = [w.clone() for w in weights]
    velocity = [torch.zeros_like(w) for w in weights]
    for _ in range(n_steps):
        leaves = [w.clone().requires_grad_() for w in expected]
        grads = torch.autograd.grad(loss(leaves, X, Y, weight, RELU), leaves)
        for w, v, g in zip(expected, velocity, grads):
            v.mul_(momentum).add_(g)
            w.sub_(step_size * (g + momentum * v))
    result = gradient_descent(
        weights, X, Y, weight, RELU, step_size=step_size, max_steps=n_steps, momentum=momentum
    )
    assert result.n_steps == n_steps and result.n_halvings == 0
    for mine, theirs in zip(result.weights, expected):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-14)


def test_momentum_descends_further_in_the_same_steps():
    # Why the option exists: the same budget of steps ends at a lower loss.
    X, Y, weight, weights = small_problem()
    losses = {
        momentum: gradient_descent(
            weights, X, Y, weight, RELU, step_size=0.01, max_steps=300, momentum=momentum
        ).loss
        for momentum in (0.0, 0.9)
    }
    assert losses[0.9] < 0.5 * losses[0.0]


def test_a_descent_that_never_lowers_the_loss_is_declared_diverged():
    X, Y, weight, weights = small_problem()
    result = gradient_descent(weights, X, Y, weight, RELU, step_size=1e30, max_steps=1000)
    assert result.diverged and result.n_steps == 0
    assert result.loss == loss(weights, X, Y, weight, RELU).item()
    assert np.all([torch.equal(a, b) for a, b in zip(result.weights, weights)])
