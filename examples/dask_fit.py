"""One fit across the workers of a Dask cluster: DaskNeuronPursuitRegressor.

The rows stay on the workers that hold them: each worker runs one process of a
``torch.distributed`` group over its own partitions, every sum over samples is
all-reduced, and every process grows the same network (docs/big-data.md). Here the
cluster is a local one with two worker processes; given a scheduler's address,
``Client("tcp://scheduler:8786")``, the same code runs on a remote cluster.

On one machine, as here, a single process is the faster fit (the local cluster's fit
pays for its processes and its all-reduces): the Dask estimator is for rows that live on,
or do not fit in, more than one machine (docs/big-data.md, "When to use it").

For comparison the same rows are also fitted in one process. The two fits are not
identical: a data-parallel fit sorts the rows of each partition where one process sorts
all of them, so the searches' random subsets are other rows (docs/big-data.md, "What
equals a fit in one process").

Run:  pip install "dask[distributed]" && python examples/dask_fit.py
"""

import time

import numpy as np
from sklearn.datasets import make_friedman1


def fit_on_cluster(n_rows=40_000, n_partitions=8, n_workers=2):
    """Fit noisy friedman1 on a local cluster and in one process; return both and the
    held-out R^2 of each."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    from skneuronpursuit import NeuronPursuitRegressor
    from skneuronpursuit.dask import DaskNeuronPursuitRegressor

    X, y = make_friedman1(n_rows + 5_000, noise=1.0, random_state=0)
    X = (X - 0.5) / np.sqrt(1 / 12)  # friedman1's inputs are uniform on [0, 1]: standardise
    X_train, y_train, X_test, y_test = X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]
    chunk = -(-n_rows // n_partitions)
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        dX = da.from_array(X_train, chunks=(chunk, X.shape[1])).persist()
        dy = da.from_array(y_train, chunks=chunk).persist()
        start = time.perf_counter()
        distributed = DaskNeuronPursuitRegressor(random_state=0, client=client).fit(dX, dy)
        distributed_seconds = time.perf_counter() - start
        dX_test = da.from_array(X_test, chunks=chunk)
        # predict maps over the partitions and returns a lazy Dask array; score adds up
        # a few sums per partition, so neither rows nor predictions reach the client.
        first_predictions = distributed.predict(dX_test)[:5].compute()
        distributed_r2 = distributed.score(dX_test, da.from_array(y_test, chunks=chunk))
    start = time.perf_counter()
    local = NeuronPursuitRegressor(random_state=0).fit(X_train, y_train)
    local_seconds = time.perf_counter() - start
    return {
        "distributed": distributed,
        "local": local,
        "first_predictions": first_predictions,
        "distributed_r2": distributed_r2,
        "local_r2": local.score(X_test, y_test),
        "distributed_seconds": distributed_seconds,
        "local_seconds": local_seconds,
    }


if __name__ == "__main__":
    result = fit_on_cluster()
    for name in ("distributed", "local"):
        model = result[name]
        print(
            f"{name:>11}: R^2 {result[name + '_r2']:.4f} on held-out rows, "
            f"widths {model.hidden_layer_sizes_}, {result[name + '_seconds']:.1f} s"
        )
    # to_local() is an ordinary NeuronPursuitRegressor: pickle it, predict on NumPy arrays.
    print("to_local():", type(result["distributed"].to_local()).__name__)
