"""Refusing, before it starts, a fit whose working set cannot fit in device memory."""

import os

import torch


def estimate_working_set(n_samples, n_inputs, n_outputs, depth, n_restarts, max_iter, dtype):
    """Bytes a fit may hold at once, for the widest network it can grow.

    Counts the data, gradient descent's copy of it (samples in columns), its
    activations and signals, and the
    batched candidate search (padded layer inputs and signals, and the
    ``n_samples x n_restarts`` products of every hidden layer; docs/algorithm.md §8).
    """
    itemsize = torch.empty((), dtype=dtype).element_size()
    n_hidden = depth - 1
    widest = max_iter  # a hidden layer gets at most one neuron per iteration
    total_hidden = n_hidden + max_iter - 1
    data = n_samples * (n_inputs + n_outputs + 1)
    descent = n_samples * (n_inputs + n_outputs) + 4 * n_samples * (total_hidden + n_outputs)
    search = (
        n_hidden
        * n_samples
        * (2 * (max(n_inputs, widest) + max(widest, n_outputs)) + 5 * n_restarts)
    )
    return itemsize * (data + descent + search)


def available_memory(device):
    """Free bytes on ``device``, or ``None`` where it cannot be read."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    if device.type == "cpu" and hasattr(os, "sysconf"):
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            return None
    return None


def check_memory(device, **sizes):
    """Raise ``MemoryError`` if the estimated working set exceeds the free memory."""
    needed = estimate_working_set(**sizes)
    free = available_memory(device)
    if free is not None and needed > free:
        raise MemoryError(
            f"This fit would need about {needed / 2**30:.2f} GiB of {device} memory (the data, "
            f"a network of up to max_iter={sizes['max_iter']} neurons and the batched search "
            f"over n_restarts={sizes['n_restarts']}), but only {free / 2**30:.2f} GiB is free. "
            "Use fewer samples or a smaller n_restarts or max_iter"
            + (", or dtype='float32'." if sizes["dtype"] == torch.float64 else ".")
        )
    return needed
