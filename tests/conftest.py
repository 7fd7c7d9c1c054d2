"""Fixtures and markers shared by the test modules.

Doubles and servers that the benchmarks use too live in ``sklearn_kcm._testing``.
"""

import pytest
import torch
from sklearn.datasets import load_iris

from sklearn_kcm._ensemble._fit_cache import RECENT_FITS


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA device; skipped without one")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_fit_cache():
    """Each test starts with no first stage of an earlier test's fit in memory: a test that
    patches what a fit does must see that fit run."""
    RECENT_FITS.clear()
    yield
    RECENT_FITS.clear()


@pytest.fixture(scope="session")
def iris():
    """The iris data, ``(X, y)``."""
    return load_iris(return_X_y=True)
