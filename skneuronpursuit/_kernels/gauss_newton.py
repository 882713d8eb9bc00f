"""The damped Gauss-Newton systems Levenberg-Marquardt solves (docs/levenberg-marquardt.md).

``A = J^T S J / n`` (for the log loss ``J^T S D J / n``) and ``g = J^T S r / n``, with
``J`` the Jacobian of the outputs with respect to all weights, built from one
hand-written backward pass per output and never stored whole: ``A`` is formed in chunks
of samples and factorised by Cholesky while weights times outputs is at most
``MAX_EXPLICIT`` (through ``J J^T`` when there are fewer residuals than weights,
``_Dual``), and applied matrix-free by conjugate gradients beyond. ``A``, ``g`` and the
step are float64 whatever the fit's dtype.
"""

import torch

from .blocks import row_blocks, sum_lists
from .inputs import SparseInputs, _with_values, transposed_product
from .network import SQUARED_ERROR, backward, forward
from .reduction import active, all_sum, all_sum_list, count

# A is formed and factorised while weights x outputs (J's columns times its rows per
# sample: forming A costs n m P^2) is at most this; conjugate gradients beyond (choice).
MAX_EXPLICIT = 1500
CG_STEPS = 50  # conjugate-gradient iterations per solve at most (choice)
CG_TOL = 1e-6  # CG stops once its residual is below this fraction of ||g|| (choice)
CHUNK = 2**21  # entries of one chunk of J (samples x outputs x weights) (choice)
SOLVE_DTYPE = torch.float64


def has_explicit_system(weights, n_outputs, max_explicit=None):
    """Whether ``A`` is formed and factorised: weights times outputs at most ``max_explicit``.

    ``MAX_EXPLICIT`` by default. ``solver="auto"`` uses Levenberg-Marquardt exactly then.
    """
    max_explicit = MAX_EXPLICIT if max_explicit is None else max_explicit
    return sum(w.numel() for w in weights) * n_outputs <= max_explicit


def _flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors]).to(SOLVE_DTYPE)


def _unflat(vector, like):
    parts, start = [], 0
    for w in like:
        parts.append(vector[start : start + w.numel()].reshape(w.shape).to(w.dtype))
        start += w.numel()
    return parts


def _penalised(gradient, weights, alpha):
    """``g - alpha w``: the negative gradient of the loss with the L2 penalty (§10)."""
    return gradient - alpha * _flat(weights) if alpha else gradient


def _output_signals(weights, pre_activations, layer_inputs, activation, n_outputs):
    """``dH_o/dz_l`` for every output ``o``: a list over ``o`` of lists over layers."""
    signals = []
    for o in range(n_outputs):
        unit = torch.zeros_like(pre_activations[-1])
        unit[:, o] = 1
        signals.append(backward(weights, pre_activations, layer_inputs, unit, activation)[0])
    return signals


def _dense_rows(X, start, stop):
    """Rows ``start:stop`` of the inputs as a dense tensor (``X`` dense or sparse)."""
    if not isinstance(X, SparseInputs):
        return X[start:stop]
    crow = X.matrix.crow_indices().to(torch.int64)
    begin, end = int(crow[start]), int(crow[stop])
    rows = torch.repeat_interleave(
        torch.arange(stop - start, device=crow.device),
        crow[start + 1 : stop + 1] - crow[start:stop],
    )
    dense = X.matrix.values().new_zeros(stop - start, X.shape[1])
    dense[rows, X.matrix.col_indices()[begin:end].to(torch.int64)] = X.matrix.values()[begin:end]
    return dense


