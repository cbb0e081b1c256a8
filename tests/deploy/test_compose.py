"""docker-compose.yml, and docker-compose.yml + docker-compose.telemetry.yml, as docker-compose renders them
(`docker-compose -f ... config`, tests/deploy/compose_config.py): valid for the Compose schema, and shaped as
the deployment needs. docker-compose.yml alone: one image for every component and no other, health checks on
the gRPC health protocol (HTTP for the gateway and the model), start order by health, replicas reached
through dns:/// targets, non-root and read-only containers, the orchestrator and the HTTP gateway as the
front doors. With the telemetry overlay: every service that exports sends OTLP to a collector that
forwards traces to Jaeger and that Prometheus scrapes, on pinned images, the UIs published too. The
deployment on a real engine is `make e2e` (tests/e2e/deployment)."""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from smoa import cli
from smoa_services.config import DEFAULT_PORTS, Settings
from tests.deploy import compose_config, served_gateway, settings_env
from tests.deploy.commands import SERVICE_MODULES, module_of, option
from tests.deploy.compose_config import BASE, TELEMETRY, ports
from tests.deploy.paths import COLLECTOR_CONFIG, PROMETHEUS_CONFIG, ROOT

pytestmark = pytest.mark.compose

GRPC = ["orchestrator", "proposer", "judge", "moderator"]
SMOA = [*GRPC, "gateway", "model"]
EXPORTERS = [*GRPC, "gateway"]  # the model makes no spans of its own
TELEMETRY_SERVICES = ["otel-collector", "jaeger", "prometheus"]
SMOA_IMAGE = "smoa:0.1.0"  # ${SMOA_IMAGE:-smoa:0.1.0}
PEERS = {
    "SMOA_PROPOSER_TARGET": "proposer",
    "SMOA_JUDGE_TARGET": "judge",
    "SMOA_MODERATOR_TARGET": "moderator",
}


def services() -> dict[str, Any]:
    return compose_config.services(BASE)


def env(name: str) -> dict[str, str]:
    return compose_config.environment(BASE, name)


def settings(name: str) -> Settings:
    return settings_env.load(name, env(name))


@pytest.mark.parametrize("files", [BASE, TELEMETRY], ids=["alone", "with-telemetry"])
def test_docker_compose_renders_the_files_with_every_variable_defaulted(files: tuple[Path, ...]) -> None:
    rendering = compose_config.render(files)
    assert rendering.config is not None, rendering.stderr
    # docker-compose's word for a ${VAR} without a default, which it renders as "".
    assert "variable is not set" not in rendering.stderr, rendering.stderr


def test_docker_compose_rejects_an_invalid_file(tmp_path: Path) -> None:
    """The validation is real: its own rendering with an unknown option fails it."""
    broken = copy.deepcopy(compose_config.rendered(BASE))
    broken["services"]["judge"]["replica"] = 2
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    checked = compose_config.config_of([path], cwd=tmp_path)
    assert checked.returncode != 0 and "replica" in checked.stderr


def test_every_component_is_a_service_and_nothing_else() -> None:
    assert set(services()) == set(SMOA)


def test_docker_compose_yml_alone_needs_no_image_but_smoas() -> None:
    """`docker compose up` pulls nothing: every service runs the smoa image, which it can build."""
    assert {name: s["image"] for name, s in services().items()} == dict.fromkeys(SMOA, SMOA_IMAGE)
    builds = [s.get("build") for s in services().values()]
    assert all(b == builds[0] for b in builds) and builds[0] is not None
    assert Path(builds[0]["context"]) == ROOT and (ROOT / builds[0]["dockerfile"]).is_file()


@pytest.mark.parametrize("name", SMOA)
def test_runs_non_root_on_a_read_only_root_filesystem(name: str) -> None:
    service = services()[name]
    uid, _, gid = str(service["user"]).partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    assert service["read_only"] is True
    assert "/tmp" in [t.split(":")[0] for t in service["tmpfs"]]


@pytest.mark.parametrize("name", SMOA)
def test_command_runs_the_components_module(name: str) -> None:
    assert module_of(services()[name]["command"]) == SERVICE_MODULES[name]


