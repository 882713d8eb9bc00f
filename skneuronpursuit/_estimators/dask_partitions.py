"""The rows of a Dask collection, where they lie, and one worker's process of a
data-parallel fit (``skneuronpursuit.dask``, docs/big-data.md)."""

import socket
from datetime import timedelta

import dask
import dask.array as da
import numpy as np
from distributed import wait

from .partitioned import fit_blocks


def _free_port():
    """A TCP port free on this machine now (the rendezvous of rank 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def _is_frame(values):
    """Whether ``values`` is a Dask DataFrame or Series (without importing dask.dataframe,
    which needs pandas and pyarrow)."""
    return hasattr(values, "map_partitions") and hasattr(values, "to_delayed")


def _numpy(values):
    """A partition (NumPy, pandas or None) as a NumPy array."""
    if values is None:
        return None
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _partition(X, y, sample_weight):
    """One partition as NumPy arrays."""
    return _numpy(X), _numpy(y), _numpy(sample_weight)


def _with_columns(part, columns, index):
    """Partition ``index`` of a Dask DataFrame, refused unless its columns are
    ``columns``, the collection's own: partitions made with ``verify_meta=False`` may
    order them otherwise, and their values would be read into the wrong inputs."""
    if list(part.columns) != columns:
        raise ValueError(
            f"partition {index} of X has the columns {list(part.columns)}, not the "
            f"DataFrame's {columns}; every partition needs the same columns in the same "
            "order (a DataFrame made with verify_meta=False is not checked by Dask)."
        )
    return part


def _n_rows(part):
    """The rows of a partition computed by :func:`_partition`."""
    return part[0].shape[0]


def on_rows(function, empty, X):
    """``function(X)``, or ``empty`` for a partition without rows (after a filter): the
    local estimators refuse empty input."""
    return empty if X.shape[0] == 0 else function(X)


def _known(rows):
    """Whether a Dask array's row chunks are known (they are NaN when computed lazily)."""
    return rows is not None and not any(np.isnan(rows))


def check_collection(X):
    """Refuse an ``X`` that is neither a Dask array nor a Dask DataFrame."""
    if not (_is_frame(X) or isinstance(X, da.Array)):
        raise TypeError(
            f"X must be a Dask array or DataFrame; got {type(X).__name__}. "
            "For data in memory use NeuronPursuitRegressor or NeuronPursuitClassifier."
        )


def _parts(X, y, sample_weight, task=_partition):
    """Delayed ``task(X, y, sample_weight)`` of every row partition, in order (by default
    the partition as NumPy arrays)."""
    check_collection(X)
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimensions.")
        X = X.rechunk({1: X.shape[1]})
        X_parts = X.to_delayed()[:, 0]
        rows = X.chunks[0]
    else:
        columns = list(X.columns) if hasattr(X, "columns") else None
        X_parts = X.to_delayed()
        if columns is not None:
            X_parts = [
                dask.delayed(_with_columns)(part, columns, index)
                for index, part in enumerate(X_parts)
            ]
        rows = None

    def split(values, name):
        if values is None:
            return [None] * len(X_parts)
        if isinstance(values, da.Array):
            if values.ndim > 1:
                values = values.rechunk({1: values.shape[1]})
            if _known(rows) and _known(values.chunks[0]):
                if sum(values.chunks[0]) != sum(rows):
                    raise ValueError(
                        f"{name} has {int(sum(values.chunks[0]))} rows and X {int(sum(rows))}."
                    )
                values = values.rechunk({0: rows})
            elif values.numblocks[0] != len(X_parts):
                # Row counts unknown (a DataFrame, or an array made from one without
                # lengths): the partitions pair by position.
                raise ValueError(
                    f"{name} must have X's {len(X_parts)} row partitions; got "
                    f"{values.numblocks[0]}, and unknown row counts cannot be matched "
                    "by rechunking (DataFrame.to_dask_array(lengths=True) knows them)."
                )
            parts = values.to_delayed()
            return list(parts[:, 0] if values.ndim > 1 else parts)
        if _is_frame(values):
            if values.npartitions != len(X_parts):
                raise ValueError(
                    f"{name} must have X's {len(X_parts)} partitions; got {values.npartitions}."
                )
            return list(values.to_delayed())
        raise TypeError(f"{name} must be a Dask array, Series or DataFrame like X.")

    y_parts = split(y, "y")
    w_parts = split(sample_weight, "sample_weight")
    return [
        dask.delayed(task)(x_part, y_part, w_part)
        for x_part, y_part, w_part in zip(X_parts, y_parts, w_parts)
    ]


