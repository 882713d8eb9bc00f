"""The losses the engine minimises (docs/algorithm.md §2, §9).

A loss is an object with the few operations the engine needs, on network outputs
``H`` of shape ``(..., n, m)`` (``axis=-1``: outputs in the last dimension) or
``(m, n)`` (``axis=-2``: samples in columns, as in gradient descent):

- ``value``: ``1/n sum_i s_i loss(H_i, y_i)``, a 0-d tensor; ``row_sum`` and
  ``value_of_sum`` the same in two steps, for sums over blocks of rows;
- ``zero_value``: that value for ``H = 0``, a float (the reference of ``tol``);
- ``negative_gradient``: ``r_i = -(n/s_i) dloss/dH_i``, the signal of the NCF (for
  the squared loss, the residual ``y_i - H_i``);
- ``window_value_`` and ``output_gradient_``: the same in the descent's layout,
  overwriting ``H`` (the descent does not need it again);
- ``curvature``: ``sum_i s_i c_i^T (d^2 loss_i / dH_i^2) c_i`` for a change ``c`` of
  the output, the ``Q`` of the scale's quadratic model (docs/algorithm.md §3.4);
- ``refine_scale``: the minimiser along the new neuron's ray, from the model's;
- ``whiten_``, ``hessian_product`` and ``hessian_bound``: the loss's Hessian in ``H``
  for Levenberg-Marquardt's Gauss-Newton matrix ``J^T (d^2 loss / dH^2) J``
  (docs/levenberg-marquardt.md, "The log loss"); the identity for the squared loss,
  which they leave untouched.

The squared loss computes exactly what the engine computed before losses were
objects, operation for operation: its fits are bit for bit those of the paper's loss.
"""

import math

import torch

from .reduction import all_sum, count


def weighted_squared_norm(values, sample_weight):
    """``sum_i s_i * ||values_i||^2`` over the sample dimension (-2)."""
    return all_sum((sample_weight[:, None] * values.square()).sum(dim=(-2, -1)))


class _Loss:
    """One object per loss (``LOSSES``): copies and pickles give that object back, so
    settings holding a loss compare equal after a round trip."""

    def __reduce__(self):
        return _loss, (self.name,)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _loss(name):
    return LOSSES[name]


class SquaredError(_Loss):
    """``1/(2n) sum_i s_i ||y_i - H_i||^2``, the paper's squared loss (its normalisation
    was lost in the extracted text: docs/paper.md)."""

    name = "squared_error"
    rescales_targets = True  # Y is divided by its RMS (docs/algorithm.md §1)

    def value(self, output, Y, sample_weight):
        total = all_sum(self.row_sum(output, Y, sample_weight))
        return self.value_of_sum(total, count(Y.shape[-2]))

    def row_sum(self, output, Y, sample_weight):
        """``sum_i s_i ||y_i - H_i||^2`` over these rows (not over the processes)."""
        return (sample_weight[:, None] * (Y - output).square()).sum(dim=(-2, -1))

    def value_of_sum(self, total, n_samples):
        """The value from :meth:`row_sum` over all ``n_samples`` rows."""
        return total / (2 * n_samples)

    def zero_value(self, Y, sample_weight):
        return float(weighted_squared_norm(Y, sample_weight)) / (2 * count(Y.shape[-2]))

    def negative_gradient(self, output, Y):
        return Y - output

    def output_gradient_(self, output, Y, axis=-1):
        return output.sub_(Y)

    def window_value_(self, output, Y, weight, n_samples, axis=-1):
        squares = output.sub_(Y).square()
        if weight is not None:
            squares = weight * squares
        return all_sum(squares.sum(dim=(-2, -1))) / (2 * n_samples)

    def curvature(self, output, change, sample_weight):
        return float(weighted_squared_norm(change, sample_weight))

    def refine_scale(self, scale, degree, loss_along):
        # Closed form: the quadratic model is the loss along the ray (iteration 1) or
        # its lowest-order part (docs/algorithm.md §3.4).
        return scale

    def whiten_(self, jacobian, output):
        return jacobian

    def hessian_product(self, output, change):
        return change

    def hessian_bound(self, output):
        return None  # the Hessian is the identity


# Line search of the log loss's scale (docs/algorithm.md §9.3) (choice): the bracket
# walks in doublings of the output change u = t^degree, at most UP above the model's
# u and DOWN below it; then GOLDEN_STEPS steps of golden-section search in log u.
LINE_SEARCH_UP = 6
LINE_SEARCH_DOWN = 20
GOLDEN_STEPS = 8
_GOLDEN = (math.sqrt(5) - 1) / 2


_SOFTPLUS_THRESHOLD = 20.0  # torch.nn.functional.softplus's default threshold


