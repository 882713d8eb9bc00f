"""NeuronPursuitClassifier."""

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from .base import BaseNeuronPursuit, with_callbacks
from .docstrings import ATTRIBUTES_DOC, parameters_doc
from .fit_safety import restores_on_failure
from .plumbing import estimator_init

_ALPHA_NOTE = """ The classifier's default, 0.01 with the log loss, was chosen on
        scikit-learn's bundled datasets (docs/decisions.md, "The classifier's
        defaults"); the paper's protocol is ``loss="squared_error", alpha=0``."""
_DEPTH_NOTE = """
        The classifier's default is one hidden layer: with the penalised log loss
        it scored as two did on scikit-learn's bundled datasets, and better on
        digits in half the time (docs/decisions.md, "The classifier's depth
        and momentum")."""
_PATIENCE_NOTE = """
        The classifier keeps a fixed patience: its default penalty holds nothing
        out, and modular addition under early stopping needs the patience
        (docs/decisions.md, "The regressor's patience")."""


def class_targets(encoded, n_classes, loss):
    """The network's targets ``Y`` for class indices ``encoded``, shape (n, 1 or n_classes).

    Two classes: one column, 1 for the second class and 0 (log loss) or -1 (squared
    loss) for the first; more: one-hot rows.
    """
    if n_classes == 2:
        negative = 0.0 if loss == "log_loss" else -1.0
        return np.where(encoded == 1, 1.0, negative)[:, None]
    return np.eye(n_classes)[encoded]


def check_one_label_per_sample(y, name, advice=None):
    """Refuse ``y`` of several columns; ``advice`` (by default the wrapper for several
    labels per sample) ends the message."""
    # Arrays and frames, in memory or Dask's (whose row count may be unknown); lists
    # are checked later.
    shape = getattr(y, "shape", ())
    n_columns = len(y.columns) if hasattr(y, "columns") else shape[1] if len(shape) == 2 else 1
    if n_columns > 1:
        raise ValueError(
            f"{name} takes one label per sample (y of shape (n_samples,)); got y "
            f"of {n_columns} columns. "
            + (
                advice
                or "For several labels per sample, wrap it: "
                f"sklearn.multioutput.MultiOutputClassifier({name}())."
            )
        )


def sorted_classes(y):
    """``np.unique(y, return_inverse=True)`` of labels ``y`` that are classes.

    Raises scikit-learn's ValueError for continuous targets, and a TypeError naming the
    problem where the labels have no order (None among strings, strings among numbers).
    """
    try:
        check_classification_targets(y)
        return np.unique(y, return_inverse=True)
    except TypeError as error:
        if "not supported between" not in str(error):  # scikit-learn's own (bytes)
            raise
        raise unordered_labels(error) from None


def unordered_labels(error):
    """The TypeError for labels that sorting (``error``) found without an order."""
    return TypeError(
        "The labels y must be of one comparable type (all strings or all "
        f"numbers, no None); sorting them failed: {error}"
    )


def class_weights(class_weight, classes, encoded, y, sample_weight):
    """Each sample's class weight: ``class_weight[label]``, or for ``"balanced"``
    ``sum(counts) / (n_classes * counts[class])`` with ``counts`` the classes' total
    ``sample_weight`` (as ``sklearn.utils.class_weight.compute_class_weight``; a class
    of zero weight gets 1, its samples weigh nothing anyway)."""
    if class_weight != "balanced":
        return compute_sample_weight(class_weight, y)
    counts = np.bincount(encoded, weights=sample_weight, minlength=len(classes))
    return balanced_weights(counts)[encoded]


def balanced_weights(counts):
    """``"balanced"`` class weights of the classes' total sample weights ``counts``."""
    return counts.sum() / (len(counts) * np.where(counts > 0, counts, 1))


def check_class_weight(class_weight):
    """``class_weight`` itself; a dict's weights must be finite and non-negative."""
    if isinstance(class_weight, dict):
        for label, weight in class_weight.items():
            if not (isinstance(weight, (int, float, np.number)) and 0 <= weight < np.inf):
                raise ValueError(
                    "class_weight must give every class a finite, non-negative weight; "
                    f"got {weight!r} for class {label!r}."
                )
    return class_weight


def _class_index(scores):
    """Class indices of network outputs (one column: its sign) or of encoded targets."""
    if scores.ndim == 1 or scores.shape[1] == 1:
        return (scores.ravel() > 0).astype(int)
    return np.argmax(scores, axis=1)


