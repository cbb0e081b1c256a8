"""`smoa load --http`'s arguments: the gateway's URL instead of --target, never both, and refusals before
any request is sent."""

from __future__ import annotations

import argparse
import sys

import pytest

from smoa.cli import parser
from smoa.load.command import describe, shape_from


def parse(*argv: str) -> argparse.Namespace:
    return parser().parse_args(["load", *argv])


def test_http_and_target_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse("--http", "http://127.0.0.1:8000", "--target", "127.0.0.1:50051")
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_url_that_is_not_http_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse("--http", "127.0.0.1:8000")
    assert exited.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_the_run_is_described_as_the_http_call_it_makes() -> None:
    streamed = parse("--http", "http://127.0.0.1:8000/v1", "--stream", "--requests", "5")
    assert streamed.http == "http://127.0.0.1:8000"
    assert describe(streamed, shape_from(streamed)) == (
        "smoa load: POST /v1/chat/completions (stream) mode smoa against http://127.0.0.1:8000, "
        "closed loop, concurrency 1, 5 requests"
    )
    plain = parse("--http", "http://127.0.0.1:8000", "--rate", "5", "--mode", "moa")
    assert describe(plain, shape_from(plain)).startswith(
        "smoa load: POST /v1/chat/completions mode moa against http://127.0.0.1:8000, open loop 5/s"
    )
    assert parse().http is None  # gRPC, as before


def test_a_missing_http_client_is_named_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "httpx2", None)  # as if the load extra were not installed
    monkeypatch.delitem(sys.modules, "smoa.load.gateway_calls", raising=False)
    args = parse("--http", "http://127.0.0.1:1", "--requests", "1")
    assert args.run(args, None) == 2
    assert "--http needs the load extra: pip install 'smoa[load]'" in capsys.readouterr().err
