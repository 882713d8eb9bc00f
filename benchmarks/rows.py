"""Default fits by rows against the MLP and gradient boosting: time, R^2, peak memory.

``python -m benchmarks rows --sizes 10000 100000 1000000``: noisy friedman1
(``make_friedman1(n + 20000, noise=1)``, the last 20,000 rows held out for R^2), fitted
by ``make_pipeline(StandardScaler(), estimator)`` with each estimator's defaults:
:class:`NeuronPursuitRegressor` (``np``), ``MLPRegressor(early_stopping=True)``
(``mlp``) and ``HistGradientBoostingRegressor`` (``hgb``), ``random_state`` the seed.
Every fit runs in a fresh interpreter that imports only what its estimator needs (torch
for NP alone), so that its peak resident memory (``VmHWM``: the interpreter, its
imports and the data included) is its own; ``data_mib`` is that peak before the fit.
``--threads`` limits torch's and the BLAS's threads alike. Writes CSV and Markdown
(docs/big-data.md).
"""

import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

METHODS = ("np", "mlp", "hgb")
TEST_ROWS = 20_000


def _estimator(method, seed):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.neural_network import MLPRegressor

    if method == "np":
        from skneuronpursuit import NeuronPursuitRegressor

        return NeuronPursuitRegressor(random_state=seed)
    if method == "mlp":
        return MLPRegressor(early_stopping=True, random_state=seed)
    return HistGradientBoostingRegressor(random_state=seed)


def peak_mib():
    """This process's peak resident memory: ``VmHWM`` where Linux gives it (``ru_maxrss``
    would start from the parent's resident size at the fork), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _fit(method, n_rows, seed, threads):
    """One fit in this (fresh) process: prints its time, test R^2 and peak memory (JSON)."""
    from sklearn.datasets import make_friedman1
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    if method == "np":
        import torch

        if threads:
            torch.set_num_threads(threads)
    X, y = make_friedman1(n_rows + TEST_ROWS, noise=1.0, random_state=seed)
    X_test, y_test = X[n_rows:], y[n_rows:]
    X, y = X[:n_rows].copy(), y[:n_rows].copy()
    model = make_pipeline(StandardScaler(), _estimator(method, seed))
    data_mib = peak_mib()
    with threadpool_limits(threads or None):
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
    peak = peak_mib()
    print(json.dumps([seconds, float(model.score(X_test, y_test)), data_mib, peak]))


def measure(sizes, methods=METHODS, seed=0, threads=1):
    """One row per size and method, each fit in a fresh interpreter."""
    rows = []
    for n_rows in sizes:
        for method in methods:
            call = f"_fit({method!r}, {n_rows}, {seed}, {threads})"
            code = f"from benchmarks.rows import _fit; {call}"
            done = subprocess.run(
                [sys.executable, "-c", code],
                cwd=Path(__file__).parent.parent,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds, r2, data_mib, peak = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(
                dict(
                    n_rows=n_rows,
                    method=method,
                    seed=seed,
                    threads=threads,
                    seconds=round(seconds, 2),
                    test_r2=round(r2, 4),
                    data_mib=round(data_mib),
                    peak_mib=round(peak),
                )
            )
            print(rows[-1], flush=True)
    return rows


# The columns of a row, and how a row read back from the CSV converts them.
KEY = ("n_rows", "method", "seed", "threads")
NUMBERS = dict(
    n_rows=int, seed=int, threads=int, seconds=float, test_r2=float, data_mib=int, peak_mib=int
)


def write(rows, out):
    """``out`` (CSV) and ``out`` with the suffix ``.md``: per size, each method's time,
    R^2 and peak memory, with NP's time over the MLP's and NP's memory over HGB's. Rows
    already in ``out`` for other sizes, methods, seeds or threads are kept."""
    out = Path(out)
    if out.exists():
        with out.open() as file:
            old = [
                {name: NUMBERS.get(name, str)(value) for name, value in row.items()}
                for row in csv.DictReader(file)
            ]
        new = {tuple(row[name] for name in KEY) for row in rows}
        rows = [row for row in old if tuple(row[name] for name in KEY) not in new] + rows
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    by = {(row["n_rows"], row["method"], row["seed"]): row for row in rows}
    lines = [
        "| rows | seed | NP: s, R^2, MiB | MLP: s, R^2, MiB | HGB: s, R^2, MiB "
        "| NP time / MLP | NP memory / HGB |",
        "|---|---|---|---|---|---|---|",
    ]
    for n_rows, seed in sorted({(row["n_rows"], row["seed"]) for row in rows}):
        cells, fits = [], {m: by.get((n_rows, m, seed)) for m in METHODS}
        for method in METHODS:
            fit = fits[method]
            cells.append(
                "—" if fit is None else f"{fit['seconds']}, {fit['test_r2']}, {fit['peak_mib']}"
            )
        time_ratio = memory_ratio = "—"
        if fits["np"] and fits["mlp"]:
            time_ratio = f"{fits['np']['seconds'] / fits['mlp']['seconds']:.2f}"
        if fits["np"] and fits["hgb"]:
            memory_ratio = f"{fits['np']['peak_mib'] / fits['hgb']['peak_mib']:.2f}"
        cells += [time_ratio, memory_ratio]
        lines.append(f"| {n_rows:,} | {seed} | " + " | ".join(cells) + " |")
    threads = sorted({row["threads"] for row in rows})
    out.with_suffix(".md").write_text(
        "Noisy friedman1, `make_pipeline(StandardScaler(), estimator)` with defaults "
        f"(MLP: `early_stopping=True`); threads {threads}; each fit in a fresh process, "
        "peak memory its `VmHWM` (interpreter, imports and data included; "
        "each imports only what its estimator needs, torch for NP alone).\n\n"
        + "\n".join(lines)
        + "\n"
    )
