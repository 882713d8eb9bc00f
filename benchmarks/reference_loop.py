"""The package's NP fit against a straightforward NP loop that reaches the same test error.

    python -m benchmarks.reference_loop [--task cube-f1] [--n 800] [--seeds 0 1 2]
                                        [--threads N] [--reference-gd-lr 0.05]
                                        [--match-train-error]

The reference is Neuron Pursuit as a researcher would write it from the method
(docs/algorithm.md §1-§3), independently of the package's engine: plain torch autograd,
float64, one restart at a time, and a fixed-step gradient descent. It takes the same
data scaling as the package (each column of ``X`` and ``y`` as a whole divided by their
RMS; no intercept, as the benchmark tasks use none) and runs its ascents on unit-RMS
data (docs/algorithm.md §2), so that ``ncf_lr``, ``delta`` and the step sizes mean the
same in both. It keeps the halving safeguard of the new neuron's scale (docs/algorithm.md
§3.4: at most 4 halvings in iteration 1, 10 later). Its descent after each neuron takes
a fixed step (default 0.05: the package starts at ``gd_lr=0.1`` and halves it to 0.05 or
below on the cube tasks), reads the loss every 500 steps and stops there at the target
loss ``tol * loss(0)``, at a relative fall below 1e-4 over the last 500 steps, or after
``gd_steps`` steps. What it leaves out: batching, the hand-written backward pass, windows and
step halving in the inner descent, the zero-KKT tolerance (a point counts as positive
when its NCF is ``> 0``) and the stall rule.

For each seed both fits run on the same data, one after the other in the same process,
and the row gives their wall-clock seconds, relative test errors (``sum (f - fhat)^2 /
sum f^2`` on the task's 10,000 test samples), neurons, and the time ratio reference /
package, in wall-clock time and in the process's CPU time (less sensitive to other
programs on a busy machine; with ``--threads 1`` the two agree on an idle one). The
package fit is ``benchmarks.methods.fit_neuron_pursuit`` with ``n_restarts=20,
ncf_steps=500, gd_steps=30000`` and the task's settings (float32); the reference uses
the same three numbers, the package's defaults for ``delta`` (0.2), ``ncf_lr`` (1.0),
``max_iter`` (31) and ``tol`` (1e-3), and a fixed descent step ``--reference-gd-lr``.
Both are warmed up once on a tiny problem before the first row.

Both stop at a relative training error of 1e-3, but the package reads the loss only at
the end of its descent windows and often ends well below it, so its test error can be
lower. ``--match-train-error`` fits the package first and runs the reference on to the
training error the package reached, for a comparison at equal accuracy.
"""

import argparse
import statistics
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional

from .methods import fit_neuron_pursuit
from .runner import error
from .tasks import TASKS
from .threads import add_threads_option, apply_threads

DTYPE = torch.float64
PACKAGE_SETTINGS = dict(n_restarts=20, ncf_steps=500, gd_steps=30_000)


@dataclass(frozen=True)
class ReferenceSettings:
    """Hyperparameters of :func:`reference_pursuit`.

    Parameters
    ----------
    depth : int
        Number of weight layers ``L``.
    negative_slope : float
        ``alpha`` of the leaky ReLU ``max(z, alpha z)`` (power 1).
    n_restarts, ncf_steps, ncf_lr : int, int, float
        Restarts of every ascent, its steps and its step on unit-RMS data.
    delta : float
        A new neuron starts at ``delta * t_opt`` (docs/algorithm.md §3.4).
    gd_steps : int
        Most steps of the descent after each added neuron.
    gd_lr : float
        Its fixed step.
    gd_check : int
        The descent stops when the loss fell by less than ``gd_tol`` (relative) over the
        last ``gd_check`` steps.
    gd_tol : float
        See ``gd_check``.
    max_iter : int
        Most neurons added (iteration 1 adds one per hidden layer and counts once).
    tol : float
        The fit stops at relative training error ``loss / loss(0) <= tol``.
    """

    depth: int
    negative_slope: float
    n_restarts: int = 20
    ncf_steps: int = 500
    ncf_lr: float = 1.0
    delta: float = 0.2
    gd_steps: int = 30_000
    gd_lr: float = 0.05
    gd_check: int = 500
    gd_tol: float = 1e-4
    max_iter: int = 31
    tol: float = 1e-3


