"""A data-parallel fit: every process holds blocks of the rows (docs/big-data.md).

:func:`fit_partition` is one process's part of a fit over a ``torch.distributed`` group
(``torchrun``, or the Dask estimators of :mod:`skneuronpursuit.dask`, which run one
process per Dask worker). Every process validates and prepares its own rows; every sum
over samples is all-reduced by the kernels (``_kernels/reduction.py``); every process
draws the same random numbers, takes the same decisions and grows the same network; and
every process ends with the same fitted estimator, an ordinary
:class:`~skneuronpursuit.NeuronPursuitRegressor` or
:class:`~skneuronpursuit.NeuronPursuitClassifier`.

What differs from a fit in one process on the same rows (docs/big-data.md):

- equal samples are merged within a block only;
- the held-out rows of early stopping are drawn per block (:func:`held_out_rows`);
- ``feature_importances_`` are computed on the rows of the process of rank 0;
- sums are taken in another order: the same network up to rounding;
- ``warm_start`` and scikit-learn's callbacks are not supported.
"""

from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import torch
from sklearn.base import clone, is_classifier
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import (
    _check_sample_weight,
    _get_feature_names,
    check_array,
    column_or_1d,
)

from .._engine.data import merge_duplicates
from .._engine.device import DTYPES, resolve_device
from .._engine.problem import random_state_from
from .._engine.pursuit import grow
from .._kernels import reduction
from .classifier import (
    balanced_weights,
    check_class_weight,
    check_one_label_per_sample,
    class_targets,
    sorted_classes,
)
from .growth_attributes import growth_attributes
from .held_out import HeldOutSplitError
from .partition_problem import (
    _class_index,
    _PartitionedEarlyStopping,
    _stack,
    build_partition_problem,
    held_out_rows,
)
from .regressor import _numeric_targets
from .stop_warnings import warn_about_stop


class PeerFailedError(RuntimeError):
    """Raised by the processes of a data-parallel fit whose own part did not fail, when
    another's did: the other's error is the one to report."""


def _agree(error):
    """Raise in every process if any failed its local step, so none waits in a collective."""
    failed = reduction.sum_array(np.array([0.0 if error is None else 1.0]))
    if error is not None:
        raise error
    if failed[0] > 0:
        raise PeerFailedError(
            "another process of the data-parallel fit failed; its error is raised there"
        )


# ---------------------------------------------------------------- the fit


def _labels(y, name):
    """A block's class labels, checked as the classifier's ``fit`` checks them."""
    check_one_label_per_sample(y, name)
    y = check_array(y, ensure_2d=False, dtype=None, ensure_min_samples=0, input_name="y")
    if y.ndim == 2:
        y = column_or_1d(y, warn=True)  # a column, as validate_data takes it
    if len(y):
        sorted_classes(y)
    return y


def _local_blocks(estimator, blocks):
    """Validated blocks ``(index, X, y, sample_weight)`` and the local label set."""
    checked = []
    for index, X, y, sample_weight in blocks:
        X = check_array(
            X, accept_sparse="csr", dtype=np.float64, ensure_min_samples=0, input_name="X"
        )
        if X.shape[0] == 0:
            raise ValueError(
                f"block {index} has no rows: every process of a data-parallel fit needs "
                "at least one (fit_partition's X)"
            )
        if is_classifier(estimator):
            y = _labels(y, type(estimator).__name__)
        else:
            y = check_array(y, ensure_2d=False, dtype=None, ensure_min_samples=0, input_name="y")
            y = _numeric_targets(y).reshape(len(y), -1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"block {index}: X has {X.shape[0]} rows and y {y.shape[0]}")
        # A block may weigh nothing (its rows are dropped); all blocks may not (below).
        sample_weight = _check_sample_weight(
            sample_weight,
            X,
            dtype=np.float64,
            ensure_non_negative=True,
            allow_all_zero_weights=True,
        )
        if checked and X.shape[1] != checked[0][1].shape[1]:
            raise ValueError("the blocks have different numbers of features")
        checked.append((int(index), X, y, sample_weight))
    if not checked:
        raise ValueError("every process of a data-parallel fit needs a block of rows")
    return checked


