"""Theory check of docs/benchmarks.md: on a two-layer diagonal linear network, NP is OMP.

``f(x) = sum_j u_j v_j x_j``: neuron ``j`` sees only coordinate ``j``, so each
coordinate is its own candidate (paper App. D.5). The candidates' constrained
NCFs are maximised with the package's batched search (every coordinate a
"layer" with input ``x_j`` and signal ``r``, linear activation); the chosen
neuron is added at ``delta`` times the engine's ``t_opt``
(:func:`~skneuronpursuit._kernels.neuron_scale.optimal_scale`) and gradient descent runs on the
active ``(u, v)`` to its minimum. The selected coordinates, in order, must be those
of :class:`sklearn.linear_model.OrthogonalMatchingPursuit`.

The estimators cannot run this check themselves: their layers are dense (a neuron
sees every input), and a diagonal network, where neuron ``j`` sees only ``x_j``,
is not one of their networks. The loop here is the engine's loop with that
constraint: the same search and scale, and a descent restricted to the diagonal.
"""

import numpy as np
import torch
from sklearn.linear_model import OrthogonalMatchingPursuit

from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.ncf import search_candidates
from skneuronpursuit._kernels.neuron_scale import optimal_scale

LINEAR = HomogeneousActivation(1, 1.0)


def diagonal_problem(seed, n_samples=50, n_features=100, n_nonzero=5):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    truth = np.zeros(n_features)
    support = rng.choice(n_features, n_nonzero, replace=False)
    truth[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(1, 3, n_nonzero)
    return X, X @ truth


def np_selection(X, y, n_select, delta=0.2, gd_steps=20_000, step_size=0.05, seed=0):
    """Coordinates chosen by Neuron Pursuit on the diagonal network, in order."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    n_samples, n_features = X.shape
    u = torch.zeros(n_features, dtype=torch.float64)
    v = torch.zeros(n_features, dtype=torch.float64)
    chosen = []
    weight = torch.ones(n_samples, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(n_select):
        residual = y_t - X_t @ (u * v)
        inputs = [X_t[:, j : j + 1] for j in range(n_features)]
        signals = [residual[:, None]] * n_features
        start = torch.randn(n_features, 4, 2, generator=generator, dtype=torch.float64)
        found = search_candidates(
            HiddenRows(inputs, signals), weight, LINEAR, start[..., :1], start[..., 1:], 300, 1.0
        )
        j = found.layer
        chosen.append(j)
        # The neuron's output b a x_j at unit norm; its NCF is of degree p + 1 = 2.
        change = found.outgoing[0] * found.incoming[0] * X_t[:, j]
        t_opt = optimal_scale(found.ncf_value, float(change.square().sum()), n_samples, 2)
        u[j], v[j] = delta * t_opt * found.incoming[0], delta * t_opt * found.outgoing[0]
        active = torch.tensor(chosen)
        for _ in range(gd_steps):  # GD on the active (u, v) of the squared loss
            residual = y_t - X_t[:, active] @ (u[active] * v[active])
            correlation = X_t[:, active].T @ residual / n_samples
            u[active], v[active] = (
                u[active] + step_size * correlation * v[active],
                v[active] + step_size * correlation * u[active],
            )
    return chosen


def omp_selection(X, y, n_select):
    """Coordinates chosen by OMP, in order (OMP with 1, 2, ... non-zeros)."""
    chosen = []
    for k in range(1, n_select + 1):
        coef = OrthogonalMatchingPursuit(n_nonzero_coefs=k, fit_intercept=False).fit(X, y).coef_
        chosen += [int(j) for j in np.flatnonzero(coef) if j not in chosen]
    return chosen


def omp_check(n_problems=10, n_select=5):
    """Return ``[(seed, np_order, omp_order), ...]`` for ``n_problems`` random problems."""
    results = []
    for seed in range(n_problems):
        X, y = diagonal_problem(seed)
        results.append(
            (seed, np_selection(X, y, n_select, seed=seed), omp_selection(X, y, n_select))
        )
    return results
