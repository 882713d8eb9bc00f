"""Modular addition: how Neuron Pursuit grows a network and what the network learns.

Paper §5.2.2 at p = 23 (the paper uses 59, see benchmarks): inputs
``[onehot(a), onehot(b), 1]``, label ``(a + b) mod 23``, half of all pairs for training;
a two-layer network with the square activation, fitted by squared loss on one-hot
targets. Three figures come from this one fit, saved next to this script in
``figures/``:

- the growth curve: loss and training error per added neuron, validation score;
- the weight heatmaps of both layers;
- the DFT of each first-layer neuron's weights on ``a`` and on ``b``: each neuron
  picks up one frequency, the Fourier structure of the paper's Figure 10.

Run:  python examples/plot_modular_addition.py   (needs matplotlib; about 15 s)
"""

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skneuronpursuit import (
    NeuronPursuitClassifier,  # noqa: E402
    PursuitOptions,
)
from skneuronpursuit.plotting import (  # noqa: E402
    dominant_frequency_order,
    plot_first_layer_dft,
    plot_growth,
    plot_weights,
)

P = 23
a, b = np.divmod(np.arange(P * P), P)
X = np.hstack([np.eye(P)[a], np.eye(P)[b]])  # the constant feature comes from fit_intercept
y = (a + b) % P
order = np.random.RandomState(0).permutation(len(y))
train, test = order[: len(y) // 2], order[len(y) // 2 :]

# %% Fit, holding out 10% of the training pairs to watch the validation accuracy.
model = NeuronPursuitClassifier(
    depth=2,
    activation_power=2,
    negative_slope=-1.0,  # sigma(z) = z**2
    loss="squared_error",  # the paper's loss, unpenalised
    alpha=0.0,
    options=PursuitOptions(
        neurons_per_iteration=1, gd_lr=0.5
    ),  # the paper's: one neuron per iteration
    tol=0.1,
    max_iter=80,
    early_stopping=True,
    n_iter_no_change=80,  # watch, do not stop
    dtype="float32",
    random_state=0,
)
model.fit(X[train], y[train])
print(
    f"{model.n_iter_} iterations, {model.hidden_layer_sizes_[0]} neurons kept, "
    f"stopped on {model.stop_reason_}"
)
print(
    f"train accuracy {model.score(X[train], y[train]):.3f}, "
    f"test accuracy {model.score(X[test], y[test]):.3f}"
)

# %% The three figures, neurons sorted by the frequency that dominates their weights on `a`
# (frequencies k and P - k are one cosine): neurons of one frequency form a band, and each
# row of W_1 is a cosine wave over a and over b.
order = dominant_frequency_order(model, P)

out = Path(__file__).parent / "figures"
out.mkdir(exist_ok=True)

ax = plot_growth(model)
ax.figure.savefig(out / "modadd_growth.png", dpi=110)

axes = plot_weights(model, neuron_order=[order])
for boundary in (P - 0.5, 2 * P - 0.5):  # onehot(a) | onehot(b) | intercept
    axes[0].axvline(boundary, color="k", lw=0.8)
axes[0].set_xlabel("input: onehot(a) | onehot(b) | intercept")
axes[0].set_ylabel("neuron (sorted by frequency)")
axes[0].figure.savefig(out / "modadd_weights.png", dpi=110)

ax = plot_first_layer_dft(model, n_blocks=2, neuron_order=order)
ax.set_ylabel("first-layer neuron (sorted by frequency)")
ax.figure.savefig(out / "modadd_dft.png", dpi=110)
plt.close("all")

# How concentrated is each neuron's spectrum? Share of the largest non-zero frequency
# (and its mirror image) in the spectral energy of the weights on `a`.
spectrum = np.abs(np.fft.fft(model.coefs_[0][:P].T, axis=1))[:, 1:] ** 2
dominant = 2 * spectrum.max(axis=1) / spectrum.sum(axis=1)
print(f"median share of the dominant frequency in a neuron's spectrum: {np.median(dominant):.2f}")
print(f"figures written to {out}")
