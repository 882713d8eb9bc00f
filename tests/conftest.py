import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads():
    # The suite runs on 2 cores; many tiny torch ops are fastest single-threaded.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
