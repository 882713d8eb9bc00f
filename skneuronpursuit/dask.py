"""Neuron Pursuit on data partitioned across a Dask cluster (docs/big-data.md).

:class:`DaskNeuronPursuitRegressor` and :class:`DaskNeuronPursuitClassifier` take the
parameters of :class:`~skneuronpursuit.NeuronPursuitRegressor` and
:class:`~skneuronpursuit.NeuronPursuitClassifier` plus ``client``, as LightGBM's Dask
estimators do. ``fit`` takes Dask arrays or DataFrames; each worker keeps its own
partitions and runs one long task, one process of a ``torch.distributed`` group over
the workers that hold data (gloo on the CPU, NCCL on CUDA), in which every sum over
samples is all-reduced; rank 0 returns the fitted model. ``predict`` maps over the
partitions and returns Dask collections. ``to_local()`` gives the ordinary estimator.

:func:`fit_partition` is one process's part of such a fit, for ``torchrun`` and other
launchers of ``torch.distributed``.
"""

import socket
from datetime import timedelta
from urllib.parse import urlparse

import dask
import dask.array as da
import numpy as np
from distributed import default_client, wait
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._estimators.classifier import NeuronPursuitClassifier
from ._estimators.partition_problem import block_seed, held_out_rows
from ._estimators.partitioned import fit_blocks, fit_partition
from ._estimators.plumbing import estimator_init
from ._estimators.regressor import NeuronPursuitRegressor
from ._estimators.stop_warnings import warn_about_stop

__all__ = [
    "DaskNeuronPursuitClassifier",
    "DaskNeuronPursuitRegressor",
    "block_seed",
    "fit_partition",
    "held_out_rows",
]

# Seconds a process of the fit waits for the others to join and in any collective
# before it gives up (torch.distributed's timeout); tests lower it.
TIMEOUT_SECONDS = 1800


