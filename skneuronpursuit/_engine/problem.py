"""The fit problem: validated data turned into the tensors one growth runs on.

Built once per fit by :func:`build_problem`, for the estimators and for
:func:`neuron_pursuit` alike: zero weights dropped and equal samples merged (so
weighted and repeated samples give one problem), the targets' offset removed where
there is an intercept, inputs and targets divided by their scales (docs/algorithm.md
§1, a change of units mapped back exactly), the intercept column, the tensors on the
fit's device, and the memory check.
"""

from dataclasses import dataclass

import numpy as np
import torch

from .._kernels.inputs import as_tensor
from .._kernels.network import predict_by_blocks
from .data import (
    _input_tensor,
    _normalised_weights,
    _root_mean_square,
    fit_units,
    merge_duplicates,
    user_units,
)
from .memory import check_fit_memory


def random_state_from(seed):
    """A RandomState from ``seed``; for None a new one seeded by the OS, not NumPy's."""
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


@dataclass(frozen=True)
class FitProblem:
    """The tensors of one growth and the units they are in.

    ``X`` holds the inputs divided by ``x_scale`` with, when ``fit_intercept``, a last
    column of ones (a :class:`SparseInputs` for sparse data); ``Y`` the targets less
    ``y_offset``, divided by ``y_scale``; ``sample_weight`` the merged weights, of mean 1.
    The model in the data's units is ``y_offset + y_scale * H(x / x_scale)``.
    """

    X: object
    Y: torch.Tensor
    sample_weight: torch.Tensor
    x_scale: np.ndarray
    y_scale: np.ndarray  # (n_outputs,)
    fit_intercept: bool
    activation: object
    y_offset: np.ndarray | None = None  # (n_outputs,); None: no offset
    loss_reference: float | None = None  # what tol refers to; None: the zero network's loss
    y_mean: np.ndarray | None = None  # the targets' weighted mean, when centred

    def output_offset(self, weights):
        """What the model adds to the network ``weights``' output (``y_offset_``): the
        shifted offset, or for a network with no neuron the targets' mean (zeros where
        nothing was removed)."""
        if self.y_offset is None:
            return np.zeros(self.Y.shape[1])
        if all(w.shape[0] == 0 for w in weights[:-1]):
            return self.y_mean
        return self.y_offset

    def scaled_targets(self, Y):
        """``Y`` (in the data's units) in the units of the fit: ``(Y - y_offset) / y_scale``."""
        offset = 0.0 if self.y_offset is None else self.y_offset
        return (Y - offset) / self.y_scale

    def inputs(self, X):
        """``X`` (data's units) as the network takes it in the fit's units, float64 on
        the CPU: computed once for rows the network is evaluated on repeatedly."""
        return _input_tensor(X, self.fit_intercept, x_scale=self.x_scale)

    def scaled_output(self, weights, inputs):
        """The model of the network ``weights`` (tensors, fit's units) on ``inputs``
        (:meth:`inputs`), float64, in the fit's units: no scale of ``y`` can overflow or
        underflow it. A network with no neuron predicts the targets' mean there
        (:meth:`output_offset`)."""
        fit_weights = [w.detach().to("cpu", torch.float64) for w in weights]
        output = predict_by_blocks(fit_weights, inputs, self.activation).numpy()
        if self.y_offset is not None:
            output += (self.output_offset(weights) - self.y_offset) / self.y_scale
        return output

    def tensor(self, array):
        """``array`` as a tensor of the problem's dtype and device."""
        return as_tensor(array, dtype=self.Y.dtype, device=self.Y.device)

    def user_units(self, weights):
        """``coefs_`` (float64 ``(n_in, n_out)`` arrays in the data's units) of ``weights``."""
        fit_weights = [w.detach().to("cpu", torch.float64).numpy() for w in weights]
        return user_units(fit_weights, self.x_scale, self.y_scale)

    def fit_weights(self, coefs):
        """Tensors of the weights in this problem's units for ``coefs`` in the data's."""
        return [self.tensor(w) for w in fit_units(coefs, self.x_scale, self.y_scale)]


def target_scale(Y, sample_weight, per_output, root_mean_square=_root_mean_square):
    """The targets' scale, shape ``(n_outputs,)``: each output's weighted root mean square
    (``per_output``: values, docs/algorithm.md §1), else one of all entries shared by
    every output (class codes). ``root_mean_square`` as :func:`_root_mean_square`."""
    scale = root_mean_square(Y, sample_weight, axis=0 if per_output else None)
    return np.broadcast_to(scale, Y.shape[1]).astype(np.float64)