def _all_labels(labels, classes):
    """The sorted classes of every process (``classes`` when given)."""
    if classes is not None:
        return np.asarray(classes)
    if not reduction.active():
        return sorted_classes(labels)[0]
    gathered = [None] * torch.distributed.get_world_size(reduction._active().group)
    torch.distributed.all_gather_object(
        gathered, sorted_classes(labels)[0], group=reduction._active().group
    )
    return sorted_classes(np.concatenate(gathered))[0]


def _encode(estimator, checked, classes):
    """``(index, X, Y, sample_weight)`` with the network's targets; the classifier's class
    weights multiply ``sample_weight`` (``"balanced"`` from the counts of all rows)."""
    if not is_classifier(estimator):
        return checked
    encoded = [np.searchsorted(classes, y) for _, _, y, _ in checked]
    for code, (_, _, y, _) in zip(encoded, checked):
        if np.any(classes[np.minimum(code, len(classes) - 1)] != y):
            raise ValueError(f"y has labels outside classes {classes}")
    class_weight = check_class_weight(estimator.class_weight)
    per_class = np.ones(len(classes))
    if class_weight == "balanced":  # counted by sample weight, as in one process
        counts = reduction.sum_array(
            np.sum(
                [
                    np.bincount(c, weights=w, minlength=len(classes))
                    for c, (_, _, _, w) in zip(encoded, checked)
                ],
                axis=0,
            )
        )
        per_class = balanced_weights(counts)
    elif isinstance(class_weight, dict):  # scikit-learn's rule, as fit applies it
        per_class = compute_class_weight(class_weight, classes=classes, y=classes)
    weighted = reduction.sum_array(
        np.sum(
            [
                np.bincount(c, weights=w * per_class[c], minlength=len(classes))
                for c, (_, _, _, w) in zip(encoded, checked)
            ],
            axis=0,
        )
    )
    if np.count_nonzero(weighted) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes with "
            "positive weight (sample_weight times class_weight); got "
            f"{np.count_nonzero(weighted)} class."
        )
    return [
        (index, X, class_targets(code, len(classes), estimator.loss), w * per_class[code])
        for code, (index, X, _, w) in zip(encoded, checked)
    ]


def _seed(estimator):
    """The fit's RandomState, the same in every process: for ``random_state=None`` the
    seed of rank 0 (a RandomState instance is every process's own copy)."""
    if estimator.random_state is not None or not reduction.active():
        return random_state_from(estimator.random_state)
    seed = int(np.random.SeedSequence().generate_state(1)[0])
    rank = torch.distributed.get_rank(reduction._active().group)
    seed = int(reduction.sum_array(np.array([seed if rank == 0 else 0.0]))[0])
    return np.random.RandomState(seed)


def _same_columns(names, group):
    """Raise in every process unless every process's ``X`` has the columns ``names``
    (a DataFrame's, in order, whatever their type; None for an array) of all the others."""
    gathered = [None] * torch.distributed.get_world_size(group)
    # The names themselves: 0 and "0" are other columns.
    torch.distributed.all_gather_object(
        gathered, None if names is None else list(names), group=group
    )
    if any(other != gathered[0] for other in gathered):
        described = "; ".join(
            f"rank {rank}: {'no column names' if cols is None else cols}"
            for rank, cols in enumerate(gathered)
        )
        raise ValueError(
            "the processes' X have different columns; a data-parallel fit needs the same "
            f"columns, in the same order, in every process ({described})"
        )


