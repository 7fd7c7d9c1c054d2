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

.PHONY: install demo test lint bench bench-suite docs clean

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
