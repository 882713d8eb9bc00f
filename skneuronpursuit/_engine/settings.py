"""The settings of one growth: what the estimators expose and the research knobs.

:class:`PursuitSettings` is everything :func:`neuron_pursuit` needs, with one set of
defaults (the regressor's). :class:`PursuitOptions` holds the knobs that are there for
research and benchmarks rather than everyday tuning; the estimators take one as their
``options`` parameter. A field left at None is chosen from the loss and the penalty in
:meth:`PursuitOptions.resolved`, the one place where that happens; the estimators record
the resolved options as ``options_``.
"""

from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from .._kernels.activation import HomogeneousActivation
from .._kernels.losses import LOSSES


class _Number(Interval):
    """An :class:`Interval` that refuses booleans (``True`` is an ``int`` in Python)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return super().__str__() + " (not a bool)"


# Nesterov momentum of the inner descent with a penalty (docs/inner-descent.md, "Momentum").
PENALISED_MOMENTUM = 0.9


# The ranges of the growth's numbers: the estimators' hyperparameters and the fields of
# PursuitSettings alike (the activation's power and negative slope apart).
GROWTH_CONSTRAINTS = {
    "depth": [_Number(Integral, 2, None, closed="left")],
    "delta": [_Number(Real, 0, 1, closed="right")],
    "n_restarts": [_Number(Integral, 1, None, closed="left")],
    "gd_steps": [_Number(Integral, 0, None, closed="left")],
    "max_iter": [_Number(Integral, 1, None, closed="left")],
    "tol": [_Number(Real, 0, None, closed="left")],
    "alpha": [_Number(Real, 0, None, closed="left")],
}
POWER = [_Number(Integral, 1, None, closed="left")]
SLOPE = [_Number(Real, -1, 1, closed="both")]


@dataclass(frozen=True)
class PursuitOptions:
    """Research knobs of Neuron Pursuit: the search, the inner descent, the growth rules.

    Pass one as an estimator's ``options`` (``NeuronPursuitRegressor(options=
    PursuitOptions(solver="gd"))``); fields left at their defaults keep them. The
    estimators record what ran, with every None resolved, as ``options_``.

    Parameters
    ----------
    ncf_steps : int, default=200
        Steps of projected gradient ascent per search for the dominant KKT point of
        the neural correlation function (NCF).
    ncf_lr : float, default=1.0
        Ascent step size, on inputs and residuals rescaled to unit root-mean-square
        row norm, so the step does not depend on the units of the data.
    ncf_samples : int or None, default=4096
        On more training samples than this, each search runs the first 90% of its
        ascent on this many samples drawn afresh and the rest on all of them (on more
        than twice this many, on twice this many); the candidates are compared on all
        samples (docs/algorithm.md §3.3). None: every step on all samples.
    descent_samples : int or None, default=8192
        On more training samples than this, Levenberg-Marquardt forms its curvature
        ``J^T J`` on this many samples drawn afresh for each neuron, and the
        gradient-descent window before it runs on at most 2,048 samples of a draw of its
        own; Levenberg-Marquardt's gradient and the loss that accepts each step use all
        samples (docs/inner-descent.md, "Many samples"). None: all samples throughout.
    layer_choice : {"decrease", "ncf"} or None, default=None
        Which hidden layer receives the next neuron. ``"ncf"`` (the paper's): the
        largest NCF value. ``"decrease"``: the largest loss decrease the candidate
        promises at its scale (docs/algorithm.md §3.2). None: ``"decrease"`` for the
        squared loss, ``"ncf"`` for the log loss.
    neurons_per_iteration : int or None, default=None
        At most this many neurons per iteration, all in the layer that grows: the
        chosen KKT point and other restarts' KKT points that are distinct from it and
        lower the objective (docs/algorithm.md §3.8). None: the estimator's choice,
        1 for the regressor (the paper's) and 3 for the classifier.
    gd_lr : float, default=0.1
        Largest gradient-descent step, on the rescaled problem; halved when a window
        of steps raised the loss, and carried to the next neuron (docs/inner-descent.md).
    gd_momentum : float in [0, 1) or None, default=None
        Nesterov momentum of the inner descent. None: 0.9 with a penalty
        (``alpha > 0``), 0 (plain gradient descent, the paper's) without.
    gd_window : int, default=250
        Gradient-descent steps between two checks of the loss.
    gd_tol : float, default=1e-4
        Stop the inner minimisation once a window (a Levenberg-Marquardt step) lowered
        the loss by less than this fraction of it. 0: run to ``gd_steps``.
    solver : {"auto", "gd", "lm"}, default="auto"
        The inner minimisation: gradient descent, Levenberg-Marquardt, or per
        iteration (docs/inner-descent.md, "Which solver") one window of gradient
        descent finished by Levenberg-Marquardt where its system is small, for the
        squared loss; ``history_`` records what ran.
    lm_steps : int, default=20
        Accepted Levenberg-Marquardt steps per added neuron, at most.
    rebalance : bool, default=False
        After each iteration, rescale every hidden neuron so that
        ``||in||^2 = p ||out||^2`` without changing predictions (docs/algorithm.md §5).
    """

    ncf_steps: int = 200
    ncf_lr: float = 1.0
    ncf_samples: int | None = 4096
    descent_samples: int | None = 8192
    layer_choice: str | None = None
    neurons_per_iteration: int | None = None
    gd_lr: float = 0.1
    gd_momentum: float | None = None
    gd_window: int = 250
    gd_tol: float = 1e-4
    solver: str = "auto"
    lm_steps: int = 20
    rebalance: bool = False

    _constraints = {
        "ncf_steps": [_Number(Integral, 1, None, closed="left")],
        "ncf_lr": [_Number(Real, 0, None, closed="neither")],
        "ncf_samples": [_Number(Integral, 1, None, closed="left"), None],
        "descent_samples": [_Number(Integral, 1, None, closed="left"), None],
        "layer_choice": [StrOptions({"decrease", "ncf"}), None],
        "neurons_per_iteration": [_Number(Integral, 1, None, closed="left"), None],
        "gd_lr": [_Number(Real, 0, None, closed="neither")],
        "gd_momentum": [_Number(Real, 0, 1, closed="left"), None],
        "gd_window": [_Number(Integral, 1, None, closed="left")],
        "gd_tol": [_Number(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "gd", "lm"})],
        "lm_steps": [_Number(Integral, 0, None, closed="left")],
        "rebalance": ["boolean"],
    }

    def __repr__(self):
        """The fields that differ from their defaults, as scikit-learn prints estimators
        (``print_changed_only``): ``PursuitOptions(solver='gd')``; every field when
        ``sklearn.set_config(print_changed_only=False)``."""
        everything = not get_config()["print_changed_only"]
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            # As scikit-learn compares parameters with their defaults: by their reprs.
            if everything or repr(getattr(self, f.name)) != repr(f.default)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def validate(self, caller="PursuitOptions"):
        """Raise ``InvalidParameterError`` naming the field and ``caller`` on a bad value."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        validate_parameter_constraints(self._constraints, values, caller_name=caller)

    def resolved(self, objective_name, alpha, neurons_per_iteration=1):
        """These options with every None chosen for the loss and ``alpha`` (plain numbers).

        ``neurons_per_iteration`` is the caller's choice where the field is None.
        """
        layer_choice = self.layer_choice
        if layer_choice is None:
            layer_choice = "decrease" if objective_name == "squared_error" else "ncf"
        momentum = self.gd_momentum
        if momentum is None:
            momentum = PENALISED_MOMENTUM if alpha > 0 else 0.0
        neurons = self.neurons_per_iteration
        chosen = replace(
            self,
            ncf_steps=int(self.ncf_steps),
            ncf_lr=float(self.ncf_lr),
            ncf_samples=None if self.ncf_samples is None else int(self.ncf_samples),
            descent_samples=None if self.descent_samples is None else int(self.descent_samples),
            layer_choice=str(layer_choice),
            neurons_per_iteration=int(neurons_per_iteration if neurons is None else neurons),
            gd_lr=float(self.gd_lr),
            gd_momentum=float(momentum),
            gd_window=int(self.gd_window),
            gd_tol=float(self.gd_tol),
            solver=str(self.solver),
            lm_steps=int(self.lm_steps),
            rebalance=bool(self.rebalance),
        )
        # The options as given go with their resolution (not a field: equality and the
        # repr see the resolved values), so that dataclasses.replace of a
        # PursuitSettings resolves them again for its new alpha or loss.
        object.__setattr__(chosen, "_given", getattr(self, "_given", self))
        return chosen


def _resolvable(options, alpha):
    """Whether ``options`` and ``alpha`` are valid, so that resolving them (which turns
    values into plain ints, floats and bools) changes no invalid value into a valid one."""
    try:
        options.validate()
    except InvalidParameterError:
        return False
    return isinstance(alpha, Real) and not isinstance(alpha, bool)


@dataclass(frozen=True)
class PaperSchedule:
    """The rules of the paper's App. C that replace the package's own (docs/paper.md).

    Set as :class:`PursuitSettings`'s ``schedule`` (:func:`paper_settings` does), it
    makes a growth run as the paper wrote it: on the data's own units (no rescaling of
    inputs or targets, for the ascent or the descent), new neurons at absolute scales,
    gradient descent with a fixed step for a fixed count, and the paper's stops only
    (no ``"stalled"``; a neuron is added after its halvings whatever the loss). The
    options' ``ncf_steps``, ``ncf_lr``, ``gd_lr`` and ``gd_window`` and the settings'
    ``gd_steps``, ``tol`` and ``max_iter`` keep their meaning.

    Parameters
    ----------
    first_delta : float, default=0.25
        Iteration 1 adds ``first_delta * w*`` (``w*`` of unit norm), halved while the
        loss exceeds the loss at the origin, at most 4 times.
    later_delta : float, default=0.1
        Later iterations add the unit-norm candidate at scale ``later_delta ||w||``,
        ``||w||`` the norm of the weights after the previous iteration, halved while
        the loss exceeds the loss before, at most 10 times. (The paper's constant was
        lost in extraction; 0.1 is ours.)
    first_ncf_steps, first_ncf_lr : int or float, default=None
        The ascent of iteration 1, where it differs from the later ones (PVR: 6,000
        steps of 0.25); None: ``ncf_steps``, ``ncf_lr``.
    gd_rule : {"fixed", "halve"}, default="fixed"
        ``"fixed"``: ``gd_steps`` steps of size ``gd_lr``, the loss read every
        ``gd_window`` steps only to stop early when a window changed it by less than
        rounding (or it is not finite). ``"halve"`` (PVR): as ``"fixed"``, but a window
        whose loss rose is undone and the step halved, at most ``gd_halvings`` times.
        Every descent starts again at ``gd_lr``.
    gd_halvings : int, default=4
    long_gd_steps : int, default=None
        The descent's count once the relative training error is below
        ``long_gd_below`` (Gaussian inputs: 300,000); None: always ``gd_steps``.
    long_gd_below : float, default=0.01
        (The paper's threshold was lost in extraction; 0.01 is ours.)
    stop_when_classified : bool, default=False
        Stop once every training sample's largest output is its target's (the sign,
        for one output): the paper's modular-addition rule, with ``tol`` 0.
    """

    first_delta: float = 0.25
    later_delta: float = 0.1
    first_ncf_steps: int | None = None
    first_ncf_lr: float | None = None
    gd_rule: str = "fixed"
    gd_halvings: int = 4
    long_gd_steps: int | None = None
    long_gd_below: float = 0.01
    stop_when_classified: bool = False

    _constraints = {
        "first_delta": [_Number(Real, 0, None, closed="neither")],
        "later_delta": [_Number(Real, 0, None, closed="neither")],
        "first_ncf_steps": [_Number(Integral, 1, None, closed="left"), None],
        "first_ncf_lr": [_Number(Real, 0, None, closed="neither"), None],
        "gd_rule": [StrOptions({"fixed", "halve"})],
        "gd_halvings": [_Number(Integral, 0, None, closed="left")],
        "long_gd_steps": [_Number(Integral, 1, None, closed="left"), None],
        "long_gd_below": [_Number(Real, 0, None, closed="neither")],
        "stop_when_classified": ["boolean"],
    }

    def __post_init__(self):
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        validate_parameter_constraints(self._constraints, values, caller_name="PaperSchedule")

    def ascent(self, options, first):
        """``(steps, step size)`` of an iteration's ascent (``first``: iteration 1)."""
        steps, lr = options.ncf_steps, options.ncf_lr
        if first and self.first_ncf_steps is not None:
            steps = self.first_ncf_steps
        if first and self.first_ncf_lr is not None:
            lr = self.first_ncf_lr
        return steps, lr

    def descent_budget(self, gd_steps, relative_error):
        """The steps of a descent that starts at ``relative_error``."""
        if self.long_gd_steps is not None and relative_error < self.long_gd_below:
            return self.long_gd_steps
        return gd_steps


@dataclass(frozen=True)
class PursuitSettings:
    """Everything one growth needs (:func:`neuron_pursuit`).

    The fields are the estimators' hyperparameters of the same names (see
    :class:`NeuronPursuitRegressor`), with ``activation`` for ``activation_power`` and
    ``negative_slope``, ``objective`` for the loss (``"squared_error"`` or
    ``"log_loss"``) and ``options`` for the research knobs; their None fields are
    resolved on construction, and again by ``dataclasses.replace`` for a new ``alpha``
    or ``objective``. ``schedule``, a :class:`PaperSchedule`, runs the paper's rules
    instead of the package's. :meth:`validate` checks every field (:func:`neuron_pursuit`
    calls it).
    """

    depth: int = 3
    activation: HomogeneousActivation = HomogeneousActivation(1, 0.1)
    delta: float = 0.2
    n_restarts: int = 16
    gd_steps: int = 1000
    max_iter: int = 31
    tol: float = 1e-3
    alpha: float = 0.0
    objective: object = LOSSES["squared_error"]  # a loss of _kernels/losses.py
    options: PursuitOptions = field(default_factory=PursuitOptions)
    verbose: int = 0
    schedule: PaperSchedule | None = None

    def __post_init__(self):
        name = self.objective if isinstance(self.objective, str) else None
        if name not in LOSSES:
            name = next((key for key, loss in LOSSES.items() if loss is self.objective), None)
        if name is None:
            raise ValueError(
                f"PursuitSettings.objective must be one of {sorted(LOSSES)}; "
                f"got {self.objective!r}."
            )
        object.__setattr__(self, "objective", LOSSES[name])
        if not isinstance(self.options, PursuitOptions):
            raise ValueError(
                f"PursuitSettings.options must be a PursuitOptions; got {self.options!r}."
            )
        # Resolved again from the options as given, for this alpha and loss; the number
        # of neurons per iteration is the caller's choice (the classifier's 3), kept.
        given = getattr(self.options, "_given", self.options)
        if not _resolvable(given, self.alpha):  # left as given: validate() names the value
            object.__setattr__(self, "options", given)
            return
        neurons = self.options.neurons_per_iteration
        resolved = given.resolved(self.objective.name, self.alpha, neurons or 1)
        object.__setattr__(self, "options", resolved)

    _constraints = {
        **GROWTH_CONSTRAINTS,
        "activation": [HomogeneousActivation],
        "objective": [object],
        "options": [PursuitOptions],
        "verbose": [_Number(Integral, 0, None, closed="left")],
        "schedule": [PaperSchedule, None],
    }

    def validate(self, caller="PursuitSettings"):
        """Raise ``InvalidParameterError`` naming the field and ``caller`` on a bad value
        (the estimators check the same ranges on their hyperparameters)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        validate_parameter_constraints(self._constraints, values, caller_name=caller)
        activation = {"power": self.activation.power, "slope": self.activation.slope}
        validate_parameter_constraints(
            {"power": POWER, "slope": SLOPE}, activation, caller_name=f"{caller}.activation"
        )
        # The options as given: their resolution turns 2.7 steps into 2, "no" into True.
        getattr(self.options, "_given", self.options).validate(f"{caller}.options")