@pytest.mark.parametrize("name", GRPC)
def test_grpc_settings_are_valid_and_bind_every_interface(name: str) -> None:
    configured = settings(name)
    assert configured.host == "0.0.0.0"
    assert configured.port == DEFAULT_PORTS[name]
    assert configured.llm_base_url.startswith("http://model:")
    model_port = option(services()["model"]["command"], "--port")
    assert urllib.parse.urlsplit(configured.llm_base_url).port == int(model_port or 0)


@pytest.mark.parametrize("name", GRPC)
def test_grpc_health_check_uses_the_smoa_cli_on_the_services_port(name: str) -> None:
    check = services()[name]["healthcheck"]
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
    assert host == "127.0.0.1" and int(port) == settings(name).port


def test_grpc_health_check_command_passes_against_a_serving_service() -> None:
    """The moderator's check as compose runs it (its port swapped for the one this test got): exit 0."""
    _, program, *argv = services()["moderator"]["healthcheck"]["test"]
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
    model = services()["model"]
    kind, program, flag, code = model["healthcheck"]["test"]
    assert (kind, program, flag) == ("CMD", "python", "-c")
    ast.parse(code)
    assert "urllib.request.urlopen" in code
    url = code.split("'")[1]
    assert url == f"http://127.0.0.1:{option(model['command'], '--port')}/v1/models"
    assert option(model["command"], "--host") == "0.0.0.0"


@pytest.mark.parametrize("name", SMOA)
def test_health_checks_have_timing(name: str) -> None:
    check = services()[name]["healthcheck"]
    for key in ("interval", "timeout", "retries", "start_period"):
        assert key in check, f"{name}: healthcheck without {key}"
    assert settings_env.seconds(check["timeout"]) <= settings_env.seconds(check["interval"])


@pytest.mark.parametrize("name", SMOA)
def test_start_order_waits_for_health(name: str) -> None:
    depends = services()[name].get("depends_on", {})
    assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
    for dependency, spec in depends.items():
        assert spec["condition"] == "service_healthy", f"{name} -> {dependency}"
        assert "healthcheck" in services()[dependency]
    if name in GRPC:
        assert "model" in depends


def test_orchestrator_reaches_every_peer_through_dns_round_robin() -> None:
    configured = settings("orchestrator")
    depends = services()["orchestrator"]["depends_on"]
    for variable, peer in PEERS.items():
        target = getattr(configured, variable.removeprefix("SMOA_").lower())
        assert target == f"dns:///{peer}:{settings(peer).port}"
        assert depends[peer]["condition"] == "service_healthy"


@pytest.mark.parametrize(("name", "at_least"), [("proposer", 2), ("judge", 2)])
def test_proposers_and_judges_run_replicas(name: str, at_least: int) -> None:
    service = services()[name]
    assert service["deploy"]["replicas"] >= at_least
    # Replicas cannot share a host port.
    assert "ports" not in service and "container_name" not in service


@pytest.mark.parametrize("name", GRPC)
def test_connections_age_out_so_clients_find_new_replicas(name: str) -> None:
    assert 0 < settings(name).max_connection_age_seconds <= 300
    assert "SMOA_MAX_CONNECTION_AGE_SECONDS" in env(name)


@pytest.mark.parametrize("name", GRPC)
def test_stop_grace_period_covers_the_drain(name: str) -> None:
    configured = settings(name)
    assert "SMOA_GRACE_SECONDS" in env(name)
    stop = settings_env.seconds(services()[name]["stop_grace_period"])
    # The drain, then closing peers and flushing spans; SIGKILL must not cut the drain short.
    drain = configured.drain_delay_seconds + configured.grace_seconds
    assert drain + 5 <= stop <= drain + 60
    # The grace covers a whole generation.
    assert configured.grace_seconds >= configured.max_generation_seconds


def test_only_the_front_doors_are_published() -> None:
    """The orchestrator (gRPC) and the gateway (OpenAI's HTTP API), each on its own port."""
    published = {name: ports(s) for name, s in services().items() if "ports" in s}
    orchestrator, gateway = settings("orchestrator").port, settings("gateway").port
    assert published == {
        "orchestrator": [(50051, orchestrator)],  # ${SMOA_ORCHESTRATOR_PORT:-50051}
        "gateway": [(gateway, gateway)],
    }


