"""Scaling of a fit with the number of rows: one process against a Dask cluster.

``python -m benchmarks scale --sizes 10000 100000 --workers 2``: noisy friedman1
(``make_friedman1(n, noise=1)``) at each size, fitted by :class:`NeuronPursuitRegressor`
in one process and by :class:`~skneuronpursuit.dask.DaskNeuronPursuitRegressor` on a
``LocalCluster`` of ``--workers`` processes (one thread each), with the same settings.
Records the fit's wall time, the peak resident memory of each process that fitted
(``VmHWM``, as ``benchmarks/rows.py``: the single process's is a fresh subprocess's,
each worker's that of a fresh cluster per size, data partitions included), the bytes
each process all-reduced (``_kernels/reduction.py`` counts them) per fit, per iteration
and per inner step, and how far the two fits' predictions are apart. Writes CSV and
Markdown (docs/big-data.md).
"""

import csv
import multiprocessing
import time
from pathlib import Path

import numpy as np

SETTINGS = dict(max_iter=4, gd_steps=300, n_restarts=8, early_stopping=False, random_state=0)


def _params(dtype, ncf_samples=4096):
    from skneuronpursuit import PursuitOptions

    options = PursuitOptions(ncf_steps=100, ncf_samples=ncf_samples)
    return dict(SETTINGS, dtype=dtype, options=options)


def _data(n_rows):
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_rows, noise=1.0, random_state=0)


def _peak_mib():
    from benchmarks.rows import peak_mib

    return peak_mib()


def _single(n_rows, dtype, ncf_samples, threads, queue):
    """One process: the fit, its time and the process's peak memory."""
    import torch

    from skneuronpursuit import NeuronPursuitRegressor

    torch.set_num_threads(threads)
    X, y = _data(n_rows)
    started = time.perf_counter()
    model = NeuronPursuitRegressor(**_params(dtype, ncf_samples)).fit(X, y)
    seconds = time.perf_counter() - started
    queue.put((seconds, _peak_mib(), model.predict(X[:2000]), model))


def _measured_rank(*args):
    """The Dask estimator's task, and what its process did."""
    from skneuronpursuit._estimators.dask_partitions import _run_rank
    from skneuronpursuit._kernels import reduction

    fitted = _run_rank(*args)
    state = reduction._state.last  # the fit of this thread that just ended
    measured = dict(bytes=state.bytes, calls=state.calls, peak_mib=_peak_mib())
    if fitted is None:
        return measured
    fitted.measured_ = measured
    return fitted


def _inner_steps(model):
    """Gradient-descent and Levenberg-Marquardt steps of a fit (accepted ones)."""
    return sum(record.gd_steps + record.lm_steps for record in model.history_)


def measure(sizes, n_workers=2, dtype="float32", threads=1, ncf_samples=4096):
    """One row per size: the single process's and the cluster's fit.

    With more than ``ncf_samples`` rows the searches' subsets are drawn over the rows in
    partition order on the cluster and in sorted order in one process: other subsets,
    so other (equally good) fits. ``ncf_samples=None`` compares the same fit.
    """
    import dask.array as da
    from distributed import Client, LocalCluster

    from skneuronpursuit.dask import DaskNeuronPursuitRegressor

    class Measured(DaskNeuronPursuitRegressor):
        _rank_task = staticmethod(_measured_rank)

    rows = []
    context = multiprocessing.get_context("spawn")
    for n_rows in sizes:
        queue = context.Queue()
        process = context.Process(
            target=_single, args=(n_rows, dtype, ncf_samples, threads, queue)
        )
        process.start()
        seconds, peak, single_prediction, single = queue.get()
        process.join()
        X, y = _data(n_rows)
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            chunk = -(-n_rows // (2 * n_workers))  # two partitions per worker
            dX = da.from_array(X, chunks=(chunk, X.shape[1])).persist()
            dy = da.from_array(y, chunks=chunk).persist()
            started = time.perf_counter()
            fitted = Measured(**_params(dtype, ncf_samples)).fit(dX, dy)
            cluster_seconds = time.perf_counter() - started
            peaks = [
                peak
                for peak in client.run(_peak_mib).values()  # every worker, data included
            ]
        measured = fitted.measured_
        prediction = fitted.to_local().predict(X[:2000])
        steps = _inner_steps(fitted)
        rows.append(
            dict(
                n_rows=n_rows,
                dtype=dtype,
                ncf_samples=ncf_samples,
                workers=n_workers,
                single_seconds=round(seconds, 2),
                cluster_seconds=round(cluster_seconds, 2),
                single_peak_mib=round(peak, 1),
                worker_peak_mib=round(max(peaks), 1),
                single_widths=str(single.hidden_layer_sizes_),
                cluster_widths=str(fitted.hidden_layer_sizes_),
                iterations=fitted.n_iter_,
                inner_steps=steps,
                bytes_per_process=measured["bytes"],
                all_reduces_per_process=measured["calls"],
                bytes_per_iteration=round(measured["bytes"] / max(fitted.n_iter_, 1)),
                bytes_per_inner_step=round(measured["bytes"] / max(steps, 1)),
                max_prediction_difference_over_spread=float(
                    np.max(np.abs(prediction - single_prediction)) / np.std(y)
                ),
            )
        )
        print(rows[-1], flush=True)
    return rows


def write(rows, out):
    """``out`` (CSV) and ``out`` with the suffix ``.md`` (a Markdown table); rows
    already in ``out`` for other sizes or settings are kept."""
    out = Path(out)
    if out.exists():
        with out.open() as file:
            old = list(csv.DictReader(file))
        new = {(str(row["n_rows"]), row["dtype"], str(row["ncf_samples"])) for row in rows}
        kept = [
            row for row in old if (row["n_rows"], row["dtype"], row.get("ncf_samples")) not in new
        ]
        rows = [row for row in kept if "ncf_samples" in row] + rows
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[name]) for name in header) + " |" for row in rows]
    out.with_suffix(".md").write_text(
        f"Settings: {SETTINGS}, ncf_steps=100; noisy friedman1. With more rows than "
        "ncf_samples the two fits draw other subsets for their searches, and in float32 "
        "their sums in another order grow other networks, so their predictions differ by "
        "design; float64 with --ncf-samples 0 grows the same network "
        "(docs/big-data.md).\n\n" + "\n".join(lines) + "\n"
    )