def fit_blocks(
    estimator,
    blocks,
    *,
    group=None,
    classes=None,
    distributed=True,
    feature_names=None,
    columns=None,
):
    """Fit a clone of ``estimator`` on the rows of ``blocks`` of this process.

    Parameters
    ----------
    estimator : NeuronPursuitRegressor or NeuronPursuitClassifier
        Unfitted; the same parameters in every process.
    blocks : list of tuple
        ``(index, X, y, sample_weight)`` per block of rows this process holds; ``index``
        numbers the blocks of all processes (it seeds their held-out rows).
    group : ProcessGroup, default=None
        The ``torch.distributed`` group of the fit (None: the default group).
    classes : array-like, default=None
        The classifier's classes; None: gathered from every process's labels.
    distributed : bool, default=True
        False: a fit in this process alone, on its blocks (what the fit over several
        processes is compared with).
    feature_names : ndarray of str, default=None
        The feature names of this process's ``X`` (a DataFrame's string columns):
        they become ``feature_names_in_``.
    columns : list, default=None
        The columns of this process's ``X`` (a DataFrame's, of any type): they must be
        those of every process, in the same order.

    Returns
    -------
    estimator
        The fitted clone, the same in every process.
    """
    est = clone(estimator)
    context = reduction.distributed(group) if distributed else nullcontext()
    with context:
        rank = torch.distributed.get_rank(group) if distributed else 0
        error = checked = None
        try:
            est._validate_params()
            if est.warm_start:
                raise ValueError(
                    f"warm_start=True is not supported by a data-parallel fit of "
                    f"{type(est).__name__}; fit afresh."
                )
            settings = est._settings()
            checked = _local_blocks(est, blocks)
        except Exception as caught:  # every process raises, none waits in a collective
            error = caught
        _agree(error)
        total_weight = reduction.sum_array(np.array([sum(w.sum() for *_, w in checked)]))
        if not total_weight[0] > 0:  # the same sum in every process: all raise
            raise ValueError("Sample weights must contain at least one non-zero number.")
        width = checked[0][1].shape[1]
        widths = reduction.max_array(np.array([width, -width], dtype=np.float64))
        if widths[0] != -widths[1]:
            raise ValueError("the processes' rows have different numbers of features")
        if distributed:
            _same_columns(columns, group)
        attributes = {"_loss_": settings.objective.name}
        if is_classifier(est):
            labels = np.concatenate([y for _, _, y, _ in checked] or [np.array([])])
            classes = _all_labels(labels, classes)
            attributes["classes_"] = classes
        error = None
        try:
            encoded = _encode(est, checked, classes)
        except Exception as caught:
            error = caught
        _agree(error)
        random_state = _seed(est)
        merged = [(index, *merge_duplicates(X, Y, w, sort=False)) for index, X, Y, w in encoded]
        n_total = reduction.count(sum(X.shape[0] for _, X, _, _ in merged))
        widest = max(Y.shape[1] for _, _, Y, _ in merged)
        n_outputs = int(reduction.max_array(np.array([widest], dtype=np.float64))[0])
        if n_total < 2:
            raise ValueError(f"{type(est).__name__} needs at least 2 samples; got {n_total}.")
        early_stopping = est._uses_early_stopping(n_total, False)
        split_seed = None
        train_parts, held_parts = [], []
        if early_stopping:
            before_split = random_state.get_state()
            split_seed = int(random_state.randint(np.iinfo(np.int32).max))
            for index, X, Y, w in merged:
                strata = _class_index(Y) if is_classifier(est) else None
                train, held = held_out_rows(
                    X.shape[0], index, split_seed, est.validation_fraction, strata
                )
                train_parts.append((X[train], Y[train], w[train]))
                held_parts.append((X[held], Y[held], w[held]))
            n_held = reduction.count(sum(len(part[0]) for part in held_parts))
            if n_held < est._min_validation_samples:
                if est.early_stopping != "auto":
                    raise HeldOutSplitError(
                        f"early_stopping held out {n_held} of the {n_total} distinct "
                        f"samples (validation_fraction={est.validation_fraction}); "
                        f"{type(est).__name__} needs at least {est._min_validation_samples}."
                    )
                early_stopping, split_seed = False, None
                random_state.set_state(before_split)  # as early_stopping=False draws
        if not early_stopping:
            train_parts = [(X, Y, w) for _, X, Y, w in merged]
        error = problem = None
        try:
            problem, X_train, w_train = build_partition_problem(
                [(block[0], *part) for block, part in zip(merged, train_parts)],
                settings,
                fit_intercept=bool(est.fit_intercept),
                dtype=DTYPES[est.dtype],
                device=resolve_device(est.device),
                center=est._targets_are_values and bool(est.fit_intercept),
                per_output=est._targets_are_values,
            )
        except Exception as caught:
            error = caught
        _agree(error)
        tracker = None
        if early_stopping:
            tracker = _PartitionedEarlyStopping(
                is_classifier(est),
                _stack(held_parts, merged, n_outputs),
                None,
                None,
                problem,
                float(est.tol),
                est.n_iter_no_change,
                None,
            )
        if rank != 0:
            settings = replace(settings, verbose=0)
        result = grow(
            problem.X,
            problem.Y,
            problem.sample_weight,
            settings,
            random_state,
            on_iteration=tracker,
            loss_reference=problem.loss_reference,
        )
        # Within the group: the kept network may be compared with the mean on every
        # process's held-out rows.
        weights, grown = growth_attributes(
            result, tracker, problem, settings, (random_state, split_seed)
        )
    fitted = {**attributes, **est._network_attributes(weights), **grown}
    fitted.update(n_features_in_=int(widths[0]), n_outputs_=n_outputs, n_pruned_=0)
    # Its held-out rows were drawn per block: a warm start in one process (to_local)
    # cannot hold out the same ones (base.py refuses it).
    fitted["_held_out_by_block_"] = tracker is not None
    if feature_names is not None:  # a DataFrame's columns, as fit keeps them
        fitted["feature_names_in_"] = feature_names
    for name, value in fitted.items():
        setattr(est, name, value)
    # On rank 0's training rows (docs/big-data.md), sent to every process: the
    # estimators the processes return are the same.
    if X_train.shape[0] > 0:
        est.feature_importances_ = est._importances(X_train, w_train, random_state)
    else:
        est.feature_importances_ = np.full(est.n_features_in_, 1 / est.n_features_in_)
    if distributed:
        importances = [est.feature_importances_]
        torch.distributed.broadcast_object_list(importances, group=group, group_src=0)
        est.feature_importances_ = importances[0]
    return est


