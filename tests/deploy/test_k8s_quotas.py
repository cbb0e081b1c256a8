"""deploy/k8s/quotas (the base plus components/quotas), as `kubectl kustomize` renders it: the orchestrator,
and no other service, is given Redis's Service and the quota file its ConfigMap mounts; Redis runs as
docker-compose.quotas.yml runs it; and the rendered orchestrator, with the file as the kubelet would mount
it, counts in a Debian redis-server started with the manifest's command. The checks every overlay gets
(schemas, hardening, network policies) are test_k8s.py's."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from smoa.v1 import orchestrator_pb2
from smoa_services.orchestrator.quota import quota_file
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.metric_points import count
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question
from smoa_testing.stacks.redis_process import redis_process
from tests.deploy import compose_config, kubernetes_schemas, overlays, settings_env
from tests.deploy.container_paths import environment_on_host
from tests.deploy.manifests import Manifest, container, environment, find, one
from tests.deploy.paths import K8S, ROOT
from tests.deploy.pod_volumes import mounted

COMPOSE_QUOTAS = (*compose_config.BASE, ROOT / "docker-compose.quotas.yml")


@pytest.fixture(scope="module")
def docs() -> list[Manifest]:
    return overlays.render(K8S / overlays.OVERLAYS["quotas"])


def test_the_quota_files_of_compose_and_kubernetes_agree() -> None:
    kubernetes = overlays.COMPONENTS["quotas"] / "quotas.json"
    assert kubernetes.read_text() == (ROOT / "deploy" / "quotas.json").read_text()


def test_redis_runs_as_compose_runs_it(docs: list[Manifest]) -> None:
    composed = compose_config.services(COMPOSE_QUOTAS)["redis"]
    spec = container(one(docs, "Deployment", "redis"))
    assert spec["image"] == composed["image"] and spec["command"] == composed["command"]
    # What compose's healthcheck runs, the probes run.
    for probe in ("readinessProbe", "livenessProbe"):
        assert spec[probe]["exec"]["command"] == composed["healthcheck"]["test"][-2:]


def test_only_the_orchestrator_counts_in_redis_and_reads_the_quota_file(docs: list[Manifest]) -> None:
    for deployment in find(docs, "Deployment"):
        if deployment["metadata"]["name"] != "orchestrator":
            variables = environment(docs, deployment)
            assert not {"SMOA_REDIS_URL", "SMOA_QUOTA_FILE"} & set(variables), deployment["metadata"]["name"]
    orchestrator = one(docs, "Deployment", "orchestrator")
    configured = settings_env.load("orchestrator", environment(docs, orchestrator))
    url = urllib.parse.urlsplit(configured.redis_url)
    service = one(docs, "Service", str(url.hostname))
    (port,) = service["spec"]["ports"]
    assert url.scheme == "redis" and url.port == port["port"]
    (listening,) = container(one(docs, "Deployment", "redis"))["ports"]
    assert port["targetPort"] == listening["name"] and listening["containerPort"] == 6379
    assert configured.quota_fail_open  # documented in the component: admitted unchecked while Redis is down


def test_the_component_stacks_with_secure_and_tracing(tmp_path: Path) -> None:
    """All three components on the base: valid, and the orchestrator has the secure component's Secret and
    the quota file both."""
    root = overlays.with_trial_secrets(tmp_path / "k8s")
    every = root / "every"
    every.mkdir()
    components = [f"../components/{name}" for name in overlays.COMPONENTS]
    (every / "kustomization.yaml").write_text(
        yaml.safe_dump({"namespace": "smoa", "resources": ["../base"], "components": components})
    )
    report = kubernetes_schemas.validate(overlays.rendered_yaml(every))
    assert report.returncode == 0 and not report.problems, "\n".join(report.problems)
    docs = overlays.render(every)
    orchestrator = one(docs, "Deployment", "orchestrator")
    mounts = {m["mountPath"] for m in container(orchestrator)["volumeMounts"]}
    assert {"/etc/smoa/secrets", "/etc/smoa/quotas"} <= mounts
    configured = settings_env.load("orchestrator", environment(docs, orchestrator))
    assert configured.redis_url and configured.quota_file and configured.tls_cert_file
    assert {"redis", "otel-collector"} <= {d["metadata"]["name"] for d in find(docs, "Deployment")}


async def test_the_rendered_orchestrator_counts_in_redis_run_as_the_manifest_runs_it(
    docs: list[Manifest], tmp_path: Path
) -> None:
    orchestrator = one(docs, "Deployment", "orchestrator")
    files = mounted(docs, orchestrator, tmp_path / "pods")
    configured = settings_env.load(
        "orchestrator", environment_on_host(environment(docs, orchestrator), files)
    )
    limits = quota_file(Path(configured.quota_file).read_text())["*"]  # the mounted file, as the pod reads it
    command = container(one(docs, "Deployment", "redis"))["command"]
    request = orchestrator_pb2.GenerateRequest(messages=question(), n=2, k=1, max_layers=1)
    remaining = []
    with redis_process(tmp_path, command) as redis, FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(
            llm.base_url,
            redis_url=redis.url,
            quota_file=configured.quota_file,
            quota_fail_open=configured.quota_fail_open,
        ) as stack:
            for _ in range(2):
                call = stack.stub.Generate(request, timeout=10)
                headers = dict(await call.initial_metadata())
                assert (await call).text
                assert headers["x-ratelimit-limit-tokens"] == str(limits.tokens_per_minute)
                remaining.append(int(headers["x-ratelimit-remaining-requests"]))
            assert count(stack.metrics, "smoa.quota.unchecked") == 0
        client = Redis.from_url(redis.url)
        counters = await client.keys()
        await client.aclose()
    # The second request found the first counted, in Redis's counters.
    assert remaining == [limits.requests_per_minute - 1, limits.requests_per_minute - 2]
    assert len(counters) == 3  # requests this minute, tokens this minute, tokens today
