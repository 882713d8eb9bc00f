"""The cost of the engine's inner steps at fixed shapes: microseconds per step.

    python -m benchmarks.steps [--threads N] [--repeats R]

On seeded random data in float32, the best of ``R`` runs (5 by default) of:

- **gradient descent**: a window of 250 steps (``run_window``) at widths (6, 3, 1) on
  350 rows, (18, 14, 1) on 3,200 and (15, 7, 1) on 2,048 (a 10^5-row fit's window);
- **the NCF ascent** of later iterations: a search of 200 steps (``search_candidates``),
  16 restarts, on iris-, wine-, salaries-, wages- and digits-sized inputs and signals;
- **the first iteration's search**: 200 steps of ``search_network`` (one neuron per layer,
  16 restarts);
- **Levenberg-Marquardt**: 20 accepted steps (``rel_tol=-1``) on 350 and 3,300 rows, and
  on 90,000 rows with ``J^T J`` on 8,192 of them (a 10^5-row fit's).

These are the shapes docs/engineering.md quotes; the functions timed keep their
signatures across versions, so the same script times an older checkout (run it there
with ``PYTHONPATH`` at that checkout). Writes nothing.
"""

import argparse
import time

import torch

from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.ascent_rows import HiddenRows
from skneuronpursuit._kernels.gradient_descent import lay_out, run_window
from skneuronpursuit._kernels.levenberg_marquardt import levenberg_marquardt
from skneuronpursuit._kernels.ncf import search_candidates, search_network

from .threads import add_threads_option, apply_threads

LEAKY = HomogeneousActivation(1, 0.1)
RESTARTS = 16
# (label, rows, inputs, hidden widths)
DESCENT = [
    ("350 rows, (6, 3, 1)", 350, 11, (6, 3)),
    ("3,200 rows, (18, 14, 1)", 3200, 21, (18, 14)),
    ("2,048 rows, (15, 7, 1)", 2048, 11, (15, 7)),
]
# (label, layers searched, rows, k_in, k_out)
ASCENT = [
    ("iris-sized", 1, 120, 5, 3),
    ("wine-sized", 1, 142, 14, 3),
    ("salaries-sized, folded", 2, 317, 10, 1),
    ("wages-sized", 2, 3332, 19, 5),
    ("digits-sized", 1, 1437, 65, 10),
]
# (label, rows, inputs, outputs, depth)
FIRST = [
    ("iris-sized, depth 2", 120, 5, 3, 2),
    ("salaries-sized, depth 3", 317, 10, 1, 3),
    ("digits-sized, depth 2", 1437, 65, 10, 2),
]
# (label, rows, hidden widths, rows of J^T J or None)
LM = [
    ("350 rows, (4, 1, 1)", 350, (4, 1), None),
    ("3,300 rows, (7, 1, 1)", 3300, (7, 1), None),
    ("90,000 rows, (15, 7, 1), J^T J on 8,192", 90000, (15, 7), 8192),
]


def _best(run, repeats):
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _network(generator, sizes, scale=0.3, batch=()):
    return [
        scale * torch.randn(*batch, sizes[i + 1], sizes[i], generator=generator)
        for i in range(len(sizes) - 1)
    ]


def measure(repeats=5, steps_scale=1.0):
    """``[(kind, label, microseconds per step), ...]``; ``steps_scale`` shortens every run
    (a smoke test)."""
    results = []
    window = max(1, round(250 * steps_scale))
    for label, n, d, widths in DESCENT:
        generator = torch.Generator().manual_seed(0)
        X, Y = torch.randn(n, d, generator=generator), torch.randn(n, 1, generator=generator)
        weights = _network(generator, [d, *widths, 1], scale=0.1)
        data = lay_out(X, Y, torch.ones(n))
        seconds = _best(lambda: run_window(weights, data, LEAKY, 1e-3, window), repeats)
        results.append(("gradient descent", label, seconds / window * 1e6))
    ascent = max(1, round(200 * steps_scale))
    for label, layers, n, k_in, k_out in ASCENT:
        generator = torch.Generator().manual_seed(0)
        hidden = HiddenRows(
            [torch.randn(n, k_in, generator=generator) for _ in range(layers)],
            [torch.randn(n, k_out, generator=generator) for _ in range(layers)],
        )
        incoming = torch.randn(layers, RESTARTS, k_in, generator=generator)
        outgoing = torch.randn(layers, RESTARTS, k_out, generator=generator)

        def climb(hidden=hidden, incoming=incoming, outgoing=outgoing, n=n):
            search_candidates(hidden, torch.ones(n), LEAKY, incoming, outgoing, ascent, 0.1)

        results.append(("NCF ascent", label, _best(climb, repeats) / ascent * 1e6))
    for label, n, d, m, depth in FIRST:
        generator = torch.Generator().manual_seed(0)
        X, Y = torch.randn(n, d, generator=generator), torch.randn(n, m, generator=generator)
        starts = _network(generator, [d] + [1] * (depth - 1) + [m], 1.0, (RESTARTS,))

        def search(X=X, Y=Y, starts=starts, n=n):
            search_network(X, Y, torch.ones(n), LEAKY, starts, ascent, 0.1)

        results.append(("first search", label, _best(search, repeats) / ascent * 1e6))
    lm_steps = max(1, round(20 * steps_scale))
    for label, n, widths, subset in LM:
        generator = torch.Generator().manual_seed(0)
        X = torch.randn(n, 11, generator=generator)
        Y = (X[:, :1] * X[:, 1:2]).relu() + 0.1 * torch.randn(n, 1, generator=generator)
        weights = _network(generator, [11, *widths, 1])
        rows = None if subset is None else torch.randperm(n, generator=generator)[:subset]

        def descend(X=X, Y=Y, weights=weights, rows=rows, n=n):
            levenberg_marquardt(
                weights,
                X,
                Y,
                torch.ones(n),
                LEAKY,
                max_steps=lm_steps,
                rel_tol=-1,
                curvature_rows=rows,
            )

        results.append(("Levenberg-Marquardt", label, _best(descend, repeats) / lm_steps * 1e6))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    add_threads_option(parser)
    args = parser.parse_args(argv)
    apply_threads(args)
    print("| step | shape | us per step |")
    print("|---|---|---|")
    for kind, label, microseconds in measure(args.repeats):
        print(f"| {kind} | {label} | {microseconds:.1f} |")


if __name__ == "__main__":
    main()
