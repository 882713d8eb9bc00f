"""Small data sets, and checks of fitted histories, shared by the tests."""

from dataclasses import fields

import numpy as np

from skneuronpursuit._engine.settings import PursuitOptions, PursuitSettings
from skneuronpursuit._kernels.activation import HomogeneousActivation


def sparse_relu_target(X):
    """``relu(relu(x1 + x2) - relu(x2 - x3))``: 2 neurons then 1 (docs/benchmarks.md sphere-f1)."""
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    return relu(relu(X[:, 0] + X[:, 1]) - relu(X[:, 1] - X[:, 2]))


def hypercube(n_samples, n_features, seed):
    return np.random.RandomState(seed).choice([-1.0, 1.0], size=(n_samples, n_features))


def modular_addition(modulus, seed=0):
    """All pairs (a, b) as [onehot(a), onehot(b)], label (a + b) mod p, split in half."""
    a, b = np.divmod(np.arange(modulus**2), modulus)
    X = np.hstack([np.eye(modulus)[a], np.eye(modulus)[b]])
    y = (a + b) % modulus
    order = np.random.RandomState(seed).permutation(len(y))
    train, test = order[: len(y) // 2], order[len(y) // 2 :]
    return X[train], y[train], X[test], y[test]


def assert_every_iteration_descends(history, exact, kinked_halvings=None):
    """The descent property of docs/algorithm.md §3.4 (Lemmas 12, 13) on a fit's history.

    Every iteration starts from the loss the last one ended with, has ``N* > 0``, adding
    the neuron lowers the loss (``exact``, float64) or does not raise it (float32, which
    cannot resolve every decrease), and the inner descent does not raise it. A neuron
    added after ``kinked_halvings`` halvings (one count or several), where ReLU kinks
    make the first-order model fail (docs/algorithm.md §7) or float32 cannot resolve
    the neuron's decrease, may raise the loss by 1e-8 relative, or in float32 by the
    loss's last bit.
    """
    if isinstance(kinked_halvings, int):
        kinked_halvings = {kinked_halvings}
    previous = history[0]["loss_before"]
    kink_rise = 1e-8 if exact else max(1e-8, 2 * np.finfo(np.float32).eps)
    for record in history:
        assert record["ncf_value"] > 0
        assert record["loss_before"] == previous
        if kinked_halvings and record["delta_halvings"] in kinked_halvings:
            assert record["loss_after_add"] <= record["loss_before"] * (1 + kink_rise)
        elif exact:
            assert record["loss_after_add"] < record["loss_before"]
        else:
            assert record["loss_after_add"] <= record["loss_before"]
        assert record["loss"] <= record["loss_after_add"]
        previous = record["loss"]


def pursuit_settings(**changes):
    """The engine's settings for a small test fit (depth 3, leaky ReLU 0.1, gradient
    descent, the NCF's layer rule); ``changes`` on top, the fields of PursuitOptions
    among them into ``options``."""
    names = {field.name for field in fields(PursuitOptions)}
    options = dict(ncf_steps=150, solver="gd", layer_choice="ncf", ncf_samples=None)
    options.update({name: changes.pop(name) for name in list(changes) if name in names})
    settings = dict(
        depth=3,
        activation=HomogeneousActivation(1, 0.1),
        n_restarts=8,
        gd_steps=400,
        max_iter=5,
        tol=0.0,
        options=PursuitOptions(**options),
    )
    return PursuitSettings(**{**settings, **changes})
