"""Refusing, before it starts, a fit whose working set cannot fit in device memory."""

import os

import torch


def estimate_working_set(
    n_samples, n_inputs, n_outputs, depth, n_restarts, max_iter, dtype, n_nonzero=None
):
    """Bytes a fit may hold at once, for the widest network it can grow.

    Counts the data, gradient descent's copy of it (samples in columns), its
    activations and signals, the batched candidate search (padded layer inputs and
    signals, and the ``n_samples x n_restarts`` products of every hidden layer;
    docs/algorithm.md §8), and what grows with the number of inputs: the first layer's
    weights, the restarts' starting points (drawn in float64) and the search's points
    and gradients.

    ``n_nonzero`` is given for a sparse ``X``: it is then held as two CSR matrices
    (``X`` and ``X^T``, values and 64-bit indices), is not copied by gradient descent,
    and its candidates are searched in a batch of their own, not padded.
    """
    # Plain integers: NumPy integers (an np.int8 max_iter) would overflow.
    n_samples, n_inputs, n_outputs = int(n_samples), int(n_inputs), int(n_outputs)
    depth, n_restarts, max_iter = int(depth), int(n_restarts), int(max_iter)
    itemsize = torch.empty((), dtype=dtype).element_size()
    n_hidden = depth - 1
    widest = max_iter  # a hidden layer gets at most one neuron per iteration
    total_hidden = n_hidden + max_iter - 1
    per_input = n_hidden * n_restarts * 8 + 4 * n_restarts * itemsize + 2 * widest * itemsize
    if n_nonzero is None:
        data = n_samples * (n_inputs + n_outputs + 1) * itemsize
        copy = n_samples * n_inputs
        padded_input = max(n_inputs, widest)
    else:
        data = 2 * (int(n_nonzero) * (itemsize + 8) + (n_samples + 1) * 8)
        data += n_samples * (n_outputs + 1) * itemsize
        copy = 0
        padded_input = widest
    descent = copy + n_samples * n_outputs + 4 * n_samples * (total_hidden + n_outputs)
    search = n_hidden * n_samples * (2 * (padded_input + max(widest, n_outputs)) + 5 * n_restarts)
    return data + itemsize * (descent + search) + n_inputs * per_input


def _read_int(path):
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_headroom():
    """Bytes left under this process's cgroup memory limit, or None without a limit."""
    for limit_path, usage_path in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit, usage = _read_int(limit_path), _read_int(usage_path)
        # v1 reports "no limit" as a huge number (close to 2**63).
        if limit is not None and usage is not None and limit < 2**60:
            return max(limit - usage, 0)
    return None


def _meminfo_available():
    """``MemAvailable`` of /proc/meminfo (free plus reclaimable cache), or None."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_memory(device):
    """Bytes available on ``device``, or ``None`` where it cannot be read.

    On the CPU: the memory the kernel can hand out without swapping (``MemAvailable``,
    which counts reclaimable cache, unlike the free pages), and no more than the
    headroom under a cgroup memory limit (a container's).
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    if device.type != "cpu":
        return None
    available = _meminfo_available()
    if available is None and hasattr(os, "sysconf"):
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            available = None
    headroom = _cgroup_headroom()
    if headroom is not None:
        available = headroom if available is None else min(available, headroom)
    return available


def check_fit_memory(device, settings, dtype, n_samples, n_inputs, n_outputs, n_nonzero=None):
    """:func:`check_memory` of a fit with ``settings`` (depth, restarts, ``max_iter``) on
    ``n_samples`` rows of ``n_inputs`` inputs (the intercept column counted)."""
    return check_memory(
        device,
        n_samples=n_samples,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
        depth=settings.depth,
        n_restarts=settings.n_restarts,
        max_iter=settings.max_iter,
        dtype=dtype,
        n_nonzero=n_nonzero,
    )


def check_memory(device, **sizes):
    """Raise ``MemoryError`` if the estimated working set exceeds the free memory."""
    needed = estimate_working_set(**sizes)
    free = available_memory(device)
    if free is not None and needed > free:
        raise MemoryError(
            f"This fit would need about {needed / 2**30:.2f} GiB of {device} memory (the data, "
            f"a network of depth={sizes['depth']} and up to max_iter={sizes['max_iter']} "
            f"neurons, and the batched search over n_restarts={sizes['n_restarts']}), but "
            f"only {free / 2**30:.2f} GiB is free. "
            "Use fewer samples or a smaller depth, n_restarts or max_iter"
            + (", or dtype='float32'." if sizes["dtype"] == torch.float64 else ".")
        )
    return needed