def fit_partition(estimator, X, y, sample_weight=None, *, group=None, classes=None):
    """Run one process's part of a data-parallel fit over a ``torch.distributed`` group.

    Every process of the group calls it with its own rows and the same ``estimator``;
    every sum over samples is all-reduced over the group, every process grows the same
    network and returns the same fitted estimator. No process sees another's rows.
    Without an initialised process group it is an ordinary fit of ``estimator`` on
    ``(X, y)`` in this process (up to the differences listed in docs/big-data.md: with
    ``dtype="float64"`` and ``early_stopping=False``, the network of ``fit``).

    Parameters
    ----------
    estimator : NeuronPursuitRegressor or NeuronPursuitClassifier
        Unfitted, with the same parameters in every process. With ``random_state=None``
        every process uses the seed of rank 0. ``warm_start`` is not supported.
    X : {array-like, sparse matrix} of shape (n_local_samples, n_features)
        This process's rows; each process must hold at least one.
    y : array-like of shape (n_local_samples,) or (n_local_samples, n_outputs)
    sample_weight : array-like of shape (n_local_samples,), default=None
        Normalised to mean 1 over the rows of all processes.
    group : torch.distributed.ProcessGroup, default=None
        The group of the processes that share the fit; None: the default group.
        Its backend must handle the fit's device: gloo on the CPU, NCCL on CUDA.
    classes : array-like, default=None
        The classifier's classes; None: gathered from every process's labels.

    Returns
    -------
    estimator
        A fitted clone of ``estimator`` (the same in every process; its
        ``feature_importances_`` are rank 0's): an ordinary scikit-learn estimator, with
        ``feature_names_in_`` from a DataFrame's columns. The held-out rows of early
        stopping are this process's block ``rank`` (:func:`held_out_rows`).

    Examples
    --------
    Launched with ``torchrun --nproc-per-node 2 script.py``::

        import torch.distributed as dist
        from skneuronpursuit import NeuronPursuitRegressor, fit_partition

        dist.init_process_group("gloo")
        X_local, y_local = load_my_rows(dist.get_rank())  # this process's rows
        reg = fit_partition(NeuronPursuitRegressor(random_state=0), X_local, y_local)
        dist.destroy_process_group()
    """
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    rank = torch.distributed.get_rank(group) if distributed else 0
    fitted = fit_blocks(
        estimator,
        [(rank, X, y, sample_weight)],
        group=group,
        classes=classes,
        distributed=distributed,
        feature_names=_get_feature_names(X),
        columns=X.columns.tolist() if hasattr(X, "columns") else None,
    )
    if rank == 0:
        warn_about_stop(fitted)
    return fitted
