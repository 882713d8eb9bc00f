"""NeuronPursuitRegressorCV and NeuronPursuitClassifierCV: the network size by k-fold CV."""

import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneOut,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skneuronpursuit import (
    NeuronPursuitClassifier,
    NeuronPursuitClassifierCV,
    NeuronPursuitRegressor,
    NeuronPursuitRegressorCV,
)

SETTINGS = dict(n_restarts=4, gd_steps=100, max_iter=5, random_state=0)
# The estimator checks fit many times: fewer restarts, steps and iterations.
CHECKS = dict(n_restarts=2, gd_steps=50, max_iter=3, random_state=0)

rng = np.random.RandomState(0)
X = rng.normal(size=(90, 3))
y = np.maximum(X[:, 0] + X[:, 1], 0) - np.maximum(X[:, 2], 0) + 0.3 * rng.normal(size=90)
labels = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=90) > 0, "same", "different")


def regressor_cv(**params):
    # early_stopping=True, which the folds and the refit must set aside.
    network = NeuronPursuitRegressor(**SETTINGS, early_stopping=True)
    return NeuronPursuitRegressorCV(network, **{"cv": 3, **params})


def assert_same_network(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for coef_a, coef_b in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(coef_a, coef_b)


@parametrize_with_checks(
    [
        NeuronPursuitRegressorCV(NeuronPursuitRegressor(**CHECKS), cv=3),
        NeuronPursuitClassifierCV(NeuronPursuitClassifier(**CHECKS), cv=3),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [NeuronPursuitRegressor, NeuronPursuitClassifier])
def test_a_growth_continued_one_iteration_at_a_time_is_the_growth_at_once(Estimator):
    # What the folds rely on: growing to k in parts gives the network of max_iter=k.
    target = labels if Estimator is NeuronPursuitClassifier else y
    grower = Estimator(**SETTINGS, early_stopping=False, warm_start=True)
    for k in range(1, SETTINGS["max_iter"] + 1):
        grower.set_params(max_iter=k).fit(X, target)
        at_once = Estimator(**{**SETTINGS, "max_iter": k}, early_stopping=False).fit(X, target)
        assert grower.n_iter_ == at_once.n_iter_
        assert_same_network(grower, at_once)


def test_fold_scores_are_those_of_plain_fits_on_the_folds():
    reg = regressor_cv().fit(X, y)
    assert reg.cv_scores_.shape == (3, SETTINGS["max_iter"])
    for fold, (train, test) in enumerate(KFold(3).split(X)):
        for k in (1, 3, 5):
            plain = NeuronPursuitRegressor(**{**SETTINGS, "max_iter": k}, early_stopping=False)
            plain.fit(X[train], y[train])
            assert reg.cv_scores_[fold, k - 1] == plain.score(X[test], y[test])


def test_the_chosen_size_has_the_best_mean_fold_score():
    reg = regressor_cv().fit(X, y)
    mean = reg.mean_cv_scores_
    np.testing.assert_array_equal(mean, reg.cv_scores_.mean(axis=0))
    assert mean.shape == (SETTINGS["max_iter"],)
    assert mean[reg.n_iter_ - 1] == mean.max()
    # On a target of noise alone every neuron past the first fits noise: a smaller network
    # than max_iter wins, the choice is not the last size.
    noise = NeuronPursuitRegressorCV(NeuronPursuitRegressor(**SETTINGS), cv=3)
    noise.fit(X, np.random.RandomState(3).normal(size=len(X)))
    assert noise.mean_cv_scores_[noise.n_iter_ - 1] == noise.mean_cv_scores_.max()
    assert noise.n_iter_ < SETTINGS["max_iter"]


def test_folds_that_stop_growing_keep_their_score_and_ties_go_to_fewer_iterations():
    # An exactly representable target: every fold reaches tol after a few iterations.
    X_exact = np.random.RandomState(1).choice([-1.0, 1.0], size=(150, 8))
    y_exact = np.maximum(X_exact[:, 0] + X_exact[:, 1], 0)
    network = NeuronPursuitRegressor(depth=2, fit_intercept=False, **{**SETTINGS, "max_iter": 8})
    reg = NeuronPursuitRegressorCV(network, cv=3).fit(X_exact, y_exact)
    best = reg.n_iter_
    assert best < 8
    for row in reg.cv_scores_:
        np.testing.assert_array_equal(row[best - 1 :], row[best - 1])
    assert np.all(reg.mean_cv_scores_[: best - 1] < reg.mean_cv_scores_[best - 1])


def test_the_refit_is_a_plain_fit_of_the_chosen_size():
    reg = regressor_cv().fit(X, y)
    plain = NeuronPursuitRegressor(**{**SETTINGS, "max_iter": reg.n_iter_}, early_stopping=False)
    plain.fit(X, y)
    assert_same_network(reg.estimator_, plain)
    np.testing.assert_array_equal(reg.predict(X), plain.predict(X))
    assert reg.score(X, y) == plain.score(X, y)


def test_two_jobs_give_the_result_of_one():
    serial = regressor_cv(n_jobs=1).fit(X, y)
    parallel = regressor_cv(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.cv_scores_, parallel.cv_scores_)
    assert serial.n_iter_ == parallel.n_iter_
    assert_same_network(serial.estimator_, parallel.estimator_)


def test_zero_weight_rows_are_as_if_dropped_from_the_fits_and_the_scores():
    # Rows of weight 0 with wild targets, in every fold's training and test rows.
    extra = 90 + np.arange(12)
    X_all = np.vstack([X, rng.normal(size=(12, 3))])
    y_all = np.r_[y, np.full(12, 100.0)]
    weight = np.r_[np.ones(90), np.zeros(12)]
    with_extra, dropped = [], list(KFold(3).split(X))
    for fold, (train, test) in enumerate(dropped):
        in_test = extra[4 * fold : 4 * fold + 4]
        with_extra.append((np.r_[train, np.setdiff1d(extra, in_test)], np.r_[test, in_test]))
    network = NeuronPursuitRegressor(**SETTINGS)
    weighted = NeuronPursuitRegressorCV(network, cv=with_extra)
    weighted.fit(X_all, y_all, sample_weight=weight)
    plain = NeuronPursuitRegressorCV(network, cv=dropped).fit(X, y)
    np.testing.assert_allclose(weighted.cv_scores_, plain.cv_scores_, rtol=1e-12)
    assert weighted.n_iter_ == plain.n_iter_
    assert_same_network(weighted.estimator_, plain.estimator_)


def test_the_scoring_is_used_for_the_folds():
    reg = regressor_cv(scoring="neg_mean_squared_error").fit(X, y)
    train, test = next(KFold(3).split(X))
    plain = NeuronPursuitRegressor(**{**SETTINGS, "max_iter": 2}, early_stopping=False)
    plain.fit(X[train], y[train])
    error = np.mean((plain.predict(X[test]) - y[test]) ** 2)
    np.testing.assert_allclose(reg.cv_scores_[0, 1], -error, rtol=1e-12)


def test_the_classifier_uses_stratified_folds_and_delegates_to_its_refit():
    order = np.argsort(labels, kind="stable")  # sorted labels: plain KFold would differ
    X_sorted, y_sorted = X[order], labels[order]
    network = NeuronPursuitClassifier(**SETTINGS)
    clf = NeuronPursuitClassifierCV(network, cv=3).fit(X_sorted, y_sorted)
    stratified = NeuronPursuitClassifierCV(network, cv=StratifiedKFold(3))
    stratified.fit(X_sorted, y_sorted)
    np.testing.assert_array_equal(clf.cv_scores_, stratified.cv_scores_)
    np.testing.assert_array_equal(clf.classes_, ["different", "same"])
    refit = clf.estimator_
    assert refit.max_iter == clf.n_iter_
    np.testing.assert_array_equal(clf.predict_proba(X), refit.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_log_proba(X), refit.predict_log_proba(X))
    np.testing.assert_array_equal(clf.decision_function(X), refit.decision_function(X))
    np.testing.assert_array_equal(clf.predict(X), refit.predict(X))


def test_a_probability_scorer_knows_the_classes_a_test_fold_lacks():
    # A class of 2 samples in 3 stratified folds: one test fold has none of it.
    many = np.where(X[:, 0] > 0.5, "high", labels).astype(object)
    many[:2] = "rare"
    network = NeuronPursuitClassifier(**{**SETTINGS, "max_iter": 2})
    clf = NeuronPursuitClassifierCV(network, cv=3, scoring="neg_log_loss").fit(X, many)
    assert np.isfinite(clf.cv_scores_).all()
    folds = list(StratifiedKFold(3).split(X, many))
    row = next(index for index, (_, test) in enumerate(folds) if "rare" not in many[test])
    train, test = folds[row]
    plain = clone(network).set_params(early_stopping=False).fit(X[train], many[train])
    expected = -log_loss(many[test], plain.predict_proba(X[test]), labels=plain.classes_)
    np.testing.assert_allclose(clf.cv_scores_[row, 1], expected, rtol=1e-12)


def test_the_classifier_has_probabilities_only_with_the_log_loss():
    network = NeuronPursuitClassifier(loss="squared_error", alpha=0.0, **SETTINGS)
    clf = NeuronPursuitClassifierCV(network, cv=2)
    assert not hasattr(clf, "predict_proba")
    clf.fit(X, labels)
    assert not hasattr(clf, "predict_proba")
    assert hasattr(NeuronPursuitClassifierCV(), "predict_proba")  # the default: log loss


def test_works_in_grid_search_and_cross_val_score():
    search = GridSearchCV(
        NeuronPursuitRegressorCV(NeuronPursuitRegressor(**SETTINGS), cv=2),
        {"estimator__alpha": [0.0, 0.01]},
        cv=2,
    ).fit(X, y)
    assert search.best_estimator_.estimator_.alpha == search.best_params_["estimator__alpha"]
    assert search.best_score_ > 0.5
    network = NeuronPursuitClassifier(**SETTINGS)
    scores = cross_val_score(NeuronPursuitClassifierCV(network, cv=2), X, labels, cv=2)
    assert scores.shape == (2,)
    assert scores.min() > 0.6


def test_the_default_estimators_bound_the_path_by_their_max_iter():
    x = np.linspace(-1, 1, 12)[:, None]
    reg = NeuronPursuitRegressorCV(cv=2).fit(x, 2 * x[:, 0])
    assert isinstance(reg.estimator_, NeuronPursuitRegressor)
    assert reg.cv_scores_.shape == (2, NeuronPursuitRegressor().max_iter)
    clf = NeuronPursuitClassifierCV(cv=2).fit(x, x[:, 0] > 0)
    assert isinstance(clf.estimator_, NeuronPursuitClassifier)
    assert clf.cv_scores_.shape == (2, NeuronPursuitClassifier().max_iter)


def test_folds_without_a_finite_score_are_refused():
    # R^2 of a single test row is undefined (NaN): no size can be chosen.
    reg = NeuronPursuitRegressorCV(NeuronPursuitRegressor(**SETTINGS), cv=LeaveOneOut())
    with pytest.raises(ValueError, match="no finite mean cross-validation score"):
        with pytest.warns(UndefinedMetricWarning):
            reg.fit(X[:6], y[:6])


def test_an_estimator_of_the_other_kind_is_refused():
    with pytest.raises(InvalidParameterError, match="estimator"):
        NeuronPursuitRegressorCV(NeuronPursuitClassifier()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="estimator"):
        NeuronPursuitClassifierCV(NeuronPursuitRegressor()).fit(X, labels)


groups = np.repeat(np.arange(6), 15)  # six groups of consecutive rows


def test_groups_reach_the_splitter_with_metadata_routing():
    # As LassoCV: fit's metadata other than sample_weight goes to the splitter's split.
    weight = np.random.RandomState(2).uniform(0.5, 2.0, size=90)
    by_hand = list(GroupKFold(3).split(X, y, groups))
    expected = regressor_cv(cv=by_hand).fit(X, y, sample_weight=weight)
    with config_context(enable_metadata_routing=True):
        routed = regressor_cv(cv=GroupKFold(3)).fit(X, y, groups=groups, sample_weight=weight)
        np.testing.assert_array_equal(routed.cv_scores_, expected.cv_scores_)
        # Through a Pipeline, which routes groups to the CV estimator's fit.
        pipeline = make_pipeline(StandardScaler(), regressor_cv(cv=GroupKFold(3)))
        pipeline.fit(X, y, groups=groups)
        scaled = StandardScaler().fit_transform(X)
        plain = regressor_cv(cv=by_hand).fit(scaled, y)
        np.testing.assert_array_equal(pipeline[-1].cv_scores_, plain.cv_scores_)
        with pytest.raises(ValueError, match="groups"):
            regressor_cv(cv=GroupKFold(3)).fit(X, y)  # the splitter needs them


def test_splitter_metadata_without_routing_is_refused_with_the_remedy():
    with pytest.raises(ValueError, match="enable_metadata_routing=True.*cv=list"):
        regressor_cv(cv=GroupKFold(3)).fit(X, y, groups=groups)
    network = NeuronPursuitClassifier(**SETTINGS)
    with pytest.raises(ValueError, match=r"\['groups'\]"):
        NeuronPursuitClassifierCV(network, cv=GroupKFold(3)).fit(X, labels, groups=groups)


def test_feature_importances_are_those_of_the_refit_for_feature_selection():
    from sklearn.feature_selection import SelectFromModel

    reg = regressor_cv()
    assert not hasattr(reg, "feature_importances_")  # before fit
    selector = SelectFromModel(reg).fit(X, y)
    fitted = selector.estimator_
    np.testing.assert_array_equal(
        fitted.feature_importances_, fitted.estimator_.feature_importances_
    )
    assert selector.transform(X).shape[1] == selector.get_support().sum() >= 1


def test_a_generator_of_splits_serves_one_fit_with_routing_and_is_then_refused():
    # get_metadata_routing must not use up a generator (check_cv lists it).
    expected = regressor_cv(cv=list(KFold(3).split(X))).fit(X, y)
    with config_context(enable_metadata_routing=True):
        reg = regressor_cv(cv=KFold(3).split(X))
        np.testing.assert_array_equal(reg.fit(X, y).cv_scores_, expected.cv_scores_)
        with pytest.raises(ValueError, match="gave no splits.*pass a list"):
            reg.fit(X, y)


def test_the_folds_do_not_warn_and_their_errors_name_the_fold():
    # A penalty this large keeps every network at zero neurons: every fold's fit of every
    # size warns that it is stuck, and only the refit's warning is the user's.
    stuck = NeuronPursuitRegressor(**SETTINGS, alpha=1e3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        NeuronPursuitRegressorCV(stuck, cv=3).fit(X, y)
    assert len(caught) == 1 and "no better than the zero network" in str(caught[0].message)
    # A training fold with a single class.
    few = np.array(["a"] * 11 + ["b"])
    clf = NeuronPursuitClassifierCV(NeuronPursuitClassifier(**SETTINGS), cv=KFold(3))
    with pytest.raises(ValueError, match=r"fold 2 \(8 training and 4 test samples\).*1 class"):
        clf.fit(X[:12], few)


def test_the_refit_keeps_the_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = regressor_cv().fit(frame, y)
    assert list(reg.estimator_.feature_names_in_) == ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        np.testing.assert_array_equal(reg.predict(frame), reg.estimator_.predict(frame))


@pytest.mark.parametrize("method", ["predict", "decision_function", "predict_proba"])
@pytest.mark.parametrize("fitted_on_frame", [True, False])
def test_a_feature_name_mismatch_warns_once_naming_the_cv_estimator(method, fitted_on_frame):
    # As GridSearchCV: one warning, not a second one from estimator_.
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    if method == "predict":
        model, target = regressor_cv(), y
    else:
        model = NeuronPursuitClassifierCV(NeuronPursuitClassifier(**SETTINGS), cv=3)
        target = labels
    model.fit(frame if fitted_on_frame else X, target)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, method)(X if fitted_on_frame else frame)
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1, messages
    assert f"but {type(model).__name__} was fitted" in messages[0]


@pytest.mark.parametrize("bad", ["weights", "targets"])
def test_a_failed_fit_leaves_the_previous_fit_as_it_was(bad):
    # validate_data set n_features_in_ and feature_names_in_ to the failed fit's, so the
    # fitted model could no longer predict on its own data.
    pd = pytest.importorskip("pandas")
    old = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = regressor_cv().fit(old, y)
    before = reg.predict(old)
    new = pd.DataFrame(np.c_[X, X[:, :1]], columns=["w", "x", "y", "z"])
    with pytest.raises(ValueError):
        if bad == "weights":
            reg.fit(new, y, sample_weight=-np.ones(len(y)))
        else:  # targets the regressor cannot read, found after X was validated
            reg.fit(new, np.array(["a"] * len(y), dtype=object))
    assert reg.n_features_in_ == 3 and list(reg.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(reg.predict(old), before)


@pytest.mark.parametrize("max_iter", [0, -1, None, 2.5, "3", True])
def test_the_estimators_max_iter_is_validated_by_name(max_iter):
    # It was read with int() first: 2.5, "3" and True were taken, 0 and -1 blamed the folds.
    network = NeuronPursuitRegressor(**{**SETTINGS, "max_iter": max_iter})
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        NeuronPursuitRegressorCV(network, cv=3).fit(X, y)


def test_the_estimators_options_are_validated_by_field_before_the_folds():
    # A bad option failed in fold 0, as a ValueError naming the fold.
    from skneuronpursuit import PursuitOptions

    network = NeuronPursuitRegressor(**SETTINGS, options=PursuitOptions(ncf_steps=0))
    with pytest.raises(InvalidParameterError, match="'ncf_steps' parameter"):
        NeuronPursuitRegressorCV(network, cv=3).fit(X, y)
