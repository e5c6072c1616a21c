"""Shared fixtures of the NAS tests (imported by tests/test_nas_*.py)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small networks run far faster on one thread on a shared 2-core machine; restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session", name="digits")
def digits_fixture():
    """The digits data (import ``digits_fixture``; tests ask for ``digits``)."""
    from archgym.envs.nas.data import load_digits_data

    return load_digits_data(seed=0)