def test_gateway_settings_are_valid_and_reach_the_orchestrator_through_its_service() -> None:
    configured = settings("gateway")
    orchestrator = settings("orchestrator")
    assert configured.host == "0.0.0.0" and configured.port == DEFAULT_PORTS["gateway"]
    assert configured.orchestrator_target == f"dns:///orchestrator:{orchestrator.port}"
    assert services()["gateway"]["depends_on"]["orchestrator"] == {"condition": "service_healthy"}
    # The gateway's deadline is the orchestrator's own plus a margin, so the orchestrator's status is
    # what the client sees.
    assert configured.max_generation_seconds == orchestrator.max_generation_seconds


def test_gateway_stop_grace_period_covers_uvicorns_graceful_shutdown() -> None:
    """uvicorn gives what is in flight SMOA_GRACE_SECONDS (a stream may last a whole generation); there is
    no drain delay."""
    configured = settings("gateway")
    assert "SMOA_GRACE_SECONDS" in env("gateway")
    stop = settings_env.seconds(services()["gateway"]["stop_grace_period"])
    assert configured.grace_seconds + 5 <= stop <= configured.grace_seconds + 60
    assert configured.grace_seconds >= configured.max_generation_seconds


def test_gateway_health_check_asks_for_liveness_on_its_port() -> None:
    """/healthz, not /readyz: docker's health is liveness (Swarm and autoheal restart what fails it), and
    an orchestrator that is down must not get the gateway restarted."""
    check = services()["gateway"]["healthcheck"]
    kind, program, flag, code = check["test"]
    assert (kind, program, flag) == ("CMD", "python", "-c")
    ast.parse(code)
    assert "urllib.request.urlopen" in code
    url = urllib.parse.urlsplit(code.split("'")[1])
    assert (url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/healthz")
    assert url.port == settings("gateway").port
    timeout = re.search(r"timeout=(\d+)", code)
    assert timeout and int(timeout.group(1)) < settings_env.seconds(check["timeout"])


async def test_gateway_health_check_command_passes_while_the_orchestrator_is_down() -> None:
    """The check as compose runs it (its port swapped for the one the gateway got): exit 0, though nothing
    answers at the orchestrator's target (the gateway is alive, only not ready)."""
    async with served_gateway.serving(settings("gateway"), orchestrator_port=1) as port:
        check = services()["gateway"]["healthcheck"]["test"]
        status, err = await served_gateway.run_health_check(check, port, {})
        assert status == 0, err


# docker-compose.yml + docker-compose.telemetry.yml


def telemetry() -> dict[str, Any]:
    return compose_config.services(TELEMETRY)


def telemetry_env(name: str) -> dict[str, str]:
    return compose_config.environment(TELEMETRY, name)


def test_the_telemetry_overlay_adds_the_collector_endpoint_to_every_service_that_exports() -> None:
    """Alone, no service has an OTLP endpoint (its exports would go nowhere); with the overlay, every smoa
    service that names itself to OpenTelemetry exports to the collector, and gains nothing else but the
    OTLP settings and a start after the collector. The model, which makes no spans, is left as it was."""
    alone, overlaid = services(), telemetry()
    assert set(overlaid) == set(alone) | set(TELEMETRY_SERVICES)
    exporting = [name for name in SMOA if "OTEL_SERVICE_NAME" in env(name)]
    assert exporting == EXPORTERS
    for name in SMOA:
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env(name), name
    for name in EXPORTERS:
        added = {k: v for k, v in telemetry_env(name).items() if k not in env(name)}
        assert urllib.parse.urlsplit(added["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname == "otel-collector"
        assert all(k.startswith("OTEL_") for k in added), f"{name}: {added}"
        assert {k: telemetry_env(name)[k] for k in env(name)} == env(name), f"{name}: a setting changed"
        depends = overlaid[name]["depends_on"]
        assert depends == {**alone[name].get("depends_on", {}), "otel-collector": depends["otel-collector"]}
        rest = {k: v for k, v in overlaid[name].items() if k not in {"environment", "depends_on"}}
        assert rest == {k: v for k, v in alone[name].items() if k not in {"environment", "depends_on"}}
    assert overlaid["model"] == alone["model"]


@pytest.mark.parametrize("name", EXPORTERS)
def test_traces_and_metrics_go_to_the_collector(name: str) -> None:
    variables = telemetry_env(name)
    endpoint = urllib.parse.urlsplit(variables["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "otel-collector" and endpoint.port == 4317  # OTLP/gRPC
    assert variables["OTEL_SERVICE_NAME"] == f"smoa-{name}"
    # Started, not healthy: the collector's image has no shell to run a health check in.
    assert telemetry()[name]["depends_on"]["otel-collector"] == {"condition": "service_started"}
    # No OTEL_METRICS_EXPORTER: with an OTLP endpoint, metrics follow the traces (telemetry/meters.py).
    assert "OTEL_METRICS_EXPORTER" not in variables
    assert 1000 <= int(variables["OTEL_METRIC_EXPORT_INTERVAL"]) <= 60_000
    # The last spans' flush (seconds, as opentelemetry-python reads it) ends inside stop_grace_period
    # after the drain, even with the collector down.
    configured = settings_env.load(name, variables)
    drain = configured.drain_delay_seconds + configured.grace_seconds
    stop = settings_env.seconds(telemetry()[name]["stop_grace_period"])
    assert drain + float(variables["OTEL_EXPORTER_OTLP_TIMEOUT"]) < stop


def test_only_the_front_doors_and_the_uis_are_published() -> None:
    published = {name: ports(s) for name, s in telemetry().items() if "ports" in s}
    assert published == {
        "orchestrator": [(50051, 50051)],
        "gateway": [(8000, 8000)],
        "jaeger": [(16686, 16686)],
        "prometheus": [(9090, 9090)],
    }


def test_the_telemetry_services_start_after_what_they_send_to() -> None:
    overlaid = telemetry()
    assert overlaid["otel-collector"]["depends_on"] == {"jaeger": {"condition": "service_started"}}
    assert overlaid["prometheus"]["depends_on"] == {"otel-collector": {"condition": "service_started"}}


def mounted(service: dict[str, Any]) -> dict[str, Path]:
    """Each bind-mounted file of a service by where it is in the container (docker-compose 1.29 renders
    volumes as SOURCE:TARGET[:MODE], the source absolute)."""
    found = {}
    for volume in service["volumes"]:
        source, target, *_ = volume.split(":")
        found[target] = Path(source)
    return found


def test_collector_receives_otlp_and_exports_to_jaeger() -> None:
    collector = telemetry()["otel-collector"]
    ((target, source),) = mounted(collector).items()
    assert source == COLLECTOR_CONFIG
    assert f"--config={target}" in collector["command"]
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    host, _, port = config["exporters"][exporter]["endpoint"].rpartition(":")
    assert host == "jaeger" and port == "4317"
    assert telemetry_env("jaeger")["COLLECTOR_OTLP_ENABLED"] == "true"


def test_collector_serves_every_services_metrics_and_prometheus_scrapes_it() -> None:
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    pipeline = config["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    assert exporter.split("/")[0] == "prometheus"
    served = config["exporters"][exporter]["endpoint"].rpartition(":")[2]
    prometheus = telemetry()["prometheus"]
    ((target, source),) = mounted(prometheus).items()
    assert source == PROMETHEUS_CONFIG
    assert f"--config.file={target}" in prometheus["command"]
    scrape = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    targets = [t for job in scrape for static in job["static_configs"] for t in static["targets"]]
    assert targets == [f"otel-collector:{served}"]


def test_third_party_images_are_pinned() -> None:
    images = {name: s["image"] for name, s in telemetry().items() if s["image"] != SMOA_IMAGE}
    assert set(images) == set(TELEMETRY_SERVICES)
    for image in images.values():
        tag = image.rpartition(":")[2]
        assert "/" not in tag and tag != "latest" and tag.removeprefix("v")[0].isdigit(), image
