"""Figures of a fitted Neuron Pursuit estimator (matplotlib: the `plot` extra).

Each function draws on the given Axes (or new ones) and returns them; ``fit``
never calls these.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skneuronpursuit.plotting needs matplotlib: pip install matplotlib"
        ) from error
    return plt


def plot_growth(estimator, ax=None):
    """Loss and training error against iterations, with the layer of each addition.

    Markers show which hidden layer grew (a star for the first iteration); with
    ``early_stopping`` the validation score is drawn on a second axis and the
    kept iteration is marked.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    check_is_fitted(estimator)
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    history = estimator.history_
    iterations = [r["iteration"] for r in history]
    ax.semilogy(iterations, [r["loss"] for r in history], color="C0", label="loss")
    ax.semilogy(iterations, [r["train_error"] for r in history], color="C1", label="train error")
    layers = sorted({r["layer"] for r in history if r["layer"] is not None})
    for index, layer in enumerate([None, *layers]):
        points = [r for r in history if r["layer"] == layer]
        ax.scatter(
            [r["iteration"] for r in points],
            [r["train_error"] for r in points],
            marker="*" if layer is None else "os^Dv"[index % 5],
            color="k" if layer is None else f"C{index + 1}",
            zorder=3,
            label="first neurons" if layer is None else f"neuron added to layer {layer}",
        )
    ax.set_xlabel("iteration (neurons added)")
    ax.set_ylabel("loss, relative training error")
    if estimator.validation_scores_ is not None:
        twin = ax.twinx()
        twin.plot(iterations, estimator.validation_scores_, color="C7", ls="--")
        twin.axvline(estimator.best_iteration_, color="C7", lw=0.8)
        twin.set_ylabel("validation score (dashed)")
    ax.legend(fontsize="small")
    ax.set_title(f"{type(estimator).__name__}: stopped on {estimator.stop_reason_}")
    return ax


def plot_weights(estimator, axes=None):
    """Heatmaps of ``|W_l|`` for every layer (rows: neurons of layer l; paper Fig. 6, 11).

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier
    axes : sequence of matplotlib Axes, optional
        One per weight layer.

    Returns
    -------
    axes : ndarray of matplotlib Axes
    """
    check_is_fitted(estimator)
    plt = _pyplot()
    coefs = estimator.coefs_
    if axes is None:
        _, axes = plt.subplots(1, len(coefs), figsize=(4 * len(coefs), 3.5), squeeze=False)
        axes = axes[0]
    for index, (ax, coef) in enumerate(zip(axes, coefs), start=1):
        image = ax.imshow(np.abs(coef.T), aspect="auto", cmap="viridis", interpolation="none")
        ax.figure.colorbar(image, ax=ax)
        ax.set_title(f"|W_{index}|  ({coef.shape[1]} x {coef.shape[0]})")
        ax.set_xlabel(
            "input" + (" (last: intercept)" if index == 1 and estimator._fit_intercept_ else "")
        )
        ax.set_ylabel("neuron" if index < len(coefs) else "output")
    return np.asarray(axes)


def plot_first_layer_dft(estimator, n_blocks=2, n_features=None, ax=None):
    """``|DFT|`` of each first-layer neuron's incoming weights (paper Fig. 10).

    The input features (without the intercept) are split into ``n_blocks``
    equal blocks, e.g. ``[onehot(a), onehot(b)]`` for modular addition, and each
    block of each neuron's weights is Fourier transformed. A neuron that has
    learnt a frequency shows one bright column per block.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier
    n_blocks : int, default=2
    n_features : int, optional
        Transform only the first ``n_features`` input features, e.g. to leave out
        a constant feature that is part of ``X``. By default all of them.
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    check_is_fitted(estimator)
    plt = _pyplot()
    n_features = estimator.n_features_in_ if n_features is None else n_features
    weights = estimator.coefs_[0][:n_features].T  # (neurons, features)
    if weights.shape[1] % n_blocks:
        raise ValueError(
            f"{weights.shape[1]} features cannot be split into {n_blocks} equal blocks."
        )
    blocks = np.split(weights, n_blocks, axis=1)
    spectrum = np.hstack([np.abs(np.fft.fft(block, axis=1)) for block in blocks])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(spectrum, aspect="auto", cmap="magma", interpolation="none")
    ax.figure.colorbar(image, ax=ax)
    for boundary in range(1, n_blocks):
        ax.axvline(boundary * blocks[0].shape[1] - 0.5, color="w", lw=0.8)
    ax.set_xlabel("frequency (one block of frequencies per input block)")
    ax.set_ylabel("first-layer neuron")
    ax.set_title("|DFT| of first-layer incoming weights")
    return ax
