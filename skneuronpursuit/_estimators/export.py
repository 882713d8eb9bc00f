"""The grown network as a plain ``torch.nn.Module``."""

import warnings

import torch

from .._kernels.activation import HomogeneousActivation
from .._kernels.inputs import as_tensor


class HomogeneousActivationModule(torch.nn.Module):
    """``max(z, slope * z) ** power`` as a module (wraps :class:`HomogeneousActivation`)."""

    def __init__(self, power, slope):
        super().__init__()
        self.activation = HomogeneousActivation(int(power), float(slope))

    def forward(self, z):
        return self.activation(z)

    def extra_repr(self):
        return f"power={self.activation.power}, slope={self.activation.slope}"


class HomogeneousNetwork(torch.nn.Module):
    """Bias-free feed-forward network: ``Linear -> activation -> ... -> Linear``.

    With ``fit_intercept`` a constant feature 1 is appended to the input, as the
    estimator does; ``output_offset`` (the estimator's ``y_offset_``) is added to the
    output, which has one column per network output, or with ``squeeze`` and a single
    output is a vector. Inputs of any floating dtype are cast to the module's.
    """

    def __init__(
        self,
        coefs,
        power,
        slope,
        fit_intercept,
        output_offset=None,
        squeeze=False,
        dtype=torch.float32,
    ):
        super().__init__()
        self.fit_intercept = fit_intercept
        # Decided here from the weights' shape, not from the output in forward: a branch
        # on a tensor's shape would make torch.jit.trace warn.
        self.squeeze = bool(squeeze) and coefs[-1].shape[1] == 1
        offset = torch.zeros(coefs[-1].shape[1], dtype=dtype)
        if output_offset is not None:
            offset = as_tensor(output_offset, dtype=dtype)
        self.register_buffer("output_offset", offset)
        layers = []
        for index, coef in enumerate(coefs):
            # Made on the meta device: the weights are copied in, so torch's random
            # initialisation would only draw from the global generator. A layer with no
            # neuron has nothing to initialise, which torch warns about.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Initializing zero-element tensors")
                linear = torch.nn.utils.skip_init(
                    torch.nn.Linear, coef.shape[0], coef.shape[1], bias=False, dtype=dtype
                )
            with torch.no_grad():
                linear.weight.copy_(as_tensor(coef.T, dtype=dtype))
            layers.append(linear)
            if index < len(coefs) - 1:
                layers.append(HomogeneousActivationModule(power, slope))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, X):
        X = X.to(self.output_offset.dtype)
        if self.fit_intercept:
            X = torch.cat([X, X.new_ones(X.shape[0], 1)], dim=1)
        output = self.layers(X) + self.output_offset
        return output[:, 0] if self.squeeze else output
