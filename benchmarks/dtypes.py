"""float32 against float64 on scikit-learn's own classification data.

    python -m benchmarks.dtypes [--seeds 3] [--threads 1]

The package's default dtype is float32; this checks what that costs in accuracy and
gains in time on data users start with. For iris, wine, breast cancer and digits and
each seed: a stratified 70/30 split (``random_state=seed``), ``StandardScaler`` and a
``NeuronPursuitClassifier`` with the package defaults (``random_state=seed``), fitted
once per dtype. Prints medians over the seeds of train and test accuracy, neurons and
fit seconds, and how the fits stopped.
"""

import argparse
import time
import warnings
from collections import Counter

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitClassifier

from .realdata import estimator_params
from .threads import add_threads_option, apply_threads

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}
DTYPES = ("float32", "float64")
NUMBERS = ("train", "test", "neurons", "seconds")


def fit_once(name, dtype, seed, **params):
    """One split and fit; returns the row's raw values."""
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    params = estimator_params(params)
    model = make_pipeline(
        StandardScaler(),
        NeuronPursuitClassifier(dtype=dtype, random_state=seed, **params),
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    classifier = model[-1]
    return dict(
        train=model.score(X_train, y_train),
        test=model.score(X_test, y_test),
        neurons=sum(classifier.hidden_layer_sizes_),
        seconds=seconds,
        stop=classifier.stop_reason_,
    )


def compare(datasets=tuple(DATASETS), seeds=3, **params):
    """One summary row per dataset and dtype (medians over the seeds)."""
    rows = []
    for name in datasets:
        for dtype in DTYPES:
            fits = [fit_once(name, dtype, seed, **params) for seed in range(seeds)]
            medians = {key: float(np.median([f[key] for f in fits])) for key in NUMBERS}
            stops = dict(Counter(f["stop"] for f in fits))
            rows.append(dict(dataset=name, dtype=dtype, stops=stops, **medians))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dtypes", description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    add_threads_option(parser)
    args = parser.parse_args(argv)
    threads = apply_threads(args)
    print(f"torch threads {threads}, medians of {args.seeds} seeds")
    print("| data | dtype | train accuracy | test accuracy | neurons | fit s | stops |")
    print("|---|---|---|---|---|---|---|")
    for row in compare(seeds=args.seeds):
        stops = ", ".join(f"{reason} {count}" for reason, count in sorted(row["stops"].items()))
        print(
            f"| {row['dataset']} | {row['dtype']} | {row['train']:.3f} | {row['test']:.3f} "
            f"| {row['neurons']:.0f} | {row['seconds']:.1f} | {stops} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
