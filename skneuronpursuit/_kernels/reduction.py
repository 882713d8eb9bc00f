"""Sums over samples across processes: the one place the engine talks to torch.distributed.

Every quantity the growth needs from the data is a sum over samples (docs/big-data.md):
loss values, gradients, NCF values and gradients, the RMS scales, the curvature ``Q``,
the Gauss-Newton products ``J^T J`` and ``J^T r``, and the number of samples ``n``. A
data-parallel fit holds a block of the rows in each process, and the kernels pass each
such sum through :func:`all_sum` as it leaves them: the identity in a single process
(the fit is bit for bit the one it was), ``torch.distributed.all_reduce`` while a
:func:`distributed` context is active. Every process then holds the same numbers, takes
the same decisions and grows the same network.

The state is per thread, so a thread of a process that is in a distributed fit does not
reduce the sums of another fit in another thread.
"""

import threading
from contextlib import contextmanager

import numpy as np
import torch

_state = threading.local()


class _Group:
    """The process group of an active data-parallel fit and what went through it."""

    def __init__(self, group):
        self.group = group
        self.spans = []  # (global start, local start, rows) of each block held here
        self.bytes = 0  # bytes all-reduced by this process (each call's payload once)
        self.calls = 0

    def set_blocks(self, blocks):
        """This process holds the blocks ``[(index, n_rows), ...]``, one after the other.

        The global rows are the blocks of all processes in the order of their indices,
        whichever process holds them: a random draw of global rows (``ncf_samples``) then
        picks the same rows on any placement of the blocks.
        """
        gathered = [None] * torch.distributed.get_world_size(self.group)
        torch.distributed.all_gather_object(gathered, list(blocks), group=self.group)
        sizes = dict(pair for part in gathered for pair in part)
        starts, start = {}, 0
        for index in sorted(sizes):
            starts[index], start = start, start + sizes[index]
        self.spans, local = [], 0
        for index, size in blocks:
            self.spans.append((starts[index], local, size))
            local += size


def _active():
    return getattr(_state, "group", None)


def active():
    """Whether a data-parallel fit is running in this thread."""
    return _active() is not None


@contextmanager
def distributed(group=None):
    """Reduce every sum over samples over ``group`` (None: the default group) meanwhile.

    Parameters
    ----------
    group : ProcessGroup or None
        A ``torch.distributed`` group, initialised; None for the default one.

    Yields
    ------
    _Group
        Its ``set_blocks(blocks)`` tells :func:`local_rows` which global rows are this
        process's; its ``bytes`` and ``calls`` count what this process all-reduced.
    """
    previous = _active()
    state = _Group(group)
    _state.group = state
    try:
        yield state
    finally:
        _state.group = previous
        _state.last = state


def _reduce(tensor, op):
    state = _active()
    if state is None:
        return tensor
    flat = tensor.contiguous()
    if flat is tensor:
        flat = tensor.clone()
    op = torch.distributed.ReduceOp.SUM if op == "sum" else torch.distributed.ReduceOp.MAX
    torch.distributed.all_reduce(flat, op=op, group=state.group)
    state.bytes += flat.numel() * flat.element_size()
    state.calls += 1
    return flat


def all_sum(tensor):
    """``tensor`` summed over the processes (a new tensor); ``tensor`` itself in one."""
    return _reduce(tensor, "sum")


def all_sum_list(tensors):
    """Each of ``tensors`` summed over the processes, in one all-reduce; the list itself
    in a single process."""
    if not active():
        return tensors
    flat = all_sum(torch.cat([t.reshape(-1) for t in tensors]))
    parts, start = [], 0
    for t in tensors:
        parts.append(flat[start : start + t.numel()].view(t.shape))
        start += t.numel()
    return parts


def all_max(tensor):
    """The elementwise maximum over the processes; ``tensor`` itself in one."""
    return _reduce(tensor, "max")


def count(n):
    """The number of samples of all processes, for ``n`` here (an int)."""
    if not active():
        return n
    return int(all_sum(torch.tensor([n], dtype=torch.int64, device=_device()))[0])


def mean(values):
    """``values.mean()`` over the samples of all processes (dim 0 of a 1-D tensor)."""
    if not active():
        return values.mean()
    return all_sum(values.sum()) / count(values.shape[0])


def any_columns(used):
    """Columns used (a bool tensor) by any process."""
    if not active():
        return used
    return all_sum(used.to(torch.int64)) > 0


def local_rows(rows):
    """Of sorted global row indices (ndarray), those of this process, as local indices."""
    state = _active()
    if state is None:
        return rows
    parts = [rows[:0]]
    for start, local, size in state.spans:
        first, last = np.searchsorted(rows, [start, start + size])
        parts.append(rows[first:last] - start + local)
    return np.concatenate(parts)


def _device():
    state = _active()
    backend = torch.distributed.get_backend(state.group)
    return torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else "cpu"


def all_gather_int(value):
    """``value`` (an int) of every process, in rank order."""
    state = _active()
    if state is None:
        return [value]
    size = torch.distributed.get_world_size(state.group)
    parts = [torch.zeros(1, dtype=torch.int64, device=_device()) for _ in range(size)]
    torch.distributed.all_gather(
        parts, torch.tensor([value], dtype=torch.int64, device=_device()), group=state.group
    )
    return [int(p[0]) for p in parts]


def sum_array(array):
    """A float64 NumPy array summed over the processes (itself in a single one)."""
    return _numpy_reduce(array, "sum")


def max_array(array):
    """The elementwise maximum of a float64 NumPy array over the processes."""
    return _numpy_reduce(array, "max")


def _numpy_reduce(array, how):
    if not active():
        return array
    tensor = torch.as_tensor(np.asarray(array, dtype=np.float64)).to(_device())
    reduced = all_sum(tensor) if how == "sum" else all_max(tensor)
    return reduced.cpu().numpy()


def bytes_communicated():
    """Bytes this process all-reduced in the active data-parallel fit, or else in the last
    one of this thread (0 before any)."""
    state = _active() or getattr(_state, "last", None)
    return 0 if state is None else state.bytes