class LogLoss(_Loss):
    """Cross-entropy of ``softmax(H)`` (of ``sigmoid(H)`` with one output) against ``Y``.

    ``Y`` holds one-hot rows, or one column of 0 and 1 for two classes.
    """

    name = "log_loss"
    rescales_targets = False  # the outputs are logits: their units are fixed

    @staticmethod
    def probabilities(output, axis=-1):
        if output.shape[axis] == 1:
            return torch.sigmoid(output)
        return torch.softmax(output, dim=axis)

    def _per_sample(self, output, Y, axis):
        """Cross-entropy of every sample, the output dimension kept (size 1)."""
        if output.shape[axis] == 1:  # softplus(H) - y H, the binary cross-entropy
            per_sample = torch.nn.functional.softplus(output) - Y * output
            # torch's softplus is H itself above 20: its remainder log1p(exp(-H)) is
            # added after a class-1 sample's H - H has cancelled (docs/algorithm.md §9.4).
            remainder = torch.log1p(torch.exp(-output.clamp_min(_SOFTPLUS_THRESHOLD)))
            return per_sample + torch.where(output > _SOFTPLUS_THRESHOLD, remainder, 0.0)
        log_normaliser = torch.logsumexp(output, dim=axis, keepdim=True)
        return log_normaliser - (Y * output).sum(dim=axis, keepdim=True)

    def window_value_(self, output, Y, weight, n_samples, axis=-1):
        per_sample = self._per_sample(output, Y, axis)
        if weight is not None:
            per_sample = weight * per_sample
        return all_sum(per_sample.sum(dim=(-2, -1))) / n_samples

    def value(self, output, Y, sample_weight):
        total = all_sum(self.row_sum(output, Y, sample_weight))
        return self.value_of_sum(total, count(Y.shape[-2]))

    def row_sum(self, output, Y, sample_weight):
        """``sum_i s_i loss_i`` over these rows (not over the processes)."""
        return (sample_weight[:, None] * self._per_sample(output, Y, -1)).sum(dim=(-2, -1))

    def value_of_sum(self, total, n_samples):
        """The value from :meth:`row_sum` over all ``n_samples`` rows."""
        return total / n_samples

    def zero_value(self, Y, sample_weight):
        return float(self.value(torch.zeros_like(Y), Y, sample_weight))

    def negative_gradient(self, output, Y):
        return Y - self.probabilities(output)

    def output_gradient_(self, output, Y, axis=-1):
        return self.probabilities(output, axis).sub_(Y)

    def curvature(self, output, change, sample_weight):
        # The Hessian of the cross-entropy in H_i: diag(p_i) - p_i p_i^T; p(1 - p) for one output.
        p = self.probabilities(output)
        if output.shape[-1] == 1:
            per_sample = p * (1 - p) * change.square()
        else:
            per_sample = (p * change.square()).sum(-1) - (p * change).sum(-1).square()
        return float(all_sum((sample_weight * per_sample.reshape(len(sample_weight))).sum()))

    def whiten_(self, jacobian, output):
        """``B_i^T J_i`` in place for each sample, ``B_i B_i^T`` the Hessian of its loss.

        ``jacobian``: ``(c, m, P)``, the rows of ``c`` samples; ``output``: their ``H``.
        With ``p = softmax(H_i)`` the Hessian is ``diag(p) - p p^T`` and
        ``B = diag(sqrt p) - p sqrt(p)^T`` (as ``sum p = 1``), so
        ``B^T J = sqrt(p) * (J - p^T J)``; with one sigmoid output, ``sqrt(p (1 - p)) J``.
        """
        p = self.probabilities(output).to(jacobian.dtype)
        if output.shape[-1] == 1:
            return jacobian.mul_((p * (1 - p)).sqrt()[:, :, None])
        mixed = torch.einsum("cm,cmk->ck", p, jacobian)
        return jacobian.sub_(mixed[:, None, :]).mul_(p.sqrt()[:, :, None])

    def hessian_product(self, output, change):
        """The Hessian of each sample's loss in ``H`` applied to its row of ``change``."""
        p = self.probabilities(output)
        if output.shape[-1] == 1:
            return p * (1 - p) * change
        return p * change - p * (p * change).sum(-1, keepdim=True)

    def hessian_bound(self, output):
        """Per sample and output, a bound of the Hessian's diagonal share: ``diag(p)``
        bounds ``diag(p) - p p^T``; with one output, ``p (1 - p)`` is exact."""
        p = self.probabilities(output)
        return p * (1 - p) if output.shape[-1] == 1 else p

    def refine_scale(self, scale, degree, loss_along):
        """The minimiser of ``loss_along(t)`` near ``scale``, the quadratic model's."""

        def at(log_u):  # log2 of u = t^degree relative to the model's
            return loss_along(scale * 2.0 ** (log_u / degree))

        # Bracket: walk in doublings of u while the loss falls; `not <`: NaN stops a walk.
        centre, value = 0.0, at(0.0)
        for direction, limit in ((1.0, LINE_SEARCH_UP), (-1.0, LINE_SEARCH_DOWN)):
            moved = False
            for _ in range(limit):
                trial = at(centre + direction)
                if not trial < value:
                    break
                centre, value, moved = centre + direction, trial, True
            else:  # still falling at the end of the walk: the walk's end is the answer
                return scale * 2.0 ** (centre / degree)
            if moved:
                break
        low, high = centre - 1.0, centre + 1.0
        best, best_value = centre, value
        inner = [high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)]
        values = [at(inner[0]), at(inner[1])]
        for _ in range(GOLDEN_STEPS):
            for point, point_value in zip(inner, values):
                if point_value < best_value:
                    best, best_value = point, point_value
            if not values[1] < values[0]:  # the minimum is in [low, inner[1]]
                high, inner, values = inner[1], [None, inner[0]], [None, values[0]]
                inner[0] = high - _GOLDEN * (high - low)
                values[0] = at(inner[0])
            else:  # in [inner[0], high]
                low, inner, values = inner[0], [inner[1], None], [values[1], None]
                inner[1] = low + _GOLDEN * (high - low)
                values[1] = at(inner[1])
        for point, point_value in zip(inner, values):
            if point_value < best_value:
                best, best_value = point, point_value
        return scale * 2.0 ** (best / degree)


LOSSES = {"squared_error": SquaredError(), "log_loss": LogLoss()}
