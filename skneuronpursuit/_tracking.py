"""After every iteration: validation score, the best network, scikit-learn's callbacks."""

from ._sample_data import _network_output, user_units

# The highest validation score there is: accuracy and R^2 are at most 1.
PERFECT_VALIDATION_SCORE = 1.0


class _IterationTracker:
    """Called after every iteration: validation score, best network, sklearn callbacks.

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
        self.best_score = self.best_weights = self.best_iteration = None
        self.scores = {}  # iteration -> validation score
        self.n_without_improvement = 0
        if validation is not None and previous is not None and previous["history"]:
            # A warm start continues the growth path from the network early stopping
            # kept: that network is the best so far until a new one scores higher
            # (as MLPClassifier's warm start keeps its best_validation_score_).
            self.best_weights = [w.clone() for w in previous["weights"]]
            self.best_score = self._score(self.best_weights)
            self.best_iteration = previous["history"][-1]["iteration"]
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
            score = self._score(weights)
            self.scores[record["iteration"]] = score
            # As MLPClassifier's early stopping: patience runs out unless a score beats
            # the best by more than ``tol``, while any higher score replaces the kept
            # network (docs/algorithm.md §3.7).
            if self.best_score is None or score > self.best_score + estimator.tol:
                self.n_without_improvement = 0
            else:
                self.n_without_improvement += 1
                if self.n_without_improvement >= estimator.n_iter_no_change:
                    stop = "early_stopping"
            if self.best_score is None or score > self.best_score:
                self.best_score, self.best_iteration = score, record["iteration"]
                self.best_weights = [w.clone() for w in weights]
            # Only a higher score replaces the kept network, and none is higher than a
            # perfect one: the iterations of patience could not change the fitted model
            # (docs/algorithm.md §3.7).
            if self.best_score >= PERFECT_VALIDATION_SCORE:
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

    def _score(self, weights):
        """The validation score of the network ``weights`` (in the units of the fit)."""
        X_val, Y_val, weight_val = self.validation
        fit_weights = self._attributes(weights)["_fit_weights_"]
        coefs = user_units(fit_weights, self.x_scale, self.y_scale)
        output = _network_output(coefs, X_val, self.activation, self.estimator.fit_intercept)
        return self.estimator._validation_score(output, Y_val, weight_val)

    def additions(self, record):
        """What the tracker adds to the engine's ``record`` in ``history_`` (a dict)."""
        if record["iteration"] in self.scores:
            return {"validation_score": self.scores[record["iteration"]]}
        return {}

    def _attributes(self, weights):
        return self.estimator._network_attributes(weights)
