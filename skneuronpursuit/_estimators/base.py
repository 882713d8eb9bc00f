"""The estimator base shared by the regressor and the classifier (the sklearn façade)."""

import copy
import warnings
from abc import ABC, abstractmethod
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight

from .._engine.data import merge_duplicates, user_units
from .._engine.device import DTYPES, fit_threads, resolve_device
from .._engine.memory import check_fit_memory
from .._engine.problem import build_problem, random_state_from
from .._engine.pursuit import grow
from .._engine.settings import (
    GROWTH_CONSTRAINTS,
    POWER,
    SLOPE,
    PursuitOptions,
    PursuitSettings,
)
from .._kernels.activation import HomogeneousActivation
from .._kernels.losses import LOSSES
from .fit_safety import _Number
from .fitted_network import FittedNetworkMixin
from .growth_attributes import growth_attributes
from .held_out import HeldOutSplitError, validation_split
from .plumbing import either
from .stop_warnings import warn_about_stop
from .tracking import EarlyStopping

try:  # scikit-learn's callback API (1.9+); without it, progress is shown by `verbose`
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - depends on the installed scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn versions without ``sklearn.callback``."""

    def with_callbacks(method):
        return method


class BaseNeuronPursuit(FittedNetworkMixin, CallbackSupportMixin, BaseEstimator, ABC):
    """Shared hyperparameters, fit and forward pass of the Neuron Pursuit estimators."""

    # Held-out samples early stopping needs for a defined score (R^2 needs two).
    _min_validation_samples = 1
    # early_stopping="auto" holds out data only when at least this many samples would
    # be scored (the regressor overrides it: docs/algorithm.md §3.7).
    _auto_validation_samples = 10
    # PursuitOptions.neurons_per_iteration when left at None (docs/algorithm.md §3.8).
    _neurons_per_iteration = 1
    # Whether the targets are values (the regressor's), not class codes: then their offset
    # is removed before the fit, with an intercept, and each output is divided by its own
    # spread (docs/algorithm.md §1).
    _targets_are_values = False

    _parameter_constraints: dict = {
        **GROWTH_CONSTRAINTS,
        "activation_power": POWER,
        "negative_slope": SLOPE,
        "fit_intercept": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [_Number(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [_Number(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "warm_start": ["boolean"],
        "options": [PursuitOptions, None],
        "dtype": [StrOptions(set(DTYPES))],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        depth=3,
        activation_power=1,
        negative_slope=0.1,
        delta=0.2,
        n_restarts=16,
        gd_steps=1000,
        max_iter=31,
        tol=1e-3,
        alpha=0.0,
        fit_intercept=True,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change="auto",
        warm_start=False,
        options=None,
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
        self.gd_steps = gd_steps
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.options = options
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def set_params(self, **params):
        """Set the estimator's parameters, as scikit-learn's ``set_params``.

        ``options__<field>=value`` (e.g. ``options__solver="gd"`` in a grid) sets one
        field of ``options``: a new :class:`PursuitOptions` with that field replaced
        (the defaults' when ``options`` is None), since options objects are immutable.
        ``get_params`` lists ``options`` itself, not its fields, so that
        ``type(est)(**est.get_params())`` still builds the same estimator.

        Returns
        -------
        self : estimator instance
        """
        fields = {
            name.partition("__")[2]: params.pop(name)
            for name in list(params)
            if name.startswith("options__")
        }
        options = None
        if fields:  # checked before anything is set: a refused call changes nothing
            options = params.get("options", self.options)
            options = PursuitOptions() if options is None else options
            name = f"options__{next(iter(fields))}"
            if not isinstance(options, PursuitOptions):
                raise ValueError(
                    f"Invalid parameter {name} for estimator {self}: it sets a field of "
                    f"options, which must be a PursuitOptions or None; got {options!r}."
                )
            known = [field.name for field in dataclass_fields(options)]
            unknown = sorted(set(fields) - set(known))
            if unknown:
                raise ValueError(
                    f"Invalid parameter options__{unknown[0]!s} for estimator {self}: "
                    f"PursuitOptions has no field {unknown[0]!r}. Valid fields: "
                    f"{sorted(known)}."
                )
        super().set_params(**params)
        if fields:
            self.options = replace(options, **fields)
        return self

    @property
    def _activation(self):
        """The activation the hyperparameters ask for (that of the next fit)."""
        return HomogeneousActivation(int(self.activation_power), float(self.negative_slope))

    def _loss_name(self):
        """The loss of the next fit; the classifier has a ``loss`` hyperparameter."""
        return "squared_error"

    def _settings(self):
        """The growth's :class:`PursuitSettings`: every "auto" and None resolved here.

        Plain Python numbers: NumPy integers (np.int8) overflow in the engine's arithmetic.
        """
        objective = LOSSES[self._loss_name()]
        options = self.options if self.options is not None else PursuitOptions()
        options.validate(f"{type(self).__name__}.options")
        self._check_step_sizes(options, DTYPES[self.dtype])
        return PursuitSettings(
            depth=int(self.depth),
            activation=self._activation,
            delta=float(self.delta),
            n_restarts=int(self.n_restarts),
            gd_steps=int(self.gd_steps),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            alpha=float(self.alpha),
            objective=objective,
            options=options.resolved(objective.name, self.alpha, self._neurons_per_iteration),
            verbose=int(self.verbose),
        )

    def _check_step_sizes(self, options, dtype):
        """Step sizes must be numbers of the fit's dtype (torch refuses larger scalars)."""
        largest = torch.finfo(dtype).max
        for name in ("ncf_lr", "gd_lr"):
            value = getattr(options, name)
            if not float(value) <= largest:
                raise ValueError(
                    f"options.{name} of {type(self).__name__} must be at most "
                    f"{largest:.4g}, the largest {self.dtype} number; got {value!r}."
                )

    def _fit_network(self, X, Y, sample_weight, attributes=None):
        """Run Neuron Pursuit on validated ``X`` (n, d) and targets ``Y`` (n, m).

        Sets the fitted attributes only at the end, once the growth has run, with
        the estimator-specific ``attributes`` (a dict, e.g. ``classes_``), which
        callbacks also see in the models they rebuild during the fit. A small CPU fit
        runs on one torch thread (``fit_threads``).
        """
        device = resolve_device(self.device)
        with fit_threads(device, X):
            return self._grow_network(X, Y, sample_weight, attributes, device)

    def _grow_network(self, X, Y, sample_weight, attributes, device):
        settings = self._settings()
        # The loss the network was fitted with, a fitted attribute: predict_proba reads it.
        attributes = {**(attributes or {}), "_loss_": settings.objective.name}
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        # Before preparing the data (which copies X): on every row, an upper bound of the
        # check the problem makes on its distinct training rows (docs/engineering.md).
        check_fit_memory(
            device,
            settings,
            DTYPES[self.dtype],
            X.shape[0],
            X.shape[1] + int(bool(self.fit_intercept)),
            Y.shape[1],
            getattr(X, "nnz", None),
        )
        warm = self.warm_start and hasattr(self, "_fit_weights_")
        if warm and self._check_warm_start(X, Y):
            return  # nothing to add: the fitted model, its stop reason included, stays
        # A warm start continues the fitted random stream on a copy: a fit that fails
        # leaves the fitted one where it was (fit_safety.py restores attributes, not the
        # state of the objects they hold).
        if warm:
            random_state = copy.deepcopy(self._random_state_)
        else:
            random_state = random_state_from(self.random_state)
        # Callbacks see the rows as given.
        X_given, Y_given = X, Y
        # Weighted and repeated samples are one data set from here on, held-out split
        # included: integer weights give the fit on repeated rows bit for bit.
        X, Y, sample_weight = merge_duplicates(X, Y, sample_weight, sort=False)
        # The training rows are X[train]: not copied for the whole fit (big-data.md, "Memory").
        validation, split_seed, train = None, None, None
        early_stopping = self._uses_early_stopping(X.shape[0], warm)
        if early_stopping:
            # The split is drawn once and kept: a warm start holds out the same samples.
            split_seed = getattr(self, "_split_seed_", None) if warm else None
            before_split = random_state.get_state()
            if split_seed is None:
                split_seed = int(random_state.randint(np.iinfo(np.int32).max))
            try:
                train_rows, validation = validation_split(
                    X,
                    Y,
                    sample_weight,
                    self._strata(Y),
                    split_seed,
                    self.validation_fraction,
                    self._min_validation_samples,
                    type(self).__name__,
                    attributes.get("classes_"),
                )
            except HeldOutSplitError:
                if self.early_stopping != "auto":
                    raise
                # "auto" fits on all samples where none can be held out (as MLPClassifier):
                # the fit of early_stopping=False, its random stream untouched by the split.
                early_stopping, split_seed = False, None
                random_state.set_state(before_split)
            else:
                train, Y, sample_weight = train_rows, Y[train_rows], sample_weight[train_rows]
        problem = build_problem(
            X,
            Y,
            sample_weight,
            settings,
            fit_intercept=bool(self.fit_intercept),
            dtype=DTYPES[self.dtype],
            device=device,
            center=self._targets_are_values and bool(self.fit_intercept),
            per_output=self._targets_are_values,
            y_offset=getattr(self, "_growth_offset_", self.y_offset_) if warm else None,
            rows=train,
        )
        previous_weights, previous_history = None, []
        if warm:  # the fitted network in this fit's units; after early stopping the kept one
            previous_history = self.history_[: self._kept_iteration()]
            previous_weights = self._previous_weights(problem)
        tracker = None
        if early_stopping:
            tracker = EarlyStopping(
                validation,
                self._validation_score,
                self._validation_terms,
                problem,
                float(self.tol),
                self.n_iter_no_change,
                (previous_weights, previous_history[-1].iteration) if previous_history else None,
                verbose=int(self.verbose),
            )
        report, callbacks = self._callback_report(
            X_given, Y_given, problem, settings, attributes, len(previous_history)
        )
        result = grow(
            problem.X,
            problem.Y,
            problem.sample_weight,
            settings,
            random_state,
            initial_weights=previous_weights,
            initial_history=previous_history or None,
            on_iteration=either(tracker, report),
            loss_reference=problem.loss_reference,
        )
        weights, grown = growth_attributes(
            result, tracker, problem, settings, (random_state, split_seed), previous_history
        )
        fitted = {**attributes, **self._network_attributes(weights), **grown}
        fitted.update(
            n_outputs_=Y.shape[1],
            # A warm start keeps growing the pruned network: its count stays.
            n_pruned_=getattr(self, "n_pruned_", 0) if warm else 0,
        )
        for name, value in fitted.items():
            setattr(self, name, value)
        self.feature_importances_ = self._importances(X, sample_weight, random_state, train)
        if callbacks is not None:  # the fit's own task ends, as scikit-learn's estimators end it
            callbacks.call_on_fit_task_end(
                estimator=self, X=X_given, y=Y_given, reconstruction_attributes={}
            )
        if self.verbose:
            kept = f"; kept iteration {self.best_iteration_}" if early_stopping else ""
            print(
                f"[NeuronPursuit] stopped after {self.n_iter_} iterations: "
                f"{self.stop_reason_}{kept}; hidden layer sizes {self.hidden_layer_sizes_}",
                flush=True,
            )
        return self

    def _callback_report(self, X, Y, problem, settings, attributes, n_done):
        """scikit-learn's callbacks after every iteration (``sklearn.callback``) and the
        fit's callback context, whose task ends with the fit; ``(None, None)`` without them.

        ``X`` and ``Y`` are the rows as given to ``fit``; ``n_done`` the iterations a warm
        start continues from.
        """
        if not hasattr(self, "_init_callback_context"):
            return None, None
        context = self._init_callback_context(max_subtasks=max(int(self.max_iter) - n_done, 0))
        context.call_on_fit_task_begin(estimator=self, X=X, y=Y)

        def report(weights, record):
            task = context.subcontext(task_name="iteration")
            task.call_on_fit_task_begin(estimator=self, X=X, y=Y)
            stop = task.call_on_fit_task_end(
                estimator=self,
                X=X,
                y=Y,
                reconstruction_attributes=lambda: {
                    **attributes,
                    **self._network_attributes(weights),
                    "n_outputs_": Y.shape[1],
                    "x_scale_": problem.x_scale,
                    "y_scale_": problem.y_scale,
                    "y_offset_": problem.output_offset(weights),
                    "_activation_": settings.activation,
                    "_fit_intercept_": problem.fit_intercept,
                },
            )
            return "callback" if stop else None

        return report, context

    def _kept_iteration(self):
        """The iteration whose network is the fitted one: ``best_iteration_`` with early
        stopping, else the last."""
        return self.best_iteration_ or self.n_iter_

    def _strata(self, Y):
        """Labels to stratify the held-out split on (the classifier's classes), or None."""
        return None

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
        warn_about_stop(self)

    def _check_warm_start(self, X, Y):
        """Refuse a warm start that cannot continue the fitted network; whether it adds
        nothing (``max_iter`` equal to its iterations: the model is kept as it is, as
        scikit-learn's forests keep theirs)."""
        fitted = {
            "depth": len(self._fit_weights_),
            "activation_power": self._activation_.power,
            "negative_slope": self._activation_.slope,
            "fit_intercept": self._fit_intercept_,
            "loss": self._loss_,
        }
        for name, value in fitted.items():
            current = self._loss_name() if name == "loss" else getattr(self, name)
            # Numbers compared as Python floats: numpy compares np.float32(0.3) with 0.3
            # at float32 precision, and the growth would go on at another slope.
            numbers = name != "loss"
            if (float(current) != float(value)) if numbers else (current != value):
                raise ValueError(
                    f"warm_start=True cannot change {name} from {value!r} to {current!r}: "
                    f"the network was grown with {name}={value!r}. "
                    "Set warm_start=False to fit afresh."
                )
        uses_early_stopping = self._uses_early_stopping(X.shape[0], warm=True)
        if uses_early_stopping and getattr(self, "_held_out_by_block_", False):
            raise ValueError(
                "warm_start=True with early stopping cannot continue this network: a "
                "data-parallel fit grew it, holding out rows per block, and a fit in one "
                "process cannot hold out the same rows. Set early_stopping=False to keep "
                "growing it on every row, or warm_start=False to fit afresh."
            )
        if uses_early_stopping and not self.early_stopping_:
            raise ValueError(
                "warm_start=True cannot turn early stopping on: the network so far was "
                "grown on every sample, so none is left out to score it. Set "
                "warm_start=False to fit afresh, or early_stopping=False to keep growing it."
            )
        n_done = self._kept_iteration()  # the iterations a warm start continues
        if self.max_iter < n_done:
            raise ValueError(
                f"warm_start=True keeps growing the fitted network of {n_done} iterations, "
                f"but max_iter={self.max_iter} is fewer. Raise max_iter above {n_done} to "
                "grow it, or set warm_start=False to fit afresh."
            )
        if self.max_iter == n_done:
            warnings.warn(
                f"warm_start=True with max_iter={self.max_iter}, the iterations of the fitted "
                "network: this fit adds no neuron. Raise max_iter to keep growing it.",
                UserWarning,
            )
        n_features = self._fit_weights_[0].shape[1] - int(self._fit_intercept_)
        n_outputs = self._fit_weights_[-1].shape[0]
        if X.shape[1] != n_features or Y.shape[1] != n_outputs:
            raise ValueError(
                "warm_start=True needs data of the shape the network was grown for: "
                f"{n_features} features and {n_outputs} outputs, got {X.shape[1]} features "
                f"and {Y.shape[1]} outputs. Set warm_start=False to fit afresh."
            )
        return self.max_iter == n_done

    def _previous_weights(self, problem):
        """The network the growth reached as tensors in the units of ``problem`` (a warm
        start): the fitted one, or the path's where the model is the network with no
        neuron instead (growth_attributes.py)."""
        weights = getattr(self, "_grown_weights_", None)
        weights = self._fit_weights_ if weights is None else weights
        if np.array_equal(problem.x_scale, self.x_scale_) and np.array_equal(
            problem.y_scale, self.y_scale_
        ):
            return [problem.tensor(w) for w in weights]
        # New data: the same function in new units.
        return problem.fit_weights(user_units(weights, self.x_scale_, self.y_scale_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @staticmethod
    @abstractmethod
    def _validation_score(output, Y, sample_weight):
        """Score of network outputs against encoded targets (early stopping)."""

    @staticmethod
    @abstractmethod
    def _validation_terms(output, Y, sample_weight):
        """Per-sample terms of the validation score (its sum up to a constant)."""

    @abstractmethod
    def fit(self, X, y, sample_weight=None):
        """Fit the network by Neuron Pursuit."""