def _jacobian_chunks(
    weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, chunk=CHUNK
):
    """Rows of ``sqrt(S / n) J`` and of ``sqrt(S / n) r`` in float64, by chunks of samples.

    Yields ``(jacobian, residual)`` of shapes ``(c m, P)`` and ``(c m,)`` for chunks of
    ``c`` samples; ``jacobian`` is a view of one buffer that the next chunk overwrites.
    For a loss other than the squared one the rows are whitened by its Hessian
    (``objective.whiten_``), so that ``J^T J`` is the Gauss-Newton matrix, and
    ``residual`` is None: ``g`` no longer pairs with those rows.
    """
    pre_activations, layer_inputs = forward(weights, X, activation)
    n, m = Y.shape
    squared = objective.name == "squared_error"
    if squared:  # other losses' g comes from a backward pass (_normal_equations)
        residual = (Y - pre_activations[-1]).to(SOLVE_DTYPE)
    signals = _output_signals(weights, pre_activations, layer_inputs, activation, m)
    P = sum(w.numel() for w in weights)
    root = (sample_weight.to(SOLVE_DTYPE) / count(n)).sqrt()
    size = max(1, chunk // (m * P))
    # One buffer for every chunk's rows of J, written in place: building each chunk
    # from concatenated pieces cost as much as the product J^T J (16,000 samples).
    buffer = torch.empty(min(size, n), m, P, dtype=SOLVE_DTYPE, device=Y.device)
    for start in range(0, n, size):
        stop = min(n, start + size)
        inputs = [_dense_rows(X, start, stop)] + [h[start:stop] for h in layer_inputs[1:]]
        inputs = [h.to(SOLVE_DTYPE) for h in inputs]
        jacobian = buffer[: stop - start]  # (c, m, P)
        # J[(i, o), (l, j, k)] = dH_o/dz_l[i, j] * h_{l-1}[i, k]
        for o in range(m):
            offset = 0
            for layer, h in enumerate(inputs):
                signal = signals[o][layer][start:stop].to(SOLVE_DTYPE)
                width = signal.shape[1] * h.shape[1]
                block = jacobian[:, o, offset : offset + width].view(
                    stop - start, signal.shape[1], h.shape[1]
                )
                torch.mul(signal[:, :, None], h[:, None, :], out=block)
                offset += width
        jacobian.mul_(root[start:stop, None, None])
        if not squared:
            objective.whiten_(jacobian, pre_activations[-1][start:stop])
            yield jacobian.reshape(-1, P), None
            continue
        weighted_residual = residual[start:stop] * root[start:stop, None]
        yield jacobian.reshape(-1, P), weighted_residual.reshape(-1)


def _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective):
    """``g = J^T S r / n``, minus the loss's gradient, by one backward pass from a forward
    one; ``scale`` is ``S / n`` as a column."""
    signal = scale * objective.negative_gradient(pre_activations[-1], Y)
    return _flat(_transposed_product(weights, pre_activations, layer_inputs, signal, activation))


def _normal_equations(
    weights, X, Y, sample_weight, activation, objective=SQUARED_ERROR, chunk=CHUNK
):
    """``A = J^T S J / n`` and ``g = J^T S r / n`` in float64, built by chunks of samples.

    For the log loss ``A = J^T S D J / n`` with ``D`` the loss's Hessian in ``H`` (the
    generalised Gauss-Newton matrix) and ``r`` its negative gradient.
    """
    P = sum(w.numel() for w in weights)
    A = torch.zeros(P, P, dtype=SOLVE_DTYPE, device=Y.device)
    g = torch.zeros(P, dtype=SOLVE_DTYPE, device=Y.device)
    chunks = _jacobian_chunks(weights, X, Y, sample_weight, activation, objective, chunk)
    for jacobian, residual in chunks:
        A.addmm_(jacobian.mT, jacobian)
        if residual is not None:
            g.addmv_(jacobian.mT, residual)
    A, g = all_sum(A), all_sum(g)  # over all processes' rows (_kernels/reduction.py)
    if objective.name != "squared_error":
        pre_activations, layer_inputs = forward(weights, X, activation)
        scale = (sample_weight / count(X.shape[0]))[:, None]
        g = _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective)
    return A, g


def _full_gradient(weights, X, Y, sample_weight, activation, objective):
    """``g``, minus the loss's gradient, on all samples: one forward and one backward pass
    (on many rows one per block, their sums added: ``_kernels/blocks.py``)."""
    scale = (sample_weight / count(X.shape[0]))[:, None]
    blocks = row_blocks(X.shape[0], isinstance(X, SparseInputs))
    if len(blocks) == 1:
        pre_activations, layer_inputs = forward(weights, X, activation)
        return _gradient(weights, pre_activations, layer_inputs, Y, scale, activation, objective)

    def block_sums(rows):
        pre_activations, layer_inputs = forward(weights, X[rows], activation)
        signal = scale[rows] * objective.negative_gradient(pre_activations[-1], Y[rows])
        _, grads = backward(
            weights, pre_activations, layer_inputs, signal, activation, reduce=False
        )
        return grads

    return _flat(all_sum_list(sum_lists(block_sums(rows) for rows in blocks)))


def _rows_of(rows, X, Y, sample_weight):
    """The samples ``rows`` of dense ``X``, ``Y`` and the weights: with ``/ len(rows)``
    in place of ``/ n``, their ``A`` estimates all samples' (docs/inner-descent.md)."""
    return X[rows], Y[rows], sample_weight[rows]


