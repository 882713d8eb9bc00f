"""The steps of one Neuron Pursuit iteration (docs/algorithm.md §3): the candidate
search over the hidden layers, the scale of the new neuron (``_engine/scale.py``), its
companions (``_engine/companions.py``) and the inner minimisation.
:func:`~._engine.pursuit.grow` runs them in a loop.
"""

from dataclasses import replace

import numpy as np
import torch

from .._kernels import reduction
from .._kernels.inputs import SparseInputs, used_columns
from .._kernels.ncf import search_candidates, search_network
from .._kernels.network import forward
from .._kernels.network import loss as network_loss
from .._kernels.neuron_scale import promised_decrease, ray, scale_until_descent
from .._kernels.neurons import insert_neuron
from .companions import CompanionsMixin
from .inner_solver import minimise, minimise_on_schedule, solver_for
from .passes import NetworkPasses
from .records import Addition
from .scale import NCF_TOL, ScaleMixin

FIRST_DELTA_HALVINGS = 4  # docs/algorithm.md §3, iteration 1 safeguard (the paper's)
LATER_DELTA_HALVINGS = 10  # docs/algorithm.md §3, step 4 safeguard (the paper's)
# On more than this many times ncf_samples, the last steps of an ascent run on that many
# samples rather than all (docs/algorithm.md §3.3) (choice, measured: docs/decisions.md,
# "Fewer rows where the steps only point the way").
LAST_ROWS_FACTOR = 2
# Where descent_samples are drawn, the window of gradient descent before
# Levenberg-Marquardt runs on at most this many samples of its own (docs/inner-descent.md,
# "Many samples") (choice, measured: the same entry).
WINDOW_ROWS = 2048


def _as_tensor(array, like):
    return torch.as_tensor(array, dtype=like.dtype, device=like.device)


