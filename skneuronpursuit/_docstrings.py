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

    ncf_steps : int, default=200
        Steps of projected gradient ascent per search (paper: 2,500–6,000).

    ncf_lr : float, default=1.0
        Ascent step size. The ascent runs on inputs and residuals rescaled to
        unit root-mean-square row norm, so the step is independent of the units
        of the data (the paper's 0.2–2 were for its unscaled data).

    ncf_samples : int or None, default=4096
        On more training samples than this, each search runs the first 90% of
        its ascent steps on this many samples drawn at random (afresh for every
        search) and the rest on all of them; the candidates are compared on all
        samples. The NCF is a sum over samples, which the subset estimates, so
        a search costs about ``0.9 ncf_samples / n_samples + 0.1`` of a full one. None:
        every step on all samples. Fits on at most ``ncf_samples`` samples (after
        early stopping holds some out) are not affected (docs/algorithm.md §3.3).

    layer_choice : {"auto", "decrease", "ncf"}, default="auto"
        Which hidden layer receives the next neuron, each layer offering its best
        candidate. ``"ncf"`` (the paper's rule): the largest NCF value ``N``.
        ``"decrease"``: the largest loss decrease the candidate promises at its scale,
        ``n N^2 / (2 Q)`` with ``Q`` the squared size of its change of the output
        (docs/algorithm.md §3.2). ``"auto"``: ``"decrease"`` for the squared loss,
        ``"ncf"`` for the classifier's log loss. With one hidden layer the rules agree.

    neurons_per_iteration : int, default=1
        At most this many neurons per iteration, all in the layer that grows: the
        chosen KKT point and, in order of NCF value, other restarts' KKT points
        whose value is above half of it, whose incoming direction is far from the
        iteration's other neurons (``|cosine| <= 0.7``) and which each lower the
        objective when added at their own scale (docs/algorithm.md §3.8). A fit
        then needs fewer iterations, each one search and one inner descent. 1 is
        the paper's; ``max_iter`` counts iterations, not neurons.

    gd_steps : int, default=1000
        Budget of full-batch gradient descent steps after each added neuron
        (paper: 70,000–500,000); steps that are rolled back do not count.
        Descent stops earlier once converged (``gd_tol``).

    gd_lr : float, default=0.1
        Gradient descent step size, on the internally rescaled problem (``X``
        per feature and ``y`` as a whole divided by their root mean square),
        and the largest step the descent uses. The loss is checked every
        ``gd_window`` steps: if it rose over the window, the window is rolled
        back and the step halved, at most 4 times per added neuron. The next
        neuron's descent starts from twice the step the last one ended with (at
        most ``gd_lr``), so a halved step grows back (docs/inner-descent.md).

    gd_momentum : float or "auto", default="auto"
        Nesterov momentum ``mu`` in ``[0, 1)`` of the inner descent
        (``v <- mu v + g``, ``w <- w - gd_lr (g + mu v)``, as ``torch.optim.SGD``
        with ``nesterov=True``); the velocity restarts from zero after every
        roll-back, so the loss still never rises. 0 is plain gradient descent,
        the paper's. "auto" is 0.9 with a penalty (``alpha > 0``) and 0 without:
        the penalised loss has a minimum that momentum reaches sooner, while
        without a penalty it let the classifier's fits race to overfit
        (docs/inner-descent.md, "Momentum"). On the benchmark suite with n in the
        thousands 0.9 gave lower test errors with fewer neurons and shorter
        fits; with a few hundred samples the results were mixed
        (benchmarks/README.md, "Inner solver").

    gd_window : int, default=250
        Gradient descent steps between two checks of the loss. A rise is judged
        over a whole window, so the oscillations of a large stable step and
        float32 rounding do not halve the step (the paper checks every 50,000
        steps on pointer value retrieval, and not at all elsewhere).

    gd_tol : float, default=1e-4
        Stop the descent once a window lowered the loss by less than this
        fraction of it. 0 runs the descent to ``gd_steps`` unless a window
        leaves the loss unchanged (the paper's fixed step counts). For
        Levenberg-Marquardt: stop once an accepted step lowered the loss by less
        than this fraction of it and by no more than the step before.

    solver : {"auto", "gd", "lm"}, default="auto"
        The inner minimisation after each added neuron. ``"gd"``: full-batch
        gradient descent (the paper's), controlled by ``gd_steps``, ``gd_lr``,
        ``gd_momentum``, ``gd_window`` and ``gd_tol``. ``"lm"``:
        Levenberg-Marquardt, which solves a damped Gauss-Newton system per step
        (for the log loss the generalised one, with the cross-entropy's Hessian;
        by Cholesky while weights times outputs is at most 1,500, by conjugate
        gradients beyond), takes a step only if it lowers the loss, runs at most
        ``lm_steps`` steps and stops on ``gd_tol`` as above. ``"auto"``: where
        weights times outputs is at most 1,500 (the small networks Neuron
        Pursuit grows, with few outputs), for the squared loss one window of
        gradient descent (``gd_window`` steps) finished by ``"lm"``, for the log
        loss with ``alpha > 0`` ``"lm"``; elsewhere (many outputs, large
        networks, the unpenalised log loss) ``"gd"``. ``history_`` says which ran in
        each iteration. On the benchmark suite ``"auto"`` fitted in less time
        than ``"gd"`` with test errors as low or lower from a few hundred
        samples on (benchmarks/README.md); docs/inner-descent.md says why.

    lm_steps : int, default=20
        Levenberg-Marquardt steps (accepted ones) after each added neuron at
        most. Stopping short of the nearest minimum, as gradient descent's budget
        does, leaves later neurons more to do (docs/levenberg-marquardt.md).

    max_iter : int, default=31
        Maximum number of iterations; each iteration after the first adds one
        neuron (paper: 31).

    tol : float, default=1e-3
        Stop once the relative training error ``||Y - H(X)||^2 / ||Y||^2``
        (sample-weighted) is at or below ``tol`` (paper: 1e-3); for the
        classifier's ``loss="log_loss"``, the cross-entropy relative to that of
        the zero network, ``log(n_classes)``. With ``alpha > 0`` the penalty is
        counted in. With early stopping, as in ``MLPClassifier``, a validation
        score restarts the patience only when it beats the best by more than
        ``tol`` (a smaller gain still replaces the kept network).

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

    rebalance : bool, default=False
        After each iteration, rescale every hidden neuron so that
        ``||in||^2 = p ||out||^2`` without changing predictions (docs/algorithm.md §5;
        the paper does so for pointer value retrieval).

    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` keeps growing the
        fitted network (and its random stream) instead of starting afresh, up
        to ``max_iter`` iterations in all. Fitting to ``max_iter=5`` and then to
        ``max_iter=10`` gives the same network as fitting to 10 at once. With
        early stopping it grows from the kept network (``best_iteration_``),
        which stays the fitted one unless a new network clearly scores higher.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data (stratified for
        the classifier), score the network on it after every iteration (R^2 or
        accuracy), stop when the score has not improved by more than ``tol`` for
        ``n_iter_no_change`` iterations, and keep the smallest network that no
        later one beats by more than one standard error of the difference in
        score: the number of neurons is then chosen on held-out data. "auto"
        does so when at least 10 samples would be held out
        (``validation_fraction * n_samples >= 10``) and fits on all samples
        otherwise; ``early_stopping_`` says which. "auto"
        is the default: on noisy data it keeps NP from fitting the noise, and
        with the default inner solver it scored as well or better on three of
        scikit-learn's four classification datasets, in less time
        (docs/algorithm.md §3.7). With ``alpha > 0`` "auto" holds nothing out:
        the penalty bounds the growth (docs/algorithm.md §10). The paper's
        protocol is False.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping``.

    n_iter_no_change : int, default=10
        Iterations without a validation score better by more than ``tol``
        before stopping.

    dtype : {"float32", "float64"}, default="float32"
        Floating point type of the computation; fitted weights are stored as
        float64 either way. float32 is about twice as fast once the matrix
        products dominate (n in the thousands), and its tensors take half the
        memory. It resolves relative loss changes of ~1e-7 only, so growth that
        hinges on smaller changes (saddles) can differ from float64's; choose
        ``"float64"`` where that matters. Weighted and repeated samples, or the
        same samples in another order, give identical fits on the CPU in either
        dtype: zero weights are dropped, equal samples merged and the samples
        sorted first.

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
        1 prints one line per iteration; 2 adds the scale of the new neuron and
        the gradient descent that followed. With scikit-learn's callback API
        (``sklearn.callback``), ``est.set_callbacks(ProgressBar())`` shows a live
        bar instead; each iteration is one task."""


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

    history_ : list of dict
        One record per iteration: ``iteration``, ``layer`` (1-based hidden layer
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
        (``search_seconds``) and in the inner minimisation (``gd_seconds``).
        Losses and NCF values refer to the internally rescaled problem (``y``
        divided by ``y_scale_``); ``train_error`` is scale-free.

    loss_curve_ : list of float
        The loss after each iteration.

    stop_reason_ : str
        Why the fit stopped: ``"tol"``, ``"max_iter"``, ``"no_positive_kkt"``,
        ``"penalty"`` (with ``alpha > 0``, no neuron lowers the loss plus its
        penalty, or once the fit has converged none by more than 0.1%: ``alpha``
        sets the network's size), ``"diverged"``,
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
        With ``early_stopping``, the validation score of the kept network (over
        the whole growth, a warm start's earlier iterations included). A larger
        network is kept only when it scores higher by more than one standard error
        of the difference, so this can be below ``max(validation_scores_)``
        (docs/algorithm.md §3.7).

    best_iteration_ : int or None
        The iteration whose network is kept, with ``early_stopping``.

    x_scale_ : ndarray of shape (n_features_in_,)
        Root mean square of each feature, by which ``X`` was divided for the fit.

    y_scale_ : float
        Root mean square of the targets, by which they were divided for the fit
        (1 with the classifier's ``loss="log_loss"``: its outputs are logits).

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
        How much the network output moves with each input: the mean over the
        training rows (weighted by ``sample_weight``; a seeded subsample of at most
        4096 of them) of ``sum_k |dH_k/dx_j|``, summed over all outputs (the
        classifier's scores or logits), times the weighted standard deviation of
        ``x_j``; normalised to sum to 1, all zeros for a network with no neurons.
        It does not depend on the units of ``X`` or ``y``. Set by ``fit``, and
        recomputed by :meth:`prune` on the rows it is given. Usable by
        :class:`~sklearn.feature_selection.SelectFromModel` and
        :class:`~sklearn.feature_selection.RFE` (docs/algorithm.md §1)."""
