"""The scale of a new neuron (docs/algorithm.md §3.4; §9.3 for the log loss, §10 with the
penalty), and the tests that decline it: a zero KKT point, a negligible promise under the
penalty, a material rise of the loss after the halvings."""

import math

import torch

from .._kernels import reduction
from .._kernels.neuron_scale import lowest_descending_scale, optimal_scale, promised_decrease
from .records import STALL_FRACTION

# A neuron that still raises the loss by more than this fraction of the reference loss
# after its halvings is declined, not added (choice: kinks and rounding raise it by 1e-8
# of the loss at most in the tests).
MATERIAL_RISE = 1e-6
# A KKT point whose NCF terms cancel to within this fraction of their absolute sum is
# zero up to rounding and to how far GD is from stationary (docs/algorithm.md §7) (choice).
# float64: sqrt(eps). float32: between the ratios float32 GD leaves at the least-squares
# point of a linear network (4.1e-6 to 1.01e-5 on six problems, must stop) and those of
# the neuron escaping the 3-blob saddle of scikit-learn's classifier check (1.7e-5 to
# 3.2e-4 on four seeds, must go on); sqrt(eps) = 3.5e-4 stopped that fit at chance level
# (docs/engineering.md). The margin is thin: float32 barely resolves such saddles.
NCF_TOL = {torch.float64: torch.finfo(torch.float64).eps ** 0.5, torch.float32: 1.3e-5}
# With the L2 penalty, a candidate promising less than this fraction of the objective is
# declined (docs/algorithm.md §10.2): the stall rule's fraction, for one neuron (choice).
NEGLIGIBLE_PROMISE = STALL_FRACTION


def _squared_norm(point):
    """``||point||^2`` over the weight tensors of ``point``, on the host."""
    return sum(float(w.square().sum()) for w in point)


class ScaleMixin:
    """The scale steps of :class:`~.steps._Pursuit` (its state, ``loss`` and ``settings``)."""

    def _no_descent(self, residual, change):
        """Whether the KKT point is zero, from its NCF terms ``s_i <r_i, change_i>``.

        (choice of measure) ``N* = sum(terms) / n`` is compared with
        ``sum(|terms|) / n``, the size it would have if no term cancelled: the ratio
        is scale-free and, unlike an NCF on rescaled data, does not shrink with the
        input dimension (one-hot inputs, modular addition) or with how unevenly the
        neuron's output is spread over the samples.
        """
        terms = self.sample_weight * (residual * change).sum(dim=1)
        total, absolute = reduction.all_sum_list([terms.sum(), terms.abs().sum()])
        return not float(total) > self.ncf_tol * float(absolute)

    def _rose(self, loss, loss_before):
        """Whether the neuron, at the last scale tried, raised the loss materially.

        The safeguard adds a neuron after its last halving anyway (docs/algorithm.md
        §3.4): a kink, or rounding, may raise the loss by its last bits. A rise beyond
        ``MATERIAL_RISE`` of the reference loss means the scale's model failed (a
        decrease below the working precision, where float32 cannot see the neuron): it
        is declined (choice). The paper's schedule adds it anyway, as the paper does.
        """
        if self.schedule is not None or loss - loss_before <= MATERIAL_RISE * self.loss_reference:
            return False
        self.declined = "no_descent"
        return True

    def _scale(self, ncf_value, output, change, signal, degree, point, make_weights):
        """``t_opt`` of docs/algorithm.md §3.4 (§9.3 for the log loss, §10 with the penalty).

        ``output``: ``H`` before the change; ``change``: the change of ``H`` at unit scale;
        ``point``: the weights that the neuron adds at unit scale. Returns ``t_opt`` and the
        smallest scale at which the penalised model descends (0 but for a penalty and a
        degree above 2), or ``(None, None)``: no descent.
        """
        quadratic = self.objective.curvature(output, change, self.sample_weight)
        squares = _squared_norm(point)
        if self._broke_down(ncf_value, quadratic, squares):
            self.declined = "non_finite"  # the search overflowed: not a fact about the data
            return None, None
        # quadratic <= 0 with a non-zero change: its squares underflowed, or (the log
        # loss's variance in float32) cancelled below zero; no usable scale.
        if quadratic <= 0 or self._no_descent(signal, change):
            return None, None
        penalty = self.settings.alpha * squares
        t_opt = optimal_scale(ncf_value, quadratic, self.n_samples, degree, penalty)
        if t_opt is None or self._negligible(ncf_value, quadratic, degree, penalty, make_weights):
            self.declined = "penalty"
            return None, None
        lowest = lowest_descending_scale(
            ncf_value, quadratic, self.n_samples, degree, penalty, t_opt
        )
        t_opt = self.objective.refine_scale(t_opt, degree, lambda t: self.loss(make_weights(t)))
        return t_opt, lowest

    @staticmethod
    def _broke_down(ncf_value, quadratic, squares):
        """Whether the search's point is numerical debris: a value, curvature or weights
        (of squared norm ``squares``) that are not finite, or weights that vanished (a
        step so large that the projection onto the sphere overflowed; a search point has
        a positive norm)."""
        finite = math.isfinite(float(ncf_value)) and math.isfinite(float(quadratic))
        return not (finite and math.isfinite(squares) and squares > 0)

    def _negligible(self, ncf_value, quadratic, degree, penalty, make_weights):
        """With the penalty, whether the candidate promises to lower the objective by at
        most ``NEGLIGIBLE_PROMISE`` of it (docs/algorithm.md §10.2).

        At a stationary point of the penalised objective the network's own neurons are
        KKT points with ``N* = alpha/2``: the search finds their copies a little above it,
        by how far the descent stopped short, and the penalty shrinks such a neuron back.
        """
        if not penalty or not self.converged:
            return False
        promise = promised_decrease(ncf_value, quadratic, self.n_samples, degree, penalty)
        return promise <= NEGLIGIBLE_PROMISE * self.loss(make_weights(0.0))

    def _penalty(self, point):
        """``alpha ||point||^2``: twice the L2 penalty of the weights a neuron adds at unit
        scale, the ``penalty`` of the scale's model (docs/algorithm.md §10)."""
        return self.settings.alpha * _squared_norm(point)

    def _initial_scale(self, t_opt, lowest):
        """``delta t_opt``, or where the penalty would undo a neuron that small, a scale
        between the lowest that descends and ``t_opt`` (docs/algorithm.md §10)."""
        start = self.settings.delta * t_opt
        return start if start > lowest else (lowest * t_opt) ** 0.5
