"""Figures and the README results table, generated from the result files."""

import csv
import pickle
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from .methods import METHODS
from .tasks import TASKS

PASS_ERROR = 0.1  # n*: smallest n whose median relative test error is below this (BENCHMARKS.md)
TABLE_START = "<!-- results-table:start (python -m benchmarks report --readme README.md) -->"
TABLE_END = "<!-- results-table:end -->"
METHOD_NAMES = {"np": "NP", "gd": "GD small init", "mlp": "sklearn MLP"}


def load(folder):
    """All rows of the CSV files in ``folder``, numbers parsed."""
    rows = []
    for path in sorted(Path(folder).glob("*.csv")):
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                for key in ("n", "seed"):
                    row[key] = int(row[key])
                for key in ("train_error", "test_error", "fit_seconds"):
                    row[key] = float(row[key])
                for key in ("np_iterations", "descent_violations"):
                    row[key] = int(row[key]) if row[key] else None
                rows.append(row)
    return rows


def by_point(rows):
    """``{(task, method): {n: [row, ...]}}``."""
    points = defaultdict(lambda: defaultdict(list))
    for row in rows:
        points[row["task"], row["method"]][row["n"]].append(row)
    return points


def n_star(per_n):
    """Smallest n whose median test error is below PASS_ERROR, or None."""
    for n in sorted(per_n):
        if np.median([r["test_error"] for r in per_n[n]]) < PASS_ERROR:
            return n
    return None


def results_table(rows):
    """Markdown: per task and method n*, median test error and fit seconds at the largest n."""
    points = by_point(rows)
    methods = [m for m in METHODS if any(key[1] == m for key in points)]
    header = ["task"]
    for m in methods:
        name = METHOD_NAMES[m]
        header += [f"{name} n*", f"{name} error", f"{name} s"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    violations = seeds = 0
    for task in TASKS:
        if not any((task, m) in points for m in methods):
            continue
        cells = [task]
        for m in methods:
            per_n = points.get((task, m))
            if not per_n:
                cells += ["", "", ""]
                continue
            largest = max(per_n)
            found = n_star(per_n)
            cells.append(str(found) if found else f"> {largest}")
            errors = [r["test_error"] for r in per_n[largest]]
            cells.append(f"{np.median(errors):.3g}")
            cells.append(f"{np.median([r['fit_seconds'] for r in per_n[largest]]):.1f}")
            seeds = max(seeds, len(errors))
            if m == "np":
                violations += sum(r["descent_violations"] or 0 for n in per_n for r in per_n[n])
        lines.append("| " + " | ".join(cells) + " |")
    machines = sorted({r["machine"] for r in rows})
    lines += [
        "",
        f"n*: smallest training size whose median relative test error (classification error for "
        f"modadd-59) is below {PASS_ERROR}; error and seconds: medians at the largest size, "
        f"{seeds} seeds. NP iterations whose added neuron did not lower the loss: {violations}. "
        f"Machine: {', '.join(machines)}.",
    ]
    return "\n".join(lines)


def update_readme(path, table):
    """Replace the text between the table markers of ``path`` with ``table``."""
    text = Path(path).read_text()
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {TABLE_START!r} ... {TABLE_END!r} block")
    block = f"{TABLE_START}\n{table}\n{TABLE_END}"
    Path(path).write_text(pattern.sub(lambda _: block, text))


def _spread_plot(ax, per_n, key, label):
    sizes = sorted(per_n)
    values = [[r[key] for r in per_n[n]] for n in sizes]
    q25, median, q75 = np.percentile(values, [25, 50, 75], axis=1) if sizes else ([], [], [])
    (line,) = ax.plot(sizes, median, "o-", label=label)
    ax.fill_between(sizes, q25, q75, color=line.get_color(), alpha=0.2)


def save_figures(rows, models, out):
    """Error and iterations against n per task, and the figures of the saved NP models."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skneuronpursuit.plotting import plot_first_layer_dft, plot_growth, plot_weights

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    points = by_point(rows)
    sparse = [t for t in TASKS if len(TASKS[t].sizes) > 1 and any(k[0] == t for k in points)]

    if sparse:
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), squeeze=False)
        for ax, task in zip(axes.flat, sparse):
            for method in METHODS:
                if (task, method) in points:
                    _spread_plot(ax, points[task, method], "test_error", METHOD_NAMES[method])
            ax.axhline(PASS_ERROR, color="gray", ls=":", lw=1)
            ax.set(xscale="log", yscale="log", title=task, xlabel="n", ylabel="test rel. error")
        axes.flat[0].legend()
        fig.suptitle("Test error against training size: median and 25-75% band")
        fig.tight_layout()
        fig.savefig(out / "error_vs_n.png", dpi=100)

        fig, ax = plt.subplots(figsize=(6, 4))
        for task in sparse:
            if (task, "np") in points:
                _spread_plot(ax, points[task, "np"], "np_iterations", task)
        ax.set(xscale="log", xlabel="n", ylabel="NP iterations", title="Iterations NP needed")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "np_iterations.png", dpi=100)

    def model(task):
        path = Path(models) / f"{task}.pkl"
        if path.exists():
            with open(path, "rb") as handle:
                return pickle.load(handle)
        return None

    if (m := model("modadd-59")) is not None:
        ax = plot_first_layer_dft(m, n_blocks=2)
        ax.figure.savefig(out / "modadd59_dft.png", dpi=100, bbox_inches="tight")
    if (m := model("pvr")) is not None:
        axes = plot_weights(m)
        axes[0].figure.savefig(out / "pvr_weights.png", dpi=100, bbox_inches="tight")
    for task in ("sphere-f2", "sphere-f1"):
        if (m := model(task)) is not None:
            ax = plot_growth(m)
            ax.set_title(f"Growth of one NP run: {task}, largest n, seed 0")
            ax.figure.savefig(out / "growth.png", dpi=100, bbox_inches="tight")
            break
    plt.close("all")
