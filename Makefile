# The two commands: `make demo` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch first: 2.13.0 is a local CPU wheel here, so nothing pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
ENVS := $(wildcard environments/*/pyproject.toml)

.PHONY: install system-deps demo test test-fast lint bench clean

$(VENV)/.installed: pyproject.toml $(ENVS)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[hub,train,adapters,dev,bench,mcp]"
	for d in $(dir $(ENVS)); do $(PIP) install -q --no-deps -e $$d || exit 1; done
	touch $@

install: $(VENV)/.installed

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(PY) scripts/demo.py

test: install system-deps
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: install
	$(VENV)/bin/ruff check src tests bench environments scripts
	$(VENV)/bin/ruff format --check src tests bench environments scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: install system-deps
	for b in bench/*.py; do case $$b in */_*) continue;; esac; echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .demo runs build dist
