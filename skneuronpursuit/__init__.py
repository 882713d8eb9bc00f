"""Neuron Pursuit: greedy training of deep homogeneous networks, one neuron at a time.

A scikit-learn compatible implementation of Kumar & Haupt, "Learning Neural
Networks by Neuron Pursuit" (2025), on a PyTorch backend.
"""

from ._classifier import NeuronPursuitClassifier
from ._cv import NeuronPursuitClassifierCV, NeuronPursuitRegressorCV
from ._regressor import NeuronPursuitRegressor

__all__ = [
    "NeuronPursuitClassifier",
    "NeuronPursuitClassifierCV",
    "NeuronPursuitRegressor",
    "NeuronPursuitRegressorCV",
    "__version__",
]

__version__ = "0.1.0"
