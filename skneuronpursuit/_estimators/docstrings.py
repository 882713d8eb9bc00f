"""numpydoc text shared by the two estimators' docstrings."""

# Shared numpydoc text of the hyperparameters, formatted into both estimators' docstrings.
_PARAMETERS_DOC = """depth : int, default=3
        Number of weight layers ``L >= 2`` (``L - 1`` hidden layers). The paper
        uses 3 for sparse functions and pointer value retrieval, 4 for Gaussian
        inputs, 2 for modular addition.

    activation_power : int, default=1
        The power ``p >= 1`` of the activation ``max(z, a*z)**p``.

    negative_slope : float, default=0.1
        The slope ``a`` in ``[-1, 1]``: ReLU is ``(p, a) = (1, 0)``, leaky
        ReLU ``(1, 0.1)``, the square ``z**2`` is ``(2, -1)``. The default is leaky:
        with ReLU, neurons that are off on every sample give zero correlation, and
        a fit can stall where leaky ReLU goes on (docs/algorithm.md §7).

    delta : float, default=0.2
        Initial scale of an added neuron as a fraction of the scale that would
        minimise the loss along its direction (docs/algorithm.md §3, ``t_opt``); the
        paper's values are 0.25 and 0.5. Halved, at most 4 times in the first
        iteration and 10 times later, until adding the neuron lowers the loss.

    n_restarts : int, default=16
        Random starting points of the projected gradient ascent that searches
        for the dominant KKT point of the neural correlation function (NCF),
        run as one batch for all hidden layers.

    gd_steps : int, default=1000
        Budget of full-batch gradient descent steps after each added neuron
        (paper: 70,000–500,000); steps that are rolled back do not count.
        Descent stops earlier once converged (``options.gd_tol``); the default
        solver spends one window of them and finishes with Levenberg-Marquardt.

    max_iter : int, default=31
        Maximum number of iterations; each iteration after the first adds one
        neuron (paper: 31).

    tol : float, default=1e-3
        Stop once the relative training error ``||Y - H(X)||^2 / ||Y||^2``
        (sample-weighted) is at or below ``tol`` (paper: 1e-3), with ``Y`` the
        targets as the fit sees them: for the regressor with an intercept, centred,
        so that it is ``1 - R^2`` on the training rows; for the
        classifier's ``loss="log_loss"``, the cross-entropy relative to that of
        the zero network, ``log(n_classes)``. With ``alpha > 0`` the penalty is
        counted in. With early stopping, as in ``MLPClassifier``, a validation
        score restarts the patience only when it beats the best by more than
        ``tol``; the kept network is replaced by one that scores higher by more
        than one standard error of the difference, whatever ``tol``
        (docs/algorithm.md §3.7).

    alpha : float, default=0.0
        Strength of the L2 penalty (weight decay): the fit minimises the loss
        plus ``alpha / 2`` times the sum of the squared weights, as
        ``SGDRegressor``'s ``alpha`` does with its mean loss (docs/algorithm.md
        §10). A neuron is added only if it lowers the loss plus its penalty; for
        a neuron whose output is of degree 2 in its weights (``activation_power=1``)
        that is when its NCF value exceeds ``alpha / 2``, so ``alpha`` also sets
        how many neurons grow (``stop_reason_ == "penalty"``). 0 is the paper's
        unpenalised loss.

    fit_intercept : bool, default=True
        Append a constant feature equal to 1 to ``X``. The network itself has no
        biases, which keeps it homogeneous in its weights.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data (stratified for
        the classifier), score the network on it after every iteration (R^2 or
        accuracy), stop when the score has not improved by more than ``tol`` for
        ``n_iter_no_change`` iterations, and keep the smallest network that no
        later one beats by more than one standard error of the difference in
        score: the number of neurons is then chosen on held-out data. "auto"
        does so when ``validation_fraction`` times the number of distinct samples
        of positive weight (the held-out split is drawn on them) is at least 2 for
        the regressor (R^2 needs two samples) and 10 for the classifier, and fits
        on all samples otherwise; ``early_stopping_`` says which. "auto"
        is the default: on noisy data it keeps NP from fitting the noise, and
        with the default inner solver it scored as well or better on three of
        scikit-learn's four classification datasets, in less time
        (docs/algorithm.md §3.7). With ``alpha > 0`` "auto" holds nothing out:
        the penalty bounds the growth (docs/algorithm.md §10). The paper's
        protocol is False.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping``.

    n_iter_no_change : int or "auto", default="auto"
        Iterations without a validation score better by more than ``tol``
        before early stopping stops. "auto": twice the iterations it took to
        reach the best score, at least 3 and at most 10, so that a growth whose
        best network came at its first neuron stops after 4 iterations rather
        than 11 (docs/algorithm.md §3.7).

    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` keeps growing the
        fitted network (and its random stream) instead of starting afresh, up
        to ``max_iter`` iterations in all. Without early stopping, fitting to
        ``max_iter=5`` and then to ``max_iter=10`` gives the same network as
        fitting to 10 at once when the first fit stopped at ``max_iter``; one that
        stopped for another reason (``stop_reason_``, e.g. ``"penalty"``) grows on
        from there with new searches, where the fit at once had stopped. With
        early stopping it grows from the kept network (``best_iteration_``),
        which stays the fitted one unless a new network clearly scores higher.
        A ``max_iter`` below the iterations of that network is an error, one
        equal to them a warning (the fit adds no neuron); so is turning early
        stopping on, since the network so far saw every sample.

    options : PursuitOptions or None, default=None
        Research knobs of the search, the inner minimisation and the growth rules
        (:class:`PursuitOptions`: ascent steps and step size, the inner solver and
        its descent window and tolerance, the layer rule, neurons per iteration,
        rebalancing). None: the defaults of ``PursuitOptions()``. Its fields left at
        None are chosen from the loss and ``alpha``; ``options_`` records what ran.
        ``set_params(options__solver="gd")``, or ``options__solver`` in a grid search,
        sets one field (the options object is replaced, never changed); ``get_params``
        lists ``options`` itself.
    dtype : {"float32", "float64"}, default="float32"
        Floating point type of the computation; fitted weights are stored as
        float64 either way. float32 is about twice as fast once the matrix
        products dominate (n in the thousands), and its tensors take half the
        memory. It resolves relative loss changes of ~1e-7 only, so growth that
        hinges on smaller changes (saddles) can differ from float64's; choose
        ``"float64"`` where that matters. Weighted and repeated samples, or the
        same samples in another order (without early stopping, whose split follows
        the rows' order), give identical fits on the CPU in either dtype: zero
        weights are dropped, equal samples merged and the samples sorted first.

    device : str or torch.device, default="auto"
        Torch device of the computation; ``"auto"`` is CUDA when available and
        the CPU otherwise. Fitted state is kept in NumPy arrays, so a model
        fitted on a GPU predicts on a CPU-only machine.

    random_state : int, RandomState instance or None, default=None
        Seeds the random starting points of the NCF searches (and the early
        stopping split). Pass an int for reproducible fits; None draws a fresh
        seed from the operating system. The global NumPy and torch generators
        are not used.

    verbose : int, default=0
        1 prints one line per iteration (with early stopping, a second with its
        validation score and the kept iteration) and one for the stop; 2 adds the
        scale of the new neuron and the gradient descent that followed. With
        scikit-learn's callback API (``sklearn.callback``),
        ``est.set_callbacks(ProgressBar())`` shows a live bar instead; each
        iteration is one task."""


