"""Fixtures and markers shared by the test modules.

Doubles and servers that the benchmarks use too live in ``sklearn_kcm._testing``.
"""

import pytest
import torch
from sklearn.datasets import load_iris


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA device; skipped without one")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def iris():
    """The iris data, ``(X, y)``."""
    return load_iris(return_X_y=True)
