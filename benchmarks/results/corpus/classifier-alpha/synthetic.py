"""The classifier's alpha on five synthetic tasks and modular addition (synthetic.txt).

Run from the repository root: ``python benchmarks/results/corpus/classifier-alpha/synthetic.py
[alpha ...]`` (default 0.01 0.003 0.001); one torch thread.
"""

import itertools
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import (
    make_circles,
    make_classification,
    make_gaussian_quantiles,
    make_moons,
)
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuronpursuit import NeuronPursuitClassifier


def tasks(seed):
    """``(name, X, y)`` of each synthetic task."""
    rng = np.random.RandomState(seed)
    yield "moons", *make_moons(300, noise=0.2, random_state=seed)
    yield "circles", *make_circles(300, noise=0.1, factor=0.5, random_state=seed)
    yield (
        "quantiles3",
        *make_gaussian_quantiles(n_samples=300, n_features=2, n_classes=3, random_state=seed),
    )
    Z = rng.normal(size=(400, 2))
    yield "xor", Z, ((Z[:, 0] * Z[:, 1] > 0) ^ (rng.uniform(size=400) < 0.05)).astype(int)
    yield "classif10", *make_classification(500, 10, n_informative=5, random_state=seed)


def cross_validated(estimator, X, y, seed):
    """Mean accuracy over 3 stratified folds, and the seconds it took."""
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    started = time.time()
    score = cross_val_score(make_pipeline(StandardScaler(), estimator), X, y, cv=folds)
    return score.mean(), time.time() - started


def modular_addition(p=23):
    """One-hot pairs ``(a, b)`` and ``(a + b) mod p``."""
    pairs = np.array(list(itertools.product(range(p), range(p))))
    X = np.zeros((len(pairs), 2 * p))
    X[np.arange(len(pairs)), pairs[:, 0]] = 1
    X[np.arange(len(pairs)), p + pairs[:, 1]] = 1
    return X, pairs.sum(1) % p


def main(alphas):
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    results = {}
    for seed in range(3):
        for name, X, y in tasks(seed):
            for alpha in alphas:
                model = NeuronPursuitClassifier(alpha=alpha, random_state=seed)
                results.setdefault((name, alpha), []).append(cross_validated(model, X, y, seed))
            mlp = MLPClassifier(early_stopping=True, random_state=seed)
            results.setdefault((name, "mlp"), []).append(cross_validated(mlp, X, y, seed))
    for key, runs in results.items():
        accuracy = np.mean([score for score, _ in runs])
        seconds = np.sum([spent for _, spent in runs])
        print(key, f"mean acc {accuracy:.3f}", f"secs {seconds:.1f}")
    X, y = modular_addition()
    for alpha in alphas:
        accuracies = []
        for seed in range(3):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, train_size=0.5, random_state=seed
            )
            model = NeuronPursuitClassifier(
                depth=2,
                activation_power=2,
                negative_slope=-1.0,
                loss="squared_error",
                alpha=alpha,
                random_state=seed,
            ).fit(X_train, y_train)
            accuracies.append(round(model.score(X_test, y_test), 3))
        print("modadd23 README call alpha", alpha, accuracies)


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [0.01, 0.003, 0.001])
