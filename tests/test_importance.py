"""feature_importances_: how much the network's outputs move when one input is resampled."""

import pickle
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
import scipy.sparse
import torch
from conftest import FAST
from datasets import sparse_relu_target
from scipy.stats import spearmanr
from sklearn.datasets import make_friedman1
from sklearn.feature_selection import RFE, SelectFromModel
from sklearn.inspection import permutation_importance
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skneuronpursuit._estimators.importance as importance_module
from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

FRIEDMAN_INPUTS = {0, 1, 2, 3, 4}  # make_friedman1's target uses x0..x4; x5..x9 are noise


def reference_importances(model, output, X, sample_weight):
    """The definition of ``feature_importances_``, from ``output`` on resampled copies of ``X``.

    The draws of the fit's own computation: a copy of its random state picks, for every
    row, the row (with probability proportional to its weight) whose ``x_j`` replaces
    its own; the root weighted mean square change of the outputs, each in units of its
    spread (``y_scale_``), normalised to sum to 1.
    """
    X = np.asarray(X.todense()) if scipy.sparse.issparse(X) else X
    weight = sample_weight / sample_weight.sum()
    draws = np.random.RandomState(0)
    draws.set_state(model._random_state_.get_state())
    replacement = draws.choice(len(X), len(X), p=weight)
    base = output(X).reshape(len(X), -1) / model.y_scale_
    changes = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        moved = X.copy()
        moved[:, j] = X[replacement, j]
        change = output(moved).reshape(len(X), -1) / model.y_scale_ - base
        changes[j] = np.sqrt(weight @ (change**2).sum(axis=1))
    return changes / changes.sum()


@contextmanager
def one_thread():
    # Module fixtures are set up before conftest's per-test single thread: on the 2
    # shared cores torch's default threads made the friedman1 fit 20-40x slower.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def friedman1():
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    pipeline = make_pipeline(StandardScaler(), NeuronPursuitRegressor(random_state=0))
    with one_thread():
        return X, y, pipeline.fit(X, y)


def test_friedman1_true_inputs_are_the_five_most_important(friedman1):
    # The old path sums of |weights| ranked x3 (the largest permutation importance) 4th.
    *_, pipeline = friedman1
    importances = pipeline[-1].feature_importances_
    assert set(np.argsort(-importances)[:5]) == FRIEDMAN_INPUTS


def test_friedman1_importances_rank_as_permutation_importance(friedman1):
    # Measured: Spearman 1.0 on seeds 0-2 (the old path sums: 0.4; mean slopes 0.1-0.7).
    X, y, pipeline = friedman1
    permuted = permutation_importance(pipeline, X, y, n_repeats=5, random_state=0)
    true = sorted(FRIEDMAN_INPUTS)
    rho = spearmanr(pipeline[-1].feature_importances_[true], permuted.importances_mean[true])
    assert rho.statistic >= 0.7


def test_select_from_model_keeps_the_friedman1_inputs():
    # The default threshold is the mean importance; the old path sums kept x0..x2 only.
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    selector = SelectFromModel(NeuronPursuitRegressor(random_state=0)).fit(X, y)
    kept = set(np.flatnonzero(selector.get_support()))
    assert kept >= FRIEDMAN_INPUTS and len(kept - FRIEDMAN_INPUTS) <= 2


def test_rfe_finds_the_friedman1_inputs():
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    rfe = RFE(NeuronPursuitRegressor(random_state=0), n_features_to_select=5).fit(X, y)
    assert set(np.flatnonzero(rfe.support_)) == FRIEDMAN_INPUTS


@pytest.mark.parametrize("case", ["two_outputs", "squared_relu", "sparse", "classifier"])
def test_importances_are_the_output_changes_of_resampled_inputs(case):
    # The batched first-layer computation against the fitted model's own predictions on
    # resampled copies of the rows, summed over its outputs, with sample weights.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(200, 5)) * [1, 2, 0.5, 1, 3] + [0, 4, 0, -2, 0]
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.column_stack([np.maximum(Z[:, 0] + Z[:, 1], 0), Z[:, 2] * Z[:, 3]])
    weight = rng.randint(1, 4, size=200).astype(float)
    params = {**FAST, "max_iter": 5, "early_stopping": False}  # every row is a training row
    if case == "classifier":
        model = NeuronPursuitClassifier(**params).fit(X, np.digitize(y[:, 0], [0.3, 1.2]), weight)
        output = model.decision_function
    else:
        power = 2 if case == "squared_relu" else 1
        model = NeuronPursuitRegressor(activation_power=power, **params)
        model.fit(scipy.sparse.csr_matrix(X) if case == "sparse" else X, y, weight)
        output = model.predict
    assert model.n_outputs_ >= 2 and sum(model.hidden_layer_sizes_) > 0
    expected = reference_importances(model, output, X, weight)
    np.testing.assert_allclose(model.feature_importances_, expected, rtol=1e-5, atol=1e-9)


