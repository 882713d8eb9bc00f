"""Resolving the ``device`` and ``dtype`` hyperparameters to torch objects."""

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
            f"device={str(device)!r} cannot run the fit (e.g. use 'auto', 'cpu', 'cuda', "
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
