"""NeuronPursuitRegressor."""

import numpy as np
import scipy.sparse
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import validate_data

from .base import BaseNeuronPursuit, with_callbacks
from .docstrings import ATTRIBUTES_DOC, parameters_doc
from .fit_safety import restores_on_failure
from .plumbing import estimator_init


def _numeric_targets(y):
    """``y`` as finite float64; scikit-learn's validation lets ``None`` and strings through.

    An object ``y`` holding ``None`` becomes NaN on conversion, after the finiteness
    check, and a string dtype is not converted at all.
    """
    try:
        Y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"NeuronPursuitRegressor needs numeric targets y; got dtype {y.dtype}: {error}"
        ) from None
    if not np.all(np.isfinite(Y)):
        raise ValueError(
            "Input y contains NaN, infinity or None; NeuronPursuitRegressor needs "
            "finite numeric targets."
        )
    return Y


class NeuronPursuitRegressor(RegressorMixin, BaseNeuronPursuit):
    __doc__ = f"""Regression with a homogeneous network grown by Neuron Pursuit.

    Neuron Pursuit (Kumar & Haupt, 2025) fits a bias-free feed-forward network
    with activation ``max(z, a*z)**p`` by adding one neuron per iteration:
    the neuron whose incoming and outgoing weights maximise the correlation of
    its first-order effect with the current residual (a KKT point of a
    sphere-constrained neural correlation function), added at a small scale,
    followed by a minimisation of the squared loss over the whole network
    (gradient descent, then Levenberg-Marquardt where that is cheap). Single- and
    multi-output targets are supported.

    Parameters
    ----------
    {parameters_doc()}

    Attributes
    ----------
    {ATTRIBUTES_DOC}

    See Also
    --------
    NeuronPursuitClassifier : Classification, by default with the penalised log loss.
    sklearn.neural_network.MLPRegressor : A network of fixed size trained by
        gradient methods.
    sklearn.linear_model.OrthogonalMatchingPursuit : Neuron Pursuit on a
        two-layer diagonal linear network selects the same coordinates.

    References
    ----------
    .. [1] A. Kumar and J. Haupt, "Learning Neural Networks by Neuron Pursuit",
       arXiv:2509.12154, 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuronpursuit import NeuronPursuitRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.choice([-1.0, 1.0], size=(300, 8))
    >>> y = np.maximum(X[:, 0] + X[:, 1], 0)
    >>> reg = NeuronPursuitRegressor(depth=2, fit_intercept=False, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.stop_reason_
    'tol'
    >>> reg.score(X, y) > 0.99
    True
    """

    __init__ = estimator_init(BaseNeuronPursuit.__init__)
    _targets_are_values = True

    @restores_on_failure
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Grow the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; at least 2 samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the squared loss; only their
            ratios matter. Integer weights give the fit on repeated samples (bit
            for bit on the CPU).

        Returns
        -------
        self : NeuronPursuitRegressor
            The fitted estimator.
        """
        if scipy.sparse.issparse(y):
            raise TypeError(
                f"{type(self).__name__} needs dense targets y; got a sparse "
                f"{type(y).__name__}. Convert it with y.toarray()."
            )
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=np.float64,
            ensure_min_samples=2,
            accept_sparse="csr",
        )
        Y = _numeric_targets(y).reshape(len(y), -1)
        self._fit_network(X, Y, sample_weight)
        self._warn_about_stop()
        return self

    def predict(self, X):
        """Predict with the grown network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Network output, in float64 whatever ``dtype`` the fit used; 1-D
            when there is a single output (as in ``MLPRegressor``).
        """
        output = self._network_output(X)
        return output.ravel() if self.n_outputs_ == 1 else output

    _min_validation_samples = 2
    # "auto" holds out data whenever R^2 can be scored on it: without it nothing bounds
    # an unpenalised growth (docs/decisions.md, "Early stopping on small data").
    _auto_validation_samples = _min_validation_samples

    def _squeezes_output(self):
        return self.n_outputs_ == 1

    @staticmethod
    def _validation_score(output, Y, sample_weight):
        return r2_score(Y, output, sample_weight=sample_weight)

    @staticmethod
    def _validation_terms(output, Y, sample_weight):
        # R^2 averaged over the outputs is 1 minus the sum of these terms (an output
        # whose held-out targets are constant is compared by its squared error).
        weight = sample_weight / sample_weight.sum()
        spread = weight @ (Y - weight @ Y) ** 2
        spread = np.where(spread > 0, spread, 1.0) * Y.shape[1]
        return -weight * (((Y - output) ** 2) / spread).sum(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
