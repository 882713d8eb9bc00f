"""Neuron Pursuit: greedy training of deep homogeneous networks, one neuron at a time.

A scikit-learn compatible implementation of A. Kumar and J. Haupt, "Learning Neural
Networks by Neuron Pursuit" (2025), on a PyTorch backend.

The estimators, :class:`NeuronPursuitRegressor` and :class:`NeuronPursuitClassifier`,
take the hyperparameters users tune; :class:`PursuitOptions` holds the research knobs.
:class:`NeuronPursuitRegressorCV` and :class:`NeuronPursuitClassifierCV` choose the number
of iterations, and so of neurons, by cross-validation. :func:`neuron_pursuit` runs the
algorithm as a function, and :func:`paper_settings` gives the paper's protocol per task.
:func:`fit_partition` is one process's part of a data-parallel fit over
``torch.distributed``; ``skneuronpursuit.dask`` holds the estimators for data partitioned
across a Dask cluster.
"""

from ._engine.function import PursuitFit, neuron_pursuit
from ._engine.paper import paper_settings
from ._engine.settings import PaperSchedule, PursuitOptions, PursuitSettings
from ._estimators.classifier import NeuronPursuitClassifier
from ._estimators.cv import NeuronPursuitClassifierCV, NeuronPursuitRegressorCV
from ._estimators.partitioned import fit_partition
from ._estimators.regressor import NeuronPursuitRegressor

__all__ = [
    "NeuronPursuitClassifier",
    "NeuronPursuitClassifierCV",
    "NeuronPursuitRegressor",
    "NeuronPursuitRegressorCV",
    "PursuitFit",
    "PaperSchedule",
    "PursuitOptions",
    "PursuitSettings",
    "fit_partition",
    "neuron_pursuit",
    "paper_settings",
    "__version__",
]

__version__ = "0.2.0"
