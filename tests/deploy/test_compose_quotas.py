"""docker-compose.quotas.yml over docker-compose.yml, as docker-compose renders the pair: the orchestrator
gets its quota file and a Redis to count in, the file parses as smoa reads it, and Redis stays inside the
project's network."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from smoa_services.orchestrator.quota import quota_file
from tests.deploy import compose_config, settings_env
from tests.deploy.paths import ROOT

QUOTAS = (*compose_config.BASE, ROOT / "docker-compose.quotas.yml")


def test_the_orchestrator_counts_in_the_overlays_redis_and_reads_its_quota_file() -> None:
    services = compose_config.services(QUOTAS)
    env = compose_config.environment(QUOTAS, "orchestrator")
    redis = urllib.parse.urlsplit(env["SMOA_REDIS_URL"])
    assert redis.scheme == "redis" and redis.hostname == "redis" and redis.port == 6379
    assert services["orchestrator"]["depends_on"]["redis"]["condition"] == "service_healthy"
    # docker-compose renders a bind mount as "source:target:mode".
    [(source, mode)] = [
        (v.split(":")[0], v.split(":")[2:])
        for v in services["orchestrator"]["volumes"]
        if v.split(":")[1] == env["SMOA_QUOTA_FILE"]
    ]
    assert mode == ["ro"] and Path(source).is_file()
    assert quota_file(Path(source).read_text())["*"].tokens_per_minute > 0
    configured = settings_env.load("orchestrator", env)
    assert configured.redis_url == env["SMOA_REDIS_URL"] and configured.quota_fail_open


def test_redis_is_not_published_saves_nothing_and_is_checked() -> None:
    redis = compose_config.services(QUOTAS)["redis"]
    assert "ports" not in redis and redis["read_only"]
    assert redis["command"][redis["command"].index("--save") + 1] == ""
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_every_other_service_is_as_the_base_has_it() -> None:
    alone, overlaid = compose_config.services(compose_config.BASE), compose_config.services(QUOTAS)
    assert set(overlaid) == set(alone) | {"redis"}
    assert all(overlaid[name] == alone[name] for name in alone if name != "orchestrator")
