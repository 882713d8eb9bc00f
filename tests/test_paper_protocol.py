"""The paper's protocol (docs/paper.md): the schedule a run records is the preset's."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from skneuronpursuit import PaperSchedule, neuron_pursuit, paper_settings
from skneuronpursuit._engine.problem import build_problem
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.gradient_descent import scheduled_descent
from skneuronpursuit._kernels.network import loss as network_loss


def _pvr(n, rng):
    pointer = rng.randint(16, size=n)
    bits = 2.0 * ((pointer[:, None] >> np.arange(4)) & 1) - 1
    values = rng.choice([-1.0, 1.0], size=(n, 16))
    window = values[np.arange(n)[:, None], (pointer[:, None] + np.arange(3)) % 16]
    return np.hstack([bits, np.ones((n, 1)), values]), np.sign(window.sum(axis=1))


def _small(task, **counts):
    """The preset of ``task`` with smaller step counts, every rule and step size kept."""
    settings = paper_settings(task)
    options = {k: counts.pop(k) for k in list(counts) if k in ("ncf_steps", "gd_window")}
    schedule = {k: counts.pop(k) for k in list(counts) if k.startswith(("first_", "long_"))}
    return replace(
        settings,
        options=replace(settings.options, **options),
        schedule=replace(settings.schedule, **schedule),
        **counts,
    )


def test_pvr_runs_the_papers_schedule():
    X, y = _pvr(300, np.random.RandomState(0))
    preset = paper_settings("pvr")
    settings = _small(
        "pvr", ncf_steps=40, first_ncf_steps=60, gd_steps=3000, gd_window=500, max_iter=4
    )
    fit = neuron_pursuit(X, y, settings, fit_intercept=False, dtype="float64", random_state=0)
    first, *later = fit.history
    # The ascent: 0.25 in iteration 1, 0.5 later, with their own counts.
    assert (first.ncf_steps, first.ncf_lr) == (60, preset.schedule.first_ncf_lr) == (60, 0.25)
    assert all((r.ncf_steps, r.ncf_lr) == (40, preset.options.ncf_lr) == (40, 0.5) for r in later)
    # delta_1 = 0.5 (halved at most 4 times), delta_k = 0.1 ||w|| (halved at most 10 times).
    assert first.delta == 0.5 / 2**first.delta_halvings and first.delta_halvings <= 4
    assert all(r.delta_halvings <= 10 and r.delta > 0 for r in later)
    # Fixed-count GD from 0.005 every iteration: the budget, whole windows, at most 4
    # halvings, the step where they left it.
    for record in fit.history:
        assert record.solver == "gd" and record.gd_budget == 3000
        assert record.gd_steps % 500 == 0 and 0 < record.gd_steps <= 3000
        assert record.gd_halvings <= 4
        assert record.gd_step_size == 0.005 / 2**record.gd_halvings
    assert fit.stop_reason in ("tol", "max_iter")
    assert len(fit.history) == 4 or fit.history[-1].train_error <= 0.005


def test_a_later_neuron_starts_at_a_tenth_of_the_weights_norm():
    X, y = _pvr(200, np.random.RandomState(1))
    settings = _small(
        "pvr", ncf_steps=30, first_ncf_steps=30, gd_steps=1000, gd_window=500, max_iter=1
    )
    one = neuron_pursuit(X, y, settings, fit_intercept=False, dtype="float64", random_state=0)
    two = neuron_pursuit(
        X, y, replace(settings, max_iter=2), fit_intercept=False, dtype="float64", random_state=0
    )
    norm = np.sqrt(sum(np.sum(c**2) for c in one.coefs))
    record = two.history[1]
    assert record.delta == pytest.approx(0.1 * norm / 2**record.delta_halvings, rel=1e-9)


def test_modular_addition_stops_once_every_training_pair_is_classified():
    modulus = 23
    a, b = np.divmod(np.arange(modulus**2), modulus)
    X = np.hstack([np.eye(modulus)[a], np.eye(modulus)[b], np.ones((modulus**2, 1))])
    Y = np.eye(modulus)[(a + b) % modulus]
    settings = _small("modadd-59", ncf_steps=300, gd_steps=2000, max_iter=60)
    assert settings.tol == 0 and settings.schedule.stop_when_classified
    fit = neuron_pursuit(X, Y, settings, fit_intercept=False, random_state=0)
    assert fit.stop_reason == "classified"
    assert (fit.predict(X).argmax(axis=1) == (a + b) % modulus).all()
    assert all(r.ncf_lr == 2.0 and r.gd_step_size == 10.0 * 2 / 59 for r in fit.history)


def test_the_gaussian_descent_runs_longer_once_the_error_is_small():
    schedule = paper_settings("gauss-f1").schedule
    assert schedule.descent_budget(100_000, 0.5) == 100_000
    assert schedule.descent_budget(100_000, 0.009) == 300_000


def test_the_paper_runs_on_raw_units():
    # No column rescaling or target centring: the paper's step sizes are for its data.
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(50, 3)) * [1.0, 10.0, 0.1], rng.normal(size=(50, 1)) + 5
    problem = build_problem(
        X,
        Y,
        np.ones(50),
        paper_settings("cube-f1"),
        fit_intercept=True,
        dtype=torch.float64,
        device=torch.device("cpu"),
        center=True,
    )
    assert np.all(problem.x_scale == 1) and problem.y_scale == 1 and problem.y_offset is None
    np.testing.assert_array_equal(np.sort(problem.Y.numpy(), axis=0), np.sort(Y, axis=0))


def _tiny_problem():
    rng = np.random.RandomState(0)
    X = torch.tensor(rng.normal(size=(40, 3)))
    Y = torch.tensor(rng.normal(size=(40, 1)))
    weights = [torch.tensor(rng.normal(size=(2, 3))), torch.tensor(rng.normal(size=(1, 2)))]
    return weights, X, Y, torch.ones(40), HomogeneousActivation(1, 0.1)


def test_a_fixed_step_is_never_halved_and_a_huge_one_diverges():
    weights, X, Y, sw, activation = _tiny_problem()
    fixed = scheduled_descent(
        weights, X, Y, sw, activation, step_size=0.05, max_steps=600, window=100
    )
    assert fixed.n_halvings == 0 and fixed.step_size == 0.05 and not fixed.diverged
    assert fixed.loss < float(network_loss(weights, X, Y, sw, activation))
    huge = scheduled_descent(
        weights, X, Y, sw, activation, step_size=1e6, max_steps=600, window=100
    )
    assert huge.diverged and huge.n_halvings == 0
    assert huge.loss == pytest.approx(float(network_loss(weights, X, Y, sw, activation)))


def test_the_halving_rule_halves_at_most_its_count():
    weights, X, Y, sw, activation = _tiny_problem()
    result = scheduled_descent(
        weights, X, Y, sw, activation, step_size=50.0, max_steps=2000, window=100, max_halvings=4
    )
    assert result.n_halvings <= 4 and result.step_size == 50.0 / 2**result.n_halvings
    assert result.n_steps <= 2000


def test_the_schedule_is_validated_as_the_presets_are():
    with pytest.raises(ValueError, match="paper_settings has no task"):
        paper_settings("cube-f3")
    with pytest.raises(ValueError, match="gd_rule"):
        PaperSchedule(gd_rule="adaptive")
    with pytest.raises(ValueError, match="first_delta"):
        PaperSchedule(first_delta=0.0)
    assert paper_settings("sphere-f1").schedule == PaperSchedule(first_delta=0.25)
