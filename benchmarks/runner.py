"""Run tasks x methods x sizes x seeds, one CSV row per fit, resumable."""

import csv
import os
import pickle
import platform

import numpy as np
import torch

from .methods import METHODS
from .tasks import TASKS

COLUMNS = [
    "task",
    "method",
    "mode",
    "n",
    "seed",
    "train_error",
    "test_error",
    "fit_seconds",
    "neurons",
    "np_iterations",
    "descent_violations",
    "detail",
    "machine",
    "commit",
]


def commit():
    """The package's git commit, so a row says which engine produced it."""
    import subprocess

    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
    except OSError:
        return ""


def machine_name():
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


def error(task, prediction, truth):
    """Relative squared error (docs/benchmarks.md), or the classification error."""
    if task.kind == "classification":
        return float(np.mean(prediction != truth))
    return float(np.sum((prediction - truth) ** 2) / np.sum(truth**2))


def done_keys(path):
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as handle:
        return {
            (r["task"], r["method"], r["mode"], r["n"], r["seed"]) for r in csv.DictReader(handle)
        }


def chosen_sizes(task, quick, sizes):
    """The training set sizes of ``task`` to run: those of ``sizes`` among its sizes
    (quick or full), or every one; all of a task of one fixed size (modadd-59, pvr)."""
    task_sizes = task.quick_sizes if quick else task.sizes
    return [n for n in task_sizes if not sizes or len(task.sizes) == 1 or n in sizes]


def run(
    task_names, method_names, seeds, quick, path, models=None, log=print, sizes=None,
    paper_max_iter=None,
):  # fmt: skip
    """Fit every combination not yet in ``path`` and append its row; returns the new rows.

    ``sizes``, when given, restricts the training set sizes to those listed
    (tasks with one fixed size, like modadd-59 and pvr, are run in any case).
    ``paper_max_iter``, when given, caps the iterations of ``np-paper``.

    With ``models`` a folder, NP's seed-0 model at each task's largest size is
    pickled there as ``<task>.pkl``, for the figures of its weights and growth.
    """
    mode = "quick" if quick else "full"
    done = done_keys(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # An empty file is new too: a run killed before its first row leaves one behind.
    new_file = not os.path.exists(path) or os.path.getsize(path) == 0
    # The engine this process imported: the commit now, not when a row is written.
    engine = commit()
    rows = []
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new_file:
            writer.writeheader()
            handle.flush()
        for name in task_names:
            task = TASKS[name]
            largest = (task.quick_sizes if quick else task.sizes)[-1]  # its model is kept
            chosen = chosen_sizes(task, quick, sizes)
            if not chosen:
                log(f"{name}: no size of {list(sizes)} is among its sizes (quick: {quick})")
            for n in chosen:
                for seed in range(seeds):
                    X, y, X_test, y_test = task.sample(n, np.random.RandomState(seed))
                    for method in method_names:
                        key = (name, method, mode, str(n if n is not None else len(X)), str(seed))
                        if key in done:
                            continue
                        extra = {}
                        if method == "np-paper" and paper_max_iter is not None:
                            extra["max_iter"] = paper_max_iter
                        candidates = METHODS[method](task, X, y, seed, quick, **extra)
                        scored = []
                        for predict, info in candidates:
                            prediction = predict(X_test)
                            test_error = error(task, prediction, y_test)
                            scored.append((test_error, error(task, predict(X), y), info))
                            if task.sign_target:
                                accuracy = np.mean(np.sign(prediction) == y_test)
                                info["detail"] += f" test_sign_accuracy={accuracy:.4f}"
                        test_error, train_error, info = min(scored, key=lambda s: s[0])
                        seconds = info["seconds"]
                        row = dict(
                            task=name,
                            method=method,
                            mode=mode,
                            n=len(X),
                            seed=seed,
                            train_error=train_error,
                            test_error=test_error,
                            fit_seconds=round(seconds, 3),
                            neurons=info.get("neurons"),
                            np_iterations=info.get("np_iterations", ""),
                            descent_violations=info.get("descent_violations", ""),
                            detail=info.get("detail", ""),
                            machine=machine_name(),
                            commit=engine,
                        )
                        writer.writerow(row)
                        handle.flush()  # a row is never lost to a later crash
                        if models and "model" in info and seed == 0 and n == largest:
                            os.makedirs(models, exist_ok=True)
                            stem = name if method == "np" else f"{name}-{method}"
                            with open(os.path.join(models, f"{stem}.pkl"), "wb") as out:
                                pickle.dump(info["model"], out)
                        rows.append(row)
                        log(
                            f"{name:>10} {method:>4} n={len(X):>5} seed={seed} "
                            f"train {train_error:.2e} test {test_error:.2e} {seconds:6.1f}s "
                            f"{info.get('detail', '')}"
                        )
    return rows