def test_a_linear_network_gets_its_slopes_times_the_spreads():
    # Identity activation: H(x) = c . x exactly, so importance_j ~ |c_j| std_j / sum (the
    # root mean square of c_j (x'_j - x_j) is sqrt(2) |c_j| std_j, up to sampling).
    # y = 3 x0 + x1 with std(x0) = 1, std(x1) = 2: importances 3 : 2 : 0.
    Z = np.random.RandomState(4).normal(size=(300, 3))
    X = (Z - Z.mean(axis=0)) / Z.std(axis=0) * [1, 2, 1] + [0, 5, 0]
    y = 3 * X[:, 0] + X[:, 1]
    params = {**FAST, "early_stopping": False}  # every row is a training row
    reg = NeuronPursuitRegressor(depth=2, negative_slope=1.0, **params).fit(X, y)
    np.testing.assert_allclose(
        reg.feature_importances_, reference_importances(reg, reg.predict, X, np.ones(300))
    )
    np.testing.assert_allclose(reg.feature_importances_, [0.6, 0.4, 0.0], atol=0.05)


@pytest.fixture(scope="module")
def sparse_fit():
    X = np.random.RandomState(0).normal(size=(300, 10))
    reg = NeuronPursuitRegressor(depth=3, negative_slope=0.1, max_iter=6, **FAST)
    with one_thread():
        return X, reg.fit(X, sparse_relu_target(X))


def test_importances_find_the_inputs_the_target_uses(sparse_fit):
    _, reg = sparse_fit
    importances = reg.feature_importances_
    assert importances.shape == (10,) and np.all(importances >= 0)
    assert importances.sum() == pytest.approx(1.0)
    assert importances[:3].sum() > 0.9


def test_importances_do_not_depend_on_the_units_of_the_inputs(sparse_fit):
    X, reg = sparse_fit
    scaled = X * np.array([1e3, 1, 1, 1e-3, 1, 1, 1, 1, 1, 7])
    other = NeuronPursuitRegressor(**reg.get_params()).fit(scaled, sparse_relu_target(X))
    np.testing.assert_allclose(other.feature_importances_, reg.feature_importances_, atol=1e-4)


def test_importances_do_not_depend_on_the_units_of_the_targets(sparse_fit):
    X, reg = sparse_fit
    other = NeuronPursuitRegressor(**reg.get_params()).fit(X, 1000 * sparse_relu_target(X))
    assert other.y_scale_ == pytest.approx(1000 * reg.y_scale_)
    for mine, theirs in zip(other._fit_weights_, reg._fit_weights_):  # the same network
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(other.feature_importances_, reg.feature_importances_, rtol=1e-4)


def test_select_from_model_keeps_the_used_inputs(sparse_fit):
    X, reg = sparse_fit
    selector = SelectFromModel(NeuronPursuitRegressor(**reg.get_params()), threshold=0.05)
    pipeline = make_pipeline(selector, NeuronPursuitRegressor(**reg.get_params()))
    pipeline.fit(X, sparse_relu_target(X))
    kept = np.flatnonzero(pipeline[0].get_support())
    assert set(kept) >= {0, 1, 2} and len(kept) <= 5


def test_many_rows_are_subsampled_without_changing_the_fit():
    # Beyond MAX_ROWS rows the changes are averaged over a subsample drawn by a copy of
    # the fit's random state: the network, and the state a warm start continues from,
    # are those of the fit, and the subsample's importances are close to every row's.
    X = np.random.RandomState(1).normal(size=(importance_module.MAX_ROWS + 500, 4))
    y = np.maximum(X[:, 0] + X[:, 1], 0) - X[:, 2]
    random_state = np.random.RandomState(0)
    params = {**FAST, "max_iter": 3, "early_stopping": False, "random_state": random_state}
    with one_thread():
        reg = NeuronPursuitRegressor(**params).fit(X, y)
    after_fit = random_state.get_state()
    every_row = importance_module.feature_importances(
        reg._fit_weights_,
        X,
        np.ones(len(X)),
        reg.x_scale_,
        reg._activation_,
        reg._random_state_,
        max_rows=10**9,
    )
    assert np.array_equal(random_state.get_state()[1], after_fit[1])  # only copies drew
    assert not np.array_equal(reg.feature_importances_, every_row)
    np.testing.assert_allclose(reg.feature_importances_, every_row, atol=0.05)


