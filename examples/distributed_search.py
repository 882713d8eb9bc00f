"""A hyperparameter search on a local dask.distributed cluster, through joblib.

GridSearchCV parallelises with joblib; joblib's "dask" backend sends the fits to a
dask cluster: here a local one, the same code runs on a remote scheduler given its
address. Each worker process runs one torch thread, so fits do not fight over cores.
(Without dask, ``GridSearchCV(..., n_jobs=-1)`` uses local processes, which joblib
already limits to their share of the cores.)

Run:  pip install "dask[distributed]" && python examples/distributed_search.py
"""

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV


def search(n_workers=2):
    """Run a small grid search on a local dask cluster and return it."""
    from dask.distributed import Client, LocalCluster

    from skneuronpursuit import NeuronPursuitRegressor

    rng = np.random.RandomState(0)
    X = rng.choice([-1.0, 1.0], size=(300, 8))
    y = np.maximum(np.maximum(X[:, 0] + X[:, 1], 0) - np.maximum(X[:, 1] - X[:, 2], 0), 0)
    grid = GridSearchCV(
        NeuronPursuitRegressor(fit_intercept=False, max_iter=6, random_state=0),
        {"depth": [2, 3], "delta": [0.1, 0.25]},
        cv=3,
    )
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        grid.fit(X, y)
    return grid


if __name__ == "__main__":
    result = search()
    print("best parameters:", result.best_params_)
    print(f"best cross-validated R^2: {result.best_score_:.4f}")
