"""The estimator base shared by the regressor and the classifier (the sklearn façade)."""

import warnings
from abc import ABC, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._activation import HomogeneousActivation
from ._device import DTYPES, resolve_device
from ._export import HomogeneousNetwork
from ._importance import path_importances
from ._inputs import SparseInputs
from ._memory import check_memory
from ._network import predict as network_predict
from ._prune import keep_neurons, prune_neurons
from ._pursuit import STOP_MESSAGES, PursuitSettings, neuron_pursuit

try:  # scikit-learn's callback API (1.9+); without it, progress is shown by `verbose`
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - depends on the installed scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn versions without ``sklearn.callback``."""

    def with_callbacks(method):
        return method


# Stop reasons that end a fit as asked, without a ConvergenceWarning.
EXPECTED_STOPS = {"tol", "early_stopping", "callback"}

# Shared numpydoc text of the hyperparameters, formatted into both estimators' docstrings.
PARAMETERS_DOC = """depth : int, default=3
        Number of weight layers ``L >= 2`` (``L - 1`` hidden layers). The paper
        uses 3 for sparse functions and pointer value retrieval, 4 for Gaussian
        inputs, 2 for modular addition.

    activation_power : int, default=1
        The power ``p >= 1`` of the activation ``max(z, alpha*z)**p``.

    negative_slope : float, default=0.0
        The slope ``alpha`` in ``[-1, 1]``: ReLU is ``(p, alpha) = (1, 0)``, leaky
        ReLU ``(1, 0.1)``, the square ``z**2`` is ``(2, -1)``.

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

    gd_momentum : float, default=0.0
        Nesterov momentum ``mu`` in ``[0, 1)`` of the inner descent
        (``v <- mu v + g``, ``w <- w - gd_lr (g + mu v)``, as ``torch.optim.SGD``
        with ``nesterov=True``); the velocity restarts from zero after every
        roll-back, so the loss still never rises. 0 is plain gradient descent,
        the paper's. ``gd_momentum=0.9`` reaches a lower loss within the same
        ``gd_steps``: on the benchmark suite with n in the thousands it gave
        lower test errors with fewer neurons and shorter fits; with a few hundred
        samples the results were mixed (benchmarks/README.md, "Inner solver").

    gd_window : int, default=250
        Gradient descent steps between two checks of the loss. A rise is judged
        over a whole window, so the oscillations of a large stable step and
        float32 rounding do not halve the step (the paper checks every 50,000
        steps on pointer value retrieval, and not at all elsewhere).

    gd_tol : float, default=1e-4
        Stop the descent once a window lowered the loss by less than this
        fraction of it. 0 runs the descent to ``gd_steps`` unless a window
        leaves the loss unchanged (the paper's fixed step counts).

    max_iter : int, default=31
        Maximum number of iterations; each iteration after the first adds one
        neuron (paper: 31).

    tol : float, default=1e-3
        Stop once the relative training error ``||Y - H(X)||^2 / ||Y||^2``
        (sample-weighted) is at or below ``tol`` (paper: 1e-3).

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
        ``max_iter=10`` gives the same network as fitting to 10 at once.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        the classifier), score the network on it after every iteration (R^2 or
        accuracy), stop when the score has not improved for ``n_iter_no_change``
        iterations, and keep the network with the best score.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping``.

    n_iter_no_change : int, default=10
        Iterations without a better validation score before stopping.

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

