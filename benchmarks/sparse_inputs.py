"""Dense against sparse inputs on modular addition: time per GD and search step.

    python -m benchmarks.sparse_inputs [--threads 1] [--repeats 5]

The one-hot inputs of modadd-59 (3 non-zeros in 119 columns) are given once as a
dense tensor and once as :class:`~skneuronpursuit._kernels.inputs.SparseInputs`. For
hidden widths 10, 40 and 100 (a random network of that width) the script times
200 GD steps and 200 steps of the candidate search (16 restarts), alternating
dense and sparse, and prints the best time per step of ``--repeats`` tries: the
best is the least disturbed by other work on the machine.
"""

import argparse
import time

import numpy as np
import scipy.sparse
import torch

from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.gradient_descent import gradient_descent
from skneuronpursuit._kernels.inputs import SparseInputs
from skneuronpursuit._kernels.ncf import search_candidates

from .tasks import TASKS
from .threads import add_threads_option, apply_threads

STEPS = 200


def _best_milliseconds_per_step(run, inputs, repeats):
    best = {}
    for _ in range(repeats):
        for name, X in inputs.items():
            started = time.perf_counter()
            run(X)
            seconds = (time.perf_counter() - started) / STEPS
            best[name] = min(best.get(name, np.inf), 1e3 * seconds)
    return best


def compare(widths=(10, 40, 100), repeats=5, seed=0):
    """``{width: {"gd": {"dense": ms, "sparse": ms}, "search": {...}}}``."""
    X, y, _, _ = TASKS["modadd-59"].sample(None, np.random.RandomState(seed))
    inputs = {
        "dense": torch.from_numpy(X).float(),
        "sparse": SparseInputs.from_scipy(scipy.sparse.csr_matrix(X), torch.float32, "cpu"),
    }
    Y = torch.from_numpy(np.eye(59)[y]).float()
    weight = torch.ones(len(X))
    activation = HomogeneousActivation(2, -1.0)
    generator = torch.Generator().manual_seed(seed)
    residual = torch.randn(len(X), 59, generator=generator)
    incoming = torch.randn(1, 16, X.shape[1], generator=generator)
    outgoing = torch.randn(1, 16, 59, generator=generator)
    results = {}
    for width in widths:
        weights = [
            0.1 * torch.randn(width, X.shape[1], generator=generator),
            0.1 * torch.randn(59, width, generator=generator),
        ]

        def descend(X, weights=weights):
            gradient_descent(
                weights, X, Y, weight, activation, step_size=1e-3, max_steps=STEPS, rel_tol=-1
            )

        def search(X):
            hidden = HiddenRows([X], [residual])
            search_candidates(hidden, weight, activation, incoming, outgoing, STEPS, 1.0)

        results[width] = {
            "gd": _best_milliseconds_per_step(descend, inputs, repeats),
            "search": _best_milliseconds_per_step(search, inputs, repeats),
        }
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sparse_inputs")
    add_threads_option(parser, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    apply_threads(args)
    print("modadd-59, ms per step (best of repeats), dense / sparse inputs")
    for width, parts in compare(repeats=args.repeats).items():
        cells = [
            f"{kind} {t['dense']:.3f} / {t['sparse']:.3f} ({t['dense'] / t['sparse']:.2f}x)"
            for kind, t in parts.items()
        ]
        print(f"width {width:>3}: " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
