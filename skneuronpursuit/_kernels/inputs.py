"""Sparse inputs for the first layer.

Only the first weight layer touches ``X`` (docs/algorithm.md §1, §8): the forward
product ``X W_1^T``, the gradient ``G^T X`` and, for the candidates of the first
hidden layer, ``X A^T`` and ``C^T X``. For a sparse ``X`` (the one-hot inputs of
modular addition have 3 non-zeros in 119 columns) these are sparse-dense products
costing ``nnz(X) k`` instead of ``n d k``. :class:`SparseInputs` keeps ``X`` and
``X^T`` as CSR matrices, because torch multiplies CSR fast and CSC slowly, and
answers ``@`` like the dense ``(n, d)`` tensor it stands for, so the network code
is the same for both.
"""

import warnings

import numpy as np
import scipy.sparse
import torch

from .blocks import row_blocks


def _csr(crow_indices, col_indices, values, shape):
    """A torch CSR tensor from canonical parts (sorted indices, no duplicates)."""
    return torch.sparse_csr_tensor(
        crow_indices, col_indices, values, size=shape, check_invariants=False
    )


def _silence_beta_warning():
    """Have torch emit its once-per-process "CSR support is in beta" warning now, unseen.

    Done once, at import, rather than around every construction: entering and
    leaving ``warnings.catch_warnings`` swaps the process-wide filter list, and two
    threads doing so at once can leave the ``ignore`` filter installed for good.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        _csr(
            torch.zeros(2, dtype=torch.int64),
            torch.zeros(0, dtype=torch.int64),
            torch.zeros(0),
            (1, 1),
        )


_silence_beta_warning()


def as_tensor(array, dtype=None, device=None):
    """``array`` as a tensor, sharing its memory where torch can.

    torch warns (once per process, in the user's output) when it shares a read-only
    array, such as the rows joblib memory-maps for its workers or a model loaded with
    ``joblib.load(..., mmap_mode="r")``. Nothing here writes to its inputs, so the
    warning would be false: a read-only array is copied instead, and only those.
    """
    array = np.asarray(array)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def _csr_tensor(matrix, dtype, device):
    """A canonical ``scipy.sparse`` CSR matrix as a torch CSR tensor.

    Indices are 32-bit when they fit: the CPU product (MKL) takes them as they
    are instead of converting 64-bit ones at every call (1.1-1.6x faster).
    """
    fits = max(matrix.nnz, *matrix.shape) < np.iinfo(np.int32).max
    index_dtype = np.int32 if fits else np.int64
    return _csr(
        torch.from_numpy(matrix.indptr.astype(index_dtype)).to(device),
        torch.from_numpy(matrix.indices.astype(index_dtype)).to(device),
        as_tensor(matrix.data, dtype=dtype, device=device),
        matrix.shape,
    )


def _with_values(matrix, values):
    """``matrix``'s sparsity pattern with other values."""
    return _csr(matrix.crow_indices(), matrix.col_indices(), values, matrix.shape)


def _product(matrix, other):
    """``matrix @ other`` for a CSR ``matrix`` (m, r) and a dense ``other`` (..., r, k)."""
    if other.ndim == 1:
        return (matrix @ other[:, None])[:, 0]
    if other.ndim == 2:
        return matrix @ other
    batch, (rows, cols) = other.shape[:-2], other.shape[-2:]
    if other.shape[:-2].numel() == 1:  # a batch of one: a view, no copies
        return (matrix @ other.reshape(rows, cols)).reshape(*batch, matrix.shape[0], cols)
    # torch multiplies CSR by 2-D tensors only: put the batch into the columns.
    flat = other.reshape(-1, rows, cols).transpose(0, 1).reshape(rows, -1)
    out = (matrix @ flat).reshape(matrix.shape[0], -1, cols).transpose(0, 1)
    return out.reshape(*batch, matrix.shape[0], cols)


class SparseInputs:
    """A sparse ``(n, d)`` input matrix that multiplies like a dense tensor.

    Supports what the engine does with ``X``: ``X @ M`` for ``M`` of shape
    ``(..., d, k)`` or ``(d,)``, ``M @ X`` for ``M`` of shape ``(..., k, n)``, and
    division by a scalar tensor.

    Parameters
    ----------
    matrix, transposed : Tensor
        ``X`` and ``X^T`` in torch's sparse CSR layout.
    """

    def __init__(self, matrix, transposed):
        self.matrix, self.transposed = matrix, transposed
        self.shape, self.dtype, self.device = matrix.shape, matrix.dtype, matrix.device

    @classmethod
    def from_scipy(cls, X, dtype, device):
        """From a ``scipy.sparse`` matrix or array of any format."""
        X = scipy.sparse.csr_matrix(X, copy=True)  # leaves the caller's matrix alone
        X.sum_duplicates()  # canonical: sorted indices, no duplicates
        return cls(_csr_tensor(X, dtype, device), _csr_tensor(X.T.tocsr(), dtype, device))

    @property
    def nnz(self):
        """Number of stored entries of ``X``."""
        return self.matrix.values().numel()

    def __matmul__(self, other):
        return _product(self.matrix, other)

    def __rmatmul__(self, other):
        # M @ X = (X^T @ M^T)^T
        return _product(self.transposed, other.mT).mT

    def __truediv__(self, scale):
        factor = scale.reshape(()).reciprocal()
        return SparseInputs(
            _with_values(self.matrix, self.matrix.values() * factor),
            _with_values(self.transposed, self.transposed.values() * factor),
        )

    def used_columns(self):
        """Whether each column has a non-zero entry, a bool tensor of shape (d,)."""
        squares = _with_values(self.transposed, self.transposed.values().square())
        return _product(squares, self.matrix.values().new_ones(self.shape[0])) > 0

    def squared_row_norms(self):
        """``||x_i||^2`` for every row, shape (n,)."""
        squares = _with_values(self.matrix, self.matrix.values().square())
        return _product(squares, self.matrix.values().new_ones(self.shape[1]))


def transposed_product(values, X, out=None):
    """``values.mT @ X`` for dense or sparse ``X``: the gradient of a first layer.

    Called explicitly rather than through ``Tensor.__matmul__``, whose fallback to
    ``SparseInputs.__rmatmul__`` goes through a raised and caught ``TypeError``.
    For dense ``X`` the narrower operand goes first, computing ``(X.mT @ values).mT``
    when ``X`` has fewer columns: torch's CPU products of two transposed tall
    matrices are several times faster that way round when the widths differ a lot
    (e.g. 16 and 1: 34 against 220 us; docs/engineering.md). ``out``: for dense ``X``,
    a tensor of :func:`transposed_product_buffer` that the product is written into where
    :func:`dense_product` writes one (the same numbers).
    """
    if isinstance(X, SparseInputs):
        return X.__rmatmul__(values.mT)
    if _narrower_first(values, X):
        return dense_product(X.mT, values, out).mT
    return dense_product(values.mT, X, out)


def _narrower_first(values, X):
    return X.shape[-1] < values.shape[-1]


def transposed_product_buffer(values, X):
    """A tensor for ``out`` of :func:`transposed_product` on dense tensors shaped like these."""
    if _narrower_first(values, X):
        return X.new_empty(X.shape[:-2] + (X.shape[-1], values.shape[-1]))
    return X.new_empty(X.shape[:-2] + (values.shape[-1], X.shape[-1]))


def dense_product(a, b, out=None):
    """``a @ b``, with the product kernel chosen for the engine's shapes; where that is one
    ``torch.mm`` or ``torch.bmm``, written into ``out`` when it is given.

    - Two dense 3-D tensors with one batch size go to ``torch.bmm``: the same kernel
      ``@`` reaches, so the same numbers, without ``torch.matmul``'s broadcasting
      work (11 instead of 17 us for the candidate search's products on iris-sized
      data, 2 x 135 x 5 by 2 x 5 x 16; 68 instead of 89 us at 3 x 1600 x 20).
    - One matrix and a batch of them (the restarts of the first iteration, ``X`` times
      every restart's first layer, and back): the batch is folded into the columns or
      the rows of one matrix product. ``@`` would broadcast the matrix over the batch
      and run one matrix-vector product per restart: 0.8 and 0.3 ms against
      0.05 ms at 3200 x 21 by 16 restarts of one neuron.
    - Batched dot products (one row times one column): a multiply and a sum; ``bmm``
      takes 0.16 ms for 16 of length 3200.

    A product with a single output row or column otherwise stays with ``@``, which
    computes it as matrix-vector products.
    """
    if not isinstance(a, torch.Tensor):
        return a @ b
    a_dim, b_dim = a.dim(), b.dim()
    if a_dim == 2 and b_dim == 2:
        return torch.mm(a, b, out=out)  # what ``@`` calls for two matrices, without its dispatch
    if a_dim == 2 and b_dim == 3:
        batch, inner, columns = b.shape
        folded = a @ b.transpose(0, 1).reshape(inner, batch * columns)
        return folded.view(a.shape[0], batch, columns).transpose(0, 1).contiguous()
    if a_dim == 3 and b_dim == 2:
        batch, rows, inner = a.shape
        return (a.reshape(batch * rows, inner) @ b).view(batch, rows, b.shape[1])
    if a_dim == 3 and b_dim == 3 and a.shape[0] == b.shape[0]:
        if a.shape[-2] == 1 and b.shape[-1] == 1 and a.shape[-1] == b.shape[-2]:
            return (a.mT * b).sum(-2, keepdim=True)
        if a.shape[-2] > 1 and b.shape[-1] > 1:
            return torch.bmm(a, b, out=out)
    return a @ b


def used_columns(X):
    """Whether each column of ``X`` (dense or :class:`SparseInputs`) has a non-zero entry."""
    if isinstance(X, SparseInputs):
        return X.used_columns()
    # By blocks of rows (_kernels/blocks.py): a sum of squares is positive where any
    # block's is.
    used = None
    for rows in row_blocks(X.shape[0]):
        block = X[rows].square().sum(dim=0) > 0
        used = block if used is None else used.logical_or_(block)
    return used
