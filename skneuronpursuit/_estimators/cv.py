"""The number of Neuron Pursuit iterations chosen by k-fold cross-validation along the growth.

As ``LassoLarsCV`` and ``OrthogonalMatchingPursuitCV`` choose a path length: one growth
per fold, scored on the fold's test rows after every iteration.
"""

import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names, make_scorer
from sklearn.model_selection import KFold, check_cv
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .classifier import NeuronPursuitClassifier
from .fit_safety import _restored_on_failure
from .regressor import NeuronPursuitRegressor


def _fold_scores(estimator, X, y, sample_weight, fold, train, test, scorer, max_iter):
    """Test scores of one fold's growth after each of 1, ..., ``max_iter`` iterations.

    A warm-started fit continues the growth: growing to ``k`` in parts gives the
    network of one fit with ``max_iter=k``. Once the fit stops growing (a stop
    reason other than ``"max_iter"``), the network no longer changes and later
    sizes keep its score. The folds' convergence warnings are not the user's (each
    size stops at its ``max_iter``); the refit's are. A fold's error names the fold.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return _grown_scores(estimator, X, y, sample_weight, train, test, scorer, max_iter)
    except ValueError as error:
        raise ValueError(
            f"cross-validation fold {fold} ({len(train)} training and {len(test)} test "
            f"samples): {error}"
        ) from error


def _grown_scores(estimator, X, y, sample_weight, train, test, scorer, max_iter):
    """The growth and scores of :func:`_fold_scores`."""
    grower = clone(estimator).set_params(early_stopping=False, warm_start=True)
    fit_params, score_params = {}, {}
    if sample_weight is not None:
        fit_params["sample_weight"] = sample_weight[train]
        score_params["sample_weight"] = sample_weight[test]
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    scores = np.empty(max_iter)
    for k in range(1, max_iter + 1):
        grower.set_params(max_iter=k).fit(X_train, y_train, **fit_params)
        scores[k - 1] = scorer(grower, X_test, y_test, **score_params)
        if grower.stop_reason_ != "max_iter":
            scores[k:] = scores[k - 1]
            break
    return scores


def _told_every_class(scorer, classes):
    """``scorer``, told all of ``classes`` where it scores probabilities or decision
    values with a metric that takes ``labels``.

    A test fold may lack a class that the fold's network was trained on (a class with
    fewer samples than folds); a metric of one column per class, such as
    ``neg_log_loss``, then cannot infer the classes from the fold's labels
    (``LogisticRegressionCV`` tells its scorers likewise). Metrics of predicted labels
    infer them from the labels and predictions and are left as they are.
    """
    metric = getattr(scorer, "_score_func", None)
    given = getattr(scorer, "_kwargs", None)
    response = getattr(scorer, "_response_method", "predict")
    if metric is None or given is None or "labels" in given or response == "predict":
        return scorer
    try:
        takes_labels = "labels" in inspect.signature(metric).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return scorer
    if not takes_labels:
        return scorer
    return make_scorer(
        metric,
        greater_is_better=scorer._sign > 0,
        response_method=scorer._response_method,
        labels=classes,
        **given,
    )


def _estimator_has(name):
    """Whether the fitted (else the given, else the default) estimator has method ``name``."""

    def check(self):
        estimator = self.estimator_ if hasattr(self, "estimator_") else self._template()
        getattr(estimator, name)  # the AttributeError of an unavailable method propagates
        return True

    return check


class _BaseNeuronPursuitCV(MetaEstimatorMixin, BaseEstimator):
    """Shared fit and prediction of the cross-validated estimators."""

    _default_estimator = None  # the class used when ``estimator`` is None

    _parameter_constraints: dict = {
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator=None, *, cv=5, scoring=None, n_jobs=None, verbose=0):
        self.estimator = estimator
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _template(self):
        return self._default_estimator() if self.estimator is None else self.estimator

    @_fit_context(prefer_skip_nested_validation=False)  # the estimator is validated too
    def fit(self, X, y, sample_weight=None, **params):
        """Choose the number of iterations by cross-validation, then refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (class labels for the classifier; one column).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, passed to every fold's fit and to the scoring of
            its test rows (weighted scores), and to the final fit.
        **params : dict
            Metadata for the splitter, e.g. ``groups`` for
            :class:`~sklearn.model_selection.GroupKFold`, as in ``LassoCV``: only with
            ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        routing = get_config().get("enable_metadata_routing", False)
        if params and not routing:
            raise ValueError(
                f"{type(self).__name__}.fit got {sorted(params)}: fit takes X, y and "
                "sample_weight, and metadata for the splitter (e.g. groups) is routed only with "
                "sklearn.set_config(enable_metadata_routing=True); or pass the splits "
                "themselves, cv=list(GroupKFold().split(X, y, groups))."
            )
        # A fit that fails (bad data, a fold's error) leaves the previous fit as it was.
        with _restored_on_failure(self):
            self._choose_and_refit(X, y, sample_weight, params, routing)
        return self

    def _choose_and_refit(self, X, y, sample_weight, params, routing):
        """:meth:`fit`'s work: the folds' growths, the chosen size and the refit."""
        classifier = is_classifier(self)
        X_given = X
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=np.float64,
            ensure_min_samples=2,
            multi_output=not classifier,
            y_numeric=not classifier,
        )
        if classifier:
            check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        template = self._template()
        template._validate_params()  # by name, before max_iter is read or a fold grows
        template._settings()  # its options too, by field
        max_iter = int(template.max_iter)
        scorer = check_scoring(template, scoring=self.scoring)
        if classifier:
            scorer = _told_every_class(scorer, np.unique(y))
        split_params = (
            process_routing(self, "fit", sample_weight=sample_weight, **params).splitter.split
            if routing
            else {}
        )
        cv = check_cv(self.cv, y, classifier=classifier)
        splits = list(cv.split(X, y, **split_params))
        if not splits:
            raise ValueError(
                f"{type(self).__name__}: cv={self.cv!r} gave no splits (a generator of "
                "splits is used up by one fit: pass a list of them)."
            )
        rows = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_scores)(
                template, X, y, sample_weight, fold, train, test, scorer, max_iter
            )
            for fold, (train, test) in enumerate(splits)
        )
        cv_scores = np.vstack(rows)
        mean = cv_scores.mean(axis=0)
        if not np.isfinite(mean).any():
            raise ValueError(
                f"{type(self).__name__} found no finite mean cross-validation score: "
                "every number of iterations has a test fold whose score is undefined "
                "(e.g. R^2 of a single test sample, or ROC AUC of a test fold of one "
                "class); use folds with more test samples of every kind."
            )
        # argmax takes the first maximum: ties go to fewer iterations.
        best = int(np.argmax(np.where(np.isfinite(mean), mean, -np.inf))) + 1
        refit = clone(template).set_params(early_stopping=False, warm_start=False, max_iter=best)
        # On the data as given, so that estimator_ keeps its feature names.
        self.estimator_ = refit.fit(X_given, y, sample_weight=sample_weight)
        self.cv_scores_ = cv_scores
        self.mean_cv_scores_ = mean
        self.n_iter_ = best
        if classifier:
            self.classes_ = self.estimator_.classes_

    def get_metadata_routing(self):
        """The metadata routing of this object: ``sample_weight`` is its own (every
        fold's fit and score), ``fit``'s other metadata goes to the splitter's ``split``.

        Returns
        -------
        routing : MetadataRouter
        """
        if self.cv is None or isinstance(self.cv, Integral) or hasattr(self.cv, "split"):
            splitter = check_cv(self.cv, classifier=is_classifier(self))
        else:  # an iterable of splits routes nothing; check_cv would use up a generator
            splitter = KFold()
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=splitter,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    @property
    def feature_importances_(self):
        """``estimator_.feature_importances_``: what ``SelectFromModel`` and ``RFE`` read.

        Raises AttributeError before ``fit``.
        """
        if not hasattr(self, "estimator_"):
            raise AttributeError(f"{type(self).__name__} has no feature_importances_ before fit.")
        return self.estimator_.feature_importances_

    def _delegate(self, method, X):
        """``estimator_``'s ``method`` on ``X``, checked against the fitted data once.

        ``estimator_`` gets ``X`` as given and checks it again; a feature-name warning
        names this estimator only, as ``GridSearchCV``'s does.
        """
        check_is_fitted(self)
        validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float64)
        inner = type(self.estimator_).__name__
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                message=rf"X (has|does not have valid) feature names, but {inner} was fitted",
                category=UserWarning,
            )
            return getattr(self.estimator_, method)(X)

    def predict(self, X):
        """Predict with ``estimator_``, the network refitted on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return self._delegate("predict", X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_DOC = """
    Parameters
    ----------
    estimator : {name}, default=None
        The network to grow, with its settings; ``max_iter`` bounds the path, and
        ``early_stopping`` and ``warm_start`` are set aside (the folds grow without
        holding data out). None: ``{name}()``.
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`~sklearn.model_selection.check_cv`; an integer gives
        ``{splitter}``.
    scoring : str, callable or None, default=None
        What :func:`~sklearn.metrics.check_scoring` accepts; None: the estimator's
        ``score``, {score}. A callable ``scorer(estimator, X, y)`` is also given
        ``sample_weight=`` (the test rows' weights) when ``fit`` has weights. The
        classifier's scorers of probabilities or decision values whose metric takes
        ``labels`` (``"neg_log_loss"``) are given every class, as in
        ``LogisticRegressionCV``: a test fold may lack one.
    n_jobs : int, default=None
        Folds grown in parallel (joblib); None means 1.
    verbose : int, default=0
        joblib's verbosity over the folds.

    Attributes
    ----------
    n_iter_ : int
        The chosen number of iterations: the largest mean fold score, the fewest
        iterations among equal ones.
    cv_scores_ : ndarray of shape (n_folds, max_iter)
        ``cv_scores_[i, k - 1]``: the score on fold ``i``'s test rows of the network
        grown for ``k`` iterations on its other rows. A growth that stopped before
        ``k`` keeps its last score.
    mean_cv_scores_ : ndarray of shape (max_iter,)
        The mean over the folds.
    estimator_ : {name}
        The estimator refitted on all rows with ``max_iter=n_iter_`` and
        ``early_stopping=False``; the predictions are its own.
    feature_importances_ : ndarray of shape (n_features_in_,)
        Those of ``estimator_`` (``SelectFromModel`` and ``RFE`` read them).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when ``X`` has string column names."""


class NeuronPursuitRegressorCV(RegressorMixin, _BaseNeuronPursuitCV):
    __doc__ = f"""Neuron Pursuit regression with the number of iterations chosen by
    cross-validation.

    Every fold grows one network, one iteration at a time up to ``max_iter``,
    and scores it on its test rows after every iteration; the number of
    iterations with the best mean score is refitted on all rows.
    {_DOC.format(name="NeuronPursuitRegressor", splitter="KFold", score="R^2")}

    See Also
    --------
    NeuronPursuitRegressor : Chooses the size on one held-out part (early stopping).
    sklearn.linear_model.OrthogonalMatchingPursuitCV : The same choice for a greedy
        linear path.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuronpursuit import NeuronPursuitRegressor, NeuronPursuitRegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.maximum(X[:, 0] + X[:, 1], 0) + 0.1 * rng.normal(size=120)
    >>> network = NeuronPursuitRegressor(depth=2, max_iter=6, random_state=0)
    >>> reg = NeuronPursuitRegressorCV(network, cv=3).fit(X, y)
    >>> reg.cv_scores_.shape
    (3, 6)
    >>> reg.n_iter_ == int(np.argmax(reg.mean_cv_scores_)) + 1
    True
    >>> reg.score(X, y) > 0.9
    True
    """

    _default_estimator = NeuronPursuitRegressor
    _parameter_constraints: dict = {
        **_BaseNeuronPursuitCV._parameter_constraints,
        "estimator": [NeuronPursuitRegressor, None],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class NeuronPursuitClassifierCV(ClassifierMixin, _BaseNeuronPursuitCV):
    __doc__ = f"""Neuron Pursuit classification with the number of iterations chosen by
    cross-validation.

    As :class:`NeuronPursuitRegressorCV`, with stratified folds.
    {_DOC.format(name="NeuronPursuitClassifier", splitter="StratifiedKFold", score="accuracy")}
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, "up", "down")
    >>> network = NeuronPursuitClassifier(max_iter=4, random_state=0)
    >>> clf = NeuronPursuitClassifierCV(network, cv=3).fit(X, y)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.mean_cv_scores_.shape
    (4,)
    >>> clf.score(X, y) > 0.9
    True
    """

    _default_estimator = NeuronPursuitClassifier
    _parameter_constraints: dict = {
        **_BaseNeuronPursuitCV._parameter_constraints,
        "estimator": [NeuronPursuitClassifier, None],
    }

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of ``estimator_`` (with its ``loss="log_loss"`` only).

        Returns an ndarray of shape (n_samples, n_classes), columns as ``classes_``.
        """
        return self._delegate("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`."""
        return self._delegate("predict_log_proba", X)

    def decision_function(self, X):
        """Network outputs of ``estimator_``: shape (n_samples,) for two classes, else
        (n_samples, n_classes)."""
        return self._delegate("decision_function", X)
