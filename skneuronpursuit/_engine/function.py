"""Neuron Pursuit as a function: arrays and settings in, the grown network out.

As :func:`sklearn.linear_model.orthogonal_mp` stands beside ``OrthogonalMatchingPursuit``:
no early stopping, callbacks or class encoding, only the growth of docs/algorithm.md
§3 on the fit problem the estimators build too (``problem.py``).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.utils._param_validation import StrOptions, validate_parameter_constraints
from sklearn.utils.validation import _check_sample_weight, check_array, check_consistent_length

from .data import _network_output
from .device import DTYPES, fit_threads, resolve_device
from .problem import build_problem, random_state_from
from .pursuit import grow
from .settings import PursuitSettings


# Compared and hashed by identity: its fields hold arrays.
@dataclass(frozen=True, eq=False)
class PursuitFit:
    """A grown network and how it grew (:func:`neuron_pursuit`).

    Attributes
    ----------
    coefs : list of ndarray
        ``coefs[l]`` of shape ``(n_in, n_out)`` maps layer ``l`` to ``l + 1``, in the
        units of ``X`` and ``Y``; with ``fit_intercept`` the last row of ``coefs[0]``
        multiplies the constant feature.
    history : list of IterationRecord
        One record per iteration (also read by key, ``record["loss"]``), as the
        estimators' ``history_``.
    stop_reason : str
        Why the growth stopped, as the estimators' ``stop_reason_``.
    settings : PursuitSettings
        The settings it ran with, options resolved.
    fit_intercept : bool
    y_offset : ndarray of shape (n_outputs,)
        Added to the network's output: where the fit has an intercept and the squared
        loss, the offset the targets were shifted by (docs/algorithm.md §1), else zeros.
    """

    coefs: list
    history: list
    stop_reason: str
    settings: PursuitSettings
    fit_intercept: bool
    y_offset: np.ndarray

    @property
    def hidden_layer_sizes(self):
        """Width of every hidden layer."""
        return tuple(c.shape[1] for c in self.coefs[:-1])

    def predict(self, X):
        """The network's output on ``X``, an ndarray of shape (n_samples, n_outputs)."""
        X = check_array(X, accept_sparse="csr", dtype=np.float64)
        n_features = self.coefs[0].shape[0] - int(self.fit_intercept)
        if X.shape[1] != n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the network was grown on {n_features}."
            )
        output = _network_output(self.coefs, X, self.settings.activation, self.fit_intercept)
        return output + self.y_offset


def neuron_pursuit(
    X,
    Y,
    settings=None,
    *,
    sample_weight=None,
    fit_intercept=True,
    dtype="float32",
    device="cpu",
    random_state=None,
):
    """Grow a homogeneous network on ``(X, Y)`` by Neuron Pursuit.

    The growth the estimators run, without their early stopping or class encoding.
    With the squared loss ``Y`` is fitted as the regressor fits its targets (each
    output divided by its own spread, and centred with an intercept); the classifier,
    whose encoded classes share one scale and keep their offset, grows otherwise on
    one-hot rows. With :func:`paper_settings` it runs the paper's protocol, on the
    data as given (nothing rescaled or centred): the paper's networks have no bias,
    so pass ``fit_intercept=False`` (its algorithmic tasks carry a constant column).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets; for the log loss, 0/1 (one column) or one-hot rows.
    settings : PursuitSettings, default=None
        None: ``PursuitSettings()``, the regressor's defaults.
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=True
        Append a constant feature equal to 1 to ``X``; with the squared loss the targets'
        offset is then removed before the fit and added back (``y_offset``), as the
        regressor does (not under a paper schedule, which fits the data as given).
    dtype : {"float32", "float64"}, default="float32"
    device : str or torch.device, default="cpu"
        On the CPU a fit of at most 16,384 input values (rows x columns) runs on one
        torch thread, as the estimators' fits do (docs/engineering.md, "Threads and
        parallel fits").
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    PursuitFit

    Examples
    --------
    >>> import numpy as np
    >>> from skneuronpursuit import neuron_pursuit, paper_settings
    >>> rng = np.random.RandomState(0)
    >>> X = rng.choice([-1.0, 1.0], size=(200, 15))
    >>> y = X[:, 0] * X[:, 1]
    >>> fit = neuron_pursuit(X, y, fit_intercept=False, random_state=0)
    >>> fit.stop_reason, len(fit.hidden_layer_sizes), fit.history[-1]["train_error"] < 1e-3
    ('tol', 2, True)

    The paper's protocol for its hypercube task (70,000 gradient steps per neuron: about
    half a minute here):

    >>> paper = neuron_pursuit(X, y, paper_settings("cube-f2"), fit_intercept=False,
    ...                        random_state=0)  # doctest: +SKIP
    """
    settings = PursuitSettings() if settings is None else settings
    if not isinstance(settings, PursuitSettings):
        raise TypeError(
            f"neuron_pursuit's settings must be a PursuitSettings (or None); got "
            f"{type(settings).__name__}."
        )
    settings.validate("neuron_pursuit's settings")
    validate_parameter_constraints(
        {
            "fit_intercept": ["boolean"],
            "dtype": [StrOptions(set(DTYPES))],
            "random_state": ["random_state"],
        },
        {"fit_intercept": fit_intercept, "dtype": dtype, "random_state": random_state},
        caller_name="neuron_pursuit",
    )
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    Y = check_array(Y, ensure_2d=False, dtype=np.float64, input_name="Y")
    Y = Y.reshape(len(Y), -1)
    check_consistent_length(X, Y)
    # As the estimators: non-negative, not all zero (zero weights drop their rows).
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if scipy.sparse.issparse(X):
        X = scipy.sparse.csr_matrix(X)
    device = resolve_device(device)
    with fit_threads(device, X):
        problem = build_problem(
            X,
            Y,
            sample_weight,
            settings,
            fit_intercept=fit_intercept,
            dtype=DTYPES[dtype],
            device=device,
            center=fit_intercept,
            per_output=True,
        )
        result = grow(
            problem.X,
            problem.Y,
            problem.sample_weight,
            settings,
            random_state_from(random_state),
            loss_reference=problem.loss_reference,
        )
    return PursuitFit(
        coefs=problem.user_units(result.weights),
        history=result.history,
        stop_reason=result.stop_reason,
        settings=settings,
        fit_intercept=problem.fit_intercept,
        y_offset=problem.output_offset(result.weights),
    )