ATTRIBUTES_DOC = """coefs_ : list of ndarray
        ``coefs_[l]`` of shape ``(n_in, n_out)`` maps layer ``l`` to ``l + 1``, in
        the units of the original ``X`` and ``y``; with ``fit_intercept`` the last
        row of ``coefs_[0]`` multiplies the constant feature.

    hidden_layer_sizes_ : tuple of int
        Width of every hidden layer of the grown network.

    n_iter_ : int
        Number of iterations run (the length of ``history_``).

    history_ : list of dict
        One record per iteration: ``iteration``, ``layer`` (1-based hidden layer
        that grew, ``None`` in the first iteration), ``ncf_value`` (NCF at the
        chosen unit-norm KKT point), ``delta`` (scale given to the new weights),
        ``delta_halvings``, ``loss_before``, ``loss_after_add``, ``loss`` (after
        gradient descent), ``gd_steps``, ``gd_step_size``, ``gd_halvings``,
        ``train_error`` (relative), ``hidden_layer_sizes`` and ``seconds``.
        Losses and NCF values refer to the internally rescaled problem (``y``
        divided by ``y_scale_``); ``train_error`` is scale-free.

    loss_curve_ : list of float
        The loss after each iteration.

    stop_reason_ : str
        Why the fit stopped: ``"tol"``, ``"max_iter"``, ``"no_positive_kkt"``,
        ``"diverged"``, ``"non_finite"``, ``"interrupted"``, ``"stalled"`` (the
        last five added neurons lowered the loss by less than 0.1%: the fit is
        stuck), ``"early_stopping"`` or ``"callback"`` (a callback asked to stop).

    validation_scores_ : list of float or None
        With ``early_stopping``, the validation score after each iteration of
        ``history_`` (also recorded there as ``validation_score``); else None.

    best_validation_score_ : float or None
        The best validation score, with ``early_stopping``.

    best_iteration_ : int or None
        The iteration whose network is kept, with ``early_stopping``.

    x_scale_ : ndarray of shape (n_features_in_,)
        Root mean square of each feature, by which ``X`` was divided for the fit.

    y_scale_ : float
        Root mean square of the targets, by which they were divided for the fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit; only defined when ``X`` has feature
        names that are all strings.

    n_outputs_ : int
        Number of network outputs."""


# A feature (or target) whose root mean square is below this is treated as zero: the
# reciprocal of a smaller scale, times the weights, would overflow in ``coefs_``
# (tiny / eps ~ 1e-292 leaves a factor 1/eps of headroom).
SMALLEST_SCALE = np.finfo(np.float64).tiny / np.finfo(np.float64).eps


def _mean_square(values, sample_weight):
    with np.errstate(over="ignore", under="ignore"):  # handled by _root_mean_square
        if scipy.sparse.issparse(values):
            squares = values.multiply(values).T @ sample_weight
            return np.asarray(squares).ravel() / sample_weight.sum()
        return np.average(values**2, axis=0, weights=sample_weight)


def _root_mean_square(values, sample_weight, axis=None):
    """Weighted RMS per column (``axis=0``) or of all values; 1 where it is (nearly) 0."""
    mean = _mean_square(values, sample_weight)
    scale = np.sqrt(mean if axis is not None else np.mean(mean))
    peak = abs(values).max(axis=0)
    peak = np.asarray(peak.todense() if scipy.sparse.issparse(peak) else peak).ravel()
    if axis is None:
        peak = peak.max()
    # Squares of values below ~1e-154 underflow (above ~1e154 overflow): then
    # divide by the largest magnitude first.
    if np.any((peak > 0) & ~((scale > 0) & np.isfinite(scale))):
        peak = np.where(peak > 0, peak, 1.0)
        if scipy.sparse.issparse(values):
            scaled = values @ scipy.sparse.diags(1 / np.broadcast_to(peak, values.shape[1]))
        else:
            scaled = values / peak
        mean = _mean_square(scaled, sample_weight)
        scale = peak * np.sqrt(mean if axis is not None else np.mean(mean))
    return np.where(scale >= SMALLEST_SCALE, scale, 1.0)


def _normalised_weights(sample_weight):
    """Weights of mean 1, computed in float64 before any cast to the fit's dtype.

    Dividing by the largest weight first keeps the sum finite for weights near the
    float64 maximum; the fit then depends on the weights' ratios only.
    """
    sample_weight = sample_weight / sample_weight.max()
    return sample_weight / sample_weight.mean()


