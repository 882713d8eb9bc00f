"""The warning a finished fit gives: only where the user has something to fix, and true."""

import warnings

from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning

from .._engine.records import STOP_REASONS

# A kept network whose training loss is at least this fraction of the zero network's
# fits the training data no better than it: the growth is stuck (docs/algorithm.md §3.5).
STUCK_ERROR = 1 - 1e-3


def _still_rising(scores):
    """Whether the last validation score is above every earlier one (a single score
    counts: nothing says it stopped rising)."""
    return len(scores) == 1 or scores[-1] > max(scores[:-1])


def warn_about_stop(estimator):
    """A ConvergenceWarning for the fitted ``estimator``, where it has something to fix.

    A network that fits the training data no better than the zero network (the
    targets' mean for the regressor, uniform probabilities for the log loss), or a
    classifier's no better than the class frequencies, warns whatever stopped it;
    ``max_iter`` with early stopping warns only while the validation score was still
    rising (docs/algorithm.md §3.5).
    """
    name = f"{type(estimator).__name__} stopped after {estimator.n_iter_} iterations"
    kept = estimator.history_[estimator._kept_iteration() - 1] if estimator.history_ else None
    error = 1.0 if kept is None else kept["train_error"]
    reason = STOP_REASONS[estimator.stop_reason_]
    # A reason's message that speaks of the validation score is only true with one, and
    # max_iter's (the score was still improving) only while the last score is the best.
    tells = reason.warns and (estimator.early_stopping_ or not reason.only_with_early_stopping)
    if estimator.stop_reason_ == "max_iter" and estimator.early_stopping_:
        tells = tells and _still_rising(estimator.validation_scores_)
    said = f": {reason.message}" if tells else f" ({estimator.stop_reason_!r})"
    if kept is not None and error < STUCK_ERROR and not any(estimator.hidden_layer_sizes_):
        # The grown network fitted the training rows, but the network with no neuron
        # scored clearly higher on the held-out ones (growth_attributes.py).
        grown = estimator.validation_scores_[estimator._kept_iteration() - 1]
        warnings.warn(
            f"{name}: the network with no neuron, which predicts the targets' mean, scores "
            "clearly higher on the held-out rows than the network early stopping kept "
            f"(validation R^2 {estimator.best_validation_score_:.3g} against {grown:.3g}): "
            "the model is that constant. The grown networks fit the training rows but not "
            "the held-out ones: too few rows for the columns, or a target the inputs do "
            "not predict.",
            ConvergenceWarning,
        )
        return
    if (
        is_classifier(estimator)
        and estimator.stop_reason_ != "tol"
        and error < STUCK_ERROR
        and error >= STUCK_ERROR * getattr(estimator, "_constant_error_", 1.0)
    ):
        warnings.warn(
            f"{name}{said}. Its network fits the training data no better than the class "
            f"frequencies alone (relative training error {error:.3g}, theirs "
            f"{estimator._constant_error_:.3g}): it has learned nothing from the inputs. "
            "Try another depth, a smaller alpha or more n_restarts, and inputs scaled to "
            "unit spread (StandardScaler).",
            ConvergenceWarning,
        )
        return
    if estimator.stop_reason_ != "tol" and error >= STUCK_ERROR:
        replaced = "; the model is the network with no neuron, which fits better" * (error > 1)
        relu = "negative_slope=0.1 (with ReLU, neurons off on every sample give no signal), "
        warnings.warn(
            f"{name}{said}. Its network fits the training data no better than the zero "
            f"network does (relative training error {error:.3g}"
            f"{', no neuron' if kept is None else ''}): the growth is stuck{replaced}. With "
            "alpha > 0 try a smaller alpha; else another depth, "
            f"{relu * (estimator.negative_slope == 0)}more n_restarts.",
            ConvergenceWarning,
        )
        return
    if reason.quiet_with_penalty and estimator.alpha > 0:
        return
    if reason.quiet_with_early_stopping and estimator.early_stopping_:
        return
    if tells:
        warnings.warn(f"{name}: {reason.message}.", ConvergenceWarning)
