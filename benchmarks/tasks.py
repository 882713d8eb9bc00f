"""The benchmark tasks of docs/benchmarks.md: data and the network each task calls for.

The Gaussian tasks use leaky ReLU (alpha 0.1), as the hypercube tasks do: with ReLU a
network whose last hidden layer holds one neuron cannot output negative values, and
``max(x1, x2)`` is negative a quarter of the time, so both NP and small-init GD stall at
the floor ``(1 - 2/pi)/4 = 0.0908`` of relative error. ``gauss-f1-relu`` keeps that case,
where NP should say that it is stuck.
"""

from dataclasses import dataclass

import numpy as np

from skneuronpursuit import paper_settings


def relu(z):
    return np.maximum(z, 0)


def sphere(n_samples, rng, n_features=20):
    X = rng.normal(size=(n_samples, n_features))
    return X * np.sqrt(n_features) / np.linalg.norm(X, axis=1, keepdims=True)


def hypercube(n_samples, rng, n_features=15):
    return rng.choice([-1.0, 1.0], size=(n_samples, n_features))


def gaussian(n_samples, rng, n_features=20):
    return rng.normal(size=(n_samples, n_features))


def sphere_f1(X):
    return relu(relu(X[:, 0] + X[:, 1]) - relu(X[:, 1] - X[:, 2]))


_F2_FIRST = np.zeros((6, 20))
for _row, (_i, _j, _sign) in enumerate(
    [(0, 1, 1), (1, 2, -1), (2, 3, 1), (3, 4, -1), (4, 5, 1), (5, 0, -1)]
):
    _F2_FIRST[_row, _i], _F2_FIRST[_row, _j] = 1.0, _sign
_F2_SECOND = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], float)


def sphere_f2(X):
    v = relu(relu(X @ _F2_FIRST.T) @ _F2_SECOND.T)
    return v[:, 0] - v[:, 1] + v[:, 2]


@dataclass(frozen=True)
class Task:
    """One row of docs/benchmarks.md."""

    name: str  # a task of paper_settings: its network and NP's protocol come from there
    kind: str  # "regression" or "classification"
    fit_intercept: bool = False
    sizes: tuple = (100, 200, 400, 800, 1600, 3200)
    quick_sizes: tuple = (200,)
    sample: object = None  # (n_train, rng) -> (X_train, y_train, X_test, y_test)
    gd_init_radius: float = 0.01
    sign_target: bool = False  # targets are +-1: also report the sign accuracy (pvr)
    sparse_inputs: bool = False  # NP gets X as a scipy.sparse matrix (one-hot inputs)

    @property
    def depth(self):
        return paper_settings(self.name).depth

    @property
    def activation_power(self):
        return paper_settings(self.name).activation.power

    @property
    def negative_slope(self):
        return paper_settings(self.name).activation.slope


def _regression(inputs, target, n_test=10_000):
    def sample(n_train, rng):
        X = inputs(n_train + n_test, rng)
        y = target(X)
        return X[:n_train], y[:n_train], X[n_train:], y[n_train:]

    return sample


def modular_addition_sample(modulus=59):
    def sample(n_train, rng):
        a, b = np.divmod(np.arange(modulus**2), modulus)
        X = np.hstack([np.eye(modulus)[a], np.eye(modulus)[b], np.ones((modulus**2, 1))])
        y = (a + b) % modulus
        order = rng.permutation(len(y))
        n_train = len(y) // 2 if n_train is None else n_train
        train, test = order[:n_train], order[n_train:]
        return X[train], y[train], X[test], y[test]

    return sample


def pvr_sample(n_train, rng, n_test=2000):
    n = n_train + n_test
    pointer = rng.randint(16, size=n)
    bits = 2.0 * ((pointer[:, None] >> np.arange(4)) & 1) - 1  # 4 symmetric bits
    values = rng.choice([-1.0, 1.0], size=(n, 16))
    X = np.hstack([bits, np.ones((n, 1)), values])
    window = values[np.arange(n)[:, None], (pointer[:, None] + np.arange(3)) % 16]
    y = np.sign(window.sum(axis=1))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


TASKS = {
    task.name: task
    for task in [
        Task("sphere-f1", "regression", sample=_regression(sphere, sphere_f1)),
        Task("sphere-f2", "regression", sample=_regression(sphere, sphere_f2)),
        Task(
            "cube-f1",
            "regression",
            sample=_regression(hypercube, lambda X: X[:, 0] * X[:, 1] * (1 + X[:, 2] * X[:, 3])),
        ),
        Task(
            "cube-f2",
            "regression",
            sample=_regression(hypercube, lambda X: X[:, :4].prod(axis=1)),
        ),
        Task(
            "gauss-f1",
            "regression",
            gd_init_radius=0.1,
            sample=_regression(gaussian, lambda X: X[:, :2].max(axis=1)),
        ),
        Task(
            "gauss-f2",
            "regression",
            gd_init_radius=0.1,
            sample=_regression(gaussian, lambda X: X[:, :4].max(axis=1)),
        ),
        Task(
            "gauss-f1-relu",
            "regression",
            gd_init_radius=0.1,
            sizes=(3200,),
            quick_sizes=(200,),
            sample=_regression(gaussian, lambda X: X[:, :2].max(axis=1)),
        ),
        Task(
            "modadd-59",
            "classification",
            sizes=(None,),
            quick_sizes=(None,),
            sample=modular_addition_sample(59),
            sparse_inputs=True,
        ),
        Task(
            "pvr",
            "regression",
            sizes=(2000,),
            quick_sizes=(500,),
            sample=pvr_sample,
            sign_target=True,
        ),
    ]
}