def forward(weights, X, slope):
    """Pre-activations ``z_1 ... z_L`` and layer inputs ``h_0 ... h_{L-1}`` (§1)."""
    h, pre_activations, layer_inputs = X, [], []
    for index, W in enumerate(weights):
        layer_inputs.append(h)
        z = h @ W.T
        pre_activations.append(z)
        if index < len(weights) - 1:
            h = functional.leaky_relu(z, slope)
    return pre_activations, layer_inputs


def output(weights, X, slope):
    """``H(X; w)``, shape ``(n, m)``."""
    return forward(weights, X, slope)[0][-1]


def loss(weights, X, Y, slope):
    """``1/(2n) sum_i ||y_i - H(x_i; w)||^2`` (§2)."""
    return (Y - output(weights, X, slope)).square().sum() / (2 * len(X))


def unit_rms(values):
    """``values`` divided by their RMS row norm, and that norm (§2)."""
    scale = values.square().sum(dim=1).mean().sqrt()
    return values / scale, float(scale)


def project(parts):
    """The parts divided by their joint Euclidean norm: a point of the unit sphere."""
    norm = torch.sqrt(sum(part.square().sum() for part in parts))
    return [part / norm for part in parts]


def ascend(objective, start, n_steps, step_size):
    """Projected gradient ascent ``w <- (w + eta grad) / ||w + eta grad||`` by autograd (§3.1).

    Parameters
    ----------
    objective : callable
        Maps a list of tensors to a scalar tensor.
    start : list of Tensor
        A point of the unit sphere.
    n_steps : int
    step_size : float

    Returns
    -------
    list of Tensor
        The final point, detached.
    """
    point = [part.detach().requires_grad_() for part in start]
    for _ in range(n_steps):
        grads = torch.autograd.grad(objective(point), point)
        with torch.no_grad():
            moved = project([part + step_size * grad for part, grad in zip(point, grads)])
        point = [part.requires_grad_() for part in moved]
    return [part.detach() for part in point]


def first_neurons_start(rng, n_features, n_outputs, depth):
    """A Gaussian start for the network with one neuron per hidden layer."""
    sizes = [n_features] + [1] * (depth - 1) + [n_outputs]
    return [torch.from_numpy(rng.standard_normal((sizes[i + 1], sizes[i]))) for i in range(depth)]


def ascend_network(X, Y, start, settings):
    """One restart of the first-neuron search: maximise ``NCF_Y`` on the sphere (§3.1).

    Parameters
    ----------
    X : Tensor of shape (n, d)
    Y : Tensor of shape (n, m)
    start : list of Tensor
        ``[W_1, ..., W_L]`` of the one-neuron-per-layer network, any scale.
    settings : ReferenceSettings

    Returns
    -------
    point : list of Tensor
        The final unit-norm point.
    value : float
        ``NCF_Y`` at that point, on ``(X, Y)``.
    """
    slope = settings.negative_slope
    X_hat, _ = unit_rms(X)
    Y_hat, _ = unit_rms(Y)

    def ncf(weights, inputs=X_hat, signal=Y_hat):
        return (signal * output(weights, inputs, slope)).sum() / len(inputs)

    # §3.1: non-negative hidden-to-hidden weights, then the sign of W_L that makes NCF >= 0.
    start = [start[0]] + [w.abs() for w in start[1:-1]] + [start[-1]]
    start = project(start)
    if ncf(start) < 0:
        start[-1] = -start[-1]
    point = ascend(ncf, start, settings.ncf_steps, settings.ncf_lr)
    return point, float(ncf(point, X, Y))


def signals(weights, X, residual, slope):
    """Layer inputs ``h_{l-1}`` and signals ``g = J_{l+1}^T r`` of every hidden layer (§2).

    ``g_i`` is the gradient of ``<r_i, H(x_i; w)>`` with respect to ``z_{l+1}(x_i)``.
    """
    weights = [w.detach().requires_grad_() for w in weights]
    pre_activations, layer_inputs = forward(weights, X, slope)
    correlation = (residual * pre_activations[-1]).sum()
    grads = torch.autograd.grad(correlation, pre_activations[1:])
    n_hidden = len(weights) - 1
    return [h.detach() for h in layer_inputs[:n_hidden]], list(grads)