def _with_default(text, name, default, note):
    """``text`` with the entry of the parameter ``name`` given ``default`` and ``note``
    appended to its description."""
    start = text.index(f"{name} : ")
    line_end = text.index("\n", start)
    entry_end = text.index("\n\n", start)
    head = text[start:line_end].rsplit("default=", 1)[0]
    body = text[line_end:entry_end]
    return text[:start] + f"{head}default={default}" + body + note + text[entry_end:]


def parameters_doc(**overrides):
    """The hyperparameters' numpydoc text, with an estimator's own defaults.

    ``overrides`` maps a parameter's name to ``(default, note)``: the default shown and
    a text appended to its description (say why this estimator's default differs).
    """
    text = _PARAMETERS_DOC
    for name, (default, note) in overrides.items():
        text = _with_default(text, name, default, note)
    return text


ATTRIBUTES_DOC = """coefs_ : list of ndarray
        ``coefs_[l]`` of shape ``(n_in, n_out)`` maps layer ``l`` to ``l + 1``, in
        the units of the original ``X`` and ``y``; with ``fit_intercept`` the last
        row of ``coefs_[0]`` multiplies the constant feature. Derived from the
        stored network on every access: changing it does not change the model.

    hidden_layer_sizes_ : tuple of int
        Width of every hidden layer of the grown network.

    n_iter_ : int
        Number of iterations run (the length of ``history_``).

    history_ : list of IterationRecord
        One record per iteration (a frozen dataclass, also read by key:
        ``record["loss"]``): ``iteration``, ``layer`` (1-based hidden layer
        that grew, ``None`` in the first iteration), ``ncf_value`` (NCF at the
        chosen unit-norm KKT point), ``delta`` (scale given to the new weights;
        with ``neurons_per_iteration > 1`` both of the iteration's first neuron,
        and ``loss_after_add`` after all of them), ``delta_halvings``,
        ``loss_before``, ``loss_after_add``, ``loss`` (after
        the inner minimisation), ``solver`` (``"gd"``, ``"lm"`` or ``"gd+lm"``:
        what ran), ``gd_steps``, ``gd_step_size``, ``gd_halvings`` (gradient
        descent's accepted steps, last step and halvings; Levenberg-Marquardt
        leaves the step unchanged), ``lm_steps``, ``lm_rejected``
        (Levenberg-Marquardt's accepted and rejected steps),
        ``train_error`` (relative), ``hidden_layer_sizes``, ``seconds`` and the
        part of it spent in the search and the addition of the neuron
        (``search_seconds``) and in the inner minimisation (``gd_seconds``),
        ``ncf_steps`` and ``ncf_lr`` (the ascent that ran) and ``gd_budget``
        (None here; the paper's schedule's step count, :func:`neuron_pursuit`).
        Losses and NCF values refer to the internally rescaled problem (``y``
        divided by ``y_scale_``); ``train_error`` is scale-free.

    loss_curve_ : list of float
        The loss after each iteration.

    stop_reason_ : str
        Why the fit stopped: ``"tol"``, ``"max_iter"``, ``"no_positive_kkt"``,
        ``"penalty"`` (with ``alpha > 0``, no neuron lowers the loss plus its
        penalty, or once the fit has converged none by more than 0.1%: ``alpha``
        sets the network's size), ``"diverged"``, ``"no_descent"`` (the best
        candidate raised the loss at every scale tried: its decrease is below the
        working precision),
        ``"non_finite"``, ``"interrupted"``, ``"stalled"`` (the last five added
        neurons lowered the loss by less than 0.1%: the fit is stuck; with
        ``alpha > 0`` the penalised loss has converged, and no warning is raised),
        ``"early_stopping"``, ``"perfect_validation"`` (the kept network's
        validation score reached 1, so no later network could be kept instead) or
        ``"callback"`` (a callback asked to stop).

    early_stopping_ : bool
        Whether the fit held out data (``early_stopping`` with "auto" resolved).

    validation_scores_ : list of float or None
        With ``early_stopping``, the validation score after each iteration of
        ``history_`` (also recorded there as ``validation_score``); else None.

    best_validation_score_ : float or None
        With ``early_stopping``, the validation score of the fitted model (over
        the whole growth, a warm start's earlier iterations included; the targets'
        mean where that is kept instead, docs/algorithm.md §3.5). A larger
        network is kept only when it scores higher by more than one standard error
        of the difference, so this can be below ``max(validation_scores_)``
        (docs/algorithm.md §3.7).

    best_iteration_ : int or None
        The iteration whose network is kept, with ``early_stopping``: on the growth
        path, which a warm start continues, also where the network with no neuron
        is kept instead (docs/algorithm.md §3.5).

    x_scale_ : ndarray of shape (n_features_in_,)
        Root mean square of each feature, by which ``X`` was divided for the fit.

    y_offset_ : ndarray of shape (n_outputs_,)
        Added to the network's output. The regressor with an intercept fits its
        targets less this offset, the smallest target, divided by ``y_scale_``
        (docs/algorithm.md §1); for a network with no neuron it is the targets'
        weighted mean; zeros otherwise.

    options_ : PursuitOptions
        The research knobs the fit ran with, every None of ``options`` resolved.

    y_scale_ : ndarray of shape (n_outputs_,)
        The targets' spread, by which they were divided for the fit. The regressor's
        per output: with an intercept its root mean square about its weighted mean, else
        its root mean square. The classifier's is one for all outputs, the root mean
        square of its encoded classes (1 with ``loss="log_loss"``: its outputs are
        logits).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit; only defined when ``X`` has feature
        names that are all strings.

    n_outputs_ : int
        Number of network outputs.

    n_pruned_ : int
        Hidden neurons removed by :meth:`prune` since the network started
        growing (0 after a fit that is not a warm start).

    feature_importances_ : ndarray of shape (n_features_in_,)
        How much the network's outputs move when input ``x_j`` alone is resampled:
        the root mean square change of all outputs (the classifier's scores or
        logits) when a training row's ``x_j`` is replaced by that of another
        training row drawn with the sample weights, over the training rows
        (weighted by ``sample_weight``; a seeded subsample of at most 4096 of
        them); normalised to sum to 1, all zeros for a network whose outputs do
        not depend on its inputs. It does not depend on the units of ``X`` or
        ``y``. Set by ``fit``, and recomputed by :meth:`prune` on the rows it is
        given. Usable by :class:`~sklearn.feature_selection.SelectFromModel` and
        :class:`~sklearn.feature_selection.RFE` (docs/algorithm.md §1)."""
