"""The inner solvers on many rows: ``solver="gd"``, ``"lm"`` and ``"auto"``.

    python -m benchmarks.solvers [--threads 1]

``make_pipeline(StandardScaler(), NeuronPursuitRegressor(solver=..., early_stopping=True,
negative_slope=0.1, random_state=0))`` on 10,000 rows of ``make_friedman1(noise=1)``,
scored on 2,000 more, the three solvers in turn, twice. Prints a markdown table
(docs/levenberg-marquardt.md, "Measurements"). Cross-validation on scikit-learn's
datasets is ``python -m benchmarks realdata --methods np np-gd np-lm``.
"""

import argparse
import time
import warnings

from sklearn.datasets import (
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitRegressor, PursuitOptions

from .threads import add_threads_option, apply_threads

SOLVERS = ("gd", "lm", "auto")


def _pipeline(Estimator, solver):
    return make_pipeline(
        StandardScaler(),
        Estimator(
            options=PursuitOptions(solver=solver),
            early_stopping=True,
            negative_slope=0.1,
            random_state=0,
        ),
    )


def _timed_fit(model, X, y):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - started


def many_rows(rounds=2):
    X, y = make_friedman1(n_samples=12_000, noise=1.0, random_state=0)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, train_size=10_000, random_state=0)
    print("| solver | fit s | test R^2 | train R^2 | hidden widths | iterations | stop | steps |")
    print("|---|---|---|---|---|---|---|---|")
    for _ in range(rounds):
        for solver in SOLVERS:
            model = _pipeline(NeuronPursuitRegressor, solver)
            seconds = _timed_fit(model, X_fit, y_fit)
            fitted = model[-1]
            gd_steps = sum(record["gd_steps"] for record in fitted.history_)
            lm_steps = sum(record.get("lm_steps", 0) for record in fitted.history_)
            steps = f"{gd_steps} GD + {lm_steps} LM"
            print(
                f"| {solver} | {seconds:.1f} | {model.score(X_test, y_test):.4f} | "
                f"{model.score(X_fit, y_fit):.4f} | {fitted.hidden_layer_sizes_} | "
                f"{fitted.n_iter_} | {fitted.stop_reason_} | {steps} |",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.solvers", description=__doc__)
    add_threads_option(parser)
    args = parser.parse_args(argv)
    apply_threads(args)
    many_rows()


if __name__ == "__main__":
    main()