def _sparse_row_keys(X, Y):
    """One bytes key per row of a canonical CSR ``X`` and of ``Y``: equal rows, equal keys.

    The length of a key fixes the row's number of non-zeros, so keys cannot collide.
    """
    indices, data, indptr = X.indices, X.data, X.indptr
    keys = np.empty(X.shape[0], dtype=object)
    for row in range(X.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        keys[row] = indices[start:end].tobytes() + data[start:end].tobytes() + Y[row].tobytes()
    return keys


def merge_duplicates(X, Y, sample_weight):
    """The weighted samples in a canonical form, the same for any equivalent input.

    Samples of zero weight are dropped, equal samples (same ``x`` and ``y``) are
    merged into one whose weight is the sum of theirs, and the samples are sorted.
    The squared loss is unchanged, so the fit is the same function of the data, but
    a weighted fit and a fit on the repeated samples (or on any permutation of them)
    now run on identical arrays and give identical networks, with no rounding
    difference to grow along the fit.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, not all zero.

    Returns
    -------
    X, Y, sample_weight
        The unique weighted samples, sorted by the bytes of their rows.
    """
    positive = sample_weight > 0
    X, Y, sample_weight = X[positive], Y[positive], sample_weight[positive]
    if scipy.sparse.issparse(X):
        X = scipy.sparse.csr_matrix(X, copy=True)
        X.sum_duplicates()
        X.eliminate_zeros()
        _, first, inverse = np.unique(
            _sparse_row_keys(X, Y), return_index=True, return_inverse=True
        )
    else:
        rows = np.ascontiguousarray(np.hstack([X, Y]))
        # Each row as one opaque value: sorting bytes is ~7x faster than np.unique(axis=0).
        keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    weights = np.bincount(inverse.ravel(), weights=sample_weight, minlength=len(first))
    return X[first], Y[first], weights


def _random_state(seed):
    """A RandomState from ``seed``; for None a new one seeded by the OS, not NumPy's global one."""
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


@contextmanager
def _restored_on_failure(estimator):
    """Undo any change to the fitted attributes (names ending in ``_``) if the block raises.

    A fit that fails, or is interrupted outside the growth loop, then leaves the
    estimator as it was: still fitted to the previous data, or not fitted at all.
    """
    saved = {name: value for name, value in vars(estimator).items() if name.endswith("_")}
    try:
        yield
    except BaseException:
        for name in [name for name in vars(estimator) if name.endswith("_")]:
            delattr(estimator, name)
        vars(estimator).update(saved)
        raise


class _Number(Interval):
    """An :class:`Interval` that refuses booleans (``True`` is an ``int`` in Python)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return super().__str__() + " (not a bool)"


class BaseNeuronPursuit(CallbackSupportMixin, BaseEstimator, ABC):
    """Shared hyperparameters, fit and forward pass of the Neuron Pursuit estimators."""

    # Held-out samples early stopping needs for a defined score (R^2 needs two).
    _min_validation_samples = 1

    _parameter_constraints: dict = {
        "depth": [_Number(Integral, 2, None, closed="left")],
        "activation_power": [_Number(Integral, 1, None, closed="left")],
        "negative_slope": [_Number(Real, -1, 1, closed="both")],
        "delta": [_Number(Real, 0, 1, closed="right")],
        "n_restarts": [_Number(Integral, 1, None, closed="left")],
        "ncf_steps": [_Number(Integral, 1, None, closed="left")],
        # The step sizes are also bounded by the largest number of the dtype, in fit.
        "ncf_lr": [_Number(Real, 0, None, closed="neither")],
        "gd_steps": [_Number(Integral, 0, None, closed="left")],
        "gd_lr": [_Number(Real, 0, None, closed="neither")],
        "gd_momentum": [_Number(Real, 0, 1, closed="left")],
        "gd_window": [_Number(Integral, 1, None, closed="left")],
        "gd_tol": [_Number(Real, 0, None, closed="left")],
        "max_iter": [_Number(Integral, 1, None, closed="left")],
        "tol": [_Number(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "rebalance": ["boolean"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [_Number(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [_Number(Integral, 1, None, closed="left")],
        "dtype": [StrOptions(set(DTYPES))],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        depth=3,
        activation_power=1,
        negative_slope=0.0,
        delta=0.2,
        n_restarts=16,
        ncf_steps=200,
        ncf_lr=1.0,
        gd_steps=1000,
        gd_lr=0.1,
        gd_momentum=0.0,
        gd_window=250,
        gd_tol=1e-4,
        max_iter=31,
        tol=1e-3,
        fit_intercept=True,
        rebalance=False,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        dtype="float32",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.depth = depth
        self.activation_power = activation_power
        self.negative_slope = negative_slope
        self.delta = delta
        self.n_restarts = n_restarts
        self.ncf_steps = ncf_steps
        self.ncf_lr = ncf_lr
        self.gd_steps = gd_steps
        self.gd_lr = gd_lr
        self.gd_momentum = gd_momentum
        self.gd_window = gd_window
        self.gd_tol = gd_tol
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.rebalance = rebalance
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _activation(self):
        """The activation the hyperparameters ask for (that of the next fit)."""
        return HomogeneousActivation(int(self.activation_power), float(self.negative_slope))

    def _settings(self):
        # Plain Python numbers: NumPy integers (np.int8) overflow in the arithmetic below.
        return PursuitSettings(
            depth=int(self.depth),
            activation=self._activation,
            delta=float(self.delta),
            n_restarts=int(self.n_restarts),
            ncf_steps=int(self.ncf_steps),
            ncf_lr=float(self.ncf_lr),
            gd_steps=int(self.gd_steps),
            gd_lr=float(self.gd_lr),
            gd_momentum=float(self.gd_momentum),
            gd_window=int(self.gd_window),
            gd_tol=float(self.gd_tol),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            rebalance=bool(self.rebalance),
            verbose=int(self.verbose),
        )

    def _check_step_sizes(self, dtype):
        """Step sizes must be numbers of the fit's dtype (torch refuses larger scalars)."""
        largest = torch.finfo(dtype).max
        for name in ("ncf_lr", "gd_lr"):
            value = getattr(self, name)
            if not float(value) <= largest:
                raise ValueError(
                    f"The {name!r} parameter of {type(self).__name__} must be at most "
                    f"{largest:.4g}, the largest {self.dtype} number; got {value!r}."
                )

    def _fit_network(self, X, Y, sample_weight, stratify=None, attributes=None):
        """Run Neuron Pursuit on validated ``X`` (n, d) and targets ``Y`` (n, m).

        Sets the fitted attributes only at the end, once the growth has run, with
        the estimator-specific ``attributes`` (a dict, e.g. ``classes_``), which
        callbacks also see in the models they rebuild during the fit.
        """
        attributes = {} if attributes is None else attributes
        dtype = DTYPES[self.dtype]
        self._check_step_sizes(dtype)
        settings = self._settings()
        device = resolve_device(self.device)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        warm = self.warm_start and hasattr(self, "_fit_weights_")
        if warm:
            self._check_warm_start(X, Y)
        random_state = self._random_state_ if warm else _random_state(self.random_state)
        validation, split_seed = None, None
        if self.early_stopping:
            # The split is drawn once and kept: a warm start holds out the same samples.
            split_seed = getattr(self, "_split_seed_", None) if warm else None
            if split_seed is None:
                split_seed = int(random_state.randint(np.iinfo(np.int32).max))
            train, validation = self._split(X, Y, sample_weight, stratify, split_seed)
            X, Y, sample_weight = X[train], Y[train], sample_weight[train]
        X_seen, Y_seen = X, Y
        X, Y, sample_weight = merge_duplicates(X, Y, sample_weight)
        sample_weight = _normalised_weights(sample_weight)
        # Rescaling is a change of units: the fitted weights are mapped back below.
        x_scale = _root_mean_square(X, sample_weight, axis=0)
        y_scale = float(_root_mean_square(Y, sample_weight))
        X_fit = _input_tensor(X, self.fit_intercept, dtype, device, x_scale)
        check_memory(
            device,
            n_samples=X_fit.shape[0],
            n_inputs=X_fit.shape[1],
            n_outputs=Y.shape[1],
            depth=settings.depth,
            n_restarts=settings.n_restarts,
            max_iter=settings.max_iter,
            dtype=dtype,
            n_nonzero=X_fit.nnz if isinstance(X_fit, SparseInputs) else None,
        )

        def to_tensor(array):
            return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

        previous = self._previous_growth(x_scale, y_scale, to_tensor) if warm else None
        tracker = _IterationTracker(
            self,
            X_seen,
            Y_seen,
            validation,
            (x_scale, y_scale),
            previous,
            settings.activation,
            attributes,
        )
        result = neuron_pursuit(
            X_fit,
            to_tensor(Y / y_scale),
            to_tensor(sample_weight),
            settings,
            random_state,
            initial_weights=None if previous is None else previous["weights"],
            initial_history=None if previous is None else previous["history"],
            on_iteration=tracker,
        )
        weights = result.weights
        if tracker.best_weights is not None:
            weights = tracker.best_weights
        history = ([] if previous is None else previous["history"]) + result.history
        fitted = {**attributes, **self._network_attributes(weights, x_scale, y_scale)}
        fitted.update(
            x_scale_=x_scale,
            y_scale_=y_scale,
            _random_state_=random_state,
            _split_seed_=split_seed,
            _activation_=settings.activation,
            _fit_intercept_=bool(self.fit_intercept),
            history_=history,
            n_iter_=len(history),
            loss_curve_=[record["loss"] for record in history],
            stop_reason_=result.stop_reason,
            n_outputs_=Y.shape[1],
        )
        if self.early_stopping:
            fitted.update(
                validation_scores_=[r.get("validation_score") for r in history],
                best_validation_score_=tracker.best_score,
                best_iteration_=tracker.best_iteration,
            )
        else:
            fitted.update(
                validation_scores_=None, best_validation_score_=None, best_iteration_=None
            )
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _split(self, X, Y, sample_weight, stratify, seed):
        """Training indices and the held-out ``(X, Y, sample_weight)`` for early stopping."""
        train, held_out = train_test_split(
            np.arange(X.shape[0]),
            test_size=self.validation_fraction,
            random_state=seed,
            stratify=stratify,
        )
        if len(held_out) < self._min_validation_samples:
            raise ValueError(
                f"early_stopping=True held out {len(held_out)} of the {X.shape[0]} samples "
                f"(validation_fraction={self.validation_fraction}); {type(self).__name__} "
                f"needs at least {self._min_validation_samples} to score them. Use more "
                "samples, a larger validation_fraction, or early_stopping=False."
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

    def _warn_about_stop(self):
        """A ConvergenceWarning when the fit stopped for an unexpected reason."""
        if self.stop_reason_ not in EXPECTED_STOPS:
            warnings.warn(
                f"{type(self).__name__} stopped after {self.n_iter_} iterations: "
                f"{STOP_MESSAGES[self.stop_reason_]}.",
                ConvergenceWarning,
            )

    def _network_attributes(self, weights, x_scale, y_scale):
        """Fitted attributes of a network given in the units of the fit."""
        fit_weights = [w.detach().to("cpu", torch.float64).numpy().copy() for w in weights]
        coefs = [w.T.copy() for w in fit_weights]
        coefs[0][: len(x_scale)] /= x_scale[:, None]
        coefs[-1] *= y_scale
        return {
            "coefs_": coefs,
            "hidden_layer_sizes_": tuple(c.shape[1] for c in coefs[:-1]),
            "_fit_weights_": fit_weights,
        }

    def _check_warm_start(self, X, Y):
        fitted = {
            "depth": len(self._fit_weights_),
            "activation_power": self._activation_.power,
            "negative_slope": self._activation_.slope,
            "fit_intercept": self._fit_intercept_,
        }
        for name, value in fitted.items():
            if getattr(self, name) != value:
                raise ValueError(
                    f"warm_start=True cannot change {name} from {value!r} to "
                    f"{getattr(self, name)!r}: the network was grown with {name}={value!r}. "
                    "Set warm_start=False to fit afresh."
                )
        n_inputs = X.shape[1] + int(self._fit_intercept_)
        if self.coefs_[0].shape[0] != n_inputs or self.coefs_[-1].shape[1] != Y.shape[1]:
            raise ValueError(
                "warm_start=True needs data of the shape the network was grown for: "
                f"{self.coefs_[0].shape[0]} inputs and {self.coefs_[-1].shape[1]} outputs, "
                f"got {n_inputs} inputs and {Y.shape[1]} outputs."
            )

    def _previous_growth(self, x_scale, y_scale, to_tensor):
        """The fitted network, in the units of this fit, and its history."""
        if np.array_equal(x_scale, self.x_scale_) and y_scale == self.y_scale_:
            weights = self._fit_weights_
        else:  # new data: express the fitted function in the new units
            weights = [c.T.copy() for c in self.coefs_]
            weights[0][:, : len(x_scale)] *= x_scale[None, :]
            weights[-1] /= y_scale
        # After early stopping the kept network is that of best_iteration_.
        kept = self.best_iteration_ or self.n_iter_
        return {"weights": [to_tensor(w) for w in weights], "history": self.history_[:kept]}

    def _network_output(self, X):
        """Network output on ``X``, shape (n, n_outputs_), float64 on the CPU.

        Uses only fitted attributes: changing a hyperparameter after ``fit`` does
        not change the predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")
        return _network_output(self.coefs_, X, self._activation_, self._fit_intercept_)

    @property
    def feature_importances_(self):
        """Importance of each input feature, from the grown weights; sums to 1.

        The sum over every path from the input through the hidden neurons to the
        outputs of the product of absolute weights, with the inputs in unit-RMS
        scale (so it does not depend on the units of ``X``); the intercept feature
        is left out. For ``activation_power=1`` it bounds how much the output can
        change per RMS of the input, so a feature of importance 0 is not used.
        All zeros for a network with no neurons. Usable by
        :class:`~sklearn.feature_selection.SelectFromModel`.

        Returns
        -------
        ndarray of shape (n_features_in_,)
        """
        check_is_fitted(self)
        return path_importances(self.coefs_, self.x_scale_)

    def to_torch(self, dtype=torch.float32, device="cpu"):
        """The fitted network as a ``torch.nn.Module`` in eval mode.

        Its output on a tensor ``X`` of shape (n_samples, n_features_in_) is the
        network output of shape (n_samples, n_outputs_): ``predict`` of the
        regressor, ``decision_function`` of the classifier (one column for two
        classes). The intercept feature is appended inside the module.

        Parameters
        ----------
        dtype : torch.dtype, default=torch.float32
        device : str or torch.device, default="cpu"

        Returns
        -------
        module : torch.nn.Module
        """
        check_is_fitted(self)
        module = HomogeneousNetwork(
            self.coefs_,
            self._activation_.power,
            self._activation_.slope,
            self._fit_intercept_,
            dtype=dtype,
        )
        return module.to(device).eval()

    def prune(self, X, tol=1e-4):
        """Remove hidden neurons that do not change the predictions on ``X``.

        Neurons are tried from the one with the smallest incoming and outgoing
        weights (the bound ``||out|| * ||in||**p`` on their effect) and removed
        when the network output on ``X`` stays within a relative distance
        ``tol`` (Frobenius norm) of the unpruned output.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data on which predictions must be kept, e.g. the training data.
        tol : float, default=1e-4
            Largest relative change of the network output on ``X``; a number
            ``>= 0``, not NaN.

        Returns
        -------
        self : object
            The pruned estimator; ``n_pruned_`` counts the neurons removed.
        """
        check_is_fitted(self)
        validate_parameter_constraints(
            {"tol": [_Number(Real, 0, None, closed="left")]},
            {"tol": tol},
            caller_name=f"{type(self).__name__}.prune",
        )
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")
        weights = [torch.from_numpy(np.ascontiguousarray(c.T)) for c in self.coefs_]
        inputs = _input_tensor(X, self._fit_intercept_)
        pruned, masks = prune_neurons(weights, inputs, self._activation_, float(tol))
        fit_weights = [torch.from_numpy(w) for w in self._fit_weights_]
        fit_weights = [w.numpy().copy() for w in keep_neurons(fit_weights, masks)]
        coefs = [w.numpy().T.copy() for w in pruned]
        before = sum(self.hidden_layer_sizes_)
        hidden_layer_sizes = tuple(c.shape[1] for c in coefs[:-1])
        self._fit_weights_, self.coefs_ = fit_weights, coefs
        self.hidden_layer_sizes_ = hidden_layer_sizes
        self.n_pruned_ = getattr(self, "n_pruned_", 0) + before - sum(hidden_layer_sizes)
        return self

    def __setstate__(self, state):
        # Models pickled before the activation and intercept were fitted attributes
        # were fitted with the hyperparameters they carry.
        if "coefs_" in state and "_activation_" not in state:
            state["_activation_"] = HomogeneousActivation(
                int(state["activation_power"]), float(state["negative_slope"])
            )
            state["_fit_intercept_"] = bool(state["fit_intercept"])
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @abstractmethod
    def _validation_score(self, output, Y, sample_weight):
        """Score of network outputs against encoded targets (early stopping)."""

    @abstractmethod
    def fit(self, X, y, sample_weight=None):
        """Fit the network by Neuron Pursuit."""


def _input_tensor(X, fit_intercept, dtype=torch.float64, device="cpu", x_scale=None):
    """``X`` (divided by ``x_scale``, with the intercept column) for the network.

    Sparse ``X`` stays sparse: :class:`SparseInputs`, used in the first layer.
    """
    if scipy.sparse.issparse(X):
        if x_scale is not None:
            X = X @ scipy.sparse.diags(1 / x_scale)
        if fit_intercept:
            X = scipy.sparse.hstack([X, np.ones((X.shape[0], 1))])
        return SparseInputs.from_scipy(X, dtype, device)
    if x_scale is not None:
        X = X / x_scale
    if fit_intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    return torch.as_tensor(np.ascontiguousarray(X), dtype=dtype, device=device)


def _network_output(coefs, X, activation, fit_intercept):
    """Output of the network ``coefs`` (original units) on validated ``X``, float64."""
    weights = [torch.from_numpy(np.ascontiguousarray(c.T)) for c in coefs]
    return network_predict(weights, _input_tensor(X, fit_intercept), activation).numpy()


class _IterationTracker:
    """Called after every iteration: validation score, best network, sklearn callbacks."""

    def __init__(self, estimator, X, Y, validation, scales, previous, activation, attributes):
        self.estimator = estimator
        self.activation = activation
        self.attributes = attributes  # estimator-specific fitted attributes (classes_)
        self.X, self.Y = X, Y
        self.validation = validation
        self.x_scale, self.y_scale = scales
        self.best_score = self.best_weights = self.best_iteration = None
        self.n_without_improvement = 0
        self.context = None
        if hasattr(estimator, "_init_callback_context"):
            done = 0 if previous is None else len(previous["history"])
            self.context = estimator._init_callback_context(
                max_subtasks=max(int(estimator.max_iter) - done, 0)
            )
            self.context.call_on_fit_task_begin(estimator=estimator, X=X, y=Y)

    def __call__(self, weights, record):
        estimator = self.estimator
        stop = None
        if self.validation is not None:
            X_val, Y_val, weight_val = self.validation
            coefs = self._attributes(weights)["coefs_"]
            output = _network_output(coefs, X_val, self.activation, estimator.fit_intercept)
            score = estimator._validation_score(output, Y_val, weight_val)
            record["validation_score"] = score
            if self.best_score is None or score > self.best_score:
                self.best_score, self.best_iteration = score, record["iteration"]
                self.best_weights = [w.clone() for w in weights]
                self.n_without_improvement = 0
            else:
                self.n_without_improvement += 1
                if self.n_without_improvement >= estimator.n_iter_no_change:
                    stop = "early_stopping"
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

    def _attributes(self, weights):
        return self.estimator._network_attributes(weights, self.x_scale, self.y_scale)
