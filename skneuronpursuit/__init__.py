"""Neuron Pursuit: greedy training of deep homogeneous networks, one neuron at a time.

A scikit-learn compatible implementation of Kumar & Haupt, "Learning Neural
Networks by Neuron Pursuit" (2025), on a PyTorch backend.
"""

from ._estimators.classifier import NeuronPursuitClassifier
from ._estimators.regressor import NeuronPursuitRegressor

__all__ = ["NeuronPursuitClassifier", "NeuronPursuitRegressor", "__version__"]

__version__ = "0.1.0"
