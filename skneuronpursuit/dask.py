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

import functools
from urllib.parse import urlparse

import dask.array as da
import numpy as np
from distributed import Client, default_client, wait
from sklearn.base import clone, is_classifier
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import _get_feature_names, check_is_fitted

from ._estimators.classifier import (
    NeuronPursuitClassifier,
    check_one_label_per_sample,
    sorted_classes,
    unordered_labels,
)
from ._estimators.dask_partitions import (
    _free_port,
    _is_frame,
    _n_rows,
    _parts,
    _place,
    _run_rank,
    check_collection,
    combine_scores,
    on_rows,
    score_terms,
)
from ._estimators.partition_problem import block_seed, held_out_rows
from ._estimators.partitioned import PeerFailedError, fit_partition
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


def _feature_names(X):
    """A Dask DataFrame's column names where they name features, by validate_data's rule:
    all strings (mixed types raise TypeError); else None."""
    if not hasattr(X, "columns"):
        return None
    import pandas as pd  # a Dask DataFrame needs it

    return _get_feature_names(pd.DataFrame(columns=X.columns))


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
        # The local estimator's constraints, under this estimator's name.
        validate_parameter_constraints(
            local._parameter_constraints,
            local.get_params(deep=False),
            caller_name=type(self).__name__,
        )
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
        client = self._client()
        parts = _parts(X, y, sample_weight)  # checks the types first
        names = _feature_names(X)
        classes = self._classes(y)
        futures = client.compute(parts)
        wait(futures)
        # Partitions without rows (after a filter) take no part in the fit.
        sizes = client.gather(client.map(_n_rows, futures, pure=False))
        with_rows = [(index, future) for index, future in enumerate(futures) if sizes[index]]
        if not with_rows:
            raise ValueError(f"{type(self).__name__} got no rows: every partition is empty.")
        placed = _place(client, with_rows)
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
            wait(tasks)
            errors = [task.exception() for task in tasks if task.status == "error"]
            if errors:  # the process whose part failed says why; the others only that
                raise next((e for e in errors if not isinstance(e, PeerFailedError)), errors[0])
            fitted = tasks[0].result()
        finally:
            client.cancel(tasks + futures)
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)
        for name, value in _fitted_attributes(fitted).items():
            setattr(self, name, value)
        if names is not None:
            self.feature_names_in_ = names
        self.n_workers_ = len(workers)
        warn_about_stop(self)
        return self

    def _client(self):
        """``client``, else the default client."""
        if self.client is None:
            try:
                return default_client()
            except ValueError as error:  # distributed's "No clients found"
                raise ValueError(
                    f"{type(self).__name__} found no Dask client: pass client=Client(...) "
                    "or create one first (distributed.Client(), or Client(address) for a "
                    "running scheduler)."
                ) from error
        if not isinstance(self.client, Client):
            raise TypeError(
                f"client must be a distributed.Client or None; got {type(self.client).__name__}"
                f" ({self.client!r}). For a scheduler's address, pass Client(address)."
            )
        return self.client

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

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor, averaged over the outputs), as the
        local estimator's ``score``, computed where the partitions lie.

        Each partition contributes a few sums (weights, means, squared errors, correct
        predictions); only those reach the client, never the rows or predictions.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Partitioned as ``X``.
        sample_weight : dask.array.Array or dask.dataframe.Series, default=None
            Partitioned as ``X``.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        client = self._client()
        task = functools.partial(score_terms, self.to_local())
        terms = client.gather(client.compute(_parts(X, y, sample_weight, task)))
        return combine_scores(terms, is_classifier(self))

    def _map(self, X, method, n_columns):
        """``method`` of the local model over the partitions of ``X``."""
        check_is_fitted(self)
        shape = (0,) if n_columns is None else (0, n_columns)
        function = functools.partial(
            on_rows, getattr(self.to_local(), method), np.empty(shape, dtype=np.float64)
        )
        check_collection(X)
        if _is_frame(X):
            return X.map_partitions(function, meta=np.empty(shape, dtype=np.float64))
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
    every sum over samples is all-reduced, so every process grows the same network: with
    ``early_stopping=False``, the network one process would grow on all rows, up to
    rounding; with early stopping (``"auto"`` from 20 samples for the regressor), the
    held-out rows are chosen partition by partition (Notes), so other rows than one
    process would hold out (docs/big-data.md).

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
        check_one_label_per_sample(
            y, type(self).__name__, advice="For several labels, fit one per column of y."
        )
        try:
            if isinstance(y, da.Array):
                labels = da.unique(y).compute()
            else:  # a tree reduction: the labels are few (a shuffle also logs warnings)
                labels = y.unique(split_out=1).compute()
        except TypeError as error:  # sorting, in the partitions or their reduction
            raise unordered_labels(error) from None
        return sorted_classes(np.asarray(labels))[0]

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
        empty = np.array([], dtype=self.classes_.dtype)
        function = functools.partial(on_rows, self.to_local().predict, empty)
        check_collection(X)
        if _is_frame(X):
            return X.map_partitions(function, meta=empty)
        X = X.rechunk({1: X.shape[1]})
        return X.map_blocks(function, drop_axis=1, dtype=self.classes_.dtype)

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
