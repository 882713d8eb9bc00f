"""Early stopping: after every iteration, the validation score and the kept network."""

import numpy as np

# The highest validation score there is: accuracy and R^2 are at most 1.
PERFECT_VALIDATION_SCORE = 1.0

# A network replaces the kept one when it scores higher on the held-out samples by more
# than this many standard errors of the difference (docs/algorithm.md §3.7).
KEEP_STANDARD_ERRORS = 1.0

# The network with no neuron (the targets' mean) replaces the kept network only when it
# scores higher by more than this many (docs/decisions.md, "The mean when it scores
# clearly higher than the kept network"): at one, a few held-out rows replaced networks
# that scored well on new data.
MEAN_STANDARD_ERRORS = 2.0

# n_iter_no_change="auto" (docs/algorithm.md §3.7, measured: docs/decisions.md, "The
# regressor's patience"): wait twice the iterations it took to reach the best score,
# within these bounds.
AUTO_PATIENCE_PER_ITERATION = 2
AUTO_PATIENCE_RANGE = (3, 10)


def patience(n_iter_no_change, best_iteration):
    """Iterations without a better validation score before early stopping stops.

    ``n_iter_no_change`` itself when it is a number; for ``"auto"``
    ``AUTO_PATIENCE_PER_ITERATION * best_iteration`` within ``AUTO_PATIENCE_RANGE``: a
    growth whose best network came early gives up early, one that improved for long
    waits long.
    """
    if n_iter_no_change != "auto":
        return n_iter_no_change
    low, high = AUTO_PATIENCE_RANGE
    return min(high, max(low, AUTO_PATIENCE_PER_ITERATION * best_iteration))


def clearly_better(terms, kept_terms, standard_errors=None):
    """Whether a validation score beats the kept one by more than its noise.

    Parameters
    ----------
    terms, kept_terms : ndarray of shape (n_held_out,)
        Each held-out sample's term of the two networks' scores (the scores are
        their sums up to a constant).

    Returns
    -------
    bool
        The paired gain ``sum(terms - kept_terms)`` exceeds ``standard_errors``
        (None: ``KEEP_STANDARD_ERRORS``) times its standard error,
        ``sqrt(m / (m - 1) * sum((d - mean(d))**2))`` for ``m`` held-out samples. A
        gain made on one of several samples alone is exactly one standard error, so it
        does not count; with a single held-out sample any gain does.
    """
    gain = terms - kept_terms
    return gain_is_clear(gain.sum(), np.sum((gain - gain.mean()) ** 2), gain.size, standard_errors)


def gain_is_clear(total, squares, m, standard_errors=None):
    """:func:`clearly_better` from the paired gains' sum ``total``, the sum ``squares`` of
    their squared deviations from their mean, and their number ``m`` (sums that a
    data-parallel fit reduces over its processes)."""
    if standard_errors is None:
        standard_errors = KEEP_STANDARD_ERRORS
    spread = np.sqrt(m / (m - 1) * squares) if m > 1 else 0.0
    # A gain on one sample alone is exactly one standard error: rounding must not decide.
    return bool(total > standard_errors * spread * (1 + 1e-9))


class EarlyStopping:
    """The validation score after every iteration, the kept network and the patience.

    docs/algorithm.md §3.7. Holds the held-out data and what it needs to score a
    network on it; the estimator puts ``scores`` (iteration -> score) in ``history_``.

    Parameters
    ----------
    validation : tuple of ndarray
        The held-out ``(X, Y, sample_weight)``, in the data's units.
    score, terms : callable
        ``score(output, Y, sample_weight)``, the validation score, and ``terms(...)``,
        its per-sample terms (the score is their sum up to a constant).
    problem : FitProblem
        The fit's units: networks and held-out targets are scored in them (the scores
        are invariant to the targets' units, and no scale of ``y`` overflows there).
    tol : float
        A score restarts the patience when it beats the best by more than ``tol``.
    n_iter_no_change : int or "auto"
        Iterations without such a score before stopping (:func:`patience`).
    previous : tuple or None
        A warm start's ``(weights, iteration)``: the network kept so far.
    verbose : int, default=0
        Print each iteration's score and the kept iteration (after the engine's line).
    """

    def __init__(
        self, validation, score, terms, problem, tol, n_iter_no_change, previous, verbose=0
    ):
        X_val, Y_val, weight_val = validation
        # The held-out rows in the fit's units, once: every iteration scores on them.
        self.validation = (problem.inputs(X_val), problem.scaled_targets(Y_val), weight_val)
        self.score_function, self.terms_function = score, terms
        self.problem = problem
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.best_score = None  # the highest score so far: the patience counts from it
        self.best_iteration = None  # where the patience last restarted
        self.kept_score = self.kept_terms = self.kept_weights = self.kept_iteration = None
        self.scores = {}  # iteration -> validation score
        self.n_without_improvement = 0
        self.verbose = verbose
        if previous is not None:
            # A warm start continues the growth path from the network early stopping
            # kept: that network stays kept until a new one clearly scores higher
            # (as MLPClassifier's warm start keeps its best_validation_score_).
            self._keep(*previous)
            self.best_score, self.best_iteration = self.kept_score, self.kept_iteration

    def __call__(self, weights, record):
        """Score the network of ``record``'s iteration; a reason to stop, or None."""
        stop = None
        iteration = record.iteration
        # Outputs far beyond the targets (a held-out input far outside the training
        # rows) overflow the squares: the score is -inf, never clearly better; numpy's
        # warnings about it are not the user's.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kept_weights is None:
                score = self._keep(weights, iteration)
            else:
                score, terms = self._score_and_terms(weights)
                if self._clearly_better(terms, self.kept_terms):
                    self._keep(weights, iteration, score, terms)
        self.scores[iteration] = score
        if self.verbose:
            print(
                f"[NeuronPursuit]          validation score {score:.6g} | kept: iteration "
                f"{self.kept_iteration} ({self.kept_score:.6g})",
                flush=True,
            )
        # As MLPClassifier's early stopping: patience runs out unless a score beats
        # the best by more than ``tol`` (docs/algorithm.md §3.7).
        if self.best_score is None or score > self.best_score + self.tol:
            self.n_without_improvement = 0
            self.best_iteration = iteration
        else:
            self.n_without_improvement += 1
            if self.n_without_improvement >= patience(self.n_iter_no_change, self.best_iteration):
                stop = "early_stopping"
        self.best_score = score if self.best_score is None else max(score, self.best_score)
        # Only a higher score replaces the kept network, and none is higher than a
        # perfect kept one: the iterations of patience could not change the fitted
        # model (docs/algorithm.md §3.7).
        if self.kept_score >= PERFECT_VALIDATION_SCORE:
            stop = "perfect_validation"
        return stop

    def _clearly_better(self, terms, kept_terms, standard_errors=None):
        """:func:`clearly_better`; a data-parallel fit's reduces its sums
        (partition_problem.py)."""
        return clearly_better(terms, kept_terms, standard_errors)

    def _score_and_terms(self, weights):
        """The validation score of the network ``weights`` and its per-sample terms."""
        inputs, Y_val, weight_val = self.validation
        output = self.problem.scaled_output(weights, inputs)
        return (
            self.score_function(output, Y_val, weight_val),
            self.terms_function(output, Y_val, weight_val),
        )

    def _keep(self, weights, iteration, score=None, terms=None):
        """Make ``weights`` the kept network; its validation score."""
        if score is None:
            score, terms = self._score_and_terms(weights)
        self.kept_score, self.kept_terms, self.kept_iteration = score, terms, iteration
        self.kept_weights = [w.clone() for w in weights]
        return score
