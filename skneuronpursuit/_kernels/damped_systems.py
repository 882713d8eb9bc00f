"""The damped Gauss-Newton systems Levenberg-Marquardt solves (docs/levenberg-marquardt.md).

``(A + lambda I) p = g`` with ``A`` and ``g`` from ``_kernels/gauss_newton.py``: ``A``
formed and factorised by Cholesky while weights times outputs is at most
``MAX_EXPLICIT`` (``_Explicit``; through ``J J^T`` when there are fewer residuals than
weights, ``_Dual``), applied matrix-free by conjugate gradients beyond (``_MatrixFree``).
"""

import torch

from .gauss_newton import (
    CHUNK,
    _diagonal,
    _flat,
    _full_gradient,
    _gradient,
    _jacobian_chunks,
    _normal_equations,
    _penalised,
    _rows_of,
    _transposed_product,
    _unflat,
    _whole_pass,
    has_explicit_system,
    jacobian_product,
)
from .network import SQUARED_ERROR, forward
from .reduction import active, count

CG_STEPS = 50  # conjugate-gradient iterations per solve at most (choice)
CG_TOL = 1e-6  # CG stops once its residual is below this fraction of ||g|| (choice)


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
        passes=None,
    ):
        self.weights, self.activation, self.alpha = weights, activation, alpha
        self.objective = objective
        full = X, Y, sample_weight
        if rows is None:
            self.pre, self.inputs = _whole_pass(weights, X, activation, passes)
        else:  # A on the rows, g on all samples
            X, Y, sample_weight = _rows_of(rows, X, Y, sample_weight)
            self.pre, self.inputs = forward(weights, X, activation)
        self.scale = (sample_weight / count(X.shape[0]))[:, None]
        if rows is None:
            g = _gradient(weights, self.pre, self.inputs, Y, self.scale, activation, objective)
        else:
            g = _full_gradient(weights, *full, activation, objective, passes)
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
        passes=None,
    ):
        # The squared loss only (_system_type): r must pair with J's rows. Chosen for
        # fewer residuals than weights, never on a subset of many samples.
        if rows is not None:
            raise ValueError("the dual system pairs J with all residuals: no rows")
        # Each chunk is copied as it comes: the next one overwrites the shared buffer.
        parts = _jacobian_chunks(
            weights, X, Y, sample_weight, activation, chunk=chunk, passes=passes
        )
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
        passes=None,
    ):
        if rows is None:
            self.A, g = _normal_equations(
                weights, X, Y, sample_weight, activation, objective, passes=passes
            )
        else:  # A on the rows, g on all samples
            subset = _rows_of(rows, X, Y, sample_weight)
            self.A, _ = _normal_equations(weights, *subset, activation, objective)
            g = _full_gradient(weights, X, Y, sample_weight, activation, objective, passes)
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


def _system_type(weights, shape, max_explicit=None, objective=SQUARED_ERROR, rows=None):
    """How the damped system is solved: ``_Explicit``, ``_Dual`` or ``_MatrixFree``.

    ``rows``: the samples ``A`` is formed on, if not all (``curvature_rows``).
    """
    if not has_explicit_system(weights, shape[1], max_explicit):
        return _MatrixFree
    # The dual pairs J's rows with all residuals: not for the log loss (g does not pair
    # with the whitened rows), not across processes (J J^T needs every process's rows),
    # not for A on a subset of the samples.
    if objective.name != "squared_error" or active() or rows is not None:
        return _Explicit
    # Fewer residuals than weights: factorise n m x n m instead of P x P.
    return _Dual if shape[0] * shape[1] < sum(w.numel() for w in weights) else _Explicit