def candidate_value(layer_input, signal, incoming, outgoing, slope):
    """``N_l(a, b) = 1/n sum_i (g_i . b) sigma(a . h_{l-1}(x_i))`` (§2)."""
    activated = functional.leaky_relu(layer_input @ incoming, slope)
    return (activated * (signal @ outgoing)).sum() / len(layer_input)


def ascend_candidate(layer_input, signal, start, settings):
    """One restart of the candidate search of one hidden layer (§3.2).

    Parameters
    ----------
    layer_input : Tensor of shape (n, k_{l-1})
    signal : Tensor of shape (n, k_{l+1})
    start : tuple of Tensor
        ``(a, b)``, any scale.
    settings : ReferenceSettings

    Returns
    -------
    point : list of Tensor
        ``[a, b]`` with ``||a||^2 + ||b||^2 = 1``.
    value : float
        ``N_l(a, b)`` on the unscaled ``layer_input`` and ``signal``.
    """
    slope = settings.negative_slope
    H_hat, _ = unit_rms(layer_input)
    G_hat, _ = unit_rms(signal)

    def ncf(point, inputs=H_hat, signal=G_hat):
        return candidate_value(inputs, signal, point[0], point[1], slope)

    start = project(list(start))
    if ncf(start) < 0:  # §3.2: N_l is linear in b
        start[1] = -start[1]
    point = ascend(ncf, start, settings.ncf_steps, settings.ncf_lr)
    return point, float(ncf(point, layer_input, signal))


def linear_change(weights, X, layer, perturbation, slope):
    """``J_{l+1}(x_i) e_i``: the first-order change of ``H`` when ``z_{l+1}`` moves by ``e``.

    ``layer`` is the 1-based hidden layer ``l``; ``perturbation`` has shape ``(n, k_{l+1})``.
    """

    def perturbed_output(extra):
        h = X
        for index, W in enumerate(weights):
            z = h @ W.T + (extra if index == layer else 0)
            h = functional.leaky_relu(z, slope) if index < len(weights) - 1 else z
        return h

    zero = torch.zeros_like(perturbation)
    return torch.func.jvp(perturbed_output, (zero,), (perturbation,))[1]


def scale_until_descent(make_weights, scale, loss_reference, max_halvings, loss_of):
    """Halve ``scale`` while the loss at ``make_weights(scale)`` is above the reference (§3.4)."""
    for halvings in range(max_halvings + 1):
        weights = make_weights(scale)
        value = loss_of(weights)
        if value <= loss_reference or halvings == max_halvings:
            return weights, value
        scale /= 2


def descend(weights, X, Y, settings, target_loss):
    """Full-batch gradient descent with a fixed step, by autograd.

    The loss is read every ``gd_check`` steps; the descent stops there when it is at
    most ``target_loss``, not finite, or lower by less than ``gd_tol`` of it than at
    the last check, and after ``gd_steps`` steps.

    Returns
    -------
    weights : list of Tensor
    loss : float
    n_steps : int
    """
    weights = [w.detach().clone().requires_grad_() for w in weights]
    checkpoint = None
    for step in range(settings.gd_steps + 1):
        value = loss(weights, X, Y, settings.negative_slope)
        if step % settings.gd_check == 0 or step == settings.gd_steps:
            current = value.item()
            if current <= target_loss or step == settings.gd_steps or not np.isfinite(current):
                break
            if checkpoint is not None and checkpoint - current < settings.gd_tol * checkpoint:
                break
            checkpoint = current
        grads = torch.autograd.grad(value, weights)
        with torch.no_grad():
            for w, grad in zip(weights, grads):
                w -= settings.gd_lr * grad
    return [w.detach() for w in weights], current, step


