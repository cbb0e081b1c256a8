"""The agent ranking's file: what one process learned, the next reads; a file that is not a ranking is
started afresh and replaced; a write that fails is logged and never raises; writes are spaced out."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from smoa_services.ensemble.agent_ranking import AgentRanking
from smoa_services.orchestrator.agent_standing import AgentStanding


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def standing(path: Path | None, clock: Clock | None = None) -> AgentStanding:
    return AgentStanding(AgentRanking(), path, save_seconds=5.0, clock=clock or Clock())


def test_what_one_process_learned_the_next_reads(tmp_path: Path) -> None:
    path = tmp_path / "ranking.json"
    first = standing(path)
    first.load()  # no file yet: a fresh ranking
    first.judged("agent-a", True, 1.0, 20, "You are a chemist.")
    first.judged("agent-a", False, 1.0, 20, "You are a chemist.")
    first.save()
    second = standing(path)
    second.load()
    assert second.ranking.tallies == first.ranking.tallies
    assert second.ranking.tallies["agent-a"].label == "You are a chemist."
    assert [p.name for p in tmp_path.iterdir()] == ["ranking.json"]  # no temporary file left


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"agents": {"a": {"judged": -1}}}', b"\xff"])
def test_a_file_that_is_not_a_ranking_starts_afresh_and_is_replaced(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ranking.json"
    path.write_bytes(content)
    found = standing(path)
    with caplog.at_level(logging.WARNING):
        found.load()
    assert "not usable" in caplog.text and not found.ranking.tallies
    found.judged("agent-a", True, 1.0, 20, "")
    found.save()
    assert "agent-a" in json.loads(path.read_text())["agents"]


def test_a_write_that_fails_is_logged_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A file where the folder should be: no write can succeed, whoever runs the test (root included).
    folder = tmp_path / "ranking"
    folder.write_text("in the way")
    clock = Clock()
    found = standing(folder / "ranking.json", clock)
    with caplog.at_level(logging.WARNING):
        clock.now = 10.0
        found.judged("agent-a", True, 1.0, 20, "")  # saves, and fails
    assert "could not be saved" in caplog.text
    folder.unlink()
    folder.mkdir()
    found.save()  # still unsaved: written now
    assert "agent-a" in json.loads((folder / "ranking.json").read_text())["agents"]


def test_a_file_is_written_at_most_every_save_seconds(tmp_path: Path) -> None:
    path = tmp_path / "ranking.json"
    clock = Clock()
    found = standing(path, clock)
    clock.now = 1.0
    found.judged("agent-a", True, 1.0, 20, "")
    assert not path.exists()  # within save_seconds of the start
    clock.now = 6.0
    found.judged("agent-a", True, 1.0, 20, "")
    assert json.loads(path.read_text())["agents"]["agent-a"]["judged"] == pytest.approx(2.0, rel=1e-3)
    clock.now = 7.0
    found.judged("agent-b", True, 1.0, 20, "")
    assert "agent-b" not in json.loads(path.read_text())["agents"]
    found.save()  # at shutdown
    assert "agent-b" in json.loads(path.read_text())["agents"]


def test_without_a_file_nothing_is_written(tmp_path: Path) -> None:
    found = standing(None)
    found.load()
    found.judged("agent-a", True, 1.0, 20, "")
    found.save()
    assert found.ranking.tallies["agent-a"].judged == 1
