# Two entry points (README): `make test` runs every test from a fresh clone; `make bench` measures the core.
# Every target creates what it needs, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

.PHONY: test bench build build-release venv cargo-test stubtest lint pytest clean

test: cargo-test build stubtest lint pytest

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --group dev
	touch $@

venv: $(VENV)/.installed

# Debug build for tests (fast to compile); release only where speed is measured.
build: venv
	$(VENV)/bin/maturin develop --quiet

build-release: venv
	$(VENV)/bin/maturin develop --quiet --release

cargo-test:
	cargo test --quiet -p smoa_core_rs

stubtest: build
	$(PY) -m mypy.stubtest smoa_core_rs --mypy-config-file pyproject.toml

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

pytest: build
	$(PY) -m pytest -q

bench: build-release
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) target