def test_a_wide_sparse_x_is_densified_only_in_its_stored_columns(monkeypatch):
    # 1,000,000 columns made 64 dense rows of 0.5 GB, several copies at once, after the
    # growth and beyond the memory check's estimate.
    rng = np.random.RandomState(0)
    X = scipy.sparse.random(300, 20_000, density=0.002, format="csr", random_state=rng)
    X[:, :3] = rng.normal(size=(300, 3))  # stored in every row
    y = np.maximum(X[:, 0].toarray().ravel() + X[:, 1].toarray().ravel(), 0)
    widths = []
    call = importance_module.resampling_importances

    def spy(weights, rows, *args):
        widths.append(rows.shape[1])
        return call(weights, rows, *args)

    monkeypatch.setattr(importance_module, "resampling_importances", spy)
    reg = NeuronPursuitRegressor(**FAST, max_iter=2, early_stopping=False).fit(X, y)
    assert widths and max(widths) <= X.nnz
    assert reg.feature_importances_.sum() == pytest.approx(1.0)
    # The same importances as the whole width densified (the same draws).
    args = (np.ones(300), reg.x_scale_, reg._activation_, reg._random_state_)
    fit_weights = reg._fit_weights_
    np.testing.assert_allclose(
        call_full(fit_weights, X, *args), call_full(fit_weights, X.toarray(), *args), atol=1e-12
    )


def call_full(fit_weights, X, *args):
    return importance_module.feature_importances(fit_weights, X, *args)


def test_prune_and_warm_start_recompute_the_importances():
    X = np.random.RandomState(2).normal(size=(150, 4))
    y = np.maximum(X[:, 0], 0) + 0.3 * X[:, 1] ** 2 - X[:, 2]
    reg = NeuronPursuitRegressor(**{**FAST, "max_iter": 6, "early_stopping": False})
    before = reg.fit(X, y).feature_importances_.copy()
    reg.prune(X, tol=0.3)
    assert reg.n_pruned_ > 0
    expected = reference_importances(reg, reg.predict, X, np.ones(len(X)))
    assert not np.allclose(before, expected, rtol=1e-3)
    np.testing.assert_allclose(reg.feature_importances_, expected, rtol=1e-5, atol=1e-9)
    reg.set_params(warm_start=True, max_iter=8).fit(X[:100], y[:100])
    expected = reference_importances(reg, reg.predict, X[:100], np.ones(100))
    np.testing.assert_allclose(reg.feature_importances_, expected, rtol=1e-5, atol=1e-9)


def test_classifier_importances_and_empty_network():
    X = np.random.RandomState(0).normal(size=(120, 4))
    y = (X[:, 2] > 0).astype(int)
    clf = NeuronPursuitClassifier(depth=2, max_iter=3, **FAST).fit(X, y)
    assert np.argmax(clf.feature_importances_) == 2
    zero = NeuronPursuitRegressor(**FAST).fit(X, np.zeros(120))  # stops before any neuron
    assert zero.hidden_layer_sizes_ == (0, 0)
    np.testing.assert_array_equal(zero.feature_importances_, np.zeros(4))


def test_importances_survive_pickling(sparse_fit):
    X, reg = sparse_fit
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.feature_importances_, reg.feature_importances_)


def test_importances_need_a_fit():
    # A plain fitted attribute: absent before fit (NotFittedError is an AttributeError,
    # so hasattr and SelectFromModel's checks see it the same way as before).
    with pytest.raises(AttributeError):
        NeuronPursuitRegressor().feature_importances_


@pytest.mark.parametrize("exponent", [0, 300, 900])
def test_importances_of_huge_outputs_are_those_of_the_network_scaled_down(exponent):
    # Scaling the last layer by 2**k scales every output exactly, and the importances are
    # normalised: the same numbers. Outputs beyond ~1e154 overflowed float64's squares
    # (all-NaN importances and a numpy warning).
    from skneuronpursuit._kernels.activation import HomogeneousActivation

    generator = torch.Generator().manual_seed(0)
    weights = [
        torch.randn(shape, generator=generator, dtype=torch.float64) for shape in [(4, 3), (2, 4)]
    ]
    rows = torch.randn(50, 3, generator=generator, dtype=torch.float64)
    arguments = (rows, torch.ones(50, dtype=torch.float64), torch.arange(50).roll(7))
    activation = HomogeneousActivation(1, 0.1)
    reference = importance_module.resampling_importances(weights, *arguments, activation)
    huge = [weights[0], weights[1] * 2.0**exponent]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = importance_module.resampling_importances(huge, *arguments, activation)
    np.testing.assert_array_equal(scaled, reference)