class _Pursuit(ScaleMixin, CompanionsMixin):
    """State of one run; each method is one step of docs/algorithm.md §3."""

    def __init__(self, X, Y, sample_weight, settings, random_state, loss_reference=None):
        self.X, self.Y, self.settings = X, Y, settings
        self.sample_weight = sample_weight / reduction.mean(sample_weight)
        self.activation = settings.activation
        self.random_state = random_state
        # (choice) The rows of the descent on many samples and of the ascent's last steps
        # come from a stream of their own, seeded by the fit's state without drawing from
        # it: the restarts are those of a fit on all rows (docs/inner-descent.md).
        self.subsample_rng = np.random.default_rng(random_state.get_state()[1])
        self.n_samples = reduction.count(X.shape[0])  # every process's rows
        self.objective = settings.objective
        self.loss_zero = self.objective.zero_value(Y, self.sample_weight)
        self.ncf_tol = NCF_TOL[X.dtype]
        self.step_size = None  # the inner descent's step at the end of the last iteration
        # Why the last candidate was not added: no descent at all, or none with the penalty.
        self.declined = "no_positive_kkt"
        # Set by the loop: the last iteration lowered the objective negligibly.
        self.converged = False
        # An exact fit in this dtype: relative error of the order of eps squared (choice).
        self.loss_reference = self.loss_zero if loss_reference is None else loss_reference
        self.exact_fit_loss = 100 * torch.finfo(Y.dtype).eps ** 2 * self.loss_reference
        # (choice) An input column that is zero on every training sample gets no gradient
        # and keeps its starting weight: the ascent starts it at 0, so that a new sample
        # with a value there (an unseen category) meets no random weight (§3.3).
        self.used_inputs = reduction.any_columns(used_columns(X)).to(Y.dtype)
        self.schedule = settings.schedule  # the paper's rules (PaperSchedule), or None
        self.ascent = (settings.options.ncf_steps, settings.options.ncf_lr)  # the last one run
        self.gd_budget = settings.gd_steps  # of the last descent

    def _ascent(self, first):
        """``(steps, step size)`` of this iteration's ascent, recorded as ``self.ascent``."""
        options = self.settings.options
        if self.schedule is None:
            self.ascent = (options.ncf_steps, options.ncf_lr)
        else:
            self.ascent = self.schedule.ascent(options, first)
        return self.ascent

    def _draw(self, size, rng=None):
        """``size`` distinct samples, sorted, drawn from ``rng`` (the fit's random state by
        default); None (all) when there are not more samples than that."""
        if size is None or self.n_samples <= size:
            return None
        rng = self.random_state if rng is None else rng
        rows = np.sort(rng.choice(self.n_samples, size, replace=False))
        # Every process draws the same global rows and keeps its own (_kernels/reduction.py).
        return torch.as_tensor(reduction.local_rows(rows), device=self.Y.device)

    def search_rows(self):
        """The samples this iteration's ascent runs on (docs/algorithm.md §3.3): None (all),
        the rows of its first steps, or those and the rows of its last steps.

        Drawn afresh for every search, after its starting points.
        """
        size = self.settings.options.ncf_samples
        first = self._draw(size)
        if first is None:
            return None
        last = self._draw(LAST_ROWS_FACTOR * size, self.subsample_rng)
        return first if last is None else (first, last)

    def loss(self, weights):
        """The objective: the loss plus the L2 penalty, if any (docs/algorithm.md §10)."""
        return float(
            network_loss(
                weights,
                self.X,
                self.Y,
                self.sample_weight,
                self.activation,
                self.objective,
                self.settings.alpha,
            )
        )

    def first_candidate(self):
        """The dominant KKT point ``w*`` of ``NCF_Y`` for one neuron per layer, ``t_opt``
        and the lowest scale that descends (``_scale``).

        ``t_opt`` is None when ``w*`` does not lower the loss (§3.6, §10).
        """
        s = self.settings
        sizes = [self.X.shape[1]] + [1] * (s.depth - 1) + [self.Y.shape[1]]
        shapes = [(s.n_restarts, sizes[i + 1], sizes[i]) for i in range(s.depth)]
        initial = [
            _as_tensor(self.random_state.standard_normal(shape), self.X) for shape in shapes
        ]
        initial[0] = initial[0] * self.used_inputs
        # The signal is the negative gradient of the loss at H = 0 (Y for the squared loss).
        zero = torch.zeros_like(self.Y)
        signal = self.objective.negative_gradient(zero, self.Y)
        n_steps, step_size = self._ascent(first=True)
        found = search_network(
            self.X,
            signal,
            self.sample_weight,
            self.activation,
            initial,
            n_steps,
            step_size,
            self.search_rows(),
            normalise=self.schedule is None,
        )
        # docs/algorithm.md §3: loss(t w*) = loss(0) - t^D N* + t^2D Q/(2n), minimised at t_opt.
        output = forward(found.weights, self.X, self.activation)[0][-1]
        degree = self.activation.degree(s.depth)
        t_opt, lowest = self._scale(
            found.ncf_value,
            zero,
            output,
            signal,
            degree,
            found.weights,
            lambda t: ray(found.weights, t),
        )
        return found, t_opt, lowest

    def first_neurons(self):
        """Iteration 1: ``delta_1 w*`` from the dominant KKT point of ``NCF_Y``."""
        found, t_opt, lowest = self.first_candidate()
        if t_opt is None:
            return None, found.ncf_value, None
        if self.schedule is None:
            start = self._initial_scale(t_opt, lowest)
        else:  # the paper's absolute delta_1 (docs/paper.md)
            start = self.schedule.first_delta
        weights, scale, loss, halvings = scale_until_descent(
            lambda t: ray(found.weights, t),
            start,
            self.loss_zero,
            FIRST_DELTA_HALVINGS,
            self.loss,
        )
        if self._rose(loss, self.loss_zero):
            return None, found.ncf_value, None
        record = Addition(
            layer=None,
            delta=scale,
            delta_halvings=halvings,
            loss_before=self.loss_zero,
            loss_after_add=loss,
        )
        return weights, found.ncf_value, record

    def next_candidate(self, weights):
        """The dominant candidate KKT point at ``weights``, its ``t_opt`` and the lowest
        scale that descends (``_scale``).

        ``t_opt`` is None when the candidate does not lower the loss (§3.6, §10).
        """
        s = self.settings
        passes = NetworkPasses(weights, self.X, self.Y, self.objective, self.activation)
        # Hidden layer l (0-based) receives a row in weights[l] and a column in weights[l+1].
        n_hidden = s.depth - 1
        max_in, max_out = max(passes.in_sizes), max(passes.out_sizes)
        draw = self.random_state.standard_normal((n_hidden, s.n_restarts, max_in + max_out))
        draw = _as_tensor(draw, self.X)
        draw[0, :, : self.X.shape[1]] *= self.used_inputs
        n_steps, step_size = self._ascent(first=False)
        found = search_candidates(
            passes,
            self.sample_weight,
            self.activation,
            draw[..., :max_in],
            draw[..., max_in:],
            n_steps,
            step_size,
            self.search_rows(),
            normalise=self.schedule is None,
        )
        layer, change = found.layer, None
        if s.options.layer_choice == "decrease":
            layer, change = self._layer_of_largest_decrease(found, passes)
            found = replace(
                found,
                layer=layer,
                incoming=found.layer_points[layer][0],
                outgoing=found.layer_points[layer][1],
                ncf_value=found.layer_values[layer],
            )
        a, b = found.incoming, found.outgoing
        # docs/algorithm.md §3.4: t_opt = (n N* / Q)^(1/(p+1)), Q from the linearised change of H.
        if change is None:
            change = passes.change(layer, a, b)
        degree = self.activation.power + 1
        t_opt, lowest = self._scale(
            found.ncf_value,
            passes.output,
            change,
            passes.residual,
            degree,
            (a, b),
            lambda t: insert_neuron(weights, layer, t * a, t * b),
        )
        return found, t_opt, lowest

    def _layer_of_largest_decrease(self, found, passes):
        """The hidden layer whose best candidate promises the largest loss decrease (§3.2).

        Along the ray ``t (a, b)`` the loss's lowest-order model is
        ``L - t^(p+1) N + t^(2(p+1)) Q / (2n)`` (§3.4), whose minimum lies ``n N^2 / (2 Q)``
        below ``L``: the decrease of the neuron at its scale ``t_opt``; with the L2 penalty,
        the penalised model's (§10). Layers whose best ``N`` is not positive, or whose
        candidate cannot beat the penalty, are passed over; with none left, the NCF's
        winner stays (and its change is None). Returns the layer and its candidate's
        change of ``H``.
        """
        alpha, degree = self.settings.alpha, self.activation.power + 1
        best, best_change, best_decrease = found.layer, None, -np.inf
        for layer, (value, (a, b)) in enumerate(zip(found.layer_values, found.layer_points)):
            if not value > 0:
                continue
            change = passes.change(layer, a, b)
            quadratic = self.objective.curvature(passes.output, change, self.sample_weight)
            if not quadratic > 0:
                continue
            if alpha:
                penalty = self._penalty((a, b))
                decrease = promised_decrease(value, quadratic, self.n_samples, degree, penalty)
                if not decrease > 0:
                    continue
            else:
                decrease = value**2 / quadratic  # n / 2 is common to every layer
            if decrease > best_decrease:
                best, best_change, best_decrease = layer, change, decrease
        return best, best_change

    def next_neuron(self, weights, loss_before):
        """Iteration k >= 2: add the neuron of the dominant candidate KKT point."""
        found, t_opt, lowest = self.next_candidate(weights)
        if t_opt is None:
            return None, found.ncf_value, None
        a, b, layer = found.incoming, found.outgoing, found.layer
        if self.schedule is None:
            start = self._initial_scale(t_opt, lowest)
        else:  # the paper's delta_k, proportional to the weights' norm (docs/paper.md)
            norm = sum(float(w.square().sum()) for w in weights) ** 0.5
            start = self.schedule.later_delta * norm
        grown, scale, loss, halvings = scale_until_descent(
            lambda t: insert_neuron(weights, layer, t * a, t * b),
            start,
            loss_before,
            LATER_DELTA_HALVINGS,
            self.loss,
        )
        if self._rose(loss, loss_before):
            return None, found.ncf_value, None
        if self.settings.options.neurons_per_iteration > 1:
            grown, loss = self._add_companions(grown, loss, found, layer)
        record = Addition(
            layer=layer + 1,
            delta=scale,
            delta_halvings=halvings,
            loss_before=loss_before,
            loss_after_add=loss,
        )
        return grown, found.ncf_value, record

    def classified(self, weights):
        """Whether every training sample's largest output is its target's (the sign, for
        one output): the paper's stop for modular addition."""
        output = forward(weights, self.X, self.activation)[0][-1]
        if output.shape[1] == 1:
            return bool(((output > 0) == (self.Y > 0)).all())
        return bool((output.argmax(dim=1) == self.Y.argmax(dim=1)).all())

    def minimise(self, weights, loss=None):
        """Inner minimisation (docs/inner-descent.md), from the step the last one ended
        with; ``loss``: that of ``weights``, if known. The paper's schedule: its descent."""
        if self.schedule is not None:
            loss = self.loss(weights) if loss is None else loss
            relative_error = loss / self.loss_reference
            self.gd_budget = self.schedule.descent_budget(self.settings.gd_steps, relative_error)
            return minimise_on_schedule(
                weights, self.X, self.Y, self.sample_weight, self.settings, self.gd_budget
            )
        size = self.settings.options.descent_samples
        rows = window_rows = None
        if size is not None and not isinstance(self.X, SparseInputs):
            rows = self._draw(size, self.subsample_rng)
            s = self.settings
            solver = solver_for(s.options.solver, s.objective, weights, self.Y.shape[1], s.alpha)
            if rows is not None and solver == "gd+lm":  # only a window needs them
                window_rows = self._draw(min(WINDOW_ROWS, size), self.subsample_rng)
        descent = minimise(
            weights,
            self.X,
            self.Y,
            self.sample_weight,
            self.settings,
            step_size=self.step_size,
            target_loss=self.settings.tol * self.loss_reference,
            rows=rows,
            window_rows=window_rows,
        )
        self.step_size = descent.step_size
        return descent