def reference_pursuit(X, Y, settings, rng):
    """Neuron Pursuit by the book (docs/algorithm.md §3) on already-scaled data.

    Parameters
    ----------
    X : Tensor of shape (n, d)
    Y : Tensor of shape (n, m)
    settings : ReferenceSettings
    rng : numpy.random.RandomState
        Source of the restarts' Gaussian starts.

    Returns
    -------
    weights : list of Tensor
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(k_l, k_{l-1})``.
    history : list of dict
        Per iteration: ``layer`` (None for iteration 1), ``ncf_value``, ``loss_before``,
        ``loss_after_add``, ``loss``, ``gd_steps``, ``train_error``.
    """
    slope, depth = settings.negative_slope, settings.depth
    n = len(X)
    loss_zero = float(Y.square().sum()) / (2 * n)
    history = []

    def loss_of(weights):
        return float(loss(weights, X, Y, slope))

    # Iteration 1 (§3.1): restarts one by one, keep the best.
    found = [
        ascend_network(X, Y, first_neurons_start(rng, X.shape[1], Y.shape[1], depth), settings)
        for _ in range(settings.n_restarts)
    ]
    point, value = max(found, key=lambda result: np.nan_to_num(result[1], nan=-np.inf))
    if not value > 0:
        sizes = [X.shape[1]] + [0] * (depth - 1) + [Y.shape[1]]
        return [X.new_zeros(sizes[i + 1], sizes[i]) for i in range(depth)], history
    # §3.4: loss(t w*) = loss(0) - t^D N* + t^2D Q/(2n), minimised at t_opt = (n N*/Q)^(1/D).
    quadratic = float(output(point, X, slope).square().sum())
    t_opt = (n * value / quadratic) ** (1 / depth)
    weights, loss_after_add = scale_until_descent(
        lambda t: [t * w for w in point], settings.delta * t_opt, loss_zero, 4, loss_of
    )
    loss_before, layer = loss_zero, None
    for iteration in range(1, settings.max_iter + 1):
        if iteration > 1:
            # §3.2: the best candidate over hidden layers and restarts.
            residual = Y - output(weights, X, slope)
            layer_inputs, layer_signals = signals(weights, X, residual, slope)
            best = None
            for layer_index, (h, g) in enumerate(zip(layer_inputs, layer_signals), start=1):
                for _ in range(settings.n_restarts):
                    start = rng.standard_normal(h.shape[1] + g.shape[1])
                    start = torch.from_numpy(start)
                    (a, b), value = ascend_candidate(
                        h, g, (start[: h.shape[1]], start[h.shape[1] :]), settings
                    )
                    if best is None or value > best[0]:
                        best = (value, layer_index, a, b)
            value, layer, a, b = best
            if not value > 0:
                break
            # §3.4: t_opt = (n N*/Q)^(1/(p+1)), Q from the first-order change of H.
            activated = functional.leaky_relu(layer_inputs[layer - 1] @ a, slope)
            change = linear_change(weights, X, layer, activated[:, None] * b[None, :], slope)
            t_opt = (n * value / float(change.square().sum())) ** 0.5

            def with_neuron(t, weights=weights, layer=layer, a=a, b=b):
                grown = list(weights)
                grown[layer - 1] = torch.cat([weights[layer - 1], t * a[None, :]], dim=0)
                grown[layer] = torch.cat([weights[layer], t * b[:, None]], dim=1)
                return grown

            loss_before = history[-1]["loss"]
            weights, loss_after_add = scale_until_descent(
                with_neuron, settings.delta * t_opt, loss_before, 10, loss_of
            )
        weights, current, n_steps = descend(weights, X, Y, settings, settings.tol * loss_zero)
        history.append(
            dict(
                layer=layer,
                ncf_value=value,
                loss_before=loss_before,
                loss_after_add=loss_after_add,
                loss=current,
                gd_steps=n_steps,
                train_error=current / loss_zero,
            )
        )
        if not np.isfinite(current) or current <= settings.tol * loss_zero:
            break
    return weights, history


def fit_reference(task, X, y, seed, settings):
    """The reference NP on ``(X, y)`` in the package's units; returns ``(predict, info)``."""
    started = time.perf_counter()
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    x_scale = np.sqrt(np.mean(X**2, axis=0))
    x_scale = np.where(x_scale > 0, x_scale, 1.0)
    y_scale = float(np.sqrt(np.mean(y**2))) or 1.0
    X_fit = torch.from_numpy(X / x_scale).to(DTYPE)
    Y_fit = torch.from_numpy((y / y_scale).reshape(len(y), -1)).to(DTYPE)
    weights, history = reference_pursuit(X_fit, Y_fit, settings, np.random.RandomState(seed))
    seconds = time.perf_counter() - started

    def predict(X_new):
        inputs = torch.from_numpy(np.asarray(X_new, dtype=float) / x_scale).to(DTYPE)
        return output(weights, inputs, settings.negative_slope).numpy().ravel() * y_scale

    neurons = sum(w.shape[0] for w in weights[:-1])
    return predict, dict(seconds=seconds, neurons=neurons, history=history)


