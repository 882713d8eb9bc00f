"""The scale of a new neuron (docs/algorithm.md §3.4).

A KKT point ``w*`` is added at ``delta`` times the scale ``t_opt`` that minimises a
model of the loss along the ray ``t w*``, then halved while the loss rises.
"""


def scale_until_descent(make_weights, scale, loss_reference, max_halvings, loss_of):
    """Halve ``scale`` until the loss at ``make_weights(scale)`` is not above the reference.

    An unchanged loss is accepted **(choice)**: the decrease of a positive KKT point
    is then below the working precision, and halving (meant for a neuron so large that
    the loss rises) would only shrink it further. In float32 this is what happens at a
    saddle, where the escaping neuron lowers the loss by ~1e-10 (benchmarks/README.md).
    """
    for n_halvings in range(max_halvings + 1):
        weights = make_weights(scale)
        loss = loss_of(weights)
        if loss <= loss_reference or n_halvings == max_halvings:
            return weights, scale, loss, n_halvings
        scale /= 2


def optimal_scale(ncf_value, quadratic, n_samples, degree):
    """The scale ``t_opt = (n N* / Q)^(1/degree)`` of a new KKT point, docs/algorithm.md §3.4.

    Along the ray ``t w*`` the loss is modelled as
    ``loss(0) - t^degree N* + t^(2 degree) Q / (2n)``, which ``t_opt`` minimises: exactly
    for the first neurons (``degree = D``, the network's degree), to first order for a
    later neuron (``degree = p + 1``).

    Parameters
    ----------
    ncf_value : float
        ``N*``, the NCF of the unit-norm KKT point (positive).
    quadratic : float
        ``Q = sum_i s_i ||change_i||^2``, the squared size of the change of the output
        that the unit-norm point makes (to first order), with sample weights of mean 1.
    n_samples : int
    degree : int

    Returns
    -------
    float
    """
    return (n_samples * ncf_value / quadratic) ** (1 / degree)


def ray(weights, t):
    """The network ``t w``: every layer scaled by ``t`` (the ray of the first neurons)."""
    return [t * w for w in weights]
