"""The positively homogeneous activation ``sigma(z) = max(z, alpha z) ** p``."""

from dataclasses import dataclass

import torch
from torch.nn import functional


@dataclass(frozen=True)
class HomogeneousActivation:
    """``sigma(z) = max(z, slope * z) ** power`` (docs/algorithm.md §1).

    ``sigma(c z) = c**power * sigma(z)`` for ``c > 0``. ReLU is ``(1, 0)``, leaky
    ReLU ``(1, 0.1)``, squared ReLU ``(2, 0)`` and the square ``z**2`` is ``(2, -1)``.

    Parameters
    ----------
    power : int
        The exponent ``p >= 1``.
    slope : float
        The negative slope ``alpha`` in ``[-1, 1]``.
    """

    power: int = 1
    slope: float = 0.0

    def _leaky(self, z):
        # For alpha <= 1, max(z, alpha z) is z when z > 0 and alpha z otherwise.
        return torch.relu(z) if self.slope == 0 else functional.leaky_relu(z, self.slope)

    @property
    def _is_even_power(self):
        # alpha = -1 and an even p: sigma(z) = |z|**p = z**p, a plain power.
        return self.slope == -1 and self.power % 2 == 0

    def _leaky_slope(self, z, out=None):
        # 1 where z > 0, alpha elsewhere. sign() then clamp is exact and several
        # times faster on the CPU than converting the boolean `z > 0` to floats; for
        # alpha != 0, leaky_relu's backward of ones is one pass instead of four.
        if self.slope == 0:
            return torch.sign(z, out=out).clamp_(min=0)
        ones = z.new_ones(()).expand_as(z)
        if out is None:
            return torch.ops.aten.leaky_relu_backward(ones, z, self.slope, False)
        return torch.ops.aten.leaky_relu_backward.grad_input(
            ones, z, self.slope, False, grad_input=out
        )

    def __call__(self, z, out=None):
        """``sigma(z)``; for ``p = 1`` written into ``out`` when it is given (a tensor
        like ``z``, or ``z`` itself), the same numbers."""
        if self.power == 1:  # the common case first: one call, no even power
            if out is None:
                return self._leaky(z)
            # relu is clamp_min(z, 0) on the CPU; both kernels are exact.
            if self.slope == 0:
                return torch.clamp_min(z, 0, out=out)
            return torch._C._nn.leaky_relu(z, self.slope, out=out)
        if self._is_even_power:
            return z.pow(self.power)
        return self._leaky(z).pow(self.power)

    def derivative(self, z, out=None):
        """``sigma'(z)``; at ``z = 0`` the one-sided slope ``alpha`` is used. For ``p = 1``
        written into ``out`` when it is given (as for ``__call__``)."""
        if self.power == 1:
            return self._leaky_slope(z, out)
        if self._is_even_power:
            return z * 2 if self.power == 2 else z.pow(self.power - 1).mul_(self.power)
        slope = self._leaky_slope(z)
        return slope.mul_(self._leaky(z).pow(self.power - 1)).mul_(self.power)

    def backpropagate(self, signal, z, activated, out=None):
        """``signal * sigma'(z)``, in place on ``signal`` where that can be done.

        For the ReLU one masking pass (``activated > 0`` exactly where ``z > 0``),
        for the leaky ReLU one fused pass, instead of forming the derivative and
        multiplying; these two write into ``out`` when it is given (``signal`` itself
        may be). Without ``out`` their result takes the memory layout of its inputs,
        which the products after it depend on.
        """
        if self.power == 1 and self.slope == 0:
            if out is None:
                return torch.ops.aten.threshold_backward(signal, activated, 0)
            return torch.ops.aten.threshold_backward.grad_input(
                signal, activated, 0, grad_input=out
            )
        if self.power == 1:
            # One pass, the same products: signal where z > 0, signal * alpha elsewhere.
            if out is None:
                return torch.ops.aten.leaky_relu_backward(signal, z, self.slope, False)
            return torch.ops.aten.leaky_relu_backward.grad_input(
                signal, z, self.slope, False, grad_input=out
            )
        return signal.mul_(self.derivative(z))

    def degree(self, depth):
        """Homogeneity degree ``D = 1 + p + ... + p**(depth-1)`` of a network."""
        return sum(self.power**k for k in range(depth))