def jacobian_product(weights, pre_activations, layer_inputs, directions, activation):
    """``J v``: the change of ``H`` along weight directions ``v = [V_1, ..., V_L]``.

    Forward mode: ``dz_1 = X V_1^T``, ``dz_{l+1} = (sigma'(z_l) dz_l) W_{l+1}^T + h_l V_{l+1}^T``.
    """
    change = layer_inputs[0] @ directions[0].mT
    for index in range(1, len(weights)):
        change = (change * activation.derivative(pre_activations[index - 1])) @ weights[index].mT
        change = change + layer_inputs[index] @ directions[index].mT
    return change


def _transposed_product(weights, pre_activations, layer_inputs, signal, activation):
    """``J^T u`` for a signal ``u`` on the outputs (a backward pass)."""
    return backward(weights, pre_activations, layer_inputs, signal, activation)[1]


def _diagonal(
    weights,
    X,
    Y,
    sample_weight,
    activation,
    pre_activations,
    layer_inputs,
    objective=SQUARED_ERROR,
):
    """``diag(A)`` without forming ``A``: sum_o (dH_o/dz_l)^2 against h_{l-1}^2.

    For the log loss, a bound: each output's share weighted by ``objective.hessian_bound``
    (it sets the damping's scale only).
    """
    n, m = Y.shape
    signals = _output_signals(weights, pre_activations, layer_inputs, activation, m)
    scale = (sample_weight / count(n))[:, None]
    squares = [[signal.square() for signal in per_output] for per_output in signals]
    bound = objective.hessian_bound(pre_activations[-1])
    if bound is not None:
        squares = [[square * bound[:, o : o + 1] for square in squares[o]] for o in range(m)]
    squares_in = list(layer_inputs)
    if isinstance(X, SparseInputs):
        squares_in[0] = SparseInputs(
            _with_values(X.matrix, X.matrix.values().square()),
            _with_values(X.transposed, X.transposed.values().square()),
        )
    else:
        squares_in[0] = X.square()
    squares_in[1:] = [h.square() for h in layer_inputs[1:]]
    parts = []
    for layer in range(len(weights)):
        total = sum(squares[o][layer] for o in range(m)) * scale
        parts.append(transposed_product(total, squares_in[layer]))
    return _flat(all_sum_list(parts))


class _MatrixFree:
    """The damped system by conjugate gradients, ``A v`` from a forward and a backward pass."""

    def __init__(
        self,
        weights,
        X,
        Y,
        sample_weight,
        activation,
        alpha=0.0,
        objective=SQUARED_ERROR,
        rows=None,
    ):
        self.weights, self.activation, self.alpha = weights, activation, alpha
        self.objective = objective
        full = X, Y, sample_weight
        if rows is not None:  # A on the rows, g on all samples
            X, Y, sample_weight = _rows_of(rows, X, Y, sample_weight)
        self.pre, self.inputs = forward(weights, X, activation)
        self.scale = (sample_weight / count(X.shape[0]))[:, None]
        if rows is None:
            g = _gradient(weights, self.pre, self.inputs, Y, self.scale, activation, objective)
        else:
            g = _full_gradient(weights, *full, activation, objective)
        self.g = _penalised(g, weights, alpha)
        self.diagonal = _diagonal(
            weights, X, Y, sample_weight, activation, self.pre, self.inputs, objective
        )

    def apply(self, vector):
        directions = _unflat(vector, self.weights)
        change = jacobian_product(self.weights, self.pre, self.inputs, directions, self.activation)
        change = self.objective.hessian_product(self.pre[-1], change)
        return _flat(
            _transposed_product(
                self.weights, self.pre, self.inputs, self.scale * change, self.activation
            )
        )

    def solve(self, damping):
        """CG on ``(A + (damping + alpha) I) p = g`` from ``p = 0``."""
        damping = damping + self.alpha
        p = torch.zeros_like(self.g)
        residual, direction = self.g.clone(), self.g.clone()
        norm = residual.dot(residual)
        limit = (CG_TOL * self.g.norm()) ** 2
        for _ in range(CG_STEPS):
            if not norm > limit:
                break
            product = self.apply(direction) + damping * direction
            # alpha stays on the device: the stopping test is the one read-back per step.
            alpha = norm / direction.dot(product)
            p.add_(alpha * direction)
            residual.sub_(alpha * product)
            norm, previous = residual.dot(residual), norm
            direction = residual + (norm / previous) * direction
        return p

    def curvature(self, p):
        return p.dot(self.apply(p)) + self.alpha * p.dot(p)


def _damped_factor(matrix, damping):
    """Cholesky factor of ``matrix + damping I``; None when that is not positive definite."""
    damped = matrix.clone()
    damped.diagonal().add_(damping)  # the same numbers as adding damping * I, one pass less
    factor, info = torch.linalg.cholesky_ex(damped)
    return None if int(info) != 0 else factor


