"""The fitted attributes a growth leaves, the same for a fit in one process and a
data-parallel one (``partitioned.py``)."""

import copy
from dataclasses import replace

import torch

from .._engine.pursuit import empty_network
from .._kernels.reduction import all_sum, count
from .fitted_network import float64_arrays
from .tracking import MEAN_STANDARD_ERRORS


def constant_error(problem, objective):
    """The relative training error of the best constant output: the targets' weighted
    mean for the squared loss (1 for centred targets), the class frequencies' logits for
    the log loss. A network no better than it has learned nothing from the inputs."""
    Y = problem.Y.to(torch.float64)
    weight = problem.sample_weight.to(torch.float64)
    reference = problem.loss_reference
    if reference is None:
        reference = objective.zero_value(Y, weight)
    if not reference > 0:
        return 1.0
    mean = all_sum((weight[:, None] * Y).sum(0)) / count(Y.shape[0])  # weights: mean 1
    if objective.name == "log_loss":
        tiny = torch.finfo(torch.float64).tiny
        if Y.shape[1] == 1:  # one sigmoid output: the logit of the frequency of class 1
            mean = mean.clamp(tiny, 1 - 1e-16)
            mean = torch.log(mean) - torch.log1p(-mean)
        else:
            mean = torch.log(mean.clamp_min(tiny))
    return float(objective.value(mean.expand_as(Y), Y, weight)) / reference


def growth_attributes(result, tracker, problem, settings, seeds, previous_history=()):
    """The network to keep and the fitted attributes that describe the growth.

    Parameters
    ----------
    result : PursuitResult
        What :func:`~skneuronpursuit._engine.pursuit.grow` returned.
    tracker : EarlyStopping or None
        Early stopping's tracker (``tracking.py``): its kept network replaces the last one,
        and its validation scores go into the history.
    problem : FitProblem
        The fit's units.
    settings : PursuitSettings
    seeds : tuple
        ``(random_state, split_seed)``: the fit's random state and the held-out split's
        seed (None without early stopping), kept so that a warm start continues them.
    previous_history : sequence of IterationRecord
        A warm start's history so far.

    Returns
    -------
    weights : list of Tensor
        The kept network, in the fit's units.
    attributes : dict
        The scales, the history, the stop and the early-stopping attributes.
    """
    weights = result.weights
    if tracker is not None and tracker.kept_weights is not None:
        weights = tracker.kept_weights
    history = list(previous_history) + [
        replace(record, validation_score=tracker.scores.get(record.iteration))
        if tracker
        else record
        for record in result.history
    ]
    kept = tracker.kept_iteration if tracker is not None else None
    kept_record = history[(kept or len(history)) - 1] if history else None
    kept_score = tracker.kept_score if tracker is not None else None
    grown = None  # the growth path's network, where the model is another
    if kept_record is not None:
        first, last = weights[0], weights[-1]
        empty = empty_network(first.shape[1], last.shape[0], len(weights), first)
        # The network with no neuron (the regressor's targets' mean; uniform
        # probabilities) is kept instead where the grown one fits the training rows worse
        # (a stuck growth), or, for the regressor with an intercept, scores lower on the
        # held-out rows than that mean by two standard errors (docs/algorithm.md §3.5).
        stuck = kept_record.train_error > 1
        held_out_rule = tracker is not None and problem.y_offset is not None
        if tracker is not None and (stuck or held_out_rule):  # scored once, used twice
            empty_score, empty_terms = tracker._score_and_terms(empty)
        if stuck or (
            held_out_rule
            and tracker._clearly_better(empty_terms, tracker.kept_terms, MEAN_STANDARD_ERRORS)
        ):
            grown, weights = weights, empty
            if tracker is not None:  # the score of the model that is kept
                kept_score = empty_score
    random_state, split_seed = seeds
    attributes = dict(
        x_scale_=problem.x_scale,
        y_scale_=problem.y_scale,
        y_offset_=problem.output_offset(weights),
        options_=settings.options,
        # The model's own stream: a RandomState the user passed may be drawn from later.
        _random_state_=copy.deepcopy(random_state),
        _split_seed_=split_seed,
        _activation_=settings.activation,
        _fit_intercept_=problem.fit_intercept,
        # A warm start continues the growth path: from its network and with its offset,
        # also where the model is the network with no neuron.
        _grown_weights_=None if grown is None else float64_arrays(grown),
        _growth_offset_=problem.y_offset,
        _held_out_by_block_=False,  # a data-parallel fit's held-out rows (partitioned.py)
        _constant_error_=constant_error(problem, settings.objective),
        history_=history,
        n_iter_=len(history),
        loss_curve_=[record.loss for record in history],
        stop_reason_=result.stop_reason,
        early_stopping_=tracker is not None,
        validation_scores_=None,
        best_validation_score_=None,
        best_iteration_=None,
    )
    if tracker is not None:
        attributes.update(
            validation_scores_=[record.validation_score for record in history],
            best_validation_score_=kept_score,
            best_iteration_=tracker.kept_iteration,
        )
    return weights, attributes
