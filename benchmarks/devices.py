"""The same NP fit on two devices: does it grow the same network, how fast?

    python -m benchmarks.devices [--task gauss-f2 ...] [--device cuda] [--reference cpu]
                                 [--dtype float64|float32] [--size N] [--quick]

For each task (the settings of the benchmark suite at ``--size``, by default the
task's largest, seed 0) NP is fitted once on the reference device and once on the
other. A row gives whether the two chose the same layer at every iteration (or the
first iteration where they part), the widths, the training and test errors and the
fit seconds of each, and the ratio of the times. float64 is the default: NP's growth
is sensitive to rounding (benchmarks/README.md), so only in float64 must two devices,
which sum in different orders, agree iteration by iteration; float32 gives the
speed users get by default.
"""

import argparse
import dataclasses

import numpy as np
import torch

from .methods import fit_neuron_pursuit
from .runner import error
from .tasks import TASKS
from .threads import add_threads_option, apply_threads


@dataclasses.dataclass
class DeviceFit:
    device: str
    layers: list  # the layer that grew at each iteration (None for the first neurons)
    widths: tuple
    train_error: float
    test_error: float
    seconds: float


def _fit(task, X, y, X_test, y_test, device, dtype, seed, quick):
    [(predict, info)] = fit_neuron_pursuit(
        task, X, y, seed=seed, quick=quick, device=device, dtype=dtype
    )
    model = info["model"]
    return DeviceFit(
        device,
        [record["layer"] for record in model.history_],
        tuple(model.hidden_layer_sizes_),
        error(task, predict(X), y),
        error(task, predict(X_test), y_test),
        info["seconds"],
    )


def first_difference(layers, other_layers):
    """The first iteration (1-based) where two growths part, or None if they agree."""
    for iteration, (layer, other) in enumerate(zip(layers, other_layers), start=1):
        if layer != other:
            return iteration
    if len(layers) != len(other_layers):
        return min(len(layers), len(other_layers)) + 1
    return None


def compare(name, device, reference="cpu", dtype="float64", size=None, quick=False, seed=0):
    """Fit task ``name`` on ``reference`` and on ``device``; returns both :class:`DeviceFit`."""
    task = TASKS[name]
    n = size or task.sizes[-1]
    X, y, X_test, y_test = task.sample(n, np.random.RandomState(seed))

    def fit(where):
        return _fit(task, X, y, X_test, y_test, where, dtype, seed, quick)

    return [fit(reference), fit(device)]


HEADER = (
    "| task | dtype | same layers | widths | train error | test error | fit s | ratio |\n"
    "|---|---|---|---|---|---|---|---|"
)


def row(name, dtype, ours, theirs):
    parted = first_difference(ours.layers, theirs.layers)
    same = "yes" if parted is None else f"no, from iteration {parted}"
    return (
        f"| {name} | {dtype} | {same} | {ours.widths} / {theirs.widths} "
        f"| {ours.train_error:.3g} / {theirs.train_error:.3g} "
        f"| {ours.test_error:.3g} / {theirs.test_error:.3g} "
        f"| {ours.seconds:.1f} / {theirs.seconds:.1f} | {theirs.seconds / ours.seconds:.2f} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.devices", description=__doc__)
    parser.add_argument("--task", action="append", choices=list(TASKS), default=[])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--reference", default="cpu")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--size", type=int, default=None, help="training size (sparse tasks)")
    parser.add_argument("--quick", action="store_true", help="the quick settings of the suite")
    add_threads_option(parser)
    args = parser.parse_args(argv)
    for device in (args.device, args.reference):  # before the reference fit, not after
        if device.startswith("cuda") and not torch.cuda.is_available():
            parser.error(f"{device}: CUDA is not available on this machine")
    threads = apply_threads(args)
    print(f"{args.reference} / {args.device}, torch threads {threads}")
    print(HEADER)
    for name in args.task or list(TASKS):
        size = args.size if TASKS[name].sizes[-1] is not None else None
        ours, theirs = compare(name, args.device, args.reference, args.dtype, size, args.quick)
        print(row(name, args.dtype, ours, theirs), flush=True)


if __name__ == "__main__":
    main()
