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


def _check_fitted(estimator):
    """A fitted Neuron Pursuit estimator; a pipeline or a cross-validated estimator is
    refused with the step to pass instead."""
    name = type(estimator).__name__
    if hasattr(estimator, "steps"):
        raise TypeError(
            f"{name} is a pipeline: pass its fitted Neuron Pursuit step, e.g. pipeline[-1]."
        )
    check_is_fitted(estimator)
    if not hasattr(estimator, "coefs_") and hasattr(estimator, "estimator_"):
        raise TypeError(f"pass {name}'s refitted estimator, estimator_, instead of {name}.")


def _has_intercept(model):
    """Whether the first layer's last input is the intercept feature (an estimator's, or
    a :class:`PursuitFit`'s)."""
    intercept = getattr(model, "_fit_intercept_", None)
    return bool(getattr(model, "fit_intercept", False) if intercept is None else intercept)


def _check_count(name, value, low, high):
    """``value`` an integer in ``[low, high]``, else a ValueError naming ``name``."""
    if not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}.")


def _permutation(order, size, name, layer=1):
    """``order`` as an integer array, checked to be a permutation of the ``size``
    neurons of hidden layer ``layer``; else a ValueError naming ``name``."""
    array = np.asarray(order)
    if array.ndim != 1 or sorted(array.tolist()) != list(range(size)):
        raise ValueError(
            f"{name} must be a permutation of the {size} neurons of hidden layer {layer}, "
            f"got {order!r}."
        )
    return array


def _layer_orders(neuron_order):
    """``plot_weights``' ``neuron_order`` as one entry per hidden layer: a single
    permutation (integers, e.g. :func:`dominant_frequency_order`'s) is the first layer's."""
    if neuron_order is None:
        return []
    orders = list(neuron_order)
    if orders and all(np.ndim(entry) == 0 and entry is not None for entry in orders):
        return [np.asarray(orders)]
    return orders


def _integer_ticks(axis):
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def plot_growth(estimator, ax=None):
    """Loss and training error against iterations, with the layer of each addition.

    Markers on the training-error line show which hidden layer grew (a star for
    the first iteration); with ``early_stopping`` the validation score is drawn on
    a second axis and the kept iteration is marked, or, where the network with no
    neuron (the targets' mean) was kept instead, its validation score. The legend
    sits below the plot.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier, or PursuitFit
        A :class:`PursuitFit` is :func:`neuron_pursuit`'s result.
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    from ._engine.function import PursuitFit

    if isinstance(estimator, PursuitFit):
        history, scores, stop = estimator.history, None, estimator.stop_reason
        name = "neuron_pursuit"
    else:
        _check_fitted(estimator)
        history, scores = estimator.history_, estimator.validation_scores_
        name, stop = type(estimator).__name__, estimator.stop_reason_
    # The network with no neuron kept instead of the growth's (docs/algorithm.md §3.5).
    kept_none = getattr(estimator, "_grown_weights_", None) is not None
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    marker = "." if len(history) == 1 else None  # a line of one point is drawn as a dot
    iterations = [r["iteration"] for r in history]
    # Markers first and small, the lines over them: no line hides under its markers.
    layers = sorted({r["layer"] for r in history if r["layer"] is not None})
    for index, layer in enumerate([None, *layers]):
        points = [r for r in history if r["layer"] == layer]
        ax.scatter(
            [r["iteration"] for r in points],
            [r["train_error"] for r in points],
            marker="*" if layer is None else "os^Dv"[index % 5],
            s=60 if layer is None else 14,
            color="k" if layer is None else f"C{index + 1}",
            zorder=2,
            label="first neurons" if layer is None else f"neuron added to layer {layer}",
        )
    losses = [r["loss"] for r in history]
    ax.semilogy(iterations, losses, color="C0", marker=marker, zorder=3, label="loss")
    train_error = [r["train_error"] for r in history]
    ax.semilogy(
        iterations,
        train_error,
        color="C1",
        marker=marker,
        zorder=3,
        label="relative training error",
    )
    ax.set_xlabel("iteration (neurons added)")
    ax.set_ylabel("loss, relative training error")
    _integer_ticks(ax.xaxis)
    handles, labels = ax.get_legend_handles_labels()
    if scores is not None:
        twin = ax.twinx()
        twin.plot(
            iterations,
            scores,
            color="C7",
            ls="--",
            marker=marker,
            label="validation score (right axis)",
        )
        if kept_none:
            twin.axhline(
                estimator.best_validation_score_,
                color="C7",
                lw=0.8,
                ls=":",
                label="kept: no neuron (the targets' mean)",
            )
        else:
            kept = estimator.best_iteration_
            twin.axvline(kept, color="C7", lw=0.8, ls=":", label=f"kept: iteration {kept}")
        twin.set_ylabel("validation score")
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(
        handles,
        labels,
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.15),
        ncol=min(len(labels), 3),
        frameon=False,
    )
    kept_text = "; kept: no neuron" if kept_none else ""
    ax.set_title(f"{name}: stopped on {stop}{kept_text}")
    return ax


def _coefs(model):
    """``coefs_`` of a fitted estimator, or ``coefs`` of :func:`neuron_pursuit`'s result."""
    from ._engine.function import PursuitFit

    if isinstance(model, PursuitFit):
        return model.coefs
    _check_fitted(model)
    return model.coefs_


