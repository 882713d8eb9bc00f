"""The inner solvers on data as a user would fit it: ``solver="gd"`` against ``"lm"``.

    python -m benchmarks.solvers [--part real|rows|both] [--threads 1]

``real``: 5-fold cross-validation (shuffled, ``random_state=0``; stratified for the
classifiers) of ``make_pipeline(StandardScaler(), Estimator(solver=..., early_stopping=True,
negative_slope=0.1, random_state=0))`` on diabetes (R^2), breast cancer, wine and iris
(accuracy); both solvers on the same fold back to back. ``rows``: the same regressor on
10,000 rows of ``make_friedman1(noise=1)`` scored on 2,000 more, ``gd``, ``lm`` and ``lm``
forced onto its conjugate-gradient path, alternately, twice. Prints markdown tables
(docs/levenberg-marquardt.md, "Measurements").
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skneuronpursuit._levenberg_marquardt as lm_module
from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor

from .threads import add_threads_option, apply_threads

SOLVERS = ("gd", "lm")
DATASETS = {
    "diabetes": (load_diabetes, NeuronPursuitRegressor, KFold),
    "breast_cancer": (load_breast_cancer, NeuronPursuitClassifier, StratifiedKFold),
    "wine": (load_wine, NeuronPursuitClassifier, StratifiedKFold),
    "iris": (load_iris, NeuronPursuitClassifier, StratifiedKFold),
}


def _pipeline(Estimator, solver):
    return make_pipeline(
        StandardScaler(),
        Estimator(solver=solver, early_stopping=True, negative_slope=0.1, random_state=0),
    )


def _timed_fit(model, X, y):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - started


def real_data():
    print("| data | solver | mean score | scores | median fit s | mean neurons |")
    print("|---|---|---|---|---|---|")
    for name, (load, Estimator, Folds) in DATASETS.items():
        X, y = load(return_X_y=True)
        results = {solver: ([], [], []) for solver in SOLVERS}
        for train, test in Folds(5, shuffle=True, random_state=0).split(X, y):
            for solver in SOLVERS:  # paired: the same fold, back to back
                model = _pipeline(Estimator, solver)
                seconds = _timed_fit(model, X[train], y[train])
                scores, times, neurons = results[solver]
                scores.append(model.score(X[test], y[test]))
                times.append(seconds)
                neurons.append(sum(model[-1].hidden_layer_sizes_))
        for solver, (scores, times, neurons) in results.items():
            listed = " ".join(f"{s:.3f}" for s in scores)
            print(
                f"| {name} | {solver} | {np.mean(scores):.4f} | {listed} | "
                f"{np.median(times):.2f} | {np.mean(neurons):.1f} |",
                flush=True,
            )


def many_rows(rounds=2):
    X, y = make_friedman1(n_samples=12_000, noise=1.0, random_state=0)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, train_size=10_000, random_state=0)
    print("| solver | fit s | test R^2 | train R^2 | hidden widths | iterations | stop | steps |")
    print("|---|---|---|---|---|---|---|---|")
    default_limit = lm_module.MAX_EXPLICIT
    try:
        for _ in range(rounds):
            for variant in ("gd", "lm", "lm-cg"):
                lm_module.MAX_EXPLICIT = 0 if variant == "lm-cg" else default_limit
                model = _pipeline(NeuronPursuitRegressor, variant[:2])
                seconds = _timed_fit(model, X_fit, y_fit)
                fitted = model[-1]
                steps = sum(record["gd_steps"] for record in fitted.history_)
                print(
                    f"| {variant} | {seconds:.1f} | {model.score(X_test, y_test):.4f} | "
                    f"{model.score(X_fit, y_fit):.4f} | {fitted.hidden_layer_sizes_} | "
                    f"{fitted.n_iter_} | {fitted.stop_reason_} | {steps} |",
                    flush=True,
                )
    finally:
        lm_module.MAX_EXPLICIT = default_limit


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.solvers", description=__doc__)
    parser.add_argument("--part", choices=("real", "rows", "both"), default="both")
    add_threads_option(parser)
    args = parser.parse_args(argv)
    apply_threads(args)
    if args.part in ("real", "both"):
        real_data()
    if args.part in ("rows", "both"):
        many_rows()


if __name__ == "__main__":
    main()
