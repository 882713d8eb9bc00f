"""Resolving the ``device`` and ``dtype`` hyperparameters to torch objects."""

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}


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
    return resolved