def timed(fit):
    """``fit()`` and the wall-clock and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fit()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def compare(task, n, seed, reference_gd_lr, match_train_error=False):
    """Both fits of one seed, one after the other; returns a row of the table.

    With ``match_train_error`` the package fits first and the reference runs on to the
    relative training error the package ended at (its ``tol``), if that is below 1e-3.
    """
    X, y, X_test, y_test = task.sample(n, np.random.RandomState(seed))

    def fit_package():
        [(predict, info)] = fit_neuron_pursuit(task, X, y, seed, False, **PACKAGE_SETTINGS)
        return predict, info

    package_fit = timed(fit_package) if match_train_error else None
    settings = ReferenceSettings(
        depth=task.depth,
        negative_slope=task.negative_slope,
        n_restarts=PACKAGE_SETTINGS["n_restarts"],
        ncf_steps=PACKAGE_SETTINGS["ncf_steps"],
        gd_steps=PACKAGE_SETTINGS["gd_steps"],
        gd_lr=reference_gd_lr,
    )
    if match_train_error:
        reached = package_fit[0][1]["model"].history_[-1]["train_error"]
        settings = replace(settings, tol=min(settings.tol, reached))
    (predict, reference), reference_wall, reference_cpu = timed(
        lambda: fit_reference(task, X, y, seed, settings)
    )
    if not match_train_error:
        package_fit = timed(fit_package)
    (package_predict, package), package_wall, package_cpu = package_fit
    return dict(
        seed=seed,
        reference_seconds=reference_wall,
        reference_error=error(task, predict(X_test), y_test),
        reference_neurons=reference["neurons"],
        package_seconds=package_wall,
        package_error=error(task, package_predict(X_test), y_test),
        package_neurons=package["neurons"],
        ratio=reference_wall / package_wall,
        cpu_ratio=reference_cpu / package_cpu,
    )


def warm_up(task):
    """One tiny fit of each kind, so that no row pays torch's first-call costs."""
    X, y, _, _ = task.sample(50, np.random.RandomState(0))
    tiny = ReferenceSettings(task.depth, task.negative_slope, 2, 5, gd_steps=10, max_iter=2)
    fit_reference(task, X, y, 0, tiny)
    fit_neuron_pursuit(task, X, y, 0, False, n_restarts=2, ncf_steps=5, gd_steps=10, max_iter=2)


HEADER = (
    "| seed | reference s | reference test error | reference neurons | package s "
    "| package test error | package neurons | ratio | CPU-time ratio |\n|" + "---|" * 9
)


def row(r):
    return (
        f"| {r['seed']} | {r['reference_seconds']:.1f} | {r['reference_error']:.3g} "
        f"| {r['reference_neurons']} | {r['package_seconds']:.2f} | {r['package_error']:.3g} "
        f"| {r['package_neurons']} | {r['ratio']:.1f}x | {r['cpu_ratio']:.1f}x |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reference_loop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", choices=list(TASKS), default="cube-f1")
    parser.add_argument("--n", type=int, default=800, help="training samples")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--reference-gd-lr", type=float, default=0.05, help="the reference's fixed GD step"
    )
    parser.add_argument(
        "--match-train-error",
        action="store_true",
        help="fit the package first and run the reference to its final training error",
    )
    add_threads_option(parser)
    args = parser.parse_args(argv)
    task = TASKS[args.task]
    if task.kind != "regression" or task.fit_intercept or task.activation_power != 1:
        parser.error("the reference handles regression tasks with leaky ReLU, no intercept")
    threads = apply_threads(args)
    print(
        f"{args.task}, n = {args.n}, torch threads {threads}; package "
        f"{PACKAGE_SETTINGS} float32; reference float64, fixed GD step "
        f"{args.reference_gd_lr}"
        + (", run to the package's training error" if args.match_train_error else "")
    )
    warm_up(task)
    print(HEADER, flush=True)
    results = []
    for seed in args.seeds:
        results.append(compare(task, args.n, seed, args.reference_gd_lr, args.match_train_error))
        print(row(results[-1]), flush=True)
    for key, what in (("ratio", "wall-clock"), ("cpu_ratio", "CPU-time")):
        median = statistics.median(r[key] for r in results)
        print(f"median {what} ratio (reference / package): {median:.1f}x")


if __name__ == "__main__":
    main()
