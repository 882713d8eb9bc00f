"""Figures and the README results table, generated from the result files."""

import csv
import pickle
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from .methods import METHODS
from .tasks import TASKS

# n*: smallest n whose median relative test error is below this (docs/benchmarks.md)
PASS_ERROR = 0.1
TABLE_START = "<!-- results-table:start (python -m benchmarks report --readme docs/results.md) -->"
TABLE_END = "<!-- results-table:end -->"
METHOD_NAMES = {
    "np": "NP",
    "gd": "GD small init",
    "mlp": "sklearn MLP",
    "np-gd": "NP, solver=gd",
    "np-momentum": "NP, gd_momentum=0.9",
    "np-paper": "NP, the paper's schedule",
    "np-lm": "NP, solver=lm, 100 steps",
    "np-lm10": "NP, solver=lm, 10 steps",
    "np-ncf8": "NP, ncf_lr=8, ncf_steps=50",
    "np-ncf4": "NP, ncf_lr=4, ncf_steps=100",
}


class NoRows(ValueError):
    """A results folder without runner rows: nothing to report or compare."""


def load(folder):
    """All rows of the runner's CSV files in ``folder``, numbers parsed.

    Other CSV files (``omp``'s, say) are passed over. Raises :class:`NoRows` where no
    file holds a row: a report must not replace a table with an empty one.
    """
    rows = []
    for path in sorted(Path(folder).glob("*.csv")):
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"task", "method", "n", "seed", "test_error"} <= set(reader.fieldnames or ()):
                continue
            for row in reader:
                for key in ("n", "seed"):
                    row[key] = int(row[key])
                for key in ("train_error", "test_error", "fit_seconds"):
                    row[key] = float(row[key])
                for key in ("neurons", "np_iterations", "descent_violations"):
                    row[key] = int(row[key]) if row[key] else None
                rows.append(row)
    if not rows:
        raise NoRows(f"no rows of `python -m benchmarks run` in {folder}/*.csv")
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


SEEDS = 5  # seeds per point the table asks for (docs/benchmarks.md)
# The paper's pass criteria of the algorithmic tasks (docs/benchmarks.md), on the training error.
PASS_CRITERIA = {
    "modadd-59": ("train classification error = 0", lambda error: error == 0),
    "pvr": ("train relative error < 0.005", lambda error: error < 0.005),
}


def _markdown(header, rows):
    """A markdown table: header line, separator, one line per row of cells."""
    lines = ["| " + " | ".join(cells) + " |" for cells in [header] + rows]
    return lines[:1] + ["|" + "---|" * len(header)] + lines[1:]


def _detail_value(row, key):
    """A ``key=value`` number from a row's detail, or None."""
    match = re.search(rf"\b{key}=([-+.\deE]+)", row["detail"])
    return float(match.group(1)) if match else None


def _median(rows, key):
    return float(np.median([r[key] for r in rows]))


def _descent_cell(per_n):
    rows = [r for n in per_n for r in per_n[n]]
    not_lowered = sum(r["descent_violations"] or 0 for r in rows)
    return f"{not_lowered} / {sum(r['np_iterations'] for r in rows)}"


def sparse_table(points, methods):
    """One row per sparse-function task: n* per method, errors and seconds at the largest n."""
    header = ["task", "largest n", "seeds"]
    for m in methods:
        header += [f"{METHOD_NAMES[m]} n*", f"{METHOD_NAMES[m]} error", f"{METHOD_NAMES[m]} s"]
    header.append("NP not lowered / iterations")
    table, short = [], []
    for task, spec in TASKS.items():
        ran = [m for m in methods if (task, m) in points]
        if len(spec.sizes) < 2 or not ran:
            continue
        common = set.intersection(*(set(points[task, m]) for m in ran))
        largest = max(common) if common else max(max(points[task, m]) for m in ran)
        counts = [len(points[task, m].get(largest, [])) for m in ran]
        cells = [
            task,
            str(largest),
            f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}",
        ]
        for m in methods:
            per_n = points.get((task, m))
            if not per_n:
                cells += ["not run"] * 3
                continue
            found = n_star(per_n)
            cells.append(str(found) if found else f"> {max(per_n)}")
            at = per_n.get(largest)
            cells.append(f"{_median(at, 'test_error'):.3g}" if at else "")
            cells.append(f"{_median(at, 'fit_seconds'):.1f}" if at else "")
            short += [
                f"{task} {METHOD_NAMES[m]} n={n} ({len(r)})"
                for n, r in sorted(per_n.items())
                if len(r) < SEEDS
            ]
        cells.append(_descent_cell(points[task, "np"]) if (task, "np") in points else "")
        table.append(cells)
    lines = _markdown(header, table) + [
        "",
        f"n*: smallest training size whose median relative test error is below {PASS_ERROR} "
        "(`> N`: not reached up to the largest size run, N). Error and seconds: medians at the "
        "largest size that every method reached. NP not lowered: iterations whose added "
        "neuron did not lower the training loss (a rise, or no change at float32 resolution), "
        "over all of the task's NP fits.",
    ]
    if short:
        lines.append(f"Points with fewer than {SEEDS} seeds: " + "; ".join(short) + ".")
    return lines


