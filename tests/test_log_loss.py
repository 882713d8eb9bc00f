"""loss="log_loss" of NeuronPursuitClassifier: probabilities, and the engine's log loss."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import assert_every_iteration_descends
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.utils.class_weight import compute_sample_weight

from skneuronpursuit import NeuronPursuitClassifier
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.gradient_descent import gradient_descent
from skneuronpursuit._kernels.losses import LOSSES
from skneuronpursuit._kernels.ncf import search_candidates, search_network
from skneuronpursuit._kernels.network import backward, forward, loss
from skneuronpursuit._kernels.neurons import insert_neuron

FAST = fast_params(
    FAST,
    loss="log_loss",
    alpha=0.0,
    n_restarts=4,
    ncf_steps=50,
    gd_steps=200,
    max_iter=4,
    early_stopping=False,
)
LOG_LOSS = LOSSES["log_loss"]


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def two_moons_like(n_samples=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    return X, np.where(X[:, 0] * X[:, 1] > 0, "same", "different")


# Leaky ReLU: with ReLU, multiclass log-loss fits often stall after the first neuron
# (docs/algorithm.md §9.5). The XOR-like task needs a few more neurons.
SETTINGS = {iris: dict(negative_slope=0.1), two_moons_like: dict(depth=2, max_iter=6)}


@pytest.mark.parametrize("data", [iris, two_moons_like])
def test_probabilities_are_a_distribution_and_agree_with_predict(data):
    X, y = data()
    clf = NeuronPursuitClassifier(**{**FAST, **SETTINGS[data]}).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(clf.classes_))
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12, atol=0)
    scores = clf.decision_function(X)
    if len(clf.classes_) == 2:  # one logit, positive for classes_[1]
        assert scores.shape == (len(y),)
        np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-12)
    assert clf.score(X, y) > 0.8


def test_squared_loss_has_no_probabilities():
    X, y = two_moons_like()
    assert hasattr(NeuronPursuitClassifier(), "predict_proba")  # the default loss
    assert not hasattr(NeuronPursuitClassifier(loss="squared_error"), "predict_proba")
    clf = NeuronPursuitClassifier(**{**FAST, "loss": "squared_error"}).fit(X, y)
    assert not hasattr(clf, "predict_proba") and not hasattr(clf, "predict_log_proba")
    # Probabilities follow the fitted loss: setting the hyperparameter changes nothing.
    clf.set_params(loss="log_loss")
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(ValueError, match="loss"):
        NeuronPursuitClassifier(loss="hinge").fit(X, y)


def test_probability_scorers_and_calibration_work():
    X, y = iris()
    clf = NeuronPursuitClassifier(negative_slope=0.1, **FAST)
    for scoring in ("neg_log_loss", "roc_auc_ovr"):
        scores = cross_val_score(clf, X, y, cv=3, scoring=scoring)
        assert np.isfinite(scores).all()
    assert cross_val_score(clf, X, y, cv=3, scoring="roc_auc_ovr").mean() > 0.8
    calibrated = CalibratedClassifierCV(clf, cv=2).fit(X, y)
    np.testing.assert_allclose(calibrated.predict_proba(X).sum(axis=1), 1.0)


def test_class_weight_equals_the_equivalent_sample_weight():
    X, y = two_moons_like(150)
    y[:100] = "same"  # imbalanced
    weighted = NeuronPursuitClassifier(class_weight="balanced", **FAST).fit(X, y)
    by_samples = NeuronPursuitClassifier(**FAST).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    for mine, theirs in zip(weighted.coefs_, by_samples.coefs_):
        np.testing.assert_array_equal(mine, theirs)


def test_pickle_warm_start_prune_and_export_keep_the_logits():
    X, y = iris()
    clf = NeuronPursuitClassifier(negative_slope=0.1, **{**FAST, "max_iter": 3})
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    module = clf.to_torch(dtype=torch.float64)
    logits = module(torch.as_tensor(X)).detach().numpy()
    np.testing.assert_allclose(logits, clf.decision_function(X), rtol=1e-10, atol=1e-12)
    clf.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert clf.n_iter_ == 5 and clf.history_[:3] == restored.history_
    with pytest.raises(ValueError, match="cannot change loss"):
        clf.set_params(loss="squared_error").fit(X, y)
    clf.set_params(loss="log_loss", warm_start=False)
    before = clf.predict_proba(X)
    clf.prune(X, tol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-5)


# ------------------------------------------------------------ the engine, in float64


def problem(n_outputs, seed=0):
    """A grown-looking network and one-hot (or 0/1) targets, in float64."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(60, 4, generator=generator, dtype=torch.float64)
    labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).long() + (n_outputs > 2) * (X[:, 3] > 0.5).long()
    Y = torch.eye(max(n_outputs, 2), dtype=torch.float64)[labels]
    Y = Y[:, 1:] if n_outputs == 1 else Y
    weight = torch.rand(60, generator=generator, dtype=torch.float64) + 0.5
    weight = weight / weight.mean()
    sizes = [4, 3, 2, n_outputs]
    weights = [
        torch.randn(sizes[i + 1], sizes[i], generator=generator, dtype=torch.float64)
        for i in range(3)
    ]
    return X, Y, weight, weights, HomogeneousActivation(1, 0.1)