def score_terms(estimator, X, y, sample_weight):
    """The sums over one partition that its part of ``estimator.score`` needs.

    The classifier: the weight of the correct predictions and the total weight. The
    regressor, per output: the total weight, the weighted mean of ``y``, the weighted
    sum of squares about it and the weighted squared error. ``X`` is passed to
    ``predict`` as it comes (a DataFrame's partition keeps its column names).
    """
    y, sample_weight = _numpy(y), _numpy(sample_weight)
    if len(y) == 0:  # a partition without rows adds nothing
        if hasattr(estimator, "classes_"):
            return 0.0, 0.0
        zeros = np.zeros(estimator.n_outputs_)
        return 0.0, zeros, zeros, zeros
    predicted = estimator.predict(X)
    weight = np.ones(len(y)) if sample_weight is None else sample_weight.astype(np.float64)
    if hasattr(estimator, "classes_"):
        return float(weight @ (predicted == y)), float(weight.sum())
    y = y.reshape(len(y), -1).astype(np.float64)
    predicted = predicted.reshape(y.shape)
    total = weight.sum()
    mean = weight @ y / total if total > 0 else np.zeros(y.shape[1])
    spread = weight @ (y - mean) ** 2
    return total, mean, spread, weight @ (y - predicted) ** 2


def combine_scores(terms, classifier):
    """Accuracy, or R^2 averaged over the outputs, from every partition's
    :func:`score_terms`, as scikit-learn's ``accuracy_score`` and ``r2_score`` compute them
    on all rows (a constant target scores 1 if predicted exactly, else 0)."""
    if classifier:
        return sum(hits for hits, _ in terms) / sum(weight for _, weight in terms)
    # Means and sums of squares merged pairwise (Chan, Golub and LeVeque): no sum of
    # y^2 over all rows, which a large offset of y would round away.
    total, mean, spread, error = terms[0]
    for part_total, part_mean, part_spread, part_error in terms[1:]:
        merged = total + part_total
        if part_total > 0:
            delta = part_mean - mean
            spread = spread + part_spread + delta**2 * total * part_total / merged
            mean = mean + delta * part_total / merged
        total, error = merged, error + part_error
    scores = np.where(spread > 0, 1 - error / np.where(spread > 0, spread, 1), 0.0)
    scores = np.where((spread == 0) & (error == 0), 1.0, scores)
    return float(np.mean(scores))


def _place(client, parts):
    """Worker address -> ``[(partition index, future)]``, each worker that holds data.

    ``parts`` are ``(partition index, future)`` pairs: the partitions with rows.

    Partitions stay where they were computed; a worker that holds none gets one moved
    from the worker that holds the most, while that one keeps at least one (the rows
    move between workers, never to the client).
    """
    who_has = client.who_has([future for _, future in parts])
    by_worker = {}
    for index, future in parts:
        by_worker.setdefault(who_has[future.key][0], []).append((index, future))
    idle = sorted(set(client.scheduler_info()["workers"]) - set(by_worker))
    for worker in idle:
        busiest = max(by_worker, key=lambda w: len(by_worker[w]))
        if len(by_worker[busiest]) < 2:
            break
        index, future = by_worker[busiest].pop()
        moved = client.submit(
            _identity, future, workers=[worker], allow_other_workers=False, pure=False
        )
        wait([moved])
        by_worker[worker] = [(index, moved)]
    return by_worker


def _identity(value):
    return value


def _run_rank(estimator, parts, rank, world_size, address, classes, timeout):
    """One worker's process of the fit: its partitions, rank ``rank`` of ``world_size``."""
    import torch.distributed as dist

    from .._engine.device import resolve_device

    backend = "nccl" if resolve_device(estimator.device).type == "cuda" else "gloo"
    dist.init_process_group(
        backend,
        init_method=address,
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=timeout),
    )
    try:
        blocks = [(index, X, y, w) for index, (X, y, w) in parts]
        fitted = fit_blocks(estimator, blocks, classes=classes)
    finally:
        dist.destroy_process_group()
    return fitted if rank == 0 else None
