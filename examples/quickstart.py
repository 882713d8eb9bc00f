"""Quickstart: grow a network by Neuron Pursuit on a sparse target and look at how it grew.

The target is ``f(x) = relu(relu(x1 + x2) - relu(x2 - x3))`` on the sphere of radius
``sqrt(20)`` in R^20 (docs/benchmarks.md, sphere-f1): a depth-3 ReLU network with two
neurons, then one. Neuron Pursuit adds one neuron per iteration and stops when the
relative training error is below ``tol``. The last part fits noisy real data (scikit-learn's
diabetes set) with the defaults, in a Pipeline, against Ridge.

Run:  python examples/quickstart.py   (with matplotlib, the growth plot is saved as
examples/figures/quickstart_growth.png, a folder git ignores)
"""

# %%
import time

import numpy as np
from sklearn.neural_network import MLPRegressor

from skneuronpursuit import NeuronPursuitRegressor


def sphere(n_samples, n_features, rng):
    X = rng.normal(size=(n_samples, n_features))
    return X * np.sqrt(n_features) / np.linalg.norm(X, axis=1, keepdims=True)


def target(X):
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    return relu(relu(X[:, 0] + X[:, 1]) - relu(X[:, 1] - X[:, 2]))


def relative_error(prediction, truth):
    return np.sum((prediction - truth) ** 2) / np.sum(truth**2)


rng = np.random.RandomState(0)
X_train, X_test = sphere(800, 20, rng), sphere(10_000, 20, rng)
y_train, y_test = target(X_train), target(X_test)

# %% Fit: the target is a homogeneous ReLU network (no biases), and clean, so fit one on
# all the data: the paper's protocol (the defaults are leaky ReLU, with 10% held out).
model = NeuronPursuitRegressor(
    depth=3, negative_slope=0.0, fit_intercept=False, early_stopping=False, random_state=0
)
started = time.perf_counter()
model.fit(X_train, y_train)
seconds = time.perf_counter() - started

# %% How the network grew: one row per iteration (history_).
print("iter  layer  NCF value   loss before  after add   after fit   train err  widths")
for record in model.history_:
    layer = "first" if record["layer"] is None else record["layer"]
    print(
        f"{record['iteration']:>4}  {layer!s:>5}  {record['ncf_value']:.3e}  "
        f"{record['loss_before']:.3e}  {record['loss_after_add']:.3e}  {record['loss']:.3e}  "
        f"{record['train_error']:.2e}  {record['hidden_layer_sizes']}"
    )
print(f"stopped because: {model.stop_reason_}; hidden layer sizes {model.hidden_layer_sizes_}")

# %% Scores, next to scikit-learn's MLP with 50 neurons per hidden layer.
mlp = MLPRegressor(hidden_layer_sizes=(50, 50), max_iter=2000, random_state=0)
mlp_started = time.perf_counter()
mlp.fit(X_train, y_train)
mlp_seconds = time.perf_counter() - mlp_started

print(
    f"\n{'model':<22}{'neurons':>8}{'train rel. err':>16}{'test rel. err':>15}{'R^2 test':>10}"
    f"{'seconds':>9}"
)
for name, estimator, neurons, fit_seconds in [
    ("Neuron Pursuit", model, sum(model.hidden_layer_sizes_), seconds),
    ("MLPRegressor (50, 50)", mlp, 100, mlp_seconds),
]:
    print(
        f"{name:<22}{neurons:>8}"
        f"{relative_error(estimator.predict(X_train), y_train):>16.2e}"
        f"{relative_error(estimator.predict(X_test), y_test):>15.2e}"
        f"{estimator.score(X_test, y_test):>10.4f}{fit_seconds:>9.1f}"
    )

# %% The first layer uses only the three relevant coordinates.
first_layer = np.abs(model.coefs_[0])
print("\n|first-layer weights| of x1..x5 (rows) per neuron (columns):")
print(np.array2string(first_layer[:5], precision=3, suppress_small=True))
print(
    f"largest weight on x4..x20: {first_layer[3:].max():.2e} (largest overall "
    f"{first_layer.max():.2e})"
)

# %% The growth curve, saved as a figure when matplotlib is installed (the test extra has it).
try:
    import matplotlib
except ImportError:
    print("\n(pip install matplotlib to save the growth figure)")
else:
    from pathlib import Path

    matplotlib.use("Agg")
    from skneuronpursuit.plotting import plot_growth

    ax = plot_growth(model)
    path = Path(__file__).parent / "figures" / "quickstart_growth.png"
    path.parent.mkdir(exist_ok=True)
    ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    print(f"\ngrowth curve saved to {path}")

# %% Noisy real data: the defaults choose the number of neurons on held-out samples.
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
print("\ndiabetes, 5-fold cross-validated R^2 (mean ± std):")
for name, estimator in [
    ("Neuron Pursuit, defaults", NeuronPursuitRegressor(random_state=0)),
    ("Ridge", Ridge()),
]:
    scores = cross_val_score(make_pipeline(StandardScaler(), estimator), X_diabetes, y_diabetes)
    print(f"  {name:<26}{scores.mean():.3f} ± {scores.std():.3f}")
