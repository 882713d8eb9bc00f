"""Early stopping's patience, replayed on recorded growth paths (docs/decisions.md, "The
regressor's patience").

A rule that only stops a growth sooner cannot change the path before its stop, so one
growth per fold with a long fixed patience (10) shows what any shorter rule would have
kept: ``record`` writes, for NP's default regressor on every fold, each iteration's
validation score, the kept iteration, the kept network's test R^2 and the iteration's
seconds; ``replay`` stops each path where a rule says and reports the score and the
share of the fit's time it keeps, per dataset.

    python -m benchmarks.patience record --datasets corpus --out paths-corpus.csv
    python -m benchmarks.patience record --datasets unseen --out paths-unseen.csv
    python -m benchmarks.patience replay paths-corpus.csv

``--datasets``: ``corpus`` (the corpus's regressions), ``small`` (its small
regressions), ``unseen``: 13 public regressions that neither had, chosen before any
was run, with the response their documentation names, or ``unseen-2``: 12 more, chosen
likewise after the first 13 had been run (``corpus.OUTSIDE_REGRESSIONS``).
"""

import argparse
import csv
import math
import time
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.model_selection import KFold

from skneuronpursuit import NeuronPursuitRegressor
from skneuronpursuit._estimators import tracking

from . import corpus
from .threads import add_threads_option, apply_threads

# 13 public regressions outside both corpora, chosen before any was run, and 12 more,
# chosen likewise after the rule was (docs/decisions.md, "The regressor's patience").
UNSEEN = list(corpus.OUTSIDE_REGRESSIONS)[:13]
UNSEEN_2 = list(corpus.OUTSIDE_REGRESSIONS)[13:]
TOL = NeuronPursuitRegressor().tol  # a score restarts the patience above best + TOL

# name -> patience as a function of the iteration where the patience last restarted
RULES = {
    "fixed 10": lambda best: 10,
    "fixed 5": lambda best: 5,
    "auto: 2 x best in [3, 10]": lambda best: tracking.patience("auto", best),
    "best + 2, at most 10": lambda best: min(10, best + 2),
    "best in [2, 10]": lambda best: min(10, max(2, best)),
    "3 x best in [3, 10]": lambda best: min(10, max(3, 3 * best)),
}


def _datasets(which):
    if which in ("unseen", "unseen-2"):
        names = UNSEEN if which == "unseen" else UNSEEN_2
        return {name: corpus.OUTSIDE_REGRESSIONS[name] for name in names}
    return corpus.SMALL_REGRESSIONS if which == "small" else corpus.DATASETS


@contextmanager
def _recorded(test):
    """Record, after each early-stopping step, the kept network's R^2 on ``test``, a pair
    ``(X, y)`` of held-out rows."""
    rows, call = [], tracking.EarlyStopping.__call__

    def recording(self, weights, record):
        stop = call(self, weights, record)
        X, y = test
        problem = self.problem
        output = problem.scaled_output(self.kept_weights, problem.inputs(X))
        Y = problem.scaled_targets(y.reshape(-1, 1))
        r2 = 1 - float(((Y - output) ** 2).sum()) / float(((Y - Y.mean()) ** 2).sum())
        rows.append(
            dict(
                iteration=record.iteration,
                validation_score=self.scores[record.iteration],
                kept_iteration=self.kept_iteration,
                test_score=r2,
                seconds=record.seconds,
            )
        )
        return stop

    tracking.EarlyStopping.__call__ = recording
    try:
        yield rows
    finally:
        tracking.EarlyStopping.__call__ = call


def record(which, seed=0):
    """Every fold's growth path of NP's default regressor with a patience of 10."""
    out = []
    for name, dataset in _datasets(which).items():
        X, y, kind, categorical = dataset.load()
        if kind != corpus.REG:
            continue
        y = np.asarray(y, dtype=float)
        for repeat in range(3 if len(y) < corpus.SMALL else 1):
            splitter = KFold(n_splits=5, shuffle=True, random_state=seed + repeat)
            for fold, (train, test) in enumerate(splitter.split(X, y)):
                rows_of = X.iloc if hasattr(X, "iloc") else X
                prepare = corpus.preprocessing(X, categorical)
                X_train = prepare.fit_transform(rows_of[train])
                X_test = prepare.transform(rows_of[test])
                estimator = NeuronPursuitRegressor(random_state=seed + repeat, n_iter_no_change=10)
                with warnings.catch_warnings(), _recorded((X_test, y[test])) as rows:
                    warnings.simplefilter("ignore")
                    started = time.perf_counter()
                    estimator.fit(X_train, y[train])
                    seconds = time.perf_counter() - started
                for row in rows:
                    out.append(
                        dict(dataset=name, repeat=repeat, fold=fold, **row, fit_seconds=seconds)
                    )
        print(name, flush=True)
    return out


def replay(paths, rule):
    """``{dataset: (mean test R^2, mean fit seconds)}`` of every path stopped by ``rule``.

    A path that ends before the rule stops it counts whole. The seconds are the fit's,
    times the share of its iterations' seconds up to the stop.
    """
    folds = {}
    for row in paths:
        folds.setdefault((row["dataset"], row["repeat"], row["fold"]), []).append(row)
    results = {}
    for (name, _, _), path in folds.items():
        path.sort(key=lambda row: row["iteration"])
        best = restarted = None
        for stop, row in enumerate(path):
            score = row["validation_score"]
            if best is None or score > best + TOL:
                restarted = row["iteration"]
            best = score if best is None else max(best, score)
            if row["iteration"] - restarted >= rule(restarted):
                break
        share = sum(r["seconds"] for r in path[: stop + 1]) / sum(r["seconds"] for r in path)
        kept = (path[stop]["test_score"], path[0]["fit_seconds"] * share)
        results.setdefault(name, []).append(kept)
    return {name: tuple(np.mean(found, axis=0)) for name, found in results.items()}


def _read(path):
    with open(path, newline="") as file:
        return [
            {key: value if key == "dataset" else float(value) for key, value in row.items()}
            for row in csv.DictReader(file)
        ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.patience", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="every fold's growth path")
    recording.add_argument(
        "--datasets", choices=["corpus", "small", "unseen", "unseen-2"], required=True
    )
    recording.add_argument("--out", required=True, help="CSV of the paths")
    add_threads_option(recording, default=1)
    replaying = commands.add_parser("replay", help="the rules of RULES on recorded paths")
    replaying.add_argument("paths", help="a CSV of record")
    args = parser.parse_args(argv)
    if args.command == "record":
        apply_threads(args)
        rows = record(args.datasets)
        with open(args.out, "w", newline="") as file:
            writer = csv.DictWriter(file, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    paths = _read(args.paths)
    base = replay(paths, RULES["fixed 10"])
    for name, rule in RULES.items():
        found = replay(paths, rule)
        change = {d: found[d][0] - base[d][0] for d in base}
        time_share = math.exp(np.mean([math.log(found[d][1] / base[d][1]) for d in base]))
        worst = min(change, key=change.get)
        moved = ", ".join(f"{d} {c:+.4f}" for d, c in change.items() if abs(c) >= 5e-4)
        print(
            f"{name}: fit time {time_share:.2f}x (geometric mean), score change mean "
            f"{np.mean(list(change.values())):+.4f}, worst {change[worst]:+.4f} ({worst})"
            + (f"; {moved}" if moved else "")
        )


if __name__ == "__main__":
    main()
