"""Resolving the ``device`` and ``dtype`` hyperparameters to torch objects, and the CPU
threads a fit runs on."""

from contextlib import contextmanager

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Devices that have passed the probe, by their resolved name.
_PROBED = set()


def _probe(device):
    """Raise unless ``device`` can hold a tensor, compute on it and copy it back.

    Some device types parse and even allocate (``"meta"`` has no data) without
    being able to run the fit; a tiny round trip finds out before the fit starts.
    """
    if str(device) in _PROBED:
        return
    try:
        values = torch.arange(4, dtype=torch.float32, device=device)
        result = (values @ values).to("cpu")
        if float(result) != 14.0:
            raise RuntimeError(f"a test product gave {float(result)} instead of 14")
    except Exception as error:  # torch raises assorted types for unusable devices
        raise ValueError(
            f"device={str(device)!r} cannot compute with tensors (e.g. use 'auto', 'cpu', 'cuda', "
            f"'cuda:1'): {type(error).__name__}: {error}"
        ) from None
    _PROBED.add(str(device))


def resolve_device(device):
    """``"auto"`` is CUDA when available, else CPU; anything else must be a usable torch device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as error:
        raise ValueError(
            f"device={device!r} is not a valid torch device (e.g. 'auto', 'cpu', 'cuda', "
            f"'cuda:1'): {error}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    if resolved.type != "cpu":
        _probe(resolved)
    return resolved


# (choice) A CPU fit of at most this many input values (rows x columns) runs on one torch
# thread: there a second thread costs more than it saves (docs/engineering.md, "Threads
# and parallel fits"), and a fit on one thread does not depend on how many the process has.
ONE_THREAD_VALUES = 1 << 14


@contextmanager
def fit_threads(device, X):
    """Run the block on one torch thread for a small CPU fit (inputs ``X``, dense or
    sparse, of at most ``ONE_THREAD_VALUES`` rows x columns), on the threads as they are
    otherwise.

    ``torch.set_num_threads`` sets the calling thread's count, and the count with which a
    Python thread that first runs torch work meanwhile starts (and keeps); threads
    already running keep theirs.
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or X.shape[0] * X.shape[1] > ONE_THREAD_VALUES or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