def plot_weights(estimator, axes=None, neuron_order=None):
    """Heatmaps of the signed weights ``W_l`` of every layer (paper Fig. 6, 11).

    A diverging colormap centred at 0 (blue negative, red positive, white zero)
    per layer: zero weights and sign patterns stand out.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier, or PursuitFit
        A :class:`PursuitFit` is :func:`neuron_pursuit`'s result (the paper's protocol).
    axes : sequence of matplotlib Axes, optional
        One per weight layer.
    neuron_order : sequence of array-like, optional
        One permutation per hidden layer (or None to keep one), e.g. neurons
        sorted by what they compute; rows of ``W_l`` and columns of ``W_{l+1}``
        follow it. A single permutation of integers (such as
        :func:`dominant_frequency_order`'s) orders the first hidden layer. By
        default the order the neurons were added in.

    Returns
    -------
    axes : ndarray of matplotlib Axes
    """
    plt = _pyplot()
    weights = [c.T for c in _coefs(estimator)]  # W_l of shape (k_l, k_{l-1})
    neuron_order = _layer_orders(neuron_order)
    if len(neuron_order) > len(weights) - 1:
        raise ValueError(
            f"neuron_order has {len(neuron_order)} entries; the network has "
            f"{len(weights) - 1} hidden layers."
        )
    for layer, order in enumerate(neuron_order):
        if order is not None:
            size = weights[layer].shape[0]
            order = _permutation(order, size, f"neuron_order[{layer}]", layer + 1)
            weights[layer] = weights[layer][order]
            weights[layer + 1] = weights[layer + 1][:, order]
    if axes is None:
        _, axes = plt.subplots(
            1, len(weights), figsize=(4.5 * len(weights), 3.8), squeeze=False, layout="constrained"
        )
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < len(weights):
        raise ValueError(f"axes needs one Axes per weight layer, {len(weights)}; got {len(axes)}.")
    for index, (ax, weight) in enumerate(zip(axes, weights), start=1):
        ax.set_title(f"W_{index}  ({weight.shape[0]} x {weight.shape[1]})")
        if weight.size == 0:  # every neuron of a hidden layer pruned
            ax.text(0.5, 0.5, "no weights", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        largest = float(np.abs(weight).max()) or 1.0
        image = ax.imshow(
            weight,
            aspect="auto",
            cmap="RdBu_r",
            vmin=-largest,
            vmax=largest,
            interpolation="none",
        )
        ax.figure.colorbar(image, ax=ax)
        if index == 1:
            ax.set_xlabel("input" + (" (last: intercept)" if _has_intercept(estimator) else ""))
        else:
            ax.set_xlabel(f"neuron of hidden layer {index - 1}")
        ax.set_ylabel(f"neuron of hidden layer {index}" if index < len(weights) else "output")
        _integer_ticks(ax.xaxis)
        _integer_ticks(ax.yaxis)
    return axes[: len(weights)]


def dominant_frequency_order(estimator, block_size):
    """First-layer neurons sorted by the frequency that dominates their first block.

    The DFT of each neuron's incoming weights on the first ``block_size`` inputs
    (e.g. ``onehot(a)`` in modular addition) is taken; frequencies ``k`` and
    ``block_size - k`` count as one. Neurons are sorted by that frequency, and
    within one frequency by the strength of its peak. The constant frequency is
    left out. Pass the result as ``neuron_order`` to :func:`plot_weights` (in a
    list) or :func:`plot_first_layer_dft`.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier, or PursuitFit
    block_size : int

    Returns
    -------
    order : ndarray of int, a permutation of the first-layer neurons
    """
    first = _coefs(estimator)[0]
    n_inputs = first.shape[0] - int(_has_intercept(estimator))
    _check_count("block_size", block_size, 2, n_inputs)
    weights = first[:block_size].T
    power = np.abs(np.fft.fft(weights, axis=1))[:, 1:] ** 2
    frequencies = np.arange(1, block_size)
    frequency = np.minimum(frequencies, block_size - frequencies)[power.argmax(axis=1)]
    return np.lexsort((-power.max(axis=1), frequency))


def plot_first_layer_dft(estimator, n_blocks=2, n_features=None, ax=None, neuron_order=None):
    """``|DFT|`` of each first-layer neuron's incoming weights (paper Fig. 10).

    The input features (without the intercept) are split into ``n_blocks``
    equal blocks, e.g. ``[onehot(a), onehot(b)]`` for modular addition, and each
    block of each neuron's weights is Fourier transformed. A neuron that has
    learnt a frequency shows one bright column per block.

    Parameters
    ----------
    estimator : fitted NeuronPursuitRegressor or NeuronPursuitClassifier, or PursuitFit
        A :class:`PursuitFit` is :func:`neuron_pursuit`'s result (the paper's protocol).
    n_blocks : int, default=2
    n_features : int, optional
        Transform only the first ``n_features`` input features, e.g. to leave out
        a constant feature that is part of ``X``. By default all of them.
    ax : matplotlib Axes, optional
    neuron_order : array-like, optional
        A permutation of the first-layer neurons to draw them in, e.g. sorted by
        their dominant frequency. By default the order they were added in.

    Returns
    -------
    ax : matplotlib Axes
    """
    first = _coefs(estimator)[0]
    plt = _pyplot()
    n_inputs = first.shape[0] - int(_has_intercept(estimator))
    n_features = n_inputs if n_features is None else n_features
    _check_count("n_features", n_features, 1, n_inputs)
    _check_count("n_blocks", n_blocks, 1, n_features)
    weights = first[:n_features].T  # (neurons, features)
    if neuron_order is not None:
        weights = weights[_permutation(neuron_order, weights.shape[0], "neuron_order")]
    if weights.shape[1] % n_blocks:
        raise ValueError(
            f"{weights.shape[1]} features cannot be split into {n_blocks} equal blocks."
        )
    blocks = np.split(weights, n_blocks, axis=1)
    spectrum = np.hstack([np.abs(np.fft.fft(block, axis=1)) for block in blocks])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    if weights.shape[0] == 0:  # as plot_weights draws an empty layer
        ax.text(0.5, 0.5, "no weights", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("|DFT| of first-layer incoming weights")
        return ax
    image = ax.imshow(spectrum, aspect="auto", cmap="magma", interpolation="none")
    ax.figure.colorbar(image, ax=ax)
    for boundary in range(1, n_blocks):
        ax.axvline(boundary * blocks[0].shape[1] - 0.5, color="w", lw=0.8)
    ax.set_xlabel("frequency (one block of frequencies per input block)")
    ax.set_ylabel("first-layer neuron")
    _integer_ticks(ax.xaxis)
    _integer_ticks(ax.yaxis)
    ax.set_title("|DFT| of first-layer incoming weights")
    return ax
