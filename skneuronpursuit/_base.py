"""The estimator base shared by the regressor and the classifier (the sklearn façade)."""

import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._activation import HomogeneousActivation
from ._device import DTYPES, resolve_device
from ._fit_safety import _Number, _random_state
from ._fitted_network import FittedNetworkMixin
from ._held_out import validation_split
from ._inputs import SparseInputs
from ._losses import LOSSES
from ._memory import check_memory
from ._pursuit import PursuitSettings, neuron_pursuit
from ._records import STOP_REASONS
from ._sample_data import (
    _input_tensor,
    _normalised_weights,
    _root_mean_square,
    fit_units,
    merge_duplicates,
)
from ._tracking import _IterationTracker

try:  # scikit-learn's callback API (1.9+); without it, progress is shown by `verbose`
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - depends on the installed scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn versions without ``sklearn.callback``."""

    def with_callbacks(method):
        return method


# gd_momentum="auto" with a penalty (choice, measured: docs/inner-descent.md, "Momentum").
AUTO_MOMENTUM = 0.9


class BaseNeuronPursuit(FittedNetworkMixin, CallbackSupportMixin, BaseEstimator, ABC):
    """Shared hyperparameters, fit and forward pass of the Neuron Pursuit estimators."""

    # Held-out samples early stopping needs for a defined score (R^2 needs two).
    _min_validation_samples = 1
    # early_stopping="auto" holds out data only when at least this many samples would
    # be scored: fewer cannot tell one network size from the next (docs/algorithm.md §3.7).
    _auto_validation_samples = 10

    _parameter_constraints: dict = {
        "depth": [_Number(Integral, 2, None, closed="left")],
        "activation_power": [_Number(Integral, 1, None, closed="left")],
        "negative_slope": [_Number(Real, -1, 1, closed="both")],
        "delta": [_Number(Real, 0, 1, closed="right")],
        "n_restarts": [_Number(Integral, 1, None, closed="left")],
        "ncf_steps": [_Number(Integral, 1, None, closed="left")],
        # The step sizes are also bounded by the largest number of the dtype, in fit.
        "ncf_lr": [_Number(Real, 0, None, closed="neither")],
        "ncf_samples": [_Number(Integral, 1, None, closed="left"), None],
        "layer_choice": [StrOptions({"auto", "decrease", "ncf"})],
        "neurons_per_iteration": [_Number(Integral, 1, None, closed="left")],
        "gd_steps": [_Number(Integral, 0, None, closed="left")],
        "gd_lr": [_Number(Real, 0, None, closed="neither")],
        "gd_momentum": [_Number(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "gd_window": [_Number(Integral, 1, None, closed="left")],
        "gd_tol": [_Number(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "gd", "lm"})],
        "lm_steps": [_Number(Integral, 0, None, closed="left")],
        "max_iter": [_Number(Integral, 1, None, closed="left")],
        "tol": [_Number(Real, 0, None, closed="left")],
        "alpha": [_Number(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "rebalance": ["boolean"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"auto"})],
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
        negative_slope=0.1,
        delta=0.2,
        n_restarts=16,
        ncf_steps=200,
        ncf_lr=1.0,
        ncf_samples=4096,
        layer_choice="auto",
        neurons_per_iteration=1,
        gd_steps=1000,
        gd_lr=0.1,
        gd_momentum="auto",
        gd_window=250,
        gd_tol=1e-4,
        solver="auto",
        lm_steps=20,
        max_iter=31,
        tol=1e-3,
        alpha=0.0,
        fit_intercept=True,
        rebalance=False,
        warm_start=False,
        early_stopping="auto",
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
        self.ncf_samples = ncf_samples
        self.layer_choice = layer_choice
        self.neurons_per_iteration = neurons_per_iteration
        self.gd_steps = gd_steps
        self.gd_lr = gd_lr
        self.gd_momentum = gd_momentum
        self.gd_window = gd_window
        self.gd_tol = gd_tol
        self.solver = solver
        self.lm_steps = lm_steps
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
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

    def _loss_name(self):
        """The loss of the next fit; the classifier has a ``loss`` hyperparameter."""
        return "squared_error"

    def _layer_choice(self):
        """The rule ``layer_choice`` stands for: ``"auto"`` is ``"decrease"`` for the squared
        loss and the paper's ``"ncf"`` for the log loss (docs/algorithm.md §3.2)."""
        if self.layer_choice != "auto":
            return str(self.layer_choice)
        return "decrease" if self._loss_name() == "squared_error" else "ncf"

    def _gd_momentum(self):
        """The momentum ``gd_momentum`` stands for: ``"auto"`` is ``AUTO_MOMENTUM`` for a
        penalised loss and 0, plain gradient descent, without a penalty (docs/inner-descent.md,
        "Momentum")."""
        if self.gd_momentum != "auto":
            return float(self.gd_momentum)
        return AUTO_MOMENTUM if self.alpha > 0 else 0.0

    def _settings(self):
        # Plain Python numbers: NumPy integers (np.int8) overflow in the arithmetic below.
        return PursuitSettings(
            depth=int(self.depth),
            activation=self._activation,
            delta=float(self.delta),
            n_restarts=int(self.n_restarts),
            ncf_steps=int(self.ncf_steps),
            ncf_lr=float(self.ncf_lr),
            ncf_samples=None if self.ncf_samples is None else int(self.ncf_samples),
            layer_choice=self._layer_choice(),
            neurons_per_iteration=int(self.neurons_per_iteration),
            gd_steps=int(self.gd_steps),
            gd_lr=float(self.gd_lr),
            gd_momentum=self._gd_momentum(),
            gd_window=int(self.gd_window),
            gd_tol=float(self.gd_tol),
            solver=str(self.solver),
            lm_steps=int(self.lm_steps),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            alpha=float(self.alpha),
            rebalance=bool(self.rebalance),
            verbose=int(self.verbose),
            objective=LOSSES[self._loss_name()],
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
        settings = self._settings()
        # The loss the network was fitted with, a fitted attribute: predict_proba reads it.
        attributes = {**(attributes or {}), "_loss_": settings.objective.name}
        dtype = DTYPES[self.dtype]
        self._check_step_sizes(dtype)
        device = resolve_device(self.device)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        warm = self.warm_start and hasattr(self, "_fit_weights_")
        if warm:
            self._check_warm_start(X, Y)
        random_state = self._random_state_ if warm else _random_state(self.random_state)
        validation, split_seed = None, None
        early_stopping = self._uses_early_stopping(X.shape[0], warm)
        if early_stopping:
            # The split is drawn once and kept: a warm start holds out the same samples.
            split_seed = getattr(self, "_split_seed_", None) if warm else None
            if split_seed is None:
                split_seed = int(random_state.randint(np.iinfo(np.int32).max))
            train, validation = validation_split(
                X,
                Y,
                sample_weight,
                stratify,
                split_seed,
                self.validation_fraction,
                self._min_validation_samples,
                type(self).__name__,
            )
            X, Y, sample_weight = X[train], Y[train], sample_weight[train]
        X_seen, Y_seen = X, Y
        X, Y, sample_weight = merge_duplicates(X, Y, sample_weight)
        sample_weight = _normalised_weights(sample_weight)
        # Rescaling is a change of units: the fitted weights are mapped back below.
        x_scale = _root_mean_square(X, sample_weight, axis=0)
        # (choice) The log loss's outputs are logits: their units are not the user's.
        rescale = settings.objective.rescales_targets
        y_scale = float(_root_mean_square(Y, sample_weight)) if rescale else 1.0
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
        if tracker.kept_weights is not None:
            weights = tracker.kept_weights
        history = [] if previous is None else previous["history"]
        history = history + [{**record, **tracker.additions(record)} for record in result.history]
        fitted = {**attributes, **self._network_attributes(weights)}
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
            # A warm start keeps growing the pruned network: its count stays.
            n_pruned_=getattr(self, "n_pruned_", 0) if previous is not None else 0,
        )
        fitted["early_stopping_"] = early_stopping
        if early_stopping:
            fitted.update(
                validation_scores_=[r.get("validation_score") for r in history],
                best_validation_score_=tracker.kept_score,
                best_iteration_=tracker.kept_iteration,
            )
        else:
            fitted.update(
                validation_scores_=None, best_validation_score_=None, best_iteration_=None
            )
        for name, value in fitted.items():
            setattr(self, name, value)
        self.feature_importances_ = self._importances(X, sample_weight, random_state)
        return self

    def _uses_early_stopping(self, n_samples, warm):
        """Whether this fit holds out data: ``early_stopping`` with "auto" resolved.

        With "auto", a warm start keeps the choice of the fit it continues, so
        that it keeps growing on the same training samples.
        """
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        if warm:
            return self.early_stopping_
        if self.alpha > 0:  # the penalty bounds the growth (docs/algorithm.md §10)
            return False
        return bool(self.validation_fraction * n_samples >= self._auto_validation_samples)

    def _warn_about_stop(self):
        """A ConvergenceWarning when the fit stopped for an unexpected reason."""
        reason = STOP_REASONS[self.stop_reason_]
        if reason.quiet_with_penalty and self.alpha > 0:
            return
        if reason.warns and (self.early_stopping_ or not reason.only_with_early_stopping):
            warnings.warn(
                f"{type(self).__name__} stopped after {self.n_iter_} iterations: "
                f"{reason.message}.",
                ConvergenceWarning,
            )

    def _check_warm_start(self, X, Y):
        fitted = {
            "depth": len(self._fit_weights_),
            "activation_power": self._activation_.power,
            "negative_slope": self._activation_.slope,
            "fit_intercept": self._fit_intercept_,
            "loss": self._loss_,
        }
        for name, value in fitted.items():
            current = self._loss_name() if name == "loss" else getattr(self, name)
            if current != value:
                raise ValueError(
                    f"warm_start=True cannot change {name} from {value!r} to {current!r}: "
                    f"the network was grown with {name}={value!r}. "
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
            weights = fit_units(self.coefs_, x_scale, y_scale)
        # After early stopping the kept network is that of best_iteration_.
        kept = self.best_iteration_ or self.n_iter_
        return {"weights": [to_tensor(w) for w in weights], "history": self.history_[:kept]}

    def __setstate__(self, state):
        # Models pickled before the activation and intercept were fitted attributes
        # were fitted with the hyperparameters they carry.
        if "coefs_" in state and "_activation_" not in state:
            state["_activation_"] = HomogeneousActivation(
                int(state["activation_power"]), float(state["negative_slope"])
            )
            state["_fit_intercept_"] = bool(state["fit_intercept"])
        if "coefs_" in state:
            state.setdefault("n_pruned_", 0)
            # Models pickled before coefs_ was derived stored it beside the weights of
            # the fit (or, before warm starts, alone): keep one copy.
            coefs = state.pop("coefs_")
            if "_fit_weights_" not in state:
                state["_fit_weights_"] = fit_units(coefs, state["x_scale_"], state["y_scale_"])
        if "_fit_weights_" in state:  # fitted before these attributes existed
            state.setdefault("early_stopping_", state.get("validation_scores_") is not None)
            state.setdefault("_loss_", "squared_error")
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
