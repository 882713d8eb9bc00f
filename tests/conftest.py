from dataclasses import fields

import pytest
import torch

from skneuronpursuit import PursuitOptions

_OPTION_NAMES = {field.name for field in fields(PursuitOptions)}


def _flat(params):
    """``params`` with the non-default fields of its ``options`` as plain keys."""
    params = dict(params or {})
    options = params.pop("options", None)
    if options is not None:
        default = PursuitOptions()
        for field in fields(PursuitOptions):
            if getattr(options, field.name) != getattr(default, field.name):
                params[field.name] = getattr(options, field.name)
    return params


def fast_params(base=None, **changes):
    """Estimator parameters: ``changes`` on top of ``base``, the fields of
    :class:`PursuitOptions` among them gathered into ``options``."""
    params = {**_flat(base), **_flat(changes)}
    knobs = {name: params.pop(name) for name in list(params) if name in _OPTION_NAMES}
    if knobs:
        params["options"] = PursuitOptions(**knobs)
    return params


# The settings of a quick fit, shared by the test files; a file that needs others
# derives them from these explicitly, e.g. ``fast_params(FAST, max_iter=3)``.
FAST = fast_params(n_restarts=8, ncf_steps=150, gd_steps=400, random_state=0)


@pytest.fixture(autouse=True)
def _few_threads():
    # The suite runs on 2 cores; many tiny torch ops are fastest single-threaded.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
