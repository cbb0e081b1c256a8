"""deploy/k8s (kustomize): every overlay (the default, base, tracing, secure, secure-tracing, quotas) renders
with `kubectl kustomize` and validates against Kubernetes 1.32's schemas (kubernetes-validate --strict);
secure, tracing and quotas are kustomize Components, which the overlays stack on base. Every Deployment
hardened (non-root, read-only root, no privilege escalation, no capabilities, /tmp on an emptyDir), with
resources and probes (native gRPC for the services, HTTP for the gateway and the model) on the ports the
services listen on; headless Services for dns:/// round robin, ClusterIPs for the HTTP ones; the drain fits
in the termination grace period; the settings valid for the services; autoscalers own the replicas of what
scales, and whatever runs several pods has a disruption budget; the network policies allow exactly the
calls smoa makes (tests/deploy/network_policy.py evaluates them). Everything is checked on kubectl's
rendering; where kubectl is not on PATH these tests are skipped and say so."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from smoa_services.config import DEFAULT_PORTS
from tests.deploy import kubernetes_schemas, overlays, settings_env
from tests.deploy.commands import SERVICE_MODULES, module_of, option
from tests.deploy.manifests import Manifest, config_map, container, environment, find, one
from tests.deploy.network_policy import Cluster, Endpoint, Port, pods
from tests.deploy.paths import COLLECTOR_CONFIG, K8S

GRPC = ["orchestrator", "proposer", "judge", "moderator"]
SMOA = [*GRPC, "gateway", "model"]
NAMESPACE = "smoa"
UID = 10001
Render = Callable[[str], list[Manifest]]


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/k8s copied with trial secrets: the secured overlays render only with their files there."""
    return overlays.with_trial_secrets(tmp_path_factory.mktemp("deploy") / "k8s")


def overlay_directory(request: pytest.FixtureRequest, which: str) -> Path:
    root = request.getfixturevalue("trial") if which in overlays.SECURED else K8S
    return Path(root) / overlays.OVERLAYS[which]


@pytest.fixture
def render(request: pytest.FixtureRequest) -> Render:
    """An overlay by name, as `kubectl kustomize` renders it."""
    return lambda which: overlays.render(overlay_directory(request, which))


def port_number(spec: Manifest, port: int | str) -> int:
    """A port given by number or by the container port's name."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in spec["ports"] if p.get("name") == port]
    return int(number)


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_kustomizations_list_only_existing_files() -> None:
    for file in K8S.rglob("kustomization.yaml"):
        directory = file.parent
        spec = overlays.kustomization(directory)
        for entry in [*spec.get("resources", []), *spec.get("components", [])]:
            assert (directory / entry).exists(), f"{directory}: {entry}"
        for patch in spec.get("patches", []):
            assert (directory / patch["path"]).exists(), f"{directory}: {patch}"
        for generator in spec.get("configMapGenerator", []):
            for entry in generator.get("files", []):
                assert (directory / entry.rpartition("=")[2]).exists(), f"{directory}: {entry}"


def test_the_components_are_components_that_the_overlays_stack_on_base() -> None:
    for component in overlays.COMPONENTS.values():
        spec = overlays.kustomization(component)
        assert (spec["apiVersion"], spec["kind"]) == ("kustomize.config.k8s.io/v1alpha1", "Component")
    wanted = {
        "secure": ["secure"],
        "tracing": ["tracing"],
        "secure-tracing": ["secure", "tracing"],
        "quotas": ["quotas"],
    }
    for which, components in wanted.items():
        spec = overlays.kustomization(K8S / overlays.OVERLAYS[which])
        assert spec["kind"] == "Kustomization" and spec["resources"] == ["../base"], which
        assert spec["components"] == [f"../components/{c}" for c in components], which
    assert overlays.kustomization(K8S)["resources"] == ["base"]  # the default is the base alone


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_every_overlay_validates_against_the_kubernetes_schemas(
    request: pytest.FixtureRequest, which: str
) -> None:
    """kubernetes-validate --strict --kubernetes-version 1.32 on `kubectl kustomize`'s output."""
    rendered = overlays.rendered_yaml(overlay_directory(request, which))
    report = kubernetes_schemas.validate(rendered)
    assert report.returncode == 0 and not report.problems, "\n".join(report.problems)
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert sorted(report.passed) == sorted(f"{d['kind'].lower()}/{d['metadata']['name']}" for d in docs)


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_everything_but_the_namespace_is_in_it(render: Render, which: str) -> None:
    docs = render(which)
    assert one(docs, "Namespace", NAMESPACE)
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE, f"{doc['kind']} {doc['metadata']['name']}"