def algorithmic_table(points, methods):
    """One row per algorithmic task and method: the paper's pass criterion."""
    header = [
        "task",
        "method",
        "n",
        "seeds",
        "train error",
        "test error",
        "criterion",
        "met",
        "s",
        "neurons",
    ]
    table = []
    for task, (rule, passes) in PASS_CRITERIA.items():
        for m in methods:
            per_n = points.get((task, m))
            if not per_n:
                continue
            for n, rows in sorted(per_n.items()):
                test = f"{_median(rows, 'test_error'):.3g}"
                accuracies = [_detail_value(r, "test_sign_accuracy") for r in rows]
                if None not in accuracies:
                    test += f" (sign accuracy {np.median(accuracies):.3f})"
                met = sum(passes(r["train_error"]) for r in rows)
                table.append(
                    [
                        task,
                        METHOD_NAMES[m],
                        str(n),
                        str(len(rows)),
                        f"{_median(rows, 'train_error'):.3g}",
                        test,
                        rule,
                        f"{met} of {len(rows)}",
                        f"{_median(rows, 'fit_seconds'):.0f}",
                        f"{_median(rows, 'neurons'):.0f}",
                    ]
                )
    return _markdown(header, table) + [
        "",
        "Errors: medians over seeds; classification error for modadd-59, relative error for "
        "pvr. met: seeds whose fit meets the criterion.",
    ]


def speed_table(points):
    """NP's fit time against sklearn's MLP at the largest size both reached."""
    header = ["task", "n", "NP s", "NP error", "MLP s", "MLP error", "NP s / MLP s"]
    table = []
    for task in TASKS:
        mine, theirs = points.get((task, "np")), points.get((task, "mlp"))
        common = set(mine or ()) & set(theirs or ())
        if not common:
            continue
        n = max(common)
        seconds = [_median(mine[n], "fit_seconds"), _median(theirs[n], "fit_seconds")]
        cells = [task, str(n), f"{seconds[0]:.1f}", f"{_median(mine[n], 'test_error'):.3g}"]
        cells += [f"{seconds[1]:.1f}", f"{_median(theirs[n], 'test_error'):.3g}"]
        cells.append(f"{seconds[0] / seconds[1]:.2f}")
        table.append(cells)
    return _markdown(header, table) + [
        "",
        "Median fit seconds and test error over the seeds at the largest size both methods "
        "reached; one torch thread per fit, two fits side by side on the two cores.",
    ]


