"""The samples early stopping holds out (docs/algorithm.md §3.7)."""

import numpy as np
from sklearn.model_selection import train_test_split


class HeldOutSplitError(ValueError):
    """The held-out split cannot be made (too few samples, or classes too small)."""


def validation_split(
    X, Y, sample_weight, stratify, seed, fraction, min_samples, estimator, class_labels=None
):
    """Training indices and the held-out ``(X, Y, sample_weight)``.

    Parameters
    ----------
    X, Y, sample_weight : ndarray
        The training data (distinct rows, positive weights), its targets and weights.
    stratify : ndarray or None
        Class labels to stratify on (the classifier).
    seed : int
        Seed of the split, drawn once per estimator so a warm start keeps it.
    fraction : float
        ``validation_fraction``.
    min_samples : int
        Held-out samples the validation score needs to be defined.
    estimator : str
        The estimator's name, for the messages.
    class_labels : ndarray, optional
        The user's label of each class index in ``stratify``: the messages name them.

    Raises
    ------
    HeldOutSplitError
        The split cannot be made, or holds out fewer than ``min_samples`` samples; the
        message names ``early_stopping`` and ``validation_fraction``.
    """
    n_samples = X.shape[0]
    advice = (
        "Use more samples, another validation_fraction, or early_stopping=False (the "
        "number of neurons is then bounded by max_iter and tol)."
    )
    try:
        train, held_out = train_test_split(
            np.arange(n_samples), test_size=fraction, random_state=seed, stratify=stratify
        )
    except ValueError as error:
        what = "a stratified part of" if stratify is not None else "part of"
        raise HeldOutSplitError(
            f"early_stopping holds out {what} the {n_samples} distinct samples "
            f"(validation_fraction={fraction}) and {estimator} cannot make that split: "
            f"{_reason(error, stratify, class_labels)}. {advice}"
        ) from None
    if len(held_out) < min_samples:
        raise HeldOutSplitError(
            f"early_stopping held out {len(held_out)} of the {n_samples} distinct samples "
            f"(validation_fraction={fraction}); {estimator} needs at least {min_samples} "
            f"to score them. {advice}"
        )
    weight = sample_weight[held_out]
    if not np.isfinite(weight.sum()):  # huge weights: only their ratios matter to a score
        weight = weight / weight.max()
    return train, (X[held_out], Y[held_out], weight)


def _reason(error, stratify, class_labels):
    """scikit-learn's reason the split failed, with classes named by the user's labels.

    Its own message lists the class indices the split was stratified on, which are not
    the user's labels.
    """
    if stratify is not None and class_labels is not None:
        counts = np.bincount(stratify, minlength=len(class_labels))
        too_small = np.asarray(class_labels)[counts == 1].tolist()
        if too_small:
            return (
                f"the classes {too_small} have 1 distinct sample each, and a stratified "
                "split needs 2"
            )
    return str(error).rstrip(".")