def cross_entropy(output, Y, weight):
    """An independent reference: torch's own losses."""
    if output.shape[1] == 1:
        per_sample = torch.nn.functional.binary_cross_entropy_with_logits(
            output[:, 0], Y[:, 0], reduction="none"
        )
    else:
        per_sample = torch.nn.functional.cross_entropy(output, Y.argmax(1), reduction="none")
    return (weight * per_sample).mean()


def test_the_binary_loss_is_exact_for_large_logits():
    # torch's softplus returns H itself above 20; a class-1 sample's loss is then
    # log1p(exp(-H)), not H - H = 0 (docs/algorithm.md §9.4).
    logits = torch.tensor([[-60.0], [-25.0], [-3.0], [0.5], [19.0], [21.0], [25.0], [60.0]])
    logits = logits.double()
    Y = torch.tensor([[0.0], [1.0], [0.0], [1.0], [1.0], [1.0], [0.0], [1.0]]).double()
    exact = torch.where(Y == 1, torch.logaddexp(-logits, torch.zeros(())), logits)
    exact = torch.where(Y == 0, torch.logaddexp(logits, torch.zeros(())), exact)
    weight = torch.ones(len(Y), dtype=torch.float64)
    torch.testing.assert_close(LOG_LOSS.value(logits, Y, weight), exact.mean(), rtol=1e-15, atol=0)
    window = LOG_LOSS.window_value_(logits.mT.clone(), Y.mT, None, len(Y), axis=-2)
    torch.testing.assert_close(window, exact.mean(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_loss_and_its_gradient_match_autograd(n_outputs):
    X, Y, weight, weights, activation = problem(n_outputs)
    with torch.enable_grad():
        leaves = [w.clone().requires_grad_() for w in weights]
        reference = cross_entropy(forward(leaves, X, activation)[0][-1], Y, weight)
        expected = torch.autograd.grad(reference, leaves)
    value = loss(weights, X, Y, weight, activation, LOG_LOSS)
    torch.testing.assert_close(value, reference.detach(), rtol=1e-13, atol=0)
    # backward() of the negative gradient times -s/n is the gradient of the loss.
    pre_activations, layer_inputs = forward(weights, X, activation)
    residual = LOG_LOSS.negative_gradient(pre_activations[-1], Y)
    signal = -weight[:, None] * residual / X.shape[0]
    _, grads = backward(weights, pre_activations, layer_inputs, signal, activation)
    for mine, theirs in zip(grads, expected):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-14)
    # One step of the inner descent is one step of exact gradient descent.
    step = 1e-3
    descent = gradient_descent(
        weights, X, Y, weight, activation, step_size=step, max_steps=1, window=1,
        rel_tol=-1.0, objective=LOG_LOSS,
    )  # fmt: skip
    for mine, w, g in zip(descent.weights, weights, expected):
        torch.testing.assert_close(mine, w - step * g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_candidate_ncf_is_the_first_order_loss_decrease(n_outputs):
    # docs/algorithm.md §9.2: (loss(w) - loss(w + neuron(t a*, t b*))) / t^(p+1) -> N*.
    X, Y, weight, weights, activation = problem(n_outputs)
    pre_activations, layer_inputs = forward(weights, X, activation)
    residual = LOG_LOSS.negative_gradient(pre_activations[-1], Y)
    signals, _ = backward(weights, pre_activations, layer_inputs, residual, activation)
    generator = torch.Generator().manual_seed(1)
    draw = torch.randn(2, 8, 7, generator=generator, dtype=torch.float64)
    hidden = HiddenRows(layer_inputs[:2], signals[1:])
    found = search_candidates(hidden, weight, activation, draw[..., :4], draw[..., 4:], 2000, 0.5)
    assert found.ncf_value > 0
    base = loss(weights, X, Y, weight, activation, LOG_LOSS)
    errors = []
    for t in [1e-2, 1e-3]:
        grown = insert_neuron(weights, found.layer, t * found.incoming, t * found.outgoing)
        decrease = (base - loss(grown, X, Y, weight, activation, LOG_LOSS)) / t**2
        errors.append(abs(decrease.item() - found.ncf_value))
    assert errors[1] <= 2e-3 * found.ncf_value
    assert errors[1] < errors[0]


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_first_neurons_ncf_is_the_first_order_loss_decrease(n_outputs):
    # Iteration 1: loss(t w*) = loss(0) - t^D N* + O(t^2D), signal Y - softmax(0).
    X, Y, weight, _, activation = problem(n_outputs)
    signal = LOG_LOSS.negative_gradient(torch.zeros_like(Y), Y)
    generator = torch.Generator().manual_seed(2)
    shapes = [(8, 1, 4), (8, 1, 1), (8, n_outputs, 1)]
    initial = [torch.randn(*s, generator=generator, dtype=torch.float64) for s in shapes]
    found = search_network(X, signal, weight, activation, initial, 2000, 0.5)
    assert found.ncf_value > 0
    zero = LOG_LOSS.zero_value(Y, weight)
    np.testing.assert_allclose(zero, np.log(2 if n_outputs == 1 else n_outputs), rtol=1e-12)
    degree = activation.degree(3)
    errors = []
    for t in [1e-1, 1e-2]:
        ray = [t * w for w in found.weights]
        decrease = (zero - loss(ray, X, Y, weight, activation, LOG_LOSS).item()) / t**degree
        errors.append(abs(decrease - found.ncf_value))
    assert errors[1] <= 1e-3 * found.ncf_value
    assert errors[1] < errors[0]


def test_line_search_finds_the_minimum_along_the_ray():
    # refine_scale minimises a 1-D loss from the quadratic model's guess.
    def along(t):
        return (np.log(t) - np.log(3.0)) ** 2  # minimum at t = 3

    for guess in [0.5, 1.0, 2.9, 40.0]:
        assert LOG_LOSS.refine_scale(guess, 2, along) == pytest.approx(3.0, rel=0.02)
    # Still falling at the end of the walk: stop at most 2^6 times the model's output change.
    assert LOG_LOSS.refine_scale(1.0, 2, lambda t: -t) == pytest.approx(2.0**3)
    assert LOSSES["squared_error"].refine_scale(1.5, 2, along) == 1.5


@pytest.mark.parametrize("solver", ["auto", "gd", "lm"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("data", [iris, two_moons_like])
def test_every_iteration_descends(data, dtype, solver):
    # docs/algorithm.md §9: adding a neuron at the line search's scale times delta lowers
    # the loss (float32: does not raise it), and the inner descent does not raise it,
    # with either solver (Levenberg-Marquardt in its Gauss-Newton form for this loss).
    X, y = data()
    params = fast_params(fast_params(FAST, max_iter=6, solver=solver), **SETTINGS[data])
    clf = NeuronPursuitClassifier(dtype=dtype, **params)
    clf.fit(X, y)
    expected = {"gd": {"gd"}, "lm": {"lm"}, "auto": {"gd"}}[solver]
    assert {record["solver"] for record in clf.history_} == expected
    assert clf.n_iter_ >= 3
    assert clf.history_[0]["loss_before"] == pytest.approx(np.log(len(clf.classes_)))
    assert_every_iteration_descends(clf.history_, exact=dtype == "float64")
    for record in clf.history_:
        assert record["train_error"] == pytest.approx(record["loss"] / np.log(len(clf.classes_)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_separable_data_grow_logits_without_diverging(dtype):
    # docs/algorithm.md §9.4: the cross-entropy of separable data has no minimum at finite
    # weights; the logits grow, descent after descent, and the fit ends on its budget.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = NeuronPursuitClassifier(
        negative_slope=0.1, dtype=dtype, **fast_params(FAST, tol=0.0, max_iter=8, gd_lr=10.0)
    )
    clf.fit(X, y)
    assert clf.stop_reason_ in ("max_iter", "stalled")
    losses = [clf.history_[0]["loss_before"]] + clf.loss_curve_
    assert np.isfinite(losses).all() and (np.diff(losses) <= 0).all()
    assert losses[-1] < 1e-2 * losses[0]
    assert np.isfinite(clf.decision_function(X)).all()
    assert clf.score(X, y) == 1.0


def test_levenberg_marquardt_fits_the_log_loss_as_well_as_gradient_descent():
    # Its Gauss-Newton form (docs/levenberg-marquardt.md, "The log loss") on iris: the
    # same kind of network, a training loss at least as low after the same neurons.
    X, y = iris()
    losses = {}
    for solver in ("gd", "lm"):
        clf = NeuronPursuitClassifier(**fast_params(FAST, solver=solver, max_iter=5)).fit(X, y)
        losses[solver] = clf.loss_curve_[-1]
        assert clf.score(X, y) > 0.9
    assert losses["lm"] <= losses["gd"]


def test_probabilities_of_logits_that_overflow_are_their_limit(monkeypatch):
    # Inputs far beyond the training rows can make a homogeneous network's logits
    # overflow to inf: softmax gave NaN rows; the limit puts the mass on the infinite ones.
    X, y = load_iris(return_X_y=True)
    model = NeuronPursuitClassifier(**fast_params(FAST, max_iter=2)).fit(X, y)
    logits = np.array([[np.inf, 1.0, -np.inf], [1.0, 2.0, 3.0], [np.inf, np.inf, 0.0]])
    monkeypatch.setattr(model, "_network_output", lambda X: logits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(X[:3])
        log_proba = model.predict_log_proba(X[:3])
    np.testing.assert_array_equal(proba[0], [1, 0, 0])
    np.testing.assert_allclose(proba[1], np.exp(logits[1]) / np.exp(logits[1]).sum())
    np.testing.assert_array_equal(proba[2], [0.5, 0.5, 0])
    np.testing.assert_allclose(np.exp(log_proba), proba)
