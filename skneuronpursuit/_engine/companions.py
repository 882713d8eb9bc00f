"""Several neurons per iteration (docs/algorithm.md §3.8): the companions of the
iteration's neuron, other restarts' KKT points of the same search."""

import torch

from .._kernels import reduction
from .._kernels.neurons import insert_neuron
from .passes import NetworkPasses

# With neurons_per_iteration > 1, another restart's KKT point joins the iteration's neuron
# when its NCF value is above this fraction of the best and its incoming direction's
# |cosine| with every neuron added in the iteration is at most COMPANION_COSINE
# (docs/algorithm.md §3.8) (choice).
COMPANION_VALUE = 0.5
COMPANION_COSINE = 0.7


class CompanionsMixin:
    """The companion steps of :class:`~.steps._Pursuit` (its state and its ``_scale``)."""

    def _add_companions(self, weights, loss, found, layer):
        """The network with up to ``neurons_per_iteration - 1`` more of the search's KKT
        points in ``layer``, each distinct from the iteration's others and each lowering
        the objective when added, at its own scale (docs/algorithm.md §3.8).

        Returns the network and its objective.
        """
        values, incoming, outgoing = found.layer_restarts[layer]
        order = torch.argsort(values, descending=True).tolist()
        values = values.tolist()  # one read-back, not one per restart
        added = [found.incoming / found.incoming.norm()]
        declined = self.declined  # a companion declined is not why the fit stops
        for index in order:
            if len(added) == self.settings.options.neurons_per_iteration:
                break
            if not values[index] > COMPANION_VALUE * found.ncf_value:
                break  # sorted: none of the rest is either
            a, b = incoming[index], outgoing[index]
            direction = a / a.norm()
            if float((torch.stack(added) @ direction).abs().max()) > COMPANION_COSINE:
                continue
            grown = self._companion(weights, layer, a, b)
            grown_loss = None if grown is None else self.loss(grown)
            if grown_loss is not None and grown_loss < loss:
                weights, loss = grown, grown_loss
                added.append(direction)
        self.declined = declined
        return weights, loss

    def _companion(self, weights, layer, a, b):
        """``weights`` with ``(a, b)`` added at the scale of §3.4 for the current network,
        or None where it does not lower the objective to first order."""
        passes = NetworkPasses(
            weights, self.X, self.Y, self.objective, self.activation, signals=False
        )
        change = passes.change(layer, a, b)
        # Its NCF value against the current residual: the iteration's neurons changed it.
        ncf_value = float(
            reduction.mean(self.sample_weight * (passes.residual * change).sum(dim=1))
        )
        t_opt, lowest = self._scale(
            ncf_value,
            passes.output,
            change,
            passes.residual,
            self.activation.power + 1,
            (a, b),
            lambda t: insert_neuron(weights, layer, t * a, t * b),
        )
        if t_opt is None:
            return None
        scale = self._initial_scale(t_opt, lowest)
        return insert_neuron(weights, layer, scale * a, scale * b)
