"""The Neuron Pursuit loop: descent, the scale of a new neuron, history, stopping rules."""

import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, fast_params
from datasets import (
    assert_every_iteration_descends,
    hypercube,
    pursuit_settings,
    sparse_relu_target,
)
from scipy.optimize import minimize_scalar
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions
from skneuronpursuit._engine.steps import FIRST_DELTA_HALVINGS, LATER_DELTA_HALVINGS, _Pursuit
from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.network import predict
from skneuronpursuit._kernels.neuron_scale import optimal_scale, scale_until_descent
from skneuronpursuit._kernels.neurons import insert_neuron


@pytest.mark.parametrize(
    "params",
    [
        dict(depth=3, negative_slope=0.0),  # ReLU
        dict(depth=3, negative_slope=0.1),  # leaky ReLU
        dict(depth=2, activation_power=2, negative_slope=-1.0),  # square
        dict(depth=4, activation_power=2, negative_slope=0.0),  # squared ReLU, deeper
        fast_params(depth=3, negative_slope=0.0, rebalance=True),
        # With ReLU, a sample whose hidden layer is all zero sits on the kink of every
        # neuron above it: a new neuron's effect there is one-sided, the NCF misses it and
        # first-order exactness fails (docs/algorithm.md §7). This fit meets such a
        # sample with momentum, so it is checked with leaky ReLU.
        fast_params(depth=3, negative_slope=0.1, gd_momentum=0.9),
        # Searches whose first steps run on 50 of the 120 samples (§3.3).
        fast_params(depth=3, negative_slope=0.1, ncf_samples=50),
    ],
)
@pytest.mark.parametrize("solver", ["auto", "gd", "lm"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_iteration_descends(params, dtype, solver):
    # docs/algorithm.md §3 (Lemmas 12, 13): a positive KKT point lowers the loss when added,
    # and GD never raises it. float32 cannot resolve every decrease (the first neuron of
    # the degree-15 network lowers the loss by ~1e-12): there the loss must not rise.
    X = np.random.RandomState(0).normal(size=(120, 6))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    reg = NeuronPursuitRegressor(
        max_iter=8,
        dtype=dtype,
        early_stopping=False,
        **fast_params(FAST, solver=solver, **params),
    )
    reg.fit(X, y)
    # float32 cannot resolve the degree-15 network's first neuron here: its second one
    # raised the loss to 1e11 at every scale tried and is declined, not added.
    assert reg.n_iter_ >= 2 or (dtype == "float32" and reg.stop_reason_ == "no_descent")
    # With ReLU a neuron may end off on many samples: there the hidden layer is zero, the
    # neuron above sits on its kink, and a new neuron's one-sided effect (missed by the
    # NCF) can outweigh its first-order decrease at every scale tried (docs/algorithm.md
    # §7): with Levenberg-Marquardt ("lm", or finishing "auto") in iteration 2; with
    # gradient descent and rebalancing in float32 in iteration 5, by one bit of the loss.
    # The safeguard then adds it anyway after its last halving (§3.4); the descent that
    # follows still never raises the loss.
    kinked = params.get("negative_slope", 0.1) == 0 and params.get("activation_power", 1) == 1
    halvings = {LATER_DELTA_HALVINGS} if kinked else set()
    if dtype == "float32":  # the degree-15 network's first neuron: below float32's bits
        halvings.add(FIRST_DELTA_HALVINGS)
    assert_every_iteration_descends(
        reg.history_, exact=dtype == "float64", kinked_halvings=halvings
    )
    for record in reg.history_:
        assert 0 < record["search_seconds"] + record["gd_seconds"] <= record["seconds"]


def test_ncf_samples_changes_nothing_up_to_the_number_of_samples():
    # docs/algorithm.md §3.3: a fit on at most ncf_samples samples draws no subset (the
    # random stream, hence every later search, is unchanged); a smaller subset is used.
    X = np.random.RandomState(1).normal(size=(150, 4))
    y = np.abs(X[:, 0]) - X[:, 1] * X[:, 2]

    def fit(ncf_samples):
        params = dict(max_iter=5, early_stopping=False, **FAST)
        return NeuronPursuitRegressor(**fast_params(params, ncf_samples=ncf_samples)).fit(X, y)

    everything = fit(None)
    for size in (150, 4096):
        same = fit(size)
        for mine, theirs in zip(same.coefs_, everything.coefs_):
            np.testing.assert_array_equal(mine, theirs)
    subset = fit(60)
    assert [r["ncf_value"] for r in subset.history_] != [
        r["ncf_value"] for r in everything.history_
    ]


@pytest.mark.parametrize("solver", ["auto", "gd", "lm"])
def test_float32_fit_escapes_the_saddle_of_three_blobs(solver):
    # After the first neuron the 3-blob fit sits at a saddle (loss 1.0 of 1.5): the
    # escaping neuron lowers the loss by ~1e-10 relative, below float32's resolution,
    # and its KKT ratio is ~6.5e-5. With sqrt(eps) as the zero-KKT tolerance and a tie
    # counted as no descent, float32 fits stopped there at chance level.
    # Whether one seed's first descent sees a tie (and goes on) or a rise of one bit
    # (and is rolled back) is decided by rounding: a change of summation order moved one
    # fit of 72 (24 seeds, 3 solvers) from one side to the other. So: three seeds of four.
    X, y = make_blobs(n_samples=300, random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    escaped = 0
    for seed in range(4):
        clf = NeuronPursuitClassifier(
            n_restarts=8,
            options=PursuitOptions(ncf_steps=100, solver=solver),
            gd_steps=300,
            max_iter=8,
            dtype="float32",
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        assert clf.stop_reason_ != "no_positive_kkt"
        escaped += clf.score(X, y) > 0.85
    assert escaped >= 3


def test_scale_halves_on_a_rise_and_keeps_a_tie():
    # docs/algorithm.md §3 step 4: halve delta while the loss rises; an unchanged loss is a
    # decrease below the working precision, and a smaller neuron would not resolve it.
    def scale(start, max_halvings, loss_at):
        return scale_until_descent(lambda t: t, start, 1.0, max_halvings, loss_at)

    assert scale(8.0, 10, {8.0: 1.5, 4.0: 1.2, 2.0: 0.9}.get) == (2.0, 2.0, 0.9, 2)
    assert scale(8.0, 10, {8.0: 1.0}.get) == (8.0, 8.0, 1.0, 0)
    gave_up = scale(8.0, 2, lambda t: 2.0)
    assert gave_up == (2.0, 2.0, 2.0, 2)


def _pursuit_in_float64(
    depth, power, slope, target=lambda X: np.sin(X @ np.arange(1.0, 7.0)), **settings
):
    X = hypercube(200, 6, seed=0)
    y = target(X)
    settings = pursuit_settings(
        depth=depth,
        activation=HomogeneousActivation(power, slope),
        ncf_steps=300,
        gd_steps=2000,
        **settings,
    )
    X = torch.from_numpy(np.column_stack([X, np.ones(len(X))]))
    Y = torch.from_numpy(y[:, None] / np.sqrt(np.mean(y**2)))
    weight = torch.ones(len(Y), dtype=torch.float64)
    return _Pursuit(X, Y, weight, settings, np.random.RandomState(0))


@pytest.mark.parametrize(
    "layer_choice, alpha", [("ncf", 0.0), ("decrease", 0.0), ("decrease", 0.05)]
)
def test_the_next_neuron_goes_to_the_layer_its_rule_picks(layer_choice, alpha):
    # docs/algorithm.md §3.2: every hidden layer offers its best candidate. "ncf" (the
    # paper's rule) takes the largest N, "decrease" the largest decrease its quadratic
    # model promises, n N^2 / (2 Q); with the L2 penalty n (N - alpha/2)^2 / (2 Q), only
    # where N > alpha/2 (§10). Here Q comes from finite differences of the network.
    disagree = 0
    for seed in range(4):
        run = _pursuit_in_float64(4, 1, 0.1, layer_choice=layer_choice, alpha=alpha)
        generator = torch.Generator().manual_seed(seed)
        sizes = [7, 3, 2, 2, 1]
        weights = [
            0.7 * torch.randn(sizes[i + 1], sizes[i], generator=generator, dtype=torch.float64)
            for i in range(4)
        ]
        found, _, _ = run.next_candidate(weights)
        output = predict(weights, run.X, run.activation)
        decreases = []
        for layer, ((a, b), value) in enumerate(zip(found.layer_points, found.layer_values)):
            t = 1e-4  # the change of H is t^(p+1) c + O(t^(2(p+1)))
            grown = insert_neuron(weights, layer, t * a, t * b)
            change = (predict(grown, run.X, run.activation) - output) / t**2
            quadratic = float((run.sample_weight[:, None] * change**2).sum())
            gain = value - alpha * float(a.square().sum() + b.square().sum()) / 2
            decreases.append(gain**2 / quadratic if gain > 0 else -np.inf)
        rule = found.layer_values if layer_choice == "ncf" else decreases
        assert found.layer == int(np.argmax(rule))
        assert found.ncf_value == found.layer_values[found.layer]
        disagree += int(np.argmax(found.layer_values)) != int(np.argmax(decreases))
    assert disagree > 0  # the two rules differ on these networks


def _assert_minimised_at(loss_at, t_opt, ncf_value, quadratic, n_samples, degree):
    """The loss along the ray is least at ``t_opt``, as far as its quadratic model allows.

    The model ``m(t) = loss(0) - t^k N + t^2k Q/(2n)`` has ``m''(t_opt) = k^2 N t_opt^(k-2)``.
    Where ``|loss - m| <= e`` on ``[t_opt / 2, 3 t_opt / 2]`` and the minimiser of the loss
    lies there, it is within about ``sqrt(4e / m''(t_opt))`` of ``t_opt`` (``e`` is
    rounding where the model is exact). Returns that bound and the distance, relative
    to ``t_opt``.
    """
    assert t_opt == pytest.approx(optimal_scale(ncf_value, quadratic, n_samples, degree), 1e-6)
    zero = loss_at(0.0)

    def model(t):
        return zero - t**degree * ncf_value + t ** (2 * degree) * quadratic / (2 * n_samples)

    found = minimize_scalar(
        loss_at, bounds=(0, 2 * t_opt), method="bounded", options={"xatol": 1e-9 * t_opt}
    )
    near = np.linspace(0.5 * t_opt, 1.5 * t_opt, 101)
    error = max(abs(loss_at(t) - model(t)) for t in near)
    curvature = degree**2 * ncf_value * t_opt ** (degree - 2)
    bound = (4 * error / curvature) ** 0.5 / t_opt + 1e-8
    moved = abs(found.x - t_opt) / t_opt
    assert moved <= min(bound, 0.5)
    return bound, moved


@pytest.mark.parametrize("depth, power, slope", [(3, 1, 0.1), (2, 2, -1.0), (3, 2, 0.0)])
def test_t_opt_minimises_the_loss_along_the_ray_of_the_first_neurons(depth, power, slope):
    # docs/algorithm.md §3.1 step 4: with one neuron per layer H(t w*) = t^D H(w*), so the
    # model loss(t w*) = loss(0) - t^D N* + t^2D Q/(2n) is exact and t_opt its minimiser.
    run = _pursuit_in_float64(depth, power, slope)
    found, t_opt, _ = run.first_candidate()
    quadratic = float((predict(found.weights, run.X, run.activation) ** 2).sum())
    bound, moved = _assert_minimised_at(
        lambda t: run.loss([t * w for w in found.weights]),
        t_opt,
        found.ncf_value,
        quadratic,
        run.n_samples,
        run.activation.degree(depth),
    )
    assert bound < 1e-4 and moved < 1e-6


@pytest.mark.parametrize(
    "depth, power, layer, target",
    [(2, 1, 0, lambda X: np.sin(X @ np.arange(1.0, 7.0))), (3, 2, 0, sparse_relu_target)],
)
def test_t_opt_of_a_later_neuron_minimises_the_first_order_model(depth, power, layer, target):
    # docs/algorithm.md §3.2 step 4: t_opt = (n N*/Q)^(1/(p+1)). A neuron of the last hidden
    # layer changes H by exactly t^(p+1) b sigma(a . h): the model is exact there. In an
    # earlier layer with p = 2 the next activation adds higher orders; t_opt is the model's.
    run = _pursuit_in_float64(depth, power, 0.0, target)
    weights, _, _ = run.first_neurons()
    for _ in range(4):  # grow until the dominant candidate is in `layer`
        weights = run.minimise(weights).weights
        found, t_opt, _ = run.next_candidate(weights)
        if found.layer == layer:
            break
        weights = insert_neuron(
            weights, found.layer, 0.2 * t_opt * found.incoming, 0.2 * t_opt * found.outgoing
        )
    assert found.layer == layer

    def grown(t):
        return insert_neuron(weights, layer, t * found.incoming, t * found.outgoing)

    # Q of the linearised change of H, by a difference at a small scale.
    small = 1e-2 * t_opt
    change = predict(grown(small), run.X, run.activation) - predict(weights, run.X, run.activation)
    quadratic = float((change**2).sum()) / small ** (2 * (power + 1))
    bound, moved = _assert_minimised_at(
        lambda t: run.loss(grown(t)), t_opt, found.ncf_value, quadratic, run.n_samples, power + 1
    )
    exact = layer == depth - 2
    assert bound < 1e-4 and moved < 1e-6 if exact else 1e-6 < moved < bound < 0.5


def test_history_describes_the_growth():
    X = hypercube(200, 6, seed=0)
    reg = NeuronPursuitRegressor(depth=3, max_iter=4, tol=0, early_stopping=False, **FAST)
    reg.fit(X, sparse_relu_target(X))
    assert reg.n_iter_ == len(reg.history_) == len(reg.loss_curve_) == 4
    assert reg.stop_reason_ == "max_iter"
    first, *later = reg.history_
    assert first["layer"] is None and first["hidden_layer_sizes"] == (1, 1)
    widths = np.array(first["hidden_layer_sizes"])
    for index, record in enumerate(later, start=2):
        assert record["iteration"] == index
        assert record["layer"] in (1, 2)
        widths[record["layer"] - 1] += 1
        assert record["hidden_layer_sizes"] == tuple(widths)
        assert (
            record["delta"] > 0
            and record["gd_steps"] + record["lm_steps"] > 0
            and record["seconds"] > 0
        )
    assert reg.hidden_layer_sizes_ == tuple(widths)
    assert [c.shape for c in reg.coefs_] == [(7, widths[0]), tuple(widths), (widths[1], 1)]
    assert reg.history_[-1]["train_error"] == pytest.approx(
        reg.history_[-1]["loss"] / reg.history_[0]["loss_before"]
    )


def test_a_history_record_reads_by_key_and_tabulates():
    pd = pytest.importorskip("pandas")
    X = hypercube(100, 4, seed=0)
    reg = NeuronPursuitRegressor(max_iter=2, tol=0, early_stopping=False, **FAST)
    record = reg.fit(X, sparse_relu_target(X)).history_[0]
    assert "loss" in record and "nothing" not in record and 0 not in record
    assert record.get("loss") == record["loss"] == record.loss and record.get(0) is None
    with pytest.raises(KeyError):
        record[0]
    with pytest.raises(TypeError, match="not iterable"):  # __getitem__ made it so
        iter(record)
    assert dict(record.items())["iteration"] == dict(record)["iteration"] == 1
    table = pd.DataFrame(reg.history_)  # dataclass rows: one column per field
    assert list(table.columns) == record.keys() and len(table) == 2


def test_neuron_pursuit_checks_its_arguments_as_the_estimators_do():
    # The function path validated nothing: negative weights dropped their rows, depth=1
    # re-ran the first iteration, a negative alpha reported a negative loss as "tol".
    import dataclasses
    import pickle

    from sklearn.utils._param_validation import InvalidParameterError

    from skneuronpursuit import PursuitSettings, neuron_pursuit

    X = hypercube(60, 4, seed=0)
    y = X[:, 0] * X[:, 1]
    weights = np.ones(60)
    weights[0] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        neuron_pursuit(X, y, sample_weight=weights)
    for field, value in [("depth", 1), ("alpha", -1.0), ("max_iter", 0), ("n_restarts", 0)]:
        bad = dataclasses.replace(PursuitSettings(), **{field: value})
        with pytest.raises(InvalidParameterError, match=f"'{field}' parameter of neuron_pursuit"):
            neuron_pursuit(X, y, bad)
    options = PursuitSettings(options=PursuitOptions(solver="bogus"))
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        neuron_pursuit(X, y, options)
    for call, message in [
        (lambda: neuron_pursuit(X, y, {"depth": 2}), "must be a PursuitSettings"),
        (lambda: neuron_pursuit(X, y, dtype="float16"), "'dtype' parameter of neuron_pursuit"),
        (lambda: neuron_pursuit(X, y, dtype=["float32"]), "'dtype' parameter"),
        (lambda: neuron_pursuit(X, y, random_state=np.random.default_rng(0)), "random_state"),
        (lambda: neuron_pursuit(X, y, random_state=-1), "'random_state' parameter"),
        # "False" fitted an intercept (a non-empty string is true).
        (lambda: neuron_pursuit(X, y, fit_intercept="False"), "'fit_intercept' parameter"),
        # Resolving the options turned 2.7 steps into 2 and "no" into True, unchecked.
        (
            lambda: neuron_pursuit(X, y, PursuitSettings(options=PursuitOptions(ncf_steps=2.7))),
            "'ncf_steps' parameter of neuron_pursuit's settings.options",
        ),
        (
            lambda: neuron_pursuit(X, y, PursuitSettings(options=PursuitOptions(rebalance="no"))),
            "'rebalance' parameter",
        ),
        (lambda: neuron_pursuit(X, y, PursuitSettings(alpha="0.1")), "'alpha' parameter"),
    ]:
        with pytest.raises((TypeError, ValueError), match=message):
            call()
    fit = neuron_pursuit(X, y, dataclasses.replace(PursuitSettings(), max_iter=1))
    with pytest.raises(ValueError, match="X has 3 features, but the network was grown on 4"):
        fit.predict(X[:, :3])
    # The loss by name; dataclasses.replace resolves the options again for a new alpha
    # or loss; a round trip compares equal.
    settings = PursuitSettings(objective="log_loss")
    assert settings.objective.name == "log_loss" and settings.options.layer_choice == "ncf"
    penalised = dataclasses.replace(PursuitSettings(), alpha=0.01)
    assert penalised.options == PursuitSettings(alpha=0.01).options
    assert penalised.options.gd_momentum == 0.9 != PursuitSettings().options.gd_momentum
    assert pickle.loads(pickle.dumps(penalised)) == penalised
    assert repr(settings.objective) == "LogLoss()"


def test_stops_at_tol():
    X = hypercube(200, 6, seed=1)
    y = np.maximum(X[:, 0] + X[:, 1], 0)
    reg = NeuronPursuitRegressor(depth=2, fit_intercept=False, tol=1e-4, **FAST).fit(X, y)
    assert reg.stop_reason_ == "tol"
    assert reg.history_[-1]["train_error"] <= 1e-4
    assert all(record["train_error"] > 1e-4 for record in reg.history_[:-1])


def test_stops_without_a_positive_kkt_point():
    # docs/algorithm.md §7: a linear network and a target orthogonal to every feature have
    # NCF = 0 everywhere; the fit stops at once, warns and predicts (zero).
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 4))
    noise = rng.normal(size=50)
    y = noise - X @ np.linalg.lstsq(X, noise, rcond=None)[0]
    reg = NeuronPursuitRegressor(  # on all rows: the target is orthogonal to X on all of them
        depth=3,
        negative_slope=1.0,
        fit_intercept=False,
        dtype="float64",
        early_stopping=False,
        **FAST,
    )
    with pytest.warns(ConvergenceWarning, match="no positive KKT point"):
        reg.fit(X, y)
    assert reg.stop_reason_ == "no_positive_kkt"
    assert reg.n_iter_ == 0 and reg.hidden_layer_sizes_ == (0, 0)
    np.testing.assert_array_equal(reg.predict(X), np.zeros(50))


def test_max_iter_warns_only_while_the_validation_score_still_improves():
    # docs/algorithm.md §3.5: with early stopping, reaching max_iter means the score was
    # still improving (the user can raise max_iter); without it, max_iter is the capacity
    # the user chose and stop_reason_ says it was reached.
    X = hypercube(100, 5, seed=2)
    y = X[:, 0] * X[:, 1]
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        reg = NeuronPursuitRegressor(max_iter=2, tol=0, early_stopping=True, **FAST).fit(X, y)
    assert reg.stop_reason_ == "max_iter"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronPursuitRegressor(max_iter=2, tol=0, early_stopping=False, **FAST).fit(X, y)
    assert reg.stop_reason_ == "max_iter"


def test_interrupt_keeps_the_last_completed_iteration(monkeypatch):
    import skneuronpursuit._engine.steps as pursuit

    calls = []
    original = pursuit.minimise

    def interrupted_on_third_call(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(pursuit, "minimise", interrupted_on_third_call)
    X = hypercube(100, 5, seed=3)
    y = X[:, 0] * X[:, 1] + X[:, 2]
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        reg = NeuronPursuitRegressor(max_iter=10, tol=0, **FAST).fit(X, y)
    assert reg.stop_reason_ == "interrupted" and reg.n_iter_ == 2
    assert reg.hidden_layer_sizes_ == reg.history_[-1]["hidden_layer_sizes"]
    assert np.all(np.isfinite(reg.predict(X)))


def test_the_engine_runs_without_autograd_bookkeeping(monkeypatch):
    # Inference mode: every GD or LM step and ascent step skips autograd's dispatch
    # (docs/engineering.md, "Inference mode"). A warm start from ordinary tensors works too.
    import skneuronpursuit._engine.steps as pursuit

    seen = []
    original = pursuit.minimise

    def recording(*args, **kwargs):
        seen.append(torch.is_inference_mode_enabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(pursuit, "minimise", recording)
    X = hypercube(100, 5, seed=3)
    y = X[:, 0] * X[:, 1]
    reg = NeuronPursuitRegressor(
        max_iter=3, tol=0, warm_start=True, negative_slope=0.1, **FAST
    ).fit(X, y)
    reg.set_params(max_iter=5).fit(X, y)
    assert len(seen) == 5 and all(seen)
    assert not torch.is_inference_mode_enabled()
    assert reg.n_iter_ == 5 and np.all(np.isfinite(reg.predict(X)))


@pytest.mark.parametrize(
    "gd_momentum, solver", [(0.0, "auto"), (0.0, "gd"), (0.9, "gd"), (0.0, "lm")]
)
def test_classifier_history_and_descent(gd_momentum, solver):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = np.digitize(X[:, 0] + X[:, 1] ** 2, [0.0, 1.0])
    clf = NeuronPursuitClassifier(
        depth=2, max_iter=5, **fast_params(FAST, gd_momentum=gd_momentum, solver=solver)
    )
    clf.fit(X, y)
    assert clf.n_outputs_ == 3 and clf.coefs_[-1].shape[1] == 3
    for record in clf.history_:
        assert record["loss_after_add"] < record["loss_before"]
        assert record["loss"] <= record["loss_after_add"]


def fit_max_of_two(warning, **params):
    """Depth-4 fit of ``max(x1, x2)`` on Gaussian inputs, expecting ``warning`` (None:
    no warning that the fit stalled)."""
    X = np.random.RandomState(0).normal(size=(150, 5))
    reg = NeuronPursuitRegressor(
        depth=4,
        n_restarts=8,
        gd_steps=300,
        fit_intercept=False,
        **fast_params(params, ncf_steps=100),
    )
    if warning is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            reg.fit(X, X[:, :2].max(axis=1))
        assert not any("stalled" in str(w.message) for w in caught)
        return reg
    with pytest.warns(ConvergenceWarning, match=warning):
        return reg.fit(X, X[:, :2].max(axis=1))


def test_a_fit_that_stops_learning_says_it_is_stalled():
    # docs/algorithm.md §7: with ReLU, a last hidden layer of one neuron outputs values of
    # one sign only, and max(x1, x2) is negative a quarter of the time: the training error
    # stops falling above zero. The fit says so instead of adding neurons to max_iter.
    reg = fit_max_of_two(
        "the fit is stuck", negative_slope=0.0, early_stopping=False, max_iter=30, random_state=0
    )
    assert reg.stop_reason_ == "stalled" and reg.n_iter_ < 30
    errors = [record["train_error"] for record in reg.history_]
    assert errors[-6] - errors[-1] <= 1e-3 * errors[-6] and errors[-1] > 0.05


def test_a_fit_that_still_learns_is_not_stalled():
    # Gradient descent learns this target slowly, by percents per neuron.
    reg = fit_max_of_two(
        "max_iter", solver="gd", negative_slope=0.1, max_iter=12, tol=0, random_state=0
    )
    assert reg.stop_reason_ == "max_iter"


def test_an_exact_fit_is_not_stalled():
    # Levenberg-Marquardt fits the same target to rounding (relative error ~1e-14 in
    # float32) in a few neurons; with tol=0 the later neurons cannot lower the loss, and
    # the fit is not "stuck" (nor warned about max_iter: its validation score is flat).
    reg = fit_max_of_two(None, solver="lm", negative_slope=0.1, max_iter=12, tol=0, random_state=0)
    assert reg.stop_reason_ == "max_iter"
    assert reg.history_[-1]["train_error"] < 1e-10


def test_every_stop_reason_is_in_the_one_table_and_documented():
    import re

    from skneuronpursuit._engine.records import STOP_REASONS
    from skneuronpursuit._estimators.docstrings import ATTRIBUTES_DOC

    documented = ATTRIBUTES_DOC[ATTRIBUTES_DOC.index("stop_reason_ :") :]
    documented = documented[: documented.index("validation_scores_")]
    estimators = {name for name, reason in STOP_REASONS.items() if not reason.paper_only}
    assert set(re.findall(r'``"(\w+)"``', documented)) == estimators
    quiet = {name for name, reason in STOP_REASONS.items() if not reason.warns}
    assert quiet == {
        "tol",
        "penalty",
        "early_stopping",
        "perfect_validation",
        "callback",
        "classified",
    }