def _free_port():
    """A TCP port free on this machine now (the rendezvous of rank 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def _is_frame(values):
    """Whether ``values`` is a Dask DataFrame or Series (without importing dask.dataframe,
    which needs pandas and pyarrow)."""
    return hasattr(values, "map_partitions") and hasattr(values, "to_delayed")


def _partition(X, y, sample_weight):
    """One partition as NumPy arrays."""
    X = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if sample_weight is not None:
        sample_weight = np.asarray(
            sample_weight.to_numpy() if hasattr(sample_weight, "to_numpy") else sample_weight
        )
    return X, y, sample_weight


def _parts(X, y, sample_weight):
    """Delayed ``(X, y, sample_weight)`` of every row partition, in order."""
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimensions.")
        X = X.rechunk({1: X.shape[1]})
        X_parts = X.to_delayed()[:, 0]
        rows = X.chunks[0]
    elif _is_frame(X):
        X_parts = X.to_delayed()
        rows = None
    else:
        raise TypeError(
            f"X must be a Dask array or DataFrame; got {type(X).__name__}. "
            "For data in memory use NeuronPursuitRegressor or NeuronPursuitClassifier."
        )

    def split(values, name):
        if values is None:
            return [None] * len(X_parts)
        if isinstance(values, da.Array):
            if rows is None or any(np.isnan(rows)):
                raise ValueError(f"{name} must be partitioned as X: X is a DataFrame.")
            values = values.rechunk({0: rows, **({1: values.shape[1]} if values.ndim > 1 else {})})
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
        dask.delayed(_partition)(x_part, y_part, w_part)
        for x_part, y_part, w_part in zip(X_parts, y_parts, w_parts)
    ]


def _place(client, futures):
    """Worker address -> ``[(partition index, future)]``, each worker that holds data.

    Partitions stay where they were computed; a worker that holds none gets one moved
    from the worker that holds the most, while that one keeps at least one (the rows
    move between workers, never to the client).
    """
    who_has = client.who_has(futures)
    by_worker = {}
    for index, future in enumerate(futures):
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

    from ._engine.device import resolve_device

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


def _fitted_attributes(estimator):
    return {name: value for name, value in vars(estimator).items() if name.endswith("_")}


class _DaskNeuronPursuit:
    """``fit``, ``to_local`` and the mapped outputs shared by the Dask estimators."""

    _local_class = None
    # The task each worker runs (benchmarks/scale.py wraps it to measure the processes).
    _rank_task = staticmethod(_run_rank)

    def _local_params(self):
        params = self.get_params(deep=False)
        params.pop("client")
        return params

    def _local_estimator(self):
        return self._local_class(**self._local_params())

    def _validate_before_launch(self):
        local = self._local_estimator()
        local._validate_params()
        local._settings()  # options and step sizes, checked as the fit would
        if self.warm_start:
            raise ValueError(
                f"warm_start=True is not supported by {type(self).__name__}; fit afresh."
            )
        return local

    def _classes(self, y):
        return None

    def fit(self, X, y, sample_weight=None):
        """Grow the network on Dask collections, each worker on its own partitions.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
            Training data, partitioned by rows across the workers.
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Targets, partitioned as ``X``.
        sample_weight : dask.array.Array or dask.dataframe.Series, default=None
            Partitioned as ``X``; normalised to mean 1 over all rows.

        Returns
        -------
        self
            Fitted: it has the fitted attributes of the local estimator
            (:meth:`to_local`).
        """
        local = self._validate_before_launch()
        client = self.client if self.client is not None else default_client()
        parts = _parts(X, y, sample_weight)  # checks the types first
        classes = self._classes(y)
        futures = client.compute(parts)
        wait(futures)
        placed = _place(client, futures)
        workers = sorted(placed)
        host = urlparse(workers[0]).hostname
        port = client.run(_free_port, workers=[workers[0]])[workers[0]]
        address = f"tcp://{host}:{port}"
        tasks = [
            client.submit(
                self._rank_task,
                local,
                [(index, future) for index, future in placed[worker]],
                rank,
                len(workers),
                address,
                classes,
                TIMEOUT_SECONDS,
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            for rank, worker in enumerate(workers)
        ]
        try:
            fitted = client.gather(tasks)[0]
        finally:
            client.cancel(tasks + futures)
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)
        for name, value in _fitted_attributes(fitted).items():
            setattr(self, name, value)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_workers_ = len(workers)
        warn_about_stop(self)
        return self

    def to_local(self):
        """The fitted model as an ordinary estimator.

        Returns
        -------
        estimator : NeuronPursuitRegressor or NeuronPursuitClassifier
            With this estimator's parameters (``client`` aside) and fitted attributes.
        """
        check_is_fitted(self)
        local = self._local_estimator()
        for name, value in _fitted_attributes(self).items():
            if name != "n_workers_":
                setattr(local, name, value)
        return local

    def _map(self, X, method, n_columns):
        """``method`` of the local model over the partitions of ``X``."""
        check_is_fitted(self)
        local = self.to_local()
        function = getattr(local, method)
        if _is_frame(X):
            return X.map_partitions(function, meta=np.array([], dtype=np.float64))
        if not isinstance(X, da.Array):
            raise TypeError(f"X must be a Dask array or DataFrame; got {type(X).__name__}.")
        X = X.rechunk({1: X.shape[1]})
        if n_columns is None:
            return X.map_blocks(function, drop_axis=1, dtype=np.float64)
        return X.map_blocks(function, chunks=(X.chunks[0], (n_columns,)), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def __sklearn_clone__(self):
        """A clone sharing the client (a connection, not a parameter to copy)."""
        params = {name: clone(value, safe=False) for name, value in self._local_params().items()}
        return type(self)(**params, client=self.client)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["client"] = None  # a client cannot be pickled
        return state


def _dask_doc(local_class):
    return f"""{local_class.__name__} fitted on Dask collections partitioned across a cluster.

    Every parameter is that of :class:`~skneuronpursuit.{local_class.__name__}`, plus
    ``client``. Each Dask worker that holds partitions of the data runs one process of a
    ``torch.distributed`` group (gloo on the CPU, NCCL on CUDA) on its own partitions;
    every sum over samples is all-reduced, so every process grows the same network, the
    network one process would grow on all rows up to rounding (docs/big-data.md).

    Parameters
    ----------
    client : distributed.Client, default=None
        The Dask client; None: ``distributed.default_client()`` at ``fit``.
    **params
        The parameters of :class:`~skneuronpursuit.{local_class.__name__}`.
        ``warm_start=True`` is not supported.

    Attributes
    ----------
    The fitted attributes of :class:`~skneuronpursuit.{local_class.__name__}`, and:

    n_workers_ : int
        The workers (processes of the fit) that held data.

    Notes
    -----
    - Equal samples are merged within a partition only.
    - Early stopping holds out part of every partition, chosen by
      :func:`held_out_rows` from the partition's index: the same rows on any cluster.
    - ``feature_importances_`` are computed on the training rows of the worker of
      rank 0.
    """


class DaskNeuronPursuitRegressor(_DaskNeuronPursuit, NeuronPursuitRegressor):
    __doc__ = _dask_doc(NeuronPursuitRegressor)
    __init__ = estimator_init(NeuronPursuitRegressor.__init__, client=None)
    _local_class = NeuronPursuitRegressor

    def fit(self, X, y, sample_weight=None):  # noqa: D102 (the mixin's docstring)
        return _DaskNeuronPursuit.fit(self, X, y, sample_weight)

    fit.__doc__ = _DaskNeuronPursuit.fit.__doc__

    def predict(self, X):
        """Predict with the grown network, partition by partition.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame

        Returns
        -------
        y : dask.array.Array
            Of shape (n_samples,) or (n_samples, n_outputs).
        """
        check_is_fitted(self)
        return self._map(X, "predict", None if self.n_outputs_ == 1 else self.n_outputs_)


class DaskNeuronPursuitClassifier(_DaskNeuronPursuit, NeuronPursuitClassifier):
    __doc__ = _dask_doc(NeuronPursuitClassifier)
    __init__ = estimator_init(NeuronPursuitClassifier.__init__, client=None)
    _local_class = NeuronPursuitClassifier

    def fit(self, X, y, sample_weight=None):  # noqa: D102 (the mixin's docstring)
        return _DaskNeuronPursuit.fit(self, X, y, sample_weight)

    fit.__doc__ = _DaskNeuronPursuit.fit.__doc__

    def _classes(self, y):
        """The classes of all partitions (a small reduction of the labels, computed once)."""
        if isinstance(y, da.Array):
            return np.asarray(da.unique(y).compute())
        return np.sort(np.asarray(y.unique().compute()))

    def predict(self, X):
        """Predict the class of the largest network output, partition by partition.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame

        Returns
        -------
        y : dask.array.Array of shape (n_samples,)
        """
        check_is_fitted(self)
        local = self.to_local()
        if _is_frame(X):
            return X.map_partitions(local.predict, meta=np.array([], dtype=self.classes_.dtype))
        X = X.rechunk({1: X.shape[1]})
        return X.map_blocks(local.predict, drop_axis=1, dtype=self.classes_.dtype)

    def decision_function(self, X):
        """Network outputs (logits with the log loss), partition by partition.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame

        Returns
        -------
        scores : dask.array.Array of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        n_classes = len(self.classes_)
        return self._map(X, "decision_function", None if n_classes == 2 else n_classes)

    def predict_proba(self, X):
        """Class probabilities, partition by partition (``loss="log_loss"`` only).

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame

        Returns
        -------
        proba : dask.array.Array of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        self.to_local()._has_probabilities()
        return self._map(X, "predict_proba", len(self.classes_))

    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`, partition by partition.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame

        Returns
        -------
        log_proba : dask.array.Array of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        self.to_local()._has_probabilities()
        return self._map(X, "predict_log_proba", len(self.classes_))
