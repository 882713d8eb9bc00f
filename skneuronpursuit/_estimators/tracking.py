"""After every iteration: validation score, the kept network, scikit-learn's callbacks."""

import numpy as np

from .._engine.data import _network_output, user_units

# The highest validation score there is: accuracy and R^2 are at most 1.
PERFECT_VALIDATION_SCORE = 1.0

# A network replaces the kept one when it scores higher on the held-out samples by more
# than this many standard errors of the difference (docs/algorithm.md §3.7).
KEEP_STANDARD_ERRORS = 1.0


def clearly_better(terms, kept_terms):
    """Whether a validation score beats the kept one by more than its noise.

    Parameters
    ----------
    terms, kept_terms : ndarray of shape (n_held_out,)
        Each held-out sample's term of the two networks' scores (the scores are
        their sums up to a constant).

    Returns
    -------
    bool
        The paired gain ``sum(terms - kept_terms)`` exceeds ``KEEP_STANDARD_ERRORS``
        times its standard error, ``sqrt(m / (m - 1) * sum((d - mean(d))**2))`` for
        ``m`` held-out samples. A gain made on one of several samples alone is exactly
        one standard error, so it does not count; with a single held-out sample any
        gain does.
    """
    gain = terms - kept_terms
    m = gain.size
    spread = np.sqrt(m / (m - 1) * np.sum((gain - gain.mean()) ** 2)) if m > 1 else 0.0
    # A gain on one sample alone is exactly one standard error: rounding must not decide.
    return bool(gain.sum() > KEEP_STANDARD_ERRORS * spread * (1 + 1e-9))


class _IterationTracker:
    """Called after every iteration: validation score, kept network, sklearn callbacks.

    The engine's records are left as they are: what the tracker measures is kept
    here, and :meth:`additions` returns it for the estimator to put in ``history_``.
    """

    def __init__(self, estimator, X, Y, validation, scales, previous, activation, attributes):
        self.estimator = estimator
        self.activation = activation
        self.attributes = attributes  # estimator-specific fitted attributes (classes_)
        self.X, self.Y = X, Y
        self.validation = validation
        self.x_scale, self.y_scale = scales
        self.best_score = None  # the highest score so far: the patience counts from it
        self.kept_score = self.kept_terms = self.kept_weights = self.kept_iteration = None
        self.scores = {}  # iteration -> validation score
        self.n_without_improvement = 0
        if validation is not None and previous is not None and previous["history"]:
            # A warm start continues the growth path from the network early stopping
            # kept: that network stays kept until a new one clearly scores higher
            # (as MLPClassifier's warm start keeps its best_validation_score_).
            self._keep(previous["weights"], previous["history"][-1]["iteration"])
            self.best_score = self.kept_score
        self.context = None
        if hasattr(estimator, "_init_callback_context"):
            done = 0 if previous is None else len(previous["history"])
            self.context = estimator._init_callback_context(
                max_subtasks=max(int(estimator.max_iter) - done, 0)
            )
            self.context.call_on_fit_task_begin(estimator=estimator, X=X, y=Y)

    def __call__(self, weights, record):
        """Score the network of ``record``'s iteration; a reason to stop, or None."""
        estimator = self.estimator
        stop = None
        if self.validation is not None:
            if self.kept_weights is None:
                score = self._keep(weights, record["iteration"])
            else:
                score, terms = self._score_and_terms(weights)
                if clearly_better(terms, self.kept_terms):
                    self._keep(weights, record["iteration"], score, terms)
            self.scores[record["iteration"]] = score
            # As MLPClassifier's early stopping: patience runs out unless a score beats
            # the best by more than ``tol`` (docs/algorithm.md §3.7).
            if self.best_score is None or score > self.best_score + estimator.tol:
                self.n_without_improvement = 0
            else:
                self.n_without_improvement += 1
                if self.n_without_improvement >= estimator.n_iter_no_change:
                    stop = "early_stopping"
            self.best_score = score if self.best_score is None else max(score, self.best_score)
            # Only a higher score replaces the kept network, and none is higher than a
            # perfect kept one: the iterations of patience could not change the fitted
            # model (docs/algorithm.md §3.7).
            if self.kept_score >= PERFECT_VALIDATION_SCORE:
                stop = "perfect_validation"
        if self.context is not None:
            task = self.context.subcontext(task_name="iteration")
            task.call_on_fit_task_begin(estimator=estimator, X=self.X, y=self.Y)
            if task.call_on_fit_task_end(
                estimator=estimator,
                X=self.X,
                y=self.Y,
                reconstruction_attributes=lambda: {
                    **self.attributes,
                    **self._attributes(weights),
                    "n_outputs_": self.Y.shape[1],
                    "x_scale_": self.x_scale,
                    "y_scale_": self.y_scale,
                    "_activation_": self.activation,
                    "_fit_intercept_": bool(estimator.fit_intercept),
                },
            ):
                stop = stop or "callback"
        return stop

    def _score_and_terms(self, weights):
        """The validation score of the network ``weights`` and its per-sample terms."""
        X_val, Y_val, weight_val = self.validation
        fit_weights = self._attributes(weights)["_fit_weights_"]
        coefs = user_units(fit_weights, self.x_scale, self.y_scale)
        output = _network_output(coefs, X_val, self.activation, self.estimator.fit_intercept)
        return (
            self.estimator._validation_score(output, Y_val, weight_val),
            self.estimator._validation_terms(output, Y_val, weight_val),
        )

    def _keep(self, weights, iteration, score=None, terms=None):
        """Make ``weights`` the kept network; its validation score."""
        if score is None:
            score, terms = self._score_and_terms(weights)
        self.kept_score, self.kept_terms, self.kept_iteration = score, terms, iteration
        self.kept_weights = [w.clone() for w in weights]
        return score

    def additions(self, record):
        """What the tracker adds to the engine's ``record`` in ``history_`` (a dict)."""
        if record["iteration"] in self.scores:
            return {"validation_score": self.scores[record["iteration"]]}
        return {}

    def _attributes(self, weights):
        return self.estimator._network_attributes(weights)
