"""`smoa load`'s arguments: durations, warmup, defaults, and refusals before any request is sent."""

from __future__ import annotations

import argparse
import sys

import pytest

from smoa.cli import parser
from smoa.load.command import seconds, shape_from, warmup, window_from
from smoa.options import GenerateOptions
from smoa.ranking import Aggregation, Selection


def parse(*argv: str) -> argparse.Namespace:
    return parser().parse_args(["load", *argv])


def test_durations_and_warmup() -> None:
    assert (seconds("10"), seconds("2.5s"), seconds("500ms"), seconds("2m")) == (10.0, 2.5, 0.5, 120.0)
    assert warmup("20") == (0.0, 20) and warmup("3s") == (3.0, 0)
    with pytest.raises(argparse.ArgumentTypeError):
        seconds("ten")


def test_the_target_comes_from_either_level() -> None:
    assert parse().target == "127.0.0.1:50051"
    assert parser().parse_args(["--target", "dns:///a:1", "load"]).target == "dns:///a:1"
    assert parse("--target", "ipv4:127.0.0.2:5,127.0.0.3:5").target == "ipv4:127.0.0.2:5,127.0.0.3:5"


def test_defaults_are_a_ten_second_closed_loop_of_one() -> None:
    args = parse()
    window = window_from(args)
    assert (args.rate, args.concurrency, window.duration, window.requests) == (None, None, 10.0, None)


def test_request_shape_and_window_from_flags(tmp_path: object) -> None:
    args = parse(
        "--rate", "5", "--requests", "100", "--warmup", "2s", "--mode", "moa", "-n", "3", "-k", "2",
        "--layers", "2", "--stream", "--question", "a?", "--question", "b?",
    )  # fmt: skip
    shape = shape_from(args)
    assert (shape.mode, shape.stream) == ("moa", True)
    assert [shape.request(i).question for i in range(3)] == ["a?", "b?", "a?"]
    assert shape.request(0).options == GenerateOptions(mode="moa", n=3, k=2, max_layers=2)
    assert shape_from(parse()).request(0).options.n is None  # the service's default
    ranked = shape_from(parse("--aggregation", "copeland", "--selection", "top_k")).options
    assert (ranked.aggregation, ranked.selection) == (Aggregation.COPELAND, Selection.TOP_K)
    window = window_from(args)
    assert (window.requests, window.duration, window.warmup_seconds) == (100, None, 2.0)


def test_open_and_closed_loop_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        parse("--rate", "5", "--concurrency", "2")


def test_bad_values_are_refused_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on this target: a refusal must come from the arguments, not from a connection.
    args = parse("--target", "127.0.0.1:1", "--rate", "-1", "--requests", "1")
    assert args.run(args, None) == 2
    assert "rate: must be > 0" in capsys.readouterr().err
    args = parse("--target", "127.0.0.1:1", "-n", "2", "-k", "3", "--requests", "1")
    assert args.run(args, None) == 2
    assert "k: must be <= n (2), got 3" in capsys.readouterr().err


def test_a_missing_load_extra_is_named_before_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "hdrh.histogram", None)  # as if not installed
    args = parse("--target", "127.0.0.1:1", "--requests", "1")
    assert args.run(args, None) == 2
    assert "pip install 'smoa[load]'" in capsys.readouterr().err
