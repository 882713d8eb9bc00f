import pytest
import torch

# The settings of a quick fit, shared by the test files; a file that needs others
# derives them from these explicitly, e.g. ``{**FAST, "max_iter": 3}``.
FAST = dict(n_restarts=8, ncf_steps=150, gd_steps=400, random_state=0)


@pytest.fixture(autouse=True)
def _few_threads():
    # The suite runs on 2 cores; many tiny torch ops are fastest single-threaded.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
