"""The estimator base shared by the regressor and the classifier (the sklearn façade)."""

import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._activation import HomogeneousActivation
from ._device import DTYPES, resolve_device
from ._memory import check_memory
from ._network import predict as network_predict
from ._pursuit import STOP_MESSAGES, PursuitSettings, neuron_pursuit

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
        minimise the loss along its direction (ALGORITHM.md §3, ``t_opt``); the
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
        (paper: 70,000–500,000). Descent stops earlier once the loss decreases
        by less than a fraction 1e-5 over 100 steps.

    gd_lr : float, default=0.1
        Gradient descent step size, on the internally rescaled problem (``X``
        per feature and ``y`` as a whole divided by their root mean square).
        Halved, with a roll-back, whenever the loss rises.

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
        ``||in||^2 = p ||out||^2`` without changing predictions (ALGORITHM.md §5;
        the paper does so for pointer value retrieval).

    dtype : {"float64", "float32"}, default="float64"
        Floating point type of the computation. ``"float32"`` is faster,
        especially on GPUs; fitted weights are stored as float64 either way.

    device : str or torch.device, default="auto"
        Torch device of the computation; ``"auto"`` is CUDA when available and
        the CPU otherwise. Fitted state is kept in NumPy arrays, so a model
        fitted on a GPU predicts on a CPU-only machine.

    random_state : int, RandomState instance or None, default=None
        Seeds the random starting points of the NCF searches. Pass an int for
        reproducible fits. The global NumPy and torch generators are not used.

    verbose : int, default=0
        If positive, print one line per iteration."""

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
        ``"diverged"``, ``"non_finite"`` or ``"interrupted"``.

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


def _root_mean_square(values, sample_weight, axis=None):
    mean = np.average(values**2, axis=0, weights=sample_weight)
    scale = np.sqrt(mean if axis is not None else np.mean(mean))
    return np.where(scale > 0, scale, 1.0)


class BaseNeuronPursuit(BaseEstimator, ABC):
    """Shared hyperparameters, fit and forward pass of the Neuron Pursuit estimators."""

    _parameter_constraints: dict = {
        "depth": [Interval(Integral, 2, None, closed="left")],
        "activation_power": [Interval(Integral, 1, None, closed="left")],
        "negative_slope": [Interval(Real, -1, 1, closed="both")],
        "delta": [Interval(Real, 0, 1, closed="right")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "ncf_steps": [Interval(Integral, 1, None, closed="left")],
        "ncf_lr": [Interval(Real, 0, None, closed="neither")],
        "gd_steps": [Interval(Integral, 0, None, closed="left")],
        "gd_lr": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "rebalance": ["boolean"],
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
        max_iter=31,
        tol=1e-3,
        fit_intercept=True,
        rebalance=False,
        dtype="float64",
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
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.rebalance = rebalance
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _activation(self):
        return HomogeneousActivation(int(self.activation_power), float(self.negative_slope))

    def _settings(self):
        return PursuitSettings(
            depth=self.depth,
            activation=self._activation,
            delta=self.delta,
            n_restarts=self.n_restarts,
            ncf_steps=self.ncf_steps,
            ncf_lr=self.ncf_lr,
            gd_steps=self.gd_steps,
            gd_lr=self.gd_lr,
            max_iter=self.max_iter,
            tol=self.tol,
            rebalance=self.rebalance,
            verbose=self.verbose,
        )

    def _with_intercept(self, X):
        if self.fit_intercept:
            return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
        return X

    def _fit_network(self, X, Y, sample_weight):
        """Run Neuron Pursuit on validated ``X`` (n, d) and targets ``Y`` (n, m)."""
        device = resolve_device(self.device)
        dtype = DTYPES[self.dtype]
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        # Rescaling is a change of units: the fitted weights are mapped back below.
        self.x_scale_ = _root_mean_square(X, sample_weight, axis=0)
        self.y_scale_ = float(_root_mean_square(Y, sample_weight))
        X_fit = self._with_intercept(X / self.x_scale_)
        check_memory(
            device,
            n_samples=X_fit.shape[0],
            n_inputs=X_fit.shape[1],
            n_outputs=Y.shape[1],
            depth=self.depth,
            n_restarts=self.n_restarts,
            max_iter=self.max_iter,
            dtype=dtype,
        )

        def to_tensor(array):
            return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

        result = neuron_pursuit(
            to_tensor(X_fit),
            to_tensor(Y / self.y_scale_),
            to_tensor(sample_weight),
            self._settings(),
            check_random_state(self.random_state),
        )
        coefs = [w.detach().to("cpu", torch.float64).numpy().T.copy() for w in result.weights]
        coefs[0][: X.shape[1]] /= self.x_scale_[:, None]
        coefs[-1] *= self.y_scale_
        self.coefs_ = coefs
        self.hidden_layer_sizes_ = tuple(c.shape[1] for c in coefs[:-1])
        self.history_ = result.history
        self.n_iter_ = len(result.history)
        self.loss_curve_ = [record["loss"] for record in result.history]
        self.stop_reason_ = result.stop_reason
        self.n_outputs_ = Y.shape[1]
        if result.stop_reason != "tol":
            warnings.warn(
                f"{type(self).__name__} stopped after {self.n_iter_} iterations: "
                f"{STOP_MESSAGES[result.stop_reason]}.",
                ConvergenceWarning,
            )
        return self

    def _network_output(self, X):
        """Network output on ``X``, shape (n, n_outputs_), float64 on the CPU."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        weights = [torch.from_numpy(np.ascontiguousarray(c.T)) for c in self.coefs_]
        inputs = torch.from_numpy(self._with_intercept(X))
        return network_predict(weights, inputs, self._activation).numpy()

    @abstractmethod
    def fit(self, X, y, sample_weight=None):
        """Fit the network by Neuron Pursuit."""
