"""Real tabular data: NP with its defaults against the learners a user would try first.

Every method is ``Pipeline(StandardScaler(), estimator)`` with the estimator's
defaults (the MLP's ``max_iter`` raised so that it converges), scored by 5-fold
cross-validation (stratified for classification, shuffled with seed 0, which is also
every estimator's ``random_state``; ``--seed`` changes both), one torch thread. The
data are scikit-learn's bundled datasets and one made in code, so nothing is downloaded
(docs/benchmarks.md, "Real tabular data").

    python -m benchmarks realdata                       # every dataset and method
    python -m benchmarks realdata --datasets diabetes --methods np ridge
    python -m benchmarks realdata --np early_stopping=False   # NP with other settings
    python -m benchmarks realdata --readme docs/results.md    # the results table
    python -m benchmarks realdata --seed 1                    # other folds and seeds
    python -m benchmarks realdata --seed 0 1 2 3              # averaged over four splits
"""

import ast
import dataclasses
import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitClassifier, NeuronPursuitRegressor, PursuitOptions

TABLE_START = (
    "<!-- realdata-table:start (python -m benchmarks realdata --readme docs/results.md) -->"
)
TABLE_END = "<!-- realdata-table:end -->"


@dataclass(frozen=True)
class Dataset:
    name: str
    load: object  # () -> (X, y)
    classification: bool


def _friedman1():
    return make_friedman1(n_samples=500, noise=1.0, random_state=0)


def _friedman1_20k():
    # Issue 16, item 6: a fit on 10^4-10^5 rows (16,000 per training fold).
    return make_friedman1(n_samples=20_000, noise=1.0, random_state=1)


DATASETS = {
    d.name: d
    for d in (
        Dataset("diabetes", lambda: load_diabetes(return_X_y=True), False),
        Dataset("friedman1", _friedman1, False),
        Dataset("friedman1_20k", _friedman1_20k, False),
        Dataset("breast_cancer", lambda: load_breast_cancer(return_X_y=True), True),
        Dataset("wine", lambda: load_wine(return_X_y=True), True),
        Dataset("iris", lambda: load_iris(return_X_y=True), True),
        Dataset("digits", lambda: load_digits(return_X_y=True), True),
    )
}


def _neuron_pursuit(**fixed):
    """NP's (regressor, classifier) with ``fixed`` settings under the ``--np`` ones."""
    return tuple(
        lambda np_params, seed, Estimator=Estimator: Estimator(
            random_state=seed, **estimator_params({**fixed, **np_params})
        )
        for Estimator in (NeuronPursuitRegressor, NeuronPursuitClassifier)
    )


# name -> (regressor, classifier), each a function of the NP settings and the seed.
# "np-gd" and "np-lm" fix NP's inner solver (docs/inner-descent.md); "np" has the default.
METHODS = {
    "np": _neuron_pursuit(),
    "np-gd": _neuron_pursuit(solver="gd"),
    "np-lm": _neuron_pursuit(solver="lm"),
    "linear": (
        lambda np_params, seed: Ridge(),
        lambda np_params, seed: LogisticRegression(max_iter=5000),
    ),
    "mlp": (
        lambda np_params, seed: MLPRegressor(max_iter=2000, random_state=seed),
        lambda np_params, seed: MLPClassifier(max_iter=2000, random_state=seed),
    ),
    "histgb": (
        lambda np_params, seed: HistGradientBoostingRegressor(random_state=seed),
        lambda np_params, seed: HistGradientBoostingClassifier(random_state=seed),
    ),
}


def estimator_params(params):
    """``params`` with the fields of :class:`PursuitOptions` gathered into ``options``."""
    names = {field.name for field in dataclasses.fields(PursuitOptions)}
    options = {name: params[name] for name in params if name in names}
    params = {name: value for name, value in params.items() if name not in names}
    if options:
        params["options"] = dataclasses.replace(
            params.get("options") or PursuitOptions(), **options
        )
    return params


def parse_settings(pairs):
    """``["early_stopping=False", "solver='gd'"]`` -> estimator parameters.

    Research knobs (the fields of :class:`PursuitOptions`) go into ``options``.
    """
    settings = {}
    known = {
        *NeuronPursuitRegressor().get_params(),
        *NeuronPursuitClassifier().get_params(),
        *(field.name for field in dataclasses.fields(PursuitOptions)),
    }
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if name not in known:  # refused before any fit runs
            raise SystemExit(f"--np: unknown setting {name!r}; known: {', '.join(sorted(known))}")
        try:
            settings[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            settings[name] = value  # a bare string such as auto
    return estimator_params(settings)


def evaluate(dataset, method, np_params=None, n_splits=5, seed=0):
    """Per-fold rows: dataset, method, fold, score, fit seconds and, for NP, neurons."""
    X, y = dataset.load()
    make = METHODS[method][1 if dataset.classification else 0]
    splitter = (StratifiedKFold if dataset.classification else KFold)(
        n_splits=n_splits, shuffle=True, random_state=seed
    )
    pipeline = make_pipeline(StandardScaler(), make(np_params or {}, seed))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        started = time.perf_counter()
        scores = cross_validate(pipeline, X, y, cv=splitter, return_estimator=True)
        seconds = time.perf_counter() - started
    n_convergence_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    rows = []
    for fold, (score, fit_time, fitted) in enumerate(
        zip(scores["test_score"], scores["fit_time"], scores["estimator"])
    ):
        estimator = fitted[-1]
        rows.append(
            {
                "dataset": dataset.name,
                "method": method,
                "seed": seed,
                "fold": fold,
                "score": float(score),
                "fit_seconds": float(fit_time),
                "neurons": sum(getattr(estimator, "hidden_layer_sizes_", ())) or None,
                "stop_reason": getattr(estimator, "stop_reason_", None),
            }
        )
    rows[0]["convergence_warnings"] = n_convergence_warnings
    rows[0]["total_seconds"] = seconds
    return rows


def summary_table(rows, methods):
    """Markdown: mean score ± std and median fit seconds, per method.

    With one seed the std is over the folds; with several it is over the seeds' mean
    scores, the spread a difference between settings has to beat.
    """
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    header = "| data | metric | " + " | ".join(methods) + " |"
    lines = [header, "|" + "---|" * (len(methods) + 2)]
    for name in datasets:
        metric = "accuracy" if DATASETS[name].classification else "R^2"
        cells = []
        for method in methods:
            mine = [r for r in rows if r["dataset"] == name and r["method"] == method]
            if not mine:
                cells.append("")
                continue
            scores = np.array([r["score"] for r in mine])
            seeds = sorted({r.get("seed", 0) for r in mine})
            if len(seeds) > 1:
                scores = np.array(
                    [np.mean([r["score"] for r in mine if r["seed"] == s]) for s in seeds]
                )
            seconds = np.median([r["fit_seconds"] for r in mine])
            cells.append(f"{scores.mean():.3f} ± {scores.std():.3f} ({seconds:.2f} s)")
        lines.append(f"| {name} | {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
