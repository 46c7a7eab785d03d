# Quick start: `make demo` runs the main job, `make test` runs the tests; both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: install demo test lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first, pinned: a bare `torch` requirement may pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python -m skgliclass demo

lint: install
	$(BIN)/python -m ruff check skgliclass tests examples benchmarks

test: lint docs
	$(BIN)/python -m pytest -q --durations=30

# The docs site, warnings as errors. sphinx-gallery runs every example (their outputs and figures go on the
# site) and fails the build when one raises, its closing asserts included: the examples are tested here, not by pytest.
docs: install
	rm -rf docs/_build docs/api docs/auto_examples docs/sg_execution_times.rst
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/api docs/auto_examples docs/sg_execution_times.rst
