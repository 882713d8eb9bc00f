"""The scale of a new neuron (docs/algorithm.md §3.4).

A KKT point ``w*`` is added at ``delta`` times the scale ``t_opt`` that minimises a
model of the loss along the ray ``t w*``, then halved while the loss rises.
"""


def scale_until_descent(make_weights, scale, loss_reference, max_halvings, loss_of):
    """Halve ``scale`` until the loss at ``make_weights(scale)`` is not above the reference.

    An unchanged loss is accepted **(choice)**: the decrease of a positive KKT point
    is then below the working precision, and halving (meant for a neuron so large that
    the loss rises) would only shrink it further. In float32 this is what happens at a
    saddle, where the escaping neuron lowers the loss by ~1e-10 (docs/engineering.md).
    """
    for n_halvings in range(max_halvings + 1):
        weights = make_weights(scale)
        loss = loss_of(weights)
        if loss <= loss_reference or n_halvings == max_halvings:
            return weights, scale, loss, n_halvings
        scale /= 2


# Geometric bisection for the scales of the penalised model (degree > 2): each step
# halves the bracket's log-width, so 100 steps take a bracket of 2^60 (LOWEST) below a
# float64's resolution (choice).
BISECTION_STEPS = 100
LOWEST = 2.0**-60  # the smallest scale searched, as a fraction of t_opt (choice)


def optimal_scale(ncf_value, quadratic, n_samples, degree, penalty=0.0):
    """The scale ``t_opt`` of a new KKT point, docs/algorithm.md §3.4 and §10.

    Along the ray ``t w*`` the loss is modelled as
    ``loss(0) - t^degree N* + t^(2 degree) Q / (2n) + penalty t^2 / 2``, which ``t_opt``
    minimises: exactly for the first neurons (``degree = D``, the network's degree), to
    first order for a later neuron (``degree = p + 1``). Without the penalty
    ``t_opt = (n N* / Q)^(1/degree)``; with it, for ``degree = 2``,
    ``t_opt = (n (N* - penalty / 2) / Q)^(1/2)``, and for a higher degree the model's
    minimiser is found by bisection.

    Parameters
    ----------
    ncf_value : float
        ``N*``, the NCF of the unit-norm KKT point (positive).
    quadratic : float
        ``Q = sum_i s_i ||change_i||^2``, the squared size of the change of the output
        that the unit-norm point makes (to first order), with sample weights of mean 1.
    n_samples : int
    degree : int
    penalty : float, default=0.0
        ``alpha ||w*||^2``: the L2 penalty of the point at unit scale, times 2.

    Returns
    -------
    float or None
        None when the model does not fall below ``loss(0)`` at any scale: with the
        penalty, the neuron cannot lower the penalised loss.
    """
    if not penalty:
        return (n_samples * ncf_value / quadratic) ** (1 / degree)
    if degree == 2:
        gain = ncf_value - penalty / 2
        return (n_samples * gain / quadratic) ** 0.5 if gain > 0 else None
    D, N, q, c = degree, ncf_value, quadratic / n_samples, penalty
    # The model's slope over t: phi(t) = -D N t^(D-2) + D q t^(2D-2) + c. It falls to its
    # minimum at t_m, then rises through c at the unpenalised t_opt: the model's minimum
    # is phi's root between them, if phi dips below zero at all.
    t_m = ((D - 2) * N / ((2 * D - 2) * q)) ** (1 / D)
    t_free = (N / q) ** (1 / D)

    def slope(t):
        return -D * N * t ** (D - 2) + D * q * t ** (2 * D - 2) + c

    if not slope(t_m) < 0:
        return None
    t_opt = _bisect(slope, t_m, t_free)
    return t_opt if _model(t_opt, D, N, q, c) < 0 else None


def promised_decrease(ncf_value, quadratic, n_samples, degree, penalty):
    """How far the penalised model falls below ``loss(0)`` at its ``t_opt`` (0: not at all).

    Without the penalty ``n N*^2 / (2 Q)``; for ``degree = 2``, ``n (N* - penalty/2)^2 / (2 Q)``
    (docs/algorithm.md §3.2, §10).
    """
    t_opt = optimal_scale(ncf_value, quadratic, n_samples, degree, penalty)
    if t_opt is None:
        return 0.0
    return -_model(t_opt, degree, ncf_value, quadratic / n_samples, penalty)


def lowest_descending_scale(ncf_value, quadratic, n_samples, degree, penalty, t_opt):
    """The smallest scale below ``t_opt`` at which the penalised model is below ``loss(0)``.

    Zero without a penalty or with ``degree = 2``, where every scale below ``t_opt``
    lowers the model; for a higher degree the penalty ``penalty t^2 / 2`` outweighs the
    gain ``t^degree N*`` near zero (docs/algorithm.md §10).
    """
    if not penalty or degree == 2:
        return 0.0
    q = quadratic / n_samples

    def above(t):  # the model over t^2: positive while the penalty outweighs the gain
        return _model(t, degree, ncf_value, q, penalty) / t**2

    return _bisect(above, t_opt * LOWEST, t_opt)


def _model(t, D, N, q, c):
    """The penalised model's change of the loss at scale ``t``."""
    return -(t**D) * N + t ** (2 * D) * q / 2 + c * t**2 / 2


def _bisect(function, low, high):
    """Where ``function`` changes sign in ``[low, high]``: the end of the last bracket
    on ``high``'s side."""
    low_negative = function(low) < 0
    for _ in range(BISECTION_STEPS):
        middle = (low * high) ** 0.5  # geometric: the scales span orders of magnitude
        if (function(middle) < 0) == low_negative:
            low = middle
        else:
            high = middle
    return high


def ray(weights, t):
    """The network ``t w``: every layer scaled by ``t`` (the ray of the first neurons)."""
    return [t * w for w in weights]