def dominant_frequency_share(model, modulus=59, min_norm=0.1):
    """Median share of a first-layer row's DFT energy at its top frequency pair.

    For every neuron whose incoming weights have at least ``min_norm`` times the
    largest norm, and for each block ``onehot(a)``, ``onehot(b)`` of its weights:
    the energy at the strongest frequency ``k`` and its mirror ``modulus - k``,
    over all non-constant frequencies (paper Fig. 10: one frequency per neuron).
    """
    coefs = model.coefs_ if hasattr(model, "coefs_") else model.coefs  # estimator or PursuitFit
    weights = coefs[0][: 2 * modulus].T
    norms = np.linalg.norm(weights, axis=1)
    strong = weights[norms >= min_norm * norms.max()]
    shares = []
    for row in strong:
        for block in (row[:modulus], row[modulus:]):
            power = np.abs(np.fft.fft(block))[1:] ** 2  # frequencies 1 .. modulus - 1
            top = np.argmax(power[: modulus // 2])
            shares.append((power[top] + power[modulus - 2 - top]) / power.sum())
    return float(np.median(shares)), len(strong)


def load_model(models, task):
    """NP's pickled seed-0 model of ``task`` from the folder ``models``, or None."""
    path = Path(models) / f"{task}.pkl"
    if not path.exists():
        return None
    with open(path, "rb") as handle:
        return pickle.load(handle)


def results_table(rows, models=None):
    """Markdown: the sparse-function table and the algorithmic-task table."""
    points = by_point(rows)
    methods = [m for m in METHODS if any(key[1] == m for key in points)]
    machines = sorted({r["machine"] for r in rows})
    lines = sparse_table(points, methods)
    if any(key[0] in PASS_CRITERIA for key in points):
        lines += [""] + algorithmic_table(points, methods)
        model = load_model(models, "modadd-59") if models else None
        if model is not None:
            share, count = dominant_frequency_share(model)
            lines.append(
                f"modadd-59, NP seed 0: in the {count} first-layer neurons with at least 0.1 "
                "of the largest weight norm, the strongest frequency (with its mirror) holds a "
                f"median {share:.2f} of a row block's non-constant DFT energy (figure below)."
            )
    if "np" in methods and "mlp" in methods:
        lines += ["", "Fit time of NP and sklearn's MLP:", ""] + speed_table(points)
    lines += ["", f"Machine: {', '.join(machines)}."]
    return "\n".join(lines)


PAPER_TABLE_START = (
    "<!-- paper-table:start (python -m benchmarks report --paper "
    "--results benchmarks/results/paper-protocol/full) -->"
)
PAPER_TABLE_END = "<!-- paper-table:end -->"


def _mean_sd_median(values):
    values = np.asarray(values, float)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.3g} ± {sd:.2g} ({np.median(values):.3g})"


def paper_table(rows):
    """Markdown: per task and n, the paper's protocol (``np-paper``) as the paper reports
    it, means ± standard deviations over the seeds, medians in brackets."""
    points = by_point([r for r in rows if r["method"] == "np-paper"])
    header = [
        "task", "n", "seeds", "train error", "test error", "criterion met", "iterations",
        "neurons", "stops", "s (median)", "commit",
    ]  # fmt: skip
    lines = []
    for task in TASKS:
        for n, found in sorted(points.get((task, "np-paper"), {}).items()):
            label, passes = PASS_CRITERIA.get(task, ("", lambda error: error < 1e-3))
            stops = defaultdict(int)
            for row in found:
                stops[row["detail"].split()[0].removeprefix("stop=")] += 1
            lines.append(
                [
                    task,
                    str(n),
                    str(len(found)),
                    _mean_sd_median([r["train_error"] for r in found]),
                    _mean_sd_median([r["test_error"] for r in found]),
                    f"{sum(passes(r['train_error']) for r in found)} of {len(found)}",
                    f"{_median(found, 'np_iterations'):.0f}",
                    f"{_median(found, 'neurons'):.0f}",
                    ", ".join(f"{k} {v}" for k, v in sorted(stops.items())),
                    f"{_median(found, 'fit_seconds'):.0f}",
                    ", ".join(sorted({r["commit"] for r in found})),
                ]
            )
    machines = sorted({r["machine"] for r in rows if r["method"] == "np-paper"})
    note = (
        "Errors: mean ± standard deviation over the seeds (median); relative errors, "
        "classification error for modadd-59. criterion met: training error below 1e-3 "
        "(the sparse tasks), 0 (modadd-59), below 0.005 (pvr). "
        f"Machine: {', '.join(machines)}."
    )
    return "\n".join(_markdown(header, lines) + ["", note])


def update_readme(path, table, start=TABLE_START, end=TABLE_END):
    """Replace the text between the markers ``start`` and ``end`` of ``path`` with ``table``."""
    pattern = check_readme(path, start, end)
    block = f"{start}\n{table}\n{end}"
    Path(path).write_text(pattern.sub(lambda _: block, Path(path).read_text()))


def check_readme(path, start=TABLE_START, end=TABLE_END):
    """The pattern of ``path``'s block between ``start`` and ``end``; a clear error where
    the file or the block is missing (called before a run, not only after it)."""
    if not Path(path).is_file():
        raise SystemExit(f"--readme: {path} is not a file")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(Path(path).read_text()):
        raise SystemExit(f"--readme: {path} has no {start!r} ... {end!r} block")
    return pattern


def _spread_plot(ax, per_n, key, label, **style):
    sizes = sorted(per_n)
    # Seeds may differ between sizes while a run is incomplete: one percentile per size.
    q25, median, q75 = (
        np.array([np.percentile([r[key] for r in per_n[n]], [25, 50, 75]) for n in sizes])
        .reshape(-1, 3)
        .T
    )
    (line,) = ax.plot(sizes, median, **{"marker": "o", **style}, label=label)
    ax.fill_between(sizes, q25, q75, color=line.get_color(), alpha=0.2)


def save_figures(rows, models, out):
    """Error and iterations against n per task, and the figures of the saved NP models."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from skneuronpursuit.plotting import (
        dominant_frequency_order,
        plot_first_layer_dft,
        plot_growth,
        plot_weights,
    )

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
        for ax in axes.flat[len(sparse) :]:
            ax.set_visible(False)
        axes.flat[0].legend()
        fig.suptitle("Test error against training size: median and 25-75% band")
        fig.tight_layout()
        fig.savefig(out / "error_vs_n.png", dpi=100)

        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        # Tasks can share a curve (all at max_iter): each its own marker and dashes, the
        # later ones drawn smaller on top, so that none is hidden.
        for index, task in enumerate(sparse):
            if (task, "np") in points:
                style = dict(
                    marker="os^Dv<"[index % 6], ms=9 - index, ls=["-", "--", ":", "-."][index % 4]
                )
                _spread_plot(ax, points[task, "np"], "np_iterations", task, **style)
        ax.set(xscale="log", xlabel="n", ylabel="NP iterations", title="Iterations NP needed")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
        fig.savefig(out / "np_iterations.png", dpi=100)

    def model(task):
        return load_model(models, task)

    if (m := model("modadd-59")) is not None:
        order = dominant_frequency_order(m, 59)
        # [onehot(a), onehot(b)], not the constant feature
        ax = plot_first_layer_dft(m, n_blocks=2, n_features=118, neuron_order=order)
        ax.set_ylabel("first-layer neuron (sorted by frequency)")
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


def compare_table(before, after, worse_by=1.05, methods=None):
    """Markdown table of the fits in both row lists: test error and fit time, medians.

    A seed counts as worse when its test error grew by more than ``worse_by`` times.
    ``methods``, a pair ``(old, new)``, compares method ``old``'s fits in ``before``
    with method ``new``'s in ``after`` (the same task, n and seed); by default every
    method is compared with itself.
    """
    label = None  # each method's name; with ``methods``, the pair in every row
    if methods is not None:
        old_method, new_method = methods
        before = [dict(r, method=new_method) for r in before if r["method"] == old_method]
        after = [r for r in after if r["method"] == new_method]
        label = " -> ".join(METHOD_NAMES.get(method, method) for method in methods)
    old = {(r["task"], r["method"], r["n"], r["seed"]): r for r in before}
    pairs = defaultdict(list)
    for row in after:
        key = (row["task"], row["method"], row["n"], row["seed"])
        if key in old:
            pairs[key[:3]].append((old[key], row))
    table = []
    for (task, method, n), matched in sorted(pairs.items()):
        olds, news = [o for o, _ in matched], [a for _, a in matched]
        worse = sum(a["test_error"] > o["test_error"] * worse_by for o, a in matched)
        table.append(
            [task, label or METHOD_NAMES.get(method, method), str(n), str(len(matched))]
            + [f"{_median(rows, 'test_error'):.3g}" for rows in (olds, news)]
            + [str(worse)]
            + [f"{_median(rows, 'fit_seconds'):.1f}" for rows in (olds, news)]
        )
    if not table:
        raise NoRows("no fit (task, method, n, seed) is in both folders")
    header = ["task", "method", "n", "seeds", "test error before", "after", "seeds worse"]
    return "\n".join(_markdown(header + ["fit s before", "after"], table))
