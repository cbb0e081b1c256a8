"""Settings: defaults that work offline, SMOA_* variables, flags over variables, named errors."""

import pytest

from smoa_services.config import EMBEDDED_BASE_URL, Settings


def test_defaults_point_at_the_embedded_model() -> None:
    s = Settings.load("proposer", [], environ={})
    assert s.llm_base_url == EMBEDDED_BASE_URL
    assert s.port == 50052
    assert s.backend().model == "smollm2-135m"


def test_flags_win_over_environment() -> None:
    env = {"SMOA_PORT": "7000", "SMOA_N": "6", "SMOA_LLM_MODEL": "m-env"}
    s = Settings.load("judge", ["--port", "7001", "--llm-model", "m-flag"], environ=env)
    assert (s.port, s.n, s.llm_model) == (7001, 6, "m-flag")


def test_named_backends_and_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTHER_KEY", "sk-test")
    spec = '{"big": {"base_url": "http://x/v1", "model": "big-model", "api_key_env": "OTHER_KEY"}}'
    s = Settings.load("proposer", [], environ={"SMOA_BACKENDS": spec})
    assert s.backend("big").model == "big-model"
    assert s.backend("big").api_key() == "sk-test"
    with pytest.raises(KeyError):
        s.backend("missing")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMOA_N": "zero"}, "SMOA_N"),
        ({"SMOA_K": "0"}, "k"),
        ({"SMOA_DEDUP_THRESHOLD": "1.5"}, "dedup_threshold"),
        ({"SMOA_BACKENDS": "not json"}, "backends"),
        # Past what the core's quadratic work takes: every judge call would fail.
        ({"SMOA_MAX_CANDIDATES": "2000"}, "max_candidates"),
        ({"SMOA_N": "40"}, "n"),
        ({"SMOA_MAX_LAYERS": "11"}, "max_layers"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Settings.load("orchestrator", [], environ=env)


@pytest.mark.parametrize(
    ("raw", "ok"), [("off", True), ("p95", True), ("0.25", True), ("0", False), ("p99", False)]
)
def test_hedge_settings_are_off_p95_or_seconds(raw: str, ok: bool) -> None:
    environ = {"SMOA_LLM_HEDGE_AFTER": raw}
    if ok:
        assert Settings.load("proposer", [], environ=environ).llm_hedge_after == raw
    else:
        with pytest.raises(ValueError, match="llm_hedge_after"):
            Settings.load("proposer", [], environ=environ)


def test_a_named_backend_without_its_own_key_setting_gets_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOA_LLM_API_KEY", "sk-default-provider")
    spec = '{"other": {"base_url": "https://elsewhere.example/v1", "model": "m"}}'
    s = Settings.load("proposer", [], environ={"SMOA_BACKENDS": spec})
    assert s.backend().api_key() == "sk-default-provider"
    assert s.backend("other").api_key() == "no-key"