class NeuronPursuitClassifier(ClassifierMixin, BaseNeuronPursuit):
    _parameter_constraints: dict = {
        **BaseNeuronPursuit._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "loss": [StrOptions({"squared_error", "log_loss"})],
    }

    __doc__ = f"""Classification with a homogeneous network grown by Neuron Pursuit.

    By default the outputs are logits fitted with the cross-entropy of their
    softmax (for two classes: of the sigmoid of the one output) plus an L2
    penalty, ``alpha=0.01``, and ``predict_proba`` gives class probabilities;
    Neuron Pursuit correlates new neurons with the loss's negative gradient
    instead of the residual (docs/algorithm.md §9, §10).

    With ``loss="squared_error", alpha=0`` it is the paper's classifier (§5.2.2):
    the network is fitted with the squared loss to one-hot targets and predicts
    the class of the largest output. A binary problem then uses a single output
    fitted to targets ``-1`` and ``+1`` (equivalent to one-hot targets with
    antisymmetric outputs), so that ``decision_function`` is one score whose
    sign gives the class.

    See :class:`NeuronPursuitRegressor` for the algorithm.

    Parameters
    ----------
    {
        parameters_doc(
            alpha=("0.01", _ALPHA_NOTE),
            depth=("2", _DEPTH_NOTE),
            n_iter_no_change=("10", _PATIENCE_NOTE),
        )
    }
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplying ``sample_weight``:
        ``{{label: weight}}``, or ``"balanced"`` for ``n_samples / (n_classes *
        np.bincount(y))`` with the samples counted by ``sample_weight``, as in
        scikit-learn's other classifiers. None: every class weighs 1.

    loss : {{"squared_error", "log_loss"}}, default="log_loss"
        The loss the network is fitted with. ``"squared_error"``: the paper's
        squared loss on the targets above; ``decision_function`` gives scores and
        there is no ``predict_proba``.
        ``"log_loss"``: the cross-entropy of
        ``softmax(H)`` against one-hot targets (two classes: of ``sigmoid(H)`` of
        one output against 0 and 1), so that ``decision_function`` gives logits
        and ``predict_proba`` / ``predict_log_proba`` are available. ``tol`` is
        then on the loss relative to that of the zero network, ``log(n_classes)``
        (``log 2`` for two classes); ``delta`` is a fraction of the scale found
        by a line search of the loss along the new neuron's direction.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    {ATTRIBUTES_DOC}

    See Also
    --------
    NeuronPursuitRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : A network of fixed size trained by
        gradient methods.

    References
    ----------
    .. [1] A. Kumar and J. Haupt, "Learning Neural Networks by Neuron Pursuit",
       arXiv:2509.12154, 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuronpursuit import NeuronPursuitClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = np.where(X[:, 0] * X[:, 1] > 0, "same", "different")
    >>> clf = NeuronPursuitClassifier(depth=2, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['different', 'same'], dtype='<U9')
    >>> clf.score(X, y) > 0.95
    True
    """

    __init__ = estimator_init(
        BaseNeuronPursuit.__init__,
        depth=2,
        alpha=0.01,
        n_iter_no_change=10,
        class_weight=None,
        loss="log_loss",
    )
    # PursuitOptions.neurons_per_iteration when left at None (docs/decisions.md).
    _neurons_per_iteration = 3

    @restores_on_failure
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Grow the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; at least 2 samples.
        y : array-like of shape (n_samples,)
            Class labels; at least two classes with positive total weight.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss; only their
            ratios matter. Integer weights give the fit on repeated samples (bit
            for bit on the CPU).

        Returns
        -------
        self : NeuronPursuitClassifier
            The fitted estimator.
        """
        check_one_label_per_sample(y, type(self).__name__)
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_min_samples=2, accept_sparse="csr"
        )
        classes, encoded = sorted_classes(y)
        if (
            self.warm_start
            and hasattr(self, "classes_")
            and not np.array_equal(classes, self.classes_)
        ):
            raise ValueError(
                f"warm_start=True needs the classes of the first fit, {self.classes_}; "
                f"got {classes}."
            )
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.class_weight is not None:
            weight = weight * class_weights(
                check_class_weight(self.class_weight), classes, encoded, y, weight
            )
            sample_weight = weight
        n_weighted_classes = np.count_nonzero(np.bincount(encoded, weights=np.abs(weight)))
        if n_weighted_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with "
                "positive weight (sample_weight times class_weight); got "
                f"{n_weighted_classes} class."
            )
        Y = class_targets(encoded, len(classes), self.loss)
        self._fit_network(X, Y, sample_weight, attributes={"classes_": classes})
        self._warn_about_stop()
        return self

    def _strata(self, Y):
        return _class_index(Y)

    def _squeezes_output(self):
        return len(self.classes_) == 2

    def decision_function(self, X):
        """Network outputs: the confidence scores (with ``loss="log_loss"``, logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` (positive means that
            class); otherwise one column per class.
        """
        output = self._network_output(X)
        return output.ravel() if len(self.classes_) == 2 else output

    def predict(self, X):
        """Predict the class of the largest network output.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        return self.classes_[_class_index(scores)]

    @staticmethod
    def _validation_score(output, Y, sample_weight):
        hits = _class_index(output) == _class_index(Y)
        return float(np.average(hits, weights=sample_weight))

    @staticmethod
    def _validation_terms(output, Y, sample_weight):
        # Accuracy is the sum of these terms.
        hits = _class_index(output) == _class_index(Y)
        return hits * (sample_weight / sample_weight.sum())

    def _loss_name(self):
        return self.loss

    def _has_probabilities(self):
        # The fitted loss once fitted (a changed hyperparameter changes nothing);
        # before, the hyperparameter, as scikit-learn's meta-estimators ask then.
        if not getattr(self, "_loss_", self.loss) == "log_loss":
            raise AttributeError(
                "predict_proba is available with loss='log_loss' only; the squared "
                "loss gives scores, not probabilities."
            )
        return True

    def _probabilities(self, X, binary, multiclass):
        """``[binary(-H), binary(H)]`` of the one logit of two classes, else ``multiclass(H)``."""
        output = self._network_output(X)
        if len(self.classes_) == 2:
            return np.column_stack([binary(-output[:, 0]), binary(output[:, 0])])
        top = np.isposinf(output)
        if top.any():  # logits that overflowed (far beyond the training rows): the limit
            rows = top.any(axis=1)
            output = output.copy()
            output[rows] = np.where(top[rows], 0.0, -np.inf)
        return multiclass(output, axis=1)

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities: softmax of the logits (two classes: their sigmoid).

        Available with ``loss="log_loss"`` only.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; each row sums to 1.
        """
        return self._probabilities(X, expit, softmax)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`, computed stably from the logits.

        Available with ``loss="log_loss"`` only; ``X`` as for :meth:`predict_proba`.
        Returns an ndarray of shape (n_samples, n_classes).
        """
        return self._probabilities(X, log_expit, log_softmax)
