"""Recover a sparse deep ReLU function and read the network Neuron Pursuit grew.

The target (docs/benchmarks.md, sphere-f2) is itself a depth-3 ReLU network: six first-layer
neurons on pairs of the first six coordinates (``x1 + x2``, ``x2 - x3``, ...), three
second-layer neurons on pairs of those, output ``v1 - v2 + v3``. The 14 other inputs
are irrelevant. Neuron Pursuit adds neurons one at a time where the residual asks for
them; the first-layer weights it grows should live on coordinates 1-6 only.

Saves ``figures/sparse_weights.png`` (weights of both layers) and
``figures/sparse_growth.png`` (how the network grew).

Run:  python examples/sparse_recovery.py   (needs matplotlib; about 10 s)
"""

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skneuronpursuit import NeuronPursuitRegressor  # noqa: E402
from skneuronpursuit.plotting import plot_growth, plot_weights  # noqa: E402

D = 20
FIRST = np.zeros((6, D))
for row, (i, j, sign) in enumerate(
    [(0, 1, 1), (1, 2, -1), (2, 3, 1), (3, 4, -1), (4, 5, 1), (5, 0, -1)]
):
    FIRST[row, i], FIRST[row, j] = 1.0, sign
SECOND = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], float)


def target(X):
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    v = relu(relu(X @ FIRST.T) @ SECOND.T)
    return v[:, 0] - v[:, 1] + v[:, 2]


def sphere(n_samples, rng):
    X = rng.normal(size=(n_samples, D))
    return X * np.sqrt(D) / np.linalg.norm(X, axis=1, keepdims=True)


rng = np.random.RandomState(0)
X_train, X_test = sphere(1600, rng), sphere(10_000, rng)
y_train, y_test = target(X_train), target(X_test)

# %% Fit a homogeneous depth-3 ReLU network, as the target is, on all the (clean) data.
model = NeuronPursuitRegressor(
    depth=3, negative_slope=0.0, fit_intercept=False, early_stopping=False, random_state=0
)
model.fit(X_train, y_train)
relative = np.sum((model.predict(X_test) - y_test) ** 2) / np.sum(y_test**2)
print(
    f"{model.n_iter_} iterations, hidden layer sizes {model.hidden_layer_sizes_}, "
    f"stopped on {model.stop_reason_}; test relative error {relative:.2e}"
)
for record in model.history_:
    layer = "first neurons" if record["layer"] is None else f"layer {record['layer']}"
    print(
        f"  iteration {record['iteration']:2d}: {layer:<13} "
        f"train error {record['train_error']:.2e}"
    )

# %% Where the first layer looks: weight mass on the 6 relevant inputs, per neuron.
first = np.abs(model.coefs_[0])  # (inputs, neurons)
share = first[:6].sum(axis=0) / first.sum(axis=0)
print("share of each first-layer neuron's |weights| on x1..x6:", np.round(share, 3))
print("largest |weight| on x7..x20:", f"{first[6:].max():.1e}", "of", f"{first.max():.1e}")

# %% Figures.
out = Path(__file__).parent / "figures"
out.mkdir(exist_ok=True)
axes = plot_weights(model)
axes[0].figure.savefig(out / "sparse_weights.png", dpi=100, bbox_inches="tight")
ax = plot_growth(model)
ax.figure.savefig(out / "sparse_growth.png", dpi=100, bbox_inches="tight")
plt.close("all")
print(f"figures saved in {out}")
