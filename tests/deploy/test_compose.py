"""docker-compose.yml: valid for docker-compose (the schema check of `docker-compose config`, which needs no
engine), and shaped as the deployment needs: one image for every smoa component, health checks on the gRPC
health protocol (HTTP for the gateway and the model), start order by health, replicas reached through
dns:/// targets, traces and metrics to a collector that Prometheus scrapes, non-root and read-only
containers, the orchestrator and the HTTP gateway as the front doors."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from smoa import cli
from smoa_services.config import DEFAULT_PORTS
from tests.deploy import served_gateway, settings_env
from tests.deploy.commands import SERVICE_MODULES, module_of, option
from tests.deploy.compose_venv import docker_compose
from tests.deploy.paths import COLLECTOR_CONFIG, COMPOSE_FILE, PROMETHEUS_CONFIG, ROOT

COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())  # merge keys (<<) resolved
SERVICES: dict[str, Any] = COMPOSE["services"]
GRPC = ["orchestrator", "proposer", "judge", "moderator"]
SMOA = [*GRPC, "gateway", "model"]
PEERS = {
    "SMOA_PROPOSER_TARGET": "proposer",
    "SMOA_JUDGE_TARGET": "judge",
    "SMOA_MODERATOR_TARGET": "moderator",
}


def env(name: str) -> dict[str, str]:
    environment = SERVICES[name].get("environment", {})
    assert isinstance(environment, dict), f"{name}: write environment as a mapping"
    return {k: str(v) for k, v in environment.items()}


@pytest.mark.compose
def test_docker_compose_accepts_the_file() -> None:
    compose = docker_compose()
    checked = subprocess.run(
        [str(compose), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.compose
def test_docker_compose_rejects_an_invalid_file(tmp_path: Any) -> None:
    """The validation is real: an unknown option fails it."""
    broken = dict(COMPOSE, services={**SERVICES, "judge": {**SERVICES["judge"], "replica": 2}})
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    checked = subprocess.run(
        [str(docker_compose()), "-f", str(path), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode != 0 and "replica" in checked.stderr


def test_every_component_is_a_service() -> None:
    assert set(SMOA) <= set(SERVICES)
    assert {"otel-collector", "jaeger", "prometheus"} <= set(SERVICES)


def test_one_image_for_every_smoa_service() -> None:
    images = {SERVICES[name]["image"] for name in SMOA}
    builds = {yaml.safe_dump(SERVICES[name]["build"]) for name in SMOA}
    assert len(images) == 1 and len(builds) == 1
    build = SERVICES["orchestrator"]["build"]
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).exists()
    assert not next(iter(images)).endswith(":latest")


@pytest.mark.parametrize("name", SMOA)
def test_runs_non_root_on_a_read_only_root_filesystem(name: str) -> None:
    service = SERVICES[name]
    uid, _, gid = str(service["user"]).partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    assert service["read_only"] is True
    assert "/tmp" in [t.split(":")[0] for t in service["tmpfs"]]


@pytest.mark.parametrize("name", SMOA)
def test_command_runs_the_components_module(name: str) -> None:
    assert module_of(SERVICES[name]["command"]) == SERVICE_MODULES[name]


@pytest.mark.parametrize("name", GRPC)
def test_grpc_settings_are_valid_and_bind_every_interface(name: str) -> None:
    settings = settings_env.load(name, env(name))
    assert settings.host == "0.0.0.0"
    assert settings.port == DEFAULT_PORTS[name]
    assert settings.llm_base_url.startswith("http://model:")
    model_port = option(SERVICES["model"]["command"], "--port")
    assert urllib.parse.urlsplit(settings.llm_base_url).port == int(model_port or 0)


@pytest.mark.parametrize("name", GRPC)
def test_grpc_health_check_uses_the_smoa_cli_on_the_services_port(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    kind, program, *argv = check["test"]
    assert kind == "CMD" and program == "smoa"
    # Parsed by the real CLI: flags in the right order (`smoa --target T health`), the right command.
    try:
        args = cli.parser().parse_args(argv)
    except SystemExit:
        pytest.fail(
            f"`smoa {' '.join(argv)}` is no smoa command line (global flags first: smoa --target T health)"
        )
    assert args.command == "health" and not args.peer
    # The CLI gives up on its own before docker kills the check (which would say nothing useful).
    cli_timeout = getattr(args, "timeout", None)
    if cli_timeout is not None:
        assert cli_timeout < settings_env.seconds(check["timeout"])
    host, _, port = args.target.rpartition(":")
    assert host == "127.0.0.1" and int(port) == settings_env.load(name, env(name)).port


def test_grpc_health_check_command_passes_against_a_serving_service() -> None:
    """The moderator's check as compose runs it (its port swapped for the one this test got): exit 0."""
    _, program, *argv = SERVICES["moderator"]["healthcheck"]["test"]
    smoa = Path(sys.executable).parent / program
    service = subprocess.Popen(
        [sys.executable, "-m", "smoa_services.moderator", "--port", "0", "--grace-seconds", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert service.stdout is not None
        port = re.search(r"listening on [\d.]+:(\d+)", service.stdout.readline())
        assert port, "the moderator did not start"
        target = f"127.0.0.1:{port.group(1)}"
        command = [str(smoa), *[target if a.startswith("127.0.0.1:") else a for a in argv]]
        checked = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "SERVING" in checked.stdout
    finally:
        service.terminate()
        service.wait(timeout=15)


def test_model_health_check_asks_for_the_model_list() -> None:
    check = SERVICES["model"]["healthcheck"]
    kind, program, flag, code = check["test"]
    assert (kind, program, flag) == ("CMD", "python", "-c")
    ast.parse(code)
    assert "urllib.request.urlopen" in code
    url = code.split("'")[1]
    assert url == f"http://127.0.0.1:{option(SERVICES['model']['command'], '--port')}/v1/models"
    assert option(SERVICES["model"]["command"], "--host") == "0.0.0.0"


@pytest.mark.parametrize("name", SMOA)
def test_health_checks_have_timing(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    for key in ("interval", "timeout", "retries", "start_period"):
        assert key in check, f"{name}: healthcheck without {key}"
    assert settings_env.seconds(check["timeout"]) <= settings_env.seconds(check["interval"])


@pytest.mark.parametrize("name", SMOA)
def test_start_order_waits_for_health(name: str) -> None:
    depends = SERVICES[name].get("depends_on", {})
    assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
    for dependency, spec in depends.items():
        # The collector and Jaeger images have no shell to run a health check in.
        wanted = "service_healthy" if dependency in SMOA else "service_started"
        assert spec["condition"] == wanted, f"{name} -> {dependency}"
        assert dependency not in SMOA or "healthcheck" in SERVICES[dependency]
    if name in GRPC:
        assert "model" in depends


def test_orchestrator_reaches_every_peer_through_dns_round_robin() -> None:
    settings = settings_env.load("orchestrator", env("orchestrator"))
    depends = SERVICES["orchestrator"]["depends_on"]
    for variable, peer in PEERS.items():
        target = getattr(settings, variable.removeprefix("SMOA_").lower())
        assert target == f"dns:///{peer}:{settings_env.load(peer, env(peer)).port}"
        assert depends[peer]["condition"] == "service_healthy"


@pytest.mark.parametrize(("name", "at_least"), [("proposer", 2), ("judge", 2)])
def test_proposers_and_judges_run_replicas(name: str, at_least: int) -> None:
    assert SERVICES[name]["deploy"]["replicas"] >= at_least
    # Replicas cannot share a host port.
    assert "ports" not in SERVICES[name] and "container_name" not in SERVICES[name]


@pytest.mark.parametrize("name", GRPC)
def test_connections_age_out_so_clients_find_new_replicas(name: str) -> None:
    settings = settings_env.load(name, env(name))
    assert 0 < settings.max_connection_age_seconds <= 300
    assert "SMOA_MAX_CONNECTION_AGE_SECONDS" in env(name)


@pytest.mark.parametrize("name", GRPC)
def test_stop_grace_period_covers_the_drain(name: str) -> None:
    settings = settings_env.load(name, env(name))
    assert "SMOA_GRACE_SECONDS" in env(name)
    stop = settings_env.seconds(SERVICES[name]["stop_grace_period"])
    # The drain, then closing peers and flushing spans; SIGKILL must not cut the drain short.
    drain = settings.drain_delay_seconds + settings.grace_seconds
    assert drain + 5 <= stop <= drain + 60
    # The grace covers a whole generation.
    assert settings.grace_seconds >= settings.max_generation_seconds


@pytest.mark.parametrize("name", [*GRPC, "gateway"])
def test_traces_and_metrics_go_to_the_collector(name: str) -> None:
    variables = env(name)
    endpoint = urllib.parse.urlsplit(variables["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "otel-collector" and endpoint.port == 4317  # OTLP/gRPC
    assert variables["OTEL_SERVICE_NAME"] == f"smoa-{name}"
    assert SERVICES[name]["depends_on"]["otel-collector"]["condition"] == "service_started"
    # No OTEL_METRICS_EXPORTER: with an OTLP endpoint, metrics follow the traces (telemetry/meters.py).
    assert "OTEL_METRICS_EXPORTER" not in variables
    assert 1000 <= int(variables["OTEL_METRIC_EXPORT_INTERVAL"]) <= 60_000


def test_only_the_front_doors_and_the_trace_ui_are_published() -> None:
    """The orchestrator (gRPC) and the gateway (OpenAI's HTTP API), each on its own port."""
    published = {name: s["ports"] for name, s in SERVICES.items() if "ports" in s}
    assert published == {
        "orchestrator": ["50051:50051"],
        "gateway": ["8000:8000"],
        "jaeger": ["16686:16686"],
        "prometheus": ["9090:9090"],
    }
    gateway = settings_env.load("gateway", env("gateway"))
    assert published["gateway"] == [f"{gateway.port}:{gateway.port}"]


def test_gateway_settings_are_valid_and_reach_the_orchestrator_through_its_service() -> None:
    settings = settings_env.load("gateway", env("gateway"))
    orchestrator = settings_env.load("orchestrator", env("orchestrator"))
    assert settings.host == "0.0.0.0" and settings.port == DEFAULT_PORTS["gateway"]
    assert settings.orchestrator_target == f"dns:///orchestrator:{orchestrator.port}"
    assert SERVICES["gateway"]["depends_on"]["orchestrator"] == {"condition": "service_healthy"}
    # The gateway's deadline is the orchestrator's own plus a margin, so the orchestrator's status is
    # what the client sees.
    assert settings.max_generation_seconds == orchestrator.max_generation_seconds


def test_gateway_stop_grace_period_covers_uvicorns_graceful_shutdown() -> None:
    """uvicorn gives what is in flight SMOA_GRACE_SECONDS (a stream may last a whole generation); there is
    no drain delay."""
    settings = settings_env.load("gateway", env("gateway"))
    assert "SMOA_GRACE_SECONDS" in env("gateway")
    stop = settings_env.seconds(SERVICES["gateway"]["stop_grace_period"])
    assert settings.grace_seconds + 5 <= stop <= settings.grace_seconds + 60
    assert settings.grace_seconds >= settings.max_generation_seconds


def test_gateway_health_check_asks_for_liveness_on_its_port() -> None:
    """/healthz, not /readyz: docker's health is liveness (Swarm and autoheal restart what fails it), and
    an orchestrator that is down must not get the gateway restarted."""
    check = SERVICES["gateway"]["healthcheck"]
    kind, program, flag, code = check["test"]
    assert (kind, program, flag) == ("CMD", "python", "-c")
    ast.parse(code)
    assert "urllib.request.urlopen" in code
    url = urllib.parse.urlsplit(code.split("'")[1])
    assert (url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/healthz")
    assert url.port == settings_env.load("gateway", env("gateway")).port
    timeout = re.search(r"timeout=(\d+)", code)
    assert timeout and int(timeout.group(1)) < settings_env.seconds(check["timeout"])


async def test_gateway_health_check_command_passes_while_the_orchestrator_is_down() -> None:
    """The check as compose runs it (its port swapped for the one the gateway got): exit 0, though nothing
    answers at the orchestrator's target (the gateway is alive, only not ready)."""
    settings = settings_env.load("gateway", env("gateway"))
    async with served_gateway.serving(settings, orchestrator_port=1) as port:
        check = SERVICES["gateway"]["healthcheck"]["test"]
        status, err = await served_gateway.run_health_check(check, port, {})
        assert status == 0, err


def test_collector_receives_otlp_and_exports_to_jaeger() -> None:
    collector = SERVICES["otel-collector"]
    source, target, *_ = collector["volumes"][0].split(":")
    assert (ROOT / source).resolve() == COLLECTOR_CONFIG
    assert any(f"--config={target}" == arg for arg in collector["command"])
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    host, _, port = config["exporters"][exporter]["endpoint"].rpartition(":")
    assert host == "jaeger" and port == "4317"
    assert SERVICES["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_collector_serves_every_services_metrics_and_prometheus_scrapes_it() -> None:
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    pipeline = config["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    assert exporter.split("/")[0] == "prometheus"
    served = config["exporters"][exporter]["endpoint"].rpartition(":")[2]
    prometheus = SERVICES["prometheus"]
    source, target, *_ = prometheus["volumes"][0].split(":")
    assert (ROOT / source).resolve() == PROMETHEUS_CONFIG
    assert f"--config.file={target}" in prometheus["command"]
    scrape = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    targets = [t for job in scrape for static in job["static_configs"] for t in static["targets"]]
    assert targets == [f"otel-collector:{served}"]


def test_third_party_images_are_pinned() -> None:
    for name in ("otel-collector", "jaeger", "prometheus"):
        image = SERVICES[name]["image"]
        tag = image.rpartition(":")[2]
        assert tag and tag != "latest" and tag.removeprefix("v")[0].isdigit(), image
