"""The samples early stopping holds out (docs/algorithm.md §3.7)."""

import numpy as np
from sklearn.model_selection import train_test_split


def validation_split(X, Y, sample_weight, stratify, seed, fraction, min_samples, estimator):
    """Training indices and the held-out ``(X, Y, sample_weight)``.

    Parameters
    ----------
    X, Y, sample_weight : ndarray
        The training data, its targets and weights.
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

    Raises
    ------
    ValueError
        Too few samples held out, or a part whose samples all have zero weight.
    """
    train, held_out = train_test_split(
        np.arange(X.shape[0]), test_size=fraction, random_state=seed, stratify=stratify
    )
    if len(held_out) < min_samples:
        raise ValueError(
            f"early_stopping=True held out {len(held_out)} of the {X.shape[0]} samples "
            f"(validation_fraction={fraction}); {estimator} needs at least {min_samples} "
            "to score them. Use more samples, a larger validation_fraction, or "
            "early_stopping=False."
        )
    for part, name in ((train, "training"), (held_out, "validation")):
        if not sample_weight[part].sum() > 0:
            raise ValueError(
                f"early_stopping=True split the {X.shape[0]} samples into "
                f"{len(train)} for training and {len(held_out)} for validation, and "
                f"the {name} samples all have zero sample_weight. Give more samples "
                "a positive weight, change validation_fraction, or set "
                "early_stopping=False."
            )
    return train, (X[held_out], Y[held_out], sample_weight[held_out])