def _cholesky_solve(factor, rhs):
    """``(L L^T)^-1 rhs`` for the lower factor ``L``, by two triangular solves.

    The same numbers as ``torch.cholesky_solve``, which first copies ``L`` (a trial of
    Levenberg-Marquardt at 300-600 weights: 0.5-0.7x the time, factorisation included).
    """
    half = torch.linalg.solve_triangular(factor, rhs[:, None], upper=False)
    return torch.linalg.solve_triangular(factor.mT, half, upper=True)[:, 0]


class _Dual:
    """The damped system through the residuals, for fewer of them (``n m``) than weights.

    ``(J^T J + lambda I)^-1 J^T r = J^T (J J^T + lambda I)^-1 r`` (with ``J`` and ``r``
    weighted by ``sqrt(S / n)``): the same step from an ``n m x n m`` factorisation
    instead of a ``P x P`` one (docs/levenberg-marquardt.md, "Cost"). With the L2
    penalty the right-hand side is ``J^T r - alpha w`` and the damping ``mu = lambda +
    alpha``; by the same identity the step is
    ``J^T (J J^T + mu I)^-1 (r + (alpha / mu) J w) - (alpha / mu) w``.
    """

    def __init__(
        self,
        weights,
        X,
        Y,
        sample_weight,
        activation,
        alpha=0.0,
        objective=SQUARED_ERROR,
        chunk=CHUNK,
        rows=None,
    ):
        # The squared loss only (_system_type): r must pair with J's rows. Chosen for
        # fewer residuals than weights, never on a subset of many samples.
        if rows is not None:
            raise ValueError("the dual system pairs J with all residuals: no rows")
        # Each chunk is copied as it comes: the next one overwrites the shared buffer.
        parts = _jacobian_chunks(weights, X, Y, sample_weight, activation, chunk=chunk)
        chunks = [(jacobian.clone(), residual) for jacobian, residual in parts]
        self.J = torch.cat([jacobian for jacobian, _ in chunks])
        self.r = torch.cat([residual for _, residual in chunks])
        self.alpha, self.w = alpha, _flat(weights) if alpha else None
        self.g = _penalised(self.J.mT @ self.r, weights, alpha)
        self.K = self.J @ self.J.mT
        self.diagonal = self.J.square().sum(0)

    def solve(self, damping):
        """The step, or None when ``K + damping I`` is not positive definite numerically."""
        if not self.alpha:
            factor = _damped_factor(self.K, damping)
            if factor is None:
                return None
            return self.J.mT @ _cholesky_solve(factor, self.r)
        mu = damping + self.alpha
        factor = _damped_factor(self.K, mu)
        if factor is None:
            return None
        ratio = self.alpha / mu
        return self.J.mT @ _cholesky_solve(factor, self.r + ratio * (self.J @ self.w)) - (
            ratio * self.w
        )

    def curvature(self, p):
        change = self.J @ p
        return change.dot(change) + self.alpha * p.dot(p)


class _Explicit:
    """The damped system by a Cholesky factorisation of the formed ``A + damping I``."""

    def __init__(
        self,
        weights,
        X,
        Y,
        sample_weight,
        activation,
        alpha=0.0,
        objective=SQUARED_ERROR,
        rows=None,
    ):
        if rows is None:
            self.A, g = _normal_equations(weights, X, Y, sample_weight, activation, objective)
        else:  # A on the rows, g on all samples
            subset = _rows_of(rows, X, Y, sample_weight)
            self.A, _ = _normal_equations(weights, *subset, activation, objective)
            g = _full_gradient(weights, X, Y, sample_weight, activation, objective)
        self.alpha, self.g = alpha, _penalised(g, weights, alpha)
        self.diagonal = self.A.diagonal()

    def solve(self, damping):
        """The step, or None when ``A + (damping + alpha) I`` is not positive definite."""
        factor = _damped_factor(self.A, damping + self.alpha)
        if factor is None:
            return None
        return _cholesky_solve(factor, self.g)

    def curvature(self, p):
        return p.dot(self.A @ p) + self.alpha * p.dot(p)


def _system_type(weights, shape, max_explicit=None, objective=SQUARED_ERROR):
    """How the damped system is solved: ``_Explicit``, ``_Dual`` or ``_MatrixFree``."""
    if not has_explicit_system(weights, shape[1], max_explicit):
        return _MatrixFree
    if objective.name != "squared_error" or active():  # g does not pair with the whitened
        return _Explicit  # rows; J J^T needs every process's rows
    # Fewer residuals than weights: factorise n m x n m instead of P x P.
    return _Dual if shape[0] * shape[1] < sum(w.numel() for w in weights) else _Explicit