def test_every_component_has_a_deployment_and_a_service(render: Render) -> None:
    docs = render("default")
    assert {d["metadata"]["name"] for d in find(docs, "Deployment")} == set(SMOA)
    assert {d["metadata"]["name"] for d in find(docs, "Service")} == set(SMOA)


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_every_deployment_is_hardened_and_sized(render: Render, which: str) -> None:
    for deployment in find(render(which), "Deployment"):
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        assert selects(
            deployment["spec"]["selector"]["matchLabels"],
            deployment["spec"]["template"]["metadata"]["labels"],
        )
        assert pod.get("automountServiceAccountToken") is False, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {v["name"]: v for v in pod["volumes"]}
        for spec in pod["containers"]:
            security = {**pod["securityContext"], **spec["securityContext"]}  # the container's wins
            assert security["runAsNonRoot"] is True, name
            assert isinstance(security["runAsUser"], int) and security["runAsUser"] != 0, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            tmp = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: /tmp is not an emptyDir"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(spec["resources"][kind]), f"{name}: {kind}"
            assert "readinessProbe" in spec and "livenessProbe" in spec, name
            image = spec["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    render: Render,
) -> None:
    labels = one(render("default"), "Namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("name", SMOA)
def test_one_image_runs_the_components_module(render: Render, name: str) -> None:
    docs = render("default")
    spec = container(one(docs, "Deployment", name))
    assert module_of(spec["command"]) == SERVICE_MODULES[name]
    assert len({container(d)["image"] for d in find(docs, "Deployment")}) == 1
    assert spec["securityContext"]["runAsUser"] == UID  # the Dockerfile's USER


@pytest.mark.parametrize("name", GRPC)
def test_grpc_probes_check_the_port_the_service_listens_on(render: Render, name: str) -> None:
    docs = render("default")
    deployment = one(docs, "Deployment", name)
    spec = container(deployment)
    settings = settings_env.load(name, environment(docs, deployment))
    assert settings.host == "0.0.0.0"
    assert settings.port == DEFAULT_PORTS[name]
    (listening,) = spec["ports"]
    assert listening["containerPort"] == settings.port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert spec[probe]["grpc"]["port"] == settings.port, f"{name}: {probe}"
        assert "service" not in spec[probe]["grpc"]  # "": the whole server, as the health servicer reports it


def test_model_probes_ask_for_the_model_list_over_http(render: Render) -> None:
    spec = container(one(render("default"), "Deployment", "model"))
    port = int(option(spec["command"], "--port") or 0)
    assert option(spec["command"], "--host") == "0.0.0.0"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = spec[probe]["httpGet"]
        assert check["path"] == "/v1/models" and port_number(spec, check["port"]) == port


@pytest.mark.parametrize("name", GRPC)
def test_termination_grace_period_covers_the_drain(render: Render, name: str) -> None:
    docs = render("default")
    deployment = one(docs, "Deployment", name)
    settings = settings_env.load(name, environment(docs, deployment))
    assert "SMOA_GRACE_SECONDS" in environment(docs, deployment)
    period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    drain = settings.drain_delay_seconds + settings.grace_seconds
    assert drain + 5 <= period <= drain + 60
    # The grace covers a whole generation.
    assert settings.grace_seconds >= settings.max_generation_seconds
    assert 0 < settings.max_connection_age_seconds <= 300


def autoscaler_of(docs: list[Manifest], deployment: str) -> Manifest | None:
    """The HorizontalPodAutoscaler that scales a Deployment, if any."""
    scaling = [
        h
        for h in find(docs, "HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
    ]
    assert len(scaling) <= 1, f"{deployment}: more than one autoscaler"
    return scaling[0] if scaling else None


def replicas(docs: list[Manifest], deployment: Manifest) -> int:
    """The pods a Deployment runs at least: its autoscaler's minReplicas, else its own count (default 1)."""
    autoscaler = autoscaler_of(docs, deployment["metadata"]["name"])
    if autoscaler is not None:
        return int(autoscaler["spec"]["minReplicas"])
    return int(deployment["spec"].get("replicas", 1))


# Today's replicas: 3 proposers and 2 judges, as compose runs them; 2 orchestrators and gateways, so one can
# go while the other serves.
@pytest.mark.parametrize(
    ("name", "at_least"), [("proposer", 3), ("judge", 2), ("orchestrator", 2), ("gateway", 2)]
)
def test_autoscalers_own_the_replicas_of_the_services_that_scale(
    render: Render, name: str, at_least: int
) -> None:
    docs = render("default")
    deployment = one(docs, "Deployment", name)
    autoscaler = autoscaler_of(docs, name)
    assert autoscaler is not None, f"{name}: no HorizontalPodAutoscaler"
    spec = autoscaler["spec"]
    assert at_least <= spec["minReplicas"] < spec["maxReplicas"]
    # A count in the Deployment would reset the autoscaler's on every apply.
    assert "replicas" not in deployment["spec"]
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 100
    # Utilization is of the CPU requested: without a request the autoscaler cannot compute it.
    assert container(deployment)["resources"]["requests"]["cpu"]
    # A pod that leaves drains for up to a whole generation: one at a time.
    (policy,) = spec["behavior"]["scaleDown"]["policies"]
    assert (policy["type"], policy["value"]) == ("Pods", 1)


def test_the_moderator_and_the_model_run_one_pod_unscaled(render: Render) -> None:
    docs = render("default")
    for name in ("moderator", "model"):
        assert autoscaler_of(docs, name) is None and one(docs, "Deployment", name)["spec"]["replicas"] == 1


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_every_deployment_of_several_pods_has_a_disruption_budget(render: Render, which: str) -> None:
    """A drain takes one pod of each at a time (and a pod that is not ready does not block it); a single
    pod gets none, which would only block the drain."""
    docs = render(which)
    budgets = {}
    for budget in find(docs, "PodDisruptionBudget"):
        covered = [
            d
            for d in find(docs, "Deployment")
            if selects(budget["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(covered) == 1, f"{budget['metadata']['name']}: covers {len(covered)} Deployments"
        budgets[covered[0]["metadata"]["name"]] = budget["spec"]
    several = {d["metadata"]["name"] for d in find(docs, "Deployment") if replicas(docs, d) > 1}
    assert several == {"proposer", "judge", "orchestrator", "gateway"}
    assert set(budgets) == several
    for spec in budgets.values():
        assert spec == {
            "maxUnavailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": spec["selector"],
        }


@pytest.mark.parametrize("name", GRPC)
def test_headless_services_select_exactly_their_components_pods(render: Render, name: str) -> None:
    docs = render("default")
    service = one(docs, "Service", name)
    assert service["spec"]["clusterIP"] == "None", "a ClusterIP pins each HTTP/2 connection to one pod"
    selector = service["spec"]["selector"]
    chosen = [
        d["metadata"]["name"]
        for d in find(docs, "Deployment")
        if selects(selector, d["spec"]["template"]["metadata"]["labels"])
    ]
    assert chosen == [name]
    spec = container(one(docs, "Deployment", name))
    (port,) = service["spec"]["ports"]
    # A headless Service does no port mapping: clients dial the pod's own port.
    assert port["port"] == port_number(spec, port["targetPort"]) == DEFAULT_PORTS[name]


@pytest.mark.parametrize("name", ["gateway", "model"])
def test_http_services_spread_connections(render: Render, name: str) -> None:
    docs = render("default")
    service = one(docs, "Service", name)
    assert service["spec"].get("clusterIP") != "None"
    chosen = [
        d["metadata"]["name"]
        for d in find(docs, "Deployment")
        if selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
    ]
    assert chosen == [name]
    (port,) = service["spec"]["ports"]
    assert port_number(container(one(docs, "Deployment", name)), port["targetPort"]) == port["port"]


def test_gateway_probes_liveness_and_readiness_over_http(render: Render) -> None:
    """Liveness /healthz (the process serves): an orchestrator that is down must not get the gateway
    restarted. Readiness /readyz: ready while the orchestrator answers SERVING."""
    docs = render("default")
    deployment = one(docs, "Deployment", "gateway")
    spec = container(deployment)
    settings = settings_env.load("gateway", environment(docs, deployment))
    assert settings.host == "0.0.0.0" and settings.port == DEFAULT_PORTS["gateway"]
    (listening,) = spec["ports"]
    assert listening["containerPort"] == settings.port
    paths = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in paths.items():
        check = spec[probe]["httpGet"]
        assert check["path"] == path and port_number(spec, check["port"]) == settings.port, probe
        assert check.get("scheme", "HTTP") == "HTTP", probe  # the base serves plaintext
    # /readyz waits up to 2 s for the orchestrator's answer; the kubelet's default timeout is 1 s.
    assert spec["readinessProbe"]["timeoutSeconds"] >= 3


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_gateway_reaches_the_orchestrator_through_its_service(render: Render, which: str) -> None:
    docs = render(which)
    settings = settings_env.load("gateway", environment(docs, one(docs, "Deployment", "gateway")))
    orchestrator = settings_env.load(
        "orchestrator", environment(docs, one(docs, "Deployment", "orchestrator"))
    )
    match = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", settings.orchestrator_target)
    assert match, settings.orchestrator_target
    service = one(docs, "Service", match.group(1))
    assert service["metadata"]["name"] == "orchestrator"
    assert int(match.group(2)) == service["spec"]["ports"][0]["port"] == orchestrator.port
    # Its deadline is the orchestrator's own plus a margin.
    assert settings.max_generation_seconds == orchestrator.max_generation_seconds


def test_gateway_termination_grace_period_covers_uvicorns_graceful_shutdown(
    render: Render,
) -> None:
    """uvicorn gives what is in flight SMOA_GRACE_SECONDS (a stream may last a whole generation)."""
    docs = render("default")
    deployment = one(docs, "Deployment", "gateway")
    settings = settings_env.load("gateway", environment(docs, deployment))
    period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert settings.grace_seconds + 5 <= period <= settings.grace_seconds + 60
    assert settings.grace_seconds >= settings.max_generation_seconds


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_peers_and_the_model_are_reached_through_their_services(render: Render, which: str) -> None:
    docs = render(which)
    deployment = one(docs, "Deployment", "orchestrator")
    settings = settings_env.load("orchestrator", environment(docs, deployment))
    for peer in ("proposer", "judge", "moderator"):
        target = getattr(settings, f"{peer}_target")
        match = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", target)
        assert match, target
        service = one(docs, "Service", match.group(1))
        assert service["metadata"]["name"] == peer and service["spec"]["clusterIP"] == "None"
        assert int(match.group(2)) == service["spec"]["ports"][0]["port"]
    url = urllib.parse.urlsplit(settings.llm_base_url)
    model = one(docs, "Service", str(url.hostname))
    assert url.port == model["spec"]["ports"][0]["port"]


@pytest.mark.parametrize("name", GRPC)
def test_each_service_names_itself_in_traces(render: Render, name: str) -> None:
    docs = render("default")
    variables = environment(docs, one(docs, "Deployment", name))
    assert variables["OTEL_SERVICE_NAME"] == f"smoa-{name}"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in variables  # the base exports nothing; see tracing/


@pytest.mark.parametrize("which", overlays.TRACED)
def test_tracing_overlays_send_every_service_to_their_collector(render: Render, which: str) -> None:
    docs = render(which)
    collector = one(docs, "Deployment", "otel-collector")
    service = one(docs, "Service", "otel-collector")
    for name in GRPC:
        variables = environment(docs, one(docs, "Deployment", name))
        endpoint = urllib.parse.urlsplit(variables["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert endpoint.hostname == "otel-collector"
        assert endpoint.port in {p["port"] for p in service["spec"]["ports"]}
    assert selects(service["spec"]["selector"], collector["spec"]["template"]["metadata"]["labels"])
    config_volume = next(v for v in collector["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    config = config_map(docs, config_volume["configMap"]["name"])["data"]["config.yaml"]
    exporters = yaml.safe_load(config)["exporters"]
    assert one(docs, "Service", exporters["otlp/jaeger"]["endpoint"].rpartition(":")[0])
    # Every service's metrics, served by the collector on a port its Service exposes.
    metrics_port = int(exporters["prometheus"]["endpoint"].rpartition(":")[2])
    assert metrics_port in {p["port"] for p in service["spec"]["ports"]}
    assert service["metadata"]["annotations"]["prometheus.io/port"] == str(metrics_port)


# Who else there is, for the network policies: sources (a client outside the cluster, a pod of another
# namespace such as a Prometheus or an Ingress controller, a pod someone ran in smoa), and destinations
# (the cluster's DNS, an LLM provider on the internet, a host of the private network, the cloud's
# metadata service).
OUTSIDE_CLIENT = Endpoint("outside client", ipaddress.ip_address("198.51.100.7"))
ELSEWHERE = Endpoint(
    "pod elsewhere", ipaddress.ip_address("10.245.0.9"), "monitoring", {"app": "prometheus"}, (Port(9090),)
)
STRANGER = Endpoint(
    "stranger in smoa", ipaddress.ip_address("10.244.200.1"), NAMESPACE, {"run": "debug"}, (Port(8080),)
)
KUBE_DNS = Endpoint(
    "kube-dns",
    ipaddress.ip_address("10.96.0.10"),
    "kube-system",
    {"k8s-app": "kube-dns"},
    (Port(53, "UDP"), Port(53), Port(9153)),
)
PROVIDER = Endpoint("LLM provider", ipaddress.ip_address("203.0.113.10"), ports=(Port(443), Port(80)))
PRIVATE_HOST = Endpoint("private host", ipaddress.ip_address("192.168.1.20"), ports=(Port(443),))
SHARED_RANGE_HOST = Endpoint("100.64/10 host", ipaddress.ip_address("100.64.3.4"), ports=(Port(443),))
METADATA = Endpoint("cloud metadata", ipaddress.ip_address("169.254.169.254"), ports=(Port(80), Port(443)))
LLM_CALLERS = ["orchestrator", "proposer", "judge", "moderator"]
DNS = {"53/UDP", "53/TCP"}


def reachability(docs: list[Manifest]) -> tuple[Cluster, dict[tuple[str, str], set[str]]]:
    """Every (source, destination) with at least one end in smoa's namespace, and the destination's ports
    the source may reach (pairs with none left out). A Deployment to itself: one replica to another."""
    inside = [*pods(docs), STRANGER]
    cluster = Cluster.of(docs, [ELSEWHERE, KUBE_DNS])
    sources = [*inside, OUTSIDE_CLIENT, ELSEWHERE]
    destinations = [*inside, ELSEWHERE, KUBE_DNS, PROVIDER, PRIVATE_HOST, SHARED_RANGE_HOST, METADATA]
    graph = {
        (source.name, destination.name): ports
        for source in sources
        for destination in destinations
        if NAMESPACE in (source.namespace, destination.namespace)
        if (ports := cluster.reachable(source, destination))
    }
    return cluster, graph


def expected_reachability(traced: bool, counted: bool) -> dict[tuple[str, str], set[str]]:
    """What smoa calls; `traced`: with the tracing component, `counted`: with the quotas one (Redis)."""
    allowed = {
        # The doors, to anyone: end users outside the cluster, pods of other namespaces, the gateway.
        ("outside client", "orchestrator"): {"50051/TCP"},
        ("outside client", "gateway"): {"8000/TCP"},
        ("pod elsewhere", "orchestrator"): {"50051/TCP"},
        ("pod elsewhere", "gateway"): {"8000/TCP"},
        ("gateway", "orchestrator"): {"50051/TCP"},
        # The fan-out.
        ("orchestrator", "proposer"): {"50052/TCP"},
        ("orchestrator", "judge"): {"50053/TCP"},
        ("orchestrator", "moderator"): {"50054/TCP"},
    }
    for caller in LLM_CALLERS:
        allowed[(caller, "model")] = {"8080/TCP"}
        allowed[(caller, "LLM provider")] = {"443/TCP"}
    own = (
        [*SMOA, STRANGER.name]
        + (["otel-collector", "jaeger"] if traced else [])
        + (["redis"] if counted else [])
    )
    for name in own:
        allowed[(name, "kube-dns")] = DNS
    if traced:
        for exporter in [*GRPC, "gateway"]:
            allowed[(exporter, "otel-collector")] = {"4317/TCP"}
        allowed[("otel-collector", "jaeger")] = {"4317/TCP"}
        allowed[("pod elsewhere", "otel-collector")] = {"8889/TCP"}  # a Prometheus scrapes
        allowed[("pod elsewhere", "jaeger")] = {"16686/TCP"}  # the UI, behind an Ingress
    if counted:
        allowed[("orchestrator", "redis")] = {"6379/TCP"}  # the quota counters, and no one else's
    return allowed


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_network_policies_allow_exactly_the_calls_smoa_makes(render: Render, which: str) -> None:
    """Default deny, then only what smoa calls, computed from the rendered policies; every pair not listed
    is refused (a Deployment's pods cannot reach each other either)."""
    _, graph = reachability(render(which))
    assert graph == expected_reachability(which in overlays.TRACED, which in overlays.QUOTAS)


@pytest.mark.parametrize("which", overlays.OVERLAYS)
def test_network_policies_keep_out_who_has_no_business_there(render: Render, which: str) -> None:
    docs = render(which)
    cluster, _ = reachability(docs)
    pod = {p.name: p for p in pods(docs)}
    # The gateway reaches the orchestrator only, not the peers it calls.
    assert not cluster.reachable(pod["gateway"], pod["proposer"])
    # The peers call no one but an LLM: a proposer cannot reach the judge, nor the orchestrator.
    assert not cluster.reachable(pod["proposer"], pod["judge"])
    assert not cluster.reachable(pod["proposer"], pod["orchestrator"])
    # Nothing from outside reaches a peer or the model.
    for name in ("proposer", "judge", "moderator", "model"):
        assert not cluster.reachable(OUTSIDE_CLIENT, pod[name]), name
        assert not cluster.reachable(ELSEWHERE, pod[name]), name
    # A pod of the namespace is no orchestrator: it may reach no one but DNS.
    assert not cluster.reachable(STRANGER, pod["orchestrator"])
    assert not cluster.reachable(STRANGER, pod["proposer"])
    # The model calls out to nothing; the LLM callers reach the internet on HTTPS only, and not the
    # private ranges nor the metadata service.
    assert not cluster.reachable(pod["model"], PROVIDER)
    for caller in LLM_CALLERS:
        assert cluster.reachable(pod[caller], PROVIDER) == {"443/TCP"}
        for private in (PRIVATE_HOST, SHARED_RANGE_HOST, METADATA):
            assert not cluster.reachable(pod[caller], private), (caller, private.name)


def test_collector_configs_of_compose_and_kubernetes_agree() -> None:
    kubernetes = overlays.COMPONENTS["tracing"] / "otel-collector.yaml"
    assert kubernetes.read_text() == COLLECTOR_CONFIG.read_text()
