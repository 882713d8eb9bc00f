"""What an estimator does with its grown network after fit: outputs, export, inspection, pruning.

Everything here reads fitted attributes only (``_fit_weights_``, ``x_scale_``, ``y_scale_``,
``_activation_``, ``_fit_intercept_``): changing a hyperparameter after ``fit`` changes
nothing here. The network is stored once, as ``_fit_weights_`` (the weights the fit grew,
on rescaled data); ``coefs_`` is derived from it.
"""

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine.data import _input_tensor, _network_output, user_units
from .._engine.device import resolve_device
from .._kernels.inputs import as_tensor
from .._kernels.neurons import keep_neurons
from .._kernels.prune import prune_neurons
from .export import HomogeneousNetwork
from .fit_safety import _Number
from .importance import feature_importances


def _module_dtype(dtype):
    """``to_torch``'s ``dtype``: a floating ``torch.dtype``, given as one or by name."""
    resolved = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(
            f"dtype={dtype!r} is not a floating torch dtype (e.g. torch.float32 or 'float64')."
        )
    return resolved


def float64_arrays(weights):
    """Weight tensors as float64 NumPy arrays on the host, copies."""
    return [w.detach().to("cpu", torch.float64).numpy().copy() for w in weights]


class FittedNetworkMixin:
    """Outputs, ``feature_importances_``, ``to_torch`` and ``prune`` of a fitted estimator.

    ``feature_importances_`` is a plain attribute, set by ``fit`` on the training rows
    and by ``prune`` on the rows it is given (it needs data: the slopes are averaged
    over rows).
    """

    @staticmethod
    def _network_attributes(weights):
        """Fitted attributes of a network given in the units of the fit.

        The weights are stored once, as the fit grew them: ``coefs_`` is derived.
        """
        fit_weights = float64_arrays(weights)
        return {
            "_fit_weights_": fit_weights,
            "hidden_layer_sizes_": tuple(w.shape[0] for w in fit_weights[:-1]),
        }

    @property
    def coefs_(self):
        """The weights in the units of ``X`` and ``y``, derived from the stored network.

        ``coefs_[l]`` of shape ``(n_in, n_out)`` maps layer ``l`` to ``l + 1``; with
        ``fit_intercept`` the last row of ``coefs_[0]`` multiplies the constant
        feature. A new list on every access: changing it does not change the model.
        """
        check_is_fitted(self)
        return user_units(self._fit_weights_, self.x_scale_, self.y_scale_)

    def _network_output(self, X):
        """Network output on ``X``, shape (n, n_outputs_), float64 on the CPU.

        Uses only fitted attributes: changing a hyperparameter after ``fit`` does
        not change the predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")
        output = _network_output(self.coefs_, X, self._activation_, self._fit_intercept_)
        return output + self.y_offset_

    def _importances(self, X, sample_weight, random_state, rows=None):
        """``feature_importances_`` of the fitted network on training rows ``X``
        (``X[rows]`` with ``rows``).

        Importance of each input feature, summing to 1: the root mean square change
        of the outputs on the training rows (weighted by ``sample_weight``, at most
        ``MAX_ROWS`` of them, drawn by a copy of ``random_state``) when ``x_j`` alone
        is replaced by another row's (docs/algorithm.md §1, ``_estimators/importance.py``).
        """
        return feature_importances(
            self._fit_weights_,
            X,
            sample_weight,
            self.x_scale_,
            self._activation_,
            random_state,
            rows=rows,
        )

    def to_torch(self, dtype=torch.float32, device="cpu"):
        """The fitted network as a ``torch.nn.Module`` in eval mode.

        Its output on a tensor ``X`` of shape (n_samples, n_features_in_) is the
        network output, shaped as ``predict`` of the regressor and
        ``decision_function`` of the classifier return it: (n_samples,) for one
        output or two classes, else (n_samples, n_outputs_). With
        ``loss="log_loss"`` these are logits, so apply ``torch.softmax`` (for two
        classes ``torch.sigmoid``) to get ``predict_proba``. The intercept feature
        is appended inside the module.
        The module is this estimator's network alone: in a ``Pipeline``, give it
        inputs the steps before it have transformed (``pipe[:-1].transform(X)``).
        A float32 module adds the regressor's ``y_offset_`` in float32: for targets
        far from zero compared with their spread, take ``dtype=torch.float64``.

        Parameters
        ----------
        dtype : torch.dtype or str, default=torch.float32
            A floating dtype, or its name (``"float32"``, ``"float64"``, ...).
        device : str or torch.device, default="cpu"
            ``"auto"`` is CUDA where available, as for the estimators' ``device``.

        Returns
        -------
        module : torch.nn.Module
        """
        check_is_fitted(self)
        dtype, device = _module_dtype(dtype), resolve_device(device)
        module = HomogeneousNetwork(
            self.coefs_,
            self._activation_.power,
            self._activation_.slope,
            self._fit_intercept_,
            output_offset=self.y_offset_,
            squeeze=self._squeezes_output(),
            dtype=dtype,
        )
        return module.to(device).eval()

    def _squeezes_output(self):
        """Whether ``to_torch``'s module returns one column as a vector (as ``predict`` or
        ``decision_function`` does)."""
        return False

    def prune(self, X, tol=1e-4):
        """Remove hidden neurons that do not change the predictions on ``X``.

        Neurons are tried from the one with the smallest incoming and outgoing
        weights (the bound ``||out|| * ||in||**p`` on their effect) and removed
        when the network output on ``X`` stays within a relative distance
        ``tol`` (Frobenius norm) of the unpruned output, each output in units of
        its spread (``y_scale_``).

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
            The pruned estimator; ``n_pruned_`` counts the neurons removed, and
            ``feature_importances_`` are recomputed on ``X`` (unweighted). Where no
            neuron is left (``tol >= 1``), the regressor with an intercept predicts the
            mean of its unpruned predictions on ``X``, the constant closest to them.
        """
        check_is_fitted(self)
        validate_parameter_constraints(
            {"tol": [_Number(Real, 0, None, closed="left")]},
            {"tol": tol},
            caller_name=f"{type(self).__name__}.prune",
        )
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")
        weights = [as_tensor(c.T) for c in self.coefs_]
        # Each output in units of its spread, as the fit weighs them (docs/algorithm.md
        # §1): an output in larger units does not set the budget of the others.
        weights[-1] = weights[-1] / as_tensor(np.reshape(self.y_scale_, (-1, 1)))
        inputs = _input_tensor(X, self._fit_intercept_)
        _, masks = prune_neurons(weights, inputs, self._activation_, float(tol))
        fit_weights = [as_tensor(w) for w in self._fit_weights_]
        before = sum(self.hidden_layer_sizes_)
        # A network with no neuron predicts its offset, which for the regressor with an
        # intercept is the smallest target (docs/algorithm.md §1): the unpruned
        # predictions' mean instead, as a fit that keeps no neuron predicts the mean.
        emptied = before > 0 and not any(mask.any() for mask in masks)
        if emptied and getattr(self, "_targets_are_values", False) and self._fit_intercept_:
            self.y_offset_ = self.y_offset_ + _network_output(
                self.coefs_, X, self._activation_, self._fit_intercept_
            ).mean(axis=0)
        for name, value in self._network_attributes(keep_neurons(fit_weights, masks)).items():
            setattr(self, name, value)
        self.n_pruned_ += before - sum(self.hidden_layer_sizes_)
        # The rows the predictions are kept on stand in for the training rows.
        self.feature_importances_ = self._importances(
            X, np.ones(X.shape[0]), getattr(self, "_random_state_", None)
        )
        return self
