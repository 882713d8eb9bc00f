"""Where an NP fit spends its time: NCF search, GD, the rest; GD FLOP/s.

    python -m benchmarks.speed [--task sphere-f1 ...] [--device cpu|cuda] [--threads N]
                               [--until-zero-error] [--seed S] [--dtype float32|float64]
                               [--gd-momentum MU]

For each task, at a fixed configuration (the full benchmark settings at the task's
largest size; float32, plain GD and seed 0 unless ``--dtype``, ``--gd-momentum`` or
``--seed``), one NP fit is timed; its history records, per iteration, the seconds of the search
(NCF ascent and neuron addition, ``search_seconds``) and of the inner GD
(``gd_seconds``). The
GD work estimate per step is ``6 n sum_l k_{l-1} k_l`` FLOPs (forward ``2 n k_in
k_out`` per layer, backward twice that), over the widths in force at each iteration;
the "roofline" is the FLOP/s of one ``n x k`` by ``k x k`` matmul of the task's size
on the same device, so the ratio says how far a GD step is from what its matrix
products alone would cost.

``--until-zero-error`` stops a classification fit at the first iteration whose
network classifies every training sample correctly (a scikit-learn callback that
predicts the training set after each iteration; its time is part of the fit's).
"""

import argparse
import resource
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from .methods import fit_neuron_pursuit
from .runner import error
from .tasks import TASKS
from .threads import add_threads_option, apply_threads


def gd_work(model, n_samples):
    """GD FLOPs of a fitted model, from its history: ``6 n sum_l k_{l-1} k_l`` per step."""
    inputs, outputs = model.coefs_[0].shape[0], model.coefs_[-1].shape[1]
    flops = 0.0
    for record in model.history_:
        sizes = [inputs, *record["hidden_layer_sizes"], outputs]
        per_step = 6 * n_samples * sum(a * b for a, b in zip(sizes, sizes[1:]))
        flops += per_step * record["gd_steps"]
    return flops


def matmul_flops(n, k, device, dtype=torch.float32, repeat=20):
    """FLOP/s of an ``(n, k) @ (k, k)`` product on ``device``."""
    a = torch.randn(n, k, device=device, dtype=dtype)
    b = torch.randn(k, k, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n * k * k * repeat / (time.perf_counter() - started)


class StopAtZeroTrainingError:
    """A ``sklearn.callback`` fit callback: stop once the training error is 0.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        The training labels, in the order of the rows given to ``fit``.
    """

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        if context.task_name != "iteration":
            return False
        return bool(np.all(fitted_estimator.predict(X) == self.labels))


def profile(name, device, until_zero_error=False, seed=0, dtype="float32", gd_momentum=0.0):
    task = TASKS[name]
    X, y, X_test, y_test = task.sample(task.sizes[-1], np.random.RandomState(seed))
    if until_zero_error and task.kind != "classification":
        raise ValueError(f"--until-zero-error needs a classification task, not {name}")
    callbacks = [StopAtZeroTrainingError(y)] if until_zero_error else []
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        [(predict, info)] = fit_neuron_pursuit(
            task,
            X,
            y,
            seed=seed,
            quick=False,
            callbacks=callbacks,
            device=device,
            dtype=dtype,
            gd_momentum=gd_momentum,
        )
    model = info["model"]
    total = info["seconds"]
    seconds = {
        kind: sum(record[f"{kind}_seconds"] for record in model.history_)
        for kind in ("search", "gd")
    }
    gd_steps = sum(record["gd_steps"] for record in model.history_)
    width = max(max(model.hidden_layer_sizes_), 1)
    roofline = matmul_flops(len(X), max(width, X.shape[1]), device, getattr(torch, dtype))
    gd_rate = gd_work(model, len(X)) / max(seconds["gd"], 1e-12)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB -> MiB
    return dict(
        task=name,
        n=len(X),
        iterations=model.n_iter_,
        neurons=sum(model.hidden_layer_sizes_),
        total=total,
        search=seconds["search"],
        gd=seconds["gd"],
        rest=total - seconds["search"] - seconds["gd"],
        gd_steps=gd_steps,
        steps_per_second=gd_steps / max(seconds["gd"], 1e-12),
        gflops=gd_rate / 1e9,
        roofline_ratio=roofline / max(gd_rate, 1e-12),
        peak_mib=peak,
        train_error=error(task, predict(X), y),
        test_error=error(task, predict(X_test), y_test),
    )


HEADER = (
    "| task | n | iterations | neurons | fit s | search s | GD s | rest s | GD steps/s "
    "| GD GFLOP/s | matmul / GD | peak MiB | train error | test error |\n|" + "---|" * 14
)


def row(r):
    return (
        f"| {r['task']} | {r['n']} | {r['iterations']} | {r['neurons']} | {r['total']:.1f} "
        f"| {r['search']:.1f} | {r['gd']:.1f} | {r['rest']:.1f} | {r['steps_per_second']:.0f} "
        f"| {r['gflops']:.2f} | {r['roofline_ratio']:.1f}x | {r['peak_mib']:.0f} "
        f"| {r['train_error']:.3g} | {r['test_error']:.3g} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__)
    parser.add_argument("--task", action="append", choices=list(TASKS), default=[])
    parser.add_argument("--device", default="cpu")
    add_threads_option(parser)
    parser.add_argument("--seed", type=int, default=0, help="data and random_state")
    parser.add_argument("--until-zero-error", action="store_true")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--gd-momentum", type=float, default=0.0, help="NP's gd_momentum")
    args = parser.parse_args(argv)
    threads = apply_threads(args)
    print(
        f"device {args.device}, {args.dtype}, torch threads {threads}, "
        f"gd_momentum {args.gd_momentum}"
    )
    print(HEADER)
    for name in args.task or list(TASKS):
        result = profile(
            name, args.device, args.until_zero_error, args.seed, args.dtype, args.gd_momentum
        )
        print(row(result), flush=True)


if __name__ == "__main__":
    main()