def _weighted_mean(Y, sample_weight):
    """Column means of ``Y``, divided by its largest magnitude first so none overflows."""
    peak = np.abs(Y).max(axis=0)
    peak = np.where(peak > 0, peak, 1.0)
    return peak * np.average(Y / peak, axis=0, weights=sample_weight)


def build_problem(
    X,
    Y,
    sample_weight,
    settings,
    *,
    fit_intercept,
    dtype,
    device,
    center=False,
    per_output=False,
    y_offset=None,
    rows=None,
):
    """The :class:`FitProblem` of validated data.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        float64 inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        float64 targets (for the classifier, its encoded classes).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, with a positive sum.
    settings : PursuitSettings
        The growth's settings: its loss says whether targets are rescaled (the log
        loss's outputs are logits, whose units are not the user's), its sizes enter
        the memory check; with a ``schedule`` (the paper's) nothing is rescaled or
        centred.
    fit_intercept : bool
    dtype : torch.dtype
    device : torch.device
    center : bool, default=False
        Remove the targets' offset (the regressor with an intercept: docs/algorithm.md
        §1): subtract the smallest target and divide by the spread about the weighted
        mean, so that the fit sees the same targets in any units and ``tol`` and every
        relative error refer to the spread, not the offset.
    per_output : bool, default=False
        Divide each output by its own spread (the targets are values: the regressor's,
        whose score averages R^2 over the outputs), not all by one (class codes).
    y_offset : ndarray of shape (n_outputs,), default=None
        With ``center``, the offset to subtract instead of the smallest target (a warm start
        keeps the offset of the fit it continues).
    rows : ndarray of int, optional
        The samples are ``X[rows]`` (``Y`` and ``sample_weight`` are theirs already):
        taken here, so that their copy lives only while the problem is built
        (docs/big-data.md, "Memory").

    Returns
    -------
    FitProblem
    """
    X, Y, sample_weight = merge_duplicates(X, Y, sample_weight, rows=rows, take=False)
    sample_weight = _normalised_weights(sample_weight)
    # The paper's schedule (PaperSchedule) runs on the data's own units.
    raw = settings.schedule is not None
    x_scale = np.ones(X.shape[1]) if raw else _root_mean_square(X, sample_weight, axis=0)
    rescale = settings.objective.rescales_targets and not raw
    y_scale = target_scale(Y, sample_weight, per_output) if rescale else np.ones(Y.shape[1])
    offset = centred = mean = None
    if center and rescale:
        mean = _weighted_mean(Y, sample_weight)
        centred = Y - mean
        y_scale = target_scale(centred, sample_weight, per_output)
        if y_offset is not None:  # a warm start keeps the offset of the model it grows
            offset = y_offset
        else:  # docs/algorithm.md §1: the smallest target becomes 0
            offset = Y.min(axis=0)
        Y = Y - offset
    return assemble_problem(
        X,
        Y,
        sample_weight,
        settings,
        x_scale=x_scale,
        y_scale=y_scale,
        offset=offset,
        centred=centred,
        mean=mean,
        fit_intercept=fit_intercept,
        dtype=dtype,
        device=device,
    )


def assemble_problem(
    X, Y, sample_weight, settings, *, x_scale, y_scale, offset, centred, mean, fit_intercept,
    dtype, device,
):  # fmt: skip
    """The :class:`FitProblem` of data whose scales and offset are known: the tensors on
    the fit's device, the memory check, the loss ``tol`` refers to.

    ``Y`` is already less ``offset``; ``centred`` is ``Y`` less its mean (``mean``), or
    None where nothing was removed. :func:`build_problem` and the data-parallel fit
    (``_estimators/partition_problem.py``, its scales over every process's rows) share it.
    """
    X_fit = _input_tensor(X, fit_intercept, dtype, device, x_scale)
    check_fit_memory(
        device, settings, dtype, *X_fit.shape, Y.shape[1], getattr(X_fit, "nnz", None)
    )

    def tensor(array):
        return as_tensor(array, dtype=dtype, device=device)

    weights = tensor(sample_weight)
    # With a shifted target, tol and train_error refer to the loss of its best constant.
    reference = None
    if centred is not None:
        reference = settings.objective.zero_value(tensor(centred / y_scale), weights)
    return FitProblem(
        X=X_fit,
        Y=tensor(Y / y_scale),
        sample_weight=weights,
        x_scale=x_scale,
        y_scale=y_scale,
        fit_intercept=bool(fit_intercept),
        activation=settings.activation,
        y_offset=offset,
        loss_reference=reference,
        y_mean=None if centred is None else mean,
    )
