"""deploy/k8s/secure and deploy/k8s/secure-tracing (base plus the secure component, and plus the tracing
one too), rendered by `kubectl kustomize` from a copy with deploy/make_secrets.py's files in the component's
gitignored secrets/: every gRPC Deployment mounts its own Secret and serves TLS from it, with reflection off;
the orchestrator takes end users' tokens and reaches its peers with its client certificate and the peer
token; the peers require a certificate and allow only the orchestrator; the LLM key comes from a Secret; the
probes speak TLS; the HTTP gateway serves HTTPS from its own Secret, trusts the CA toward the orchestrator and
is probed over HTTPS; the Secrets are generated from files only; in the combined overlay both components'
settings land in smoa-config. Then the pods' settings and mounted files run the services and the gateway,
and the probes and a user's call (gRPC and through the gateway) pass where strangers are refused. Where
kubectl is not on PATH these tests are skipped and say so."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import runpy
import ssl
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa_services.config import Settings
from smoa_testing.certificates import Issued
from tests.deploy import overlays, secured_stack, served_gateway, settings_env, trial_secrets
from tests.deploy.container_paths import command_on_host, environment_on_host
from tests.deploy.manifests import Manifest, config_map, container, environment, one
from tests.deploy.paths import K8S, ROOT
from tests.deploy.pod_volumes import mounted

SECURE = overlays.COMPONENTS["secure"]
PROBE = SECURE / "tls_health_probe.py"
GRPC = ["orchestrator", "proposer", "judge", "moderator"]
PEERS = ["proposer", "judge", "moderator"]
SMOA = [*GRPC, "gateway"]
SECRETS_AT = "/etc/smoa/secrets"
UID = 10001
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/k8s copied (without any secrets of this checkout), with trial secrets made in the copy."""
    return overlays.with_trial_secrets(tmp_path_factory.mktemp("deploy") / "k8s")


@pytest.fixture(scope="module", params=overlays.SECURED)
def overlay(request: pytest.FixtureRequest, trial: Path) -> Path:
    return trial / overlays.OVERLAYS[request.param]


@pytest.fixture(scope="module")
def docs(overlay: Path) -> list[Manifest]:
    return overlays.render(overlay)


def generated(name: str, plain: str) -> bool:
    """A generated object's name: plain, or with kustomize's content hash appended."""
    return re.fullmatch(re.escape(plain) + r"(-[a-z0-9]{10})?", name) is not None


def pod(deployment: Manifest) -> Manifest:
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


def settings(docs: list[Manifest], name: str) -> Settings:
    return settings_env.load(name, environment(docs, one(docs, "Deployment", name)))


def secret_volume(deployment: Manifest) -> Manifest:
    (mount,) = [m for m in container(deployment)["volumeMounts"] if m["mountPath"] == SECRETS_AT]
    assert mount.get("readOnly") is True
    volume: Manifest = next(v for v in pod(deployment)["volumes"] if v["name"] == mount["name"])
    return volume


def mounted_file(docs: list[Manifest], name: str, path: str) -> bytes:
    """What a Deployment's container reads at `path`: a key of its mounted Secret."""
    folder, _, key = path.rpartition("/")
    assert folder == SECRETS_AT, f"{name}: {path} is not in the mounted Secret"
    secret = one(docs, "Secret", secret_volume(one(docs, "Deployment", name))["secret"]["secretName"])
    assert key in secret["data"], f"{name}: the Secret has no {key}"
    return base64.b64decode(secret["data"][key])


def made(overlay: Path, file: str) -> bytes:
    """A file make_secrets.py wrote for the overlay's copy."""
    return (overlay.parent / overlays.SECRETS / file).read_bytes()


def probe_arguments(argv: list[str]) -> argparse.Namespace:
    """The probe's command line as the probe reads it (run from its file: it is no module of ours)."""
    parsed: argparse.Namespace = runpy.run_path(str(PROBE))["arguments"](argv)
    return parsed


def test_secrets_are_generated_from_gitignored_files_only() -> None:
    spec = overlays.kustomization(SECURE)
    for generator in spec["secretGenerator"]:
        assert set(generator) == {"name", "files"}, f"{generator['name']}: files only, no literals"
        for entry in generator["files"]:
            file = Path(entry.rpartition("=")[2])
            assert file.parts[0] == "secrets", entry
            path = (SECURE / file).relative_to(ROOT)
            ignored = subprocess.run(["git", "check-ignore", "--quiet", str(path)], cwd=ROOT, check=False)
            assert ignored.returncode == 0, f"{path} is not gitignored"
    for patch in spec["patches"]:
        assert {d["kind"] for d in overlays.load_documents(SECURE / patch["path"])} == {"Deployment"}


@pytest.mark.parametrize("name", SMOA)
def test_every_deployment_mounts_its_own_secret_readable_by_its_user_only(
    docs: list[Manifest], name: str
) -> None:
    deployment = one(docs, "Deployment", name)
    volume = secret_volume(deployment)["secret"]
    assert generated(volume["secretName"], f"smoa-{name}")
    # The files are root's; the group lets the service's user read them, and no one else.
    assert volume["defaultMode"] == 0o440
    assert pod(deployment)["securityContext"]["fsGroup"] == pod(deployment)["securityContext"]["runAsGroup"]


@pytest.mark.parametrize("name", SMOA)
def test_every_service_serves_tls_with_its_own_certificate_and_no_reflection(
    docs: list[Manifest], overlay: Path, name: str
) -> None:
    configured = settings(docs, name)
    assert mounted_file(docs, name, configured.tls_cert_file) == made(overlay, f"{name}.crt")
    assert mounted_file(docs, name, configured.tls_key_file) == made(overlay, f"{name}.key")
    assert configured.reflection is False


def test_the_orchestrator_takes_users_tokens_and_reaches_peers_as_the_orchestrator(
    docs: list[Manifest], overlay: Path
) -> None:
    configured = settings(docs, "orchestrator")

    def reads(path: str) -> bytes:
        return mounted_file(docs, "orchestrator", path)

    assert reads(configured.auth_tokens_file) == made(overlay, "front-door.tokens")
    # End users hold tokens, not certificates; every token holder may call the front door, so a user is
    # added by a line in the tokens file.
    assert not configured.tls_client_ca_file and not configured.allowed_calls()
    assert reads(configured.peer_ca_file) == made(overlay, "ca.crt")
    assert reads(configured.peer_cert_file) == made(overlay, "orchestrator-client.crt")
    assert reads(configured.peer_key_file) == made(overlay, "orchestrator-client.key")
    assert reads(configured.peer_token_file) == made(overlay, "peer-token")


def test_the_gateway_trusts_the_ca_toward_the_orchestrator(docs: list[Manifest], overlay: Path) -> None:
    """The orchestrator requires no client certificate; the gateway has no token of its own (its callers'
    API keys are the orchestrator's tokens), and its Secret holds nothing more than it uses."""
    configured = settings(docs, "gateway")
    assert mounted_file(docs, "gateway", configured.peer_ca_file) == made(overlay, "ca.crt")
    assert not configured.peer_cert_file and not configured.peer_key_file and not configured.peer_token_file
    secret = secret_volume(one(docs, "Deployment", "gateway"))["secret"]["secretName"]
    assert set(one(docs, "Secret", secret)["data"]) == {"tls.crt", "tls.key", "ca.crt"}


def test_the_gateway_is_probed_over_https(docs: list[Manifest]) -> None:
    """The base's probes (liveness /healthz, readiness /readyz) with scheme HTTPS: the kubelet does not
    verify the certificate."""
    base = container(one(overlays.render(K8S / "base"), "Deployment", "gateway"))
    spec = container(one(docs, "Deployment", "gateway"))
    for probe in PROBES:
        assert spec[probe] == {**base[probe], "httpGet": {**base[probe]["httpGet"], "scheme": "HTTPS"}}, probe


@pytest.mark.parametrize("name", PEERS)
def test_peers_require_a_certificate_and_allow_only_the_orchestrator(
    docs: list[Manifest], overlay: Path, name: str
) -> None:
    configured = settings(docs, name)
    assert mounted_file(docs, name, configured.tls_client_ca_file) == made(overlay, "ca.crt")
    assert mounted_file(docs, name, configured.auth_tokens_file) == made(overlay, "peers.tokens")
    assert configured.allowed_calls() == {"orchestrator": ("*",)}


@pytest.mark.parametrize("name", GRPC)
def test_the_llm_key_comes_from_a_secret(docs: list[Manifest], name: str) -> None:
    """The services read the key from the environment only, so it is a variable from a Secret."""
    configured = settings(docs, name)
    (variable,) = [
        v for v in container(one(docs, "Deployment", name))["env"] if v["name"] == "SMOA_LLM_API_KEY"
    ]
    assert configured.llm_api_key_env == variable["name"] and "value" not in variable
    reference = variable["valueFrom"]["secretKeyRef"]
    assert generated(reference["name"], "smoa-llm-api-key")
    assert reference["key"] in one(docs, "Secret", reference["name"])["data"]


@pytest.mark.parametrize("name", GRPC)
def test_probes_check_the_server_over_tls_with_the_mounted_script(docs: list[Manifest], name: str) -> None:
    deployment = one(docs, "Deployment", name)
    spec = container(deployment)
    configured = settings(docs, name)
    commands = {tuple(spec[probe]["exec"]["command"]) for probe in PROBES}
    assert all(set(spec[probe]) & {"grpc", "httpGet", "tcpSocket"} == set() for probe in PROBES)
    ((python, script, *argv),) = commands
    args = probe_arguments(argv)
    assert python == "python" and args.port == configured.port and args.server_name == name
    assert args.ca_file == Path(SECRETS_AT) / "ca.crt"
    if configured.tls_client_ca_file:  # the server requires a certificate: the service's own
        assert (str(args.cert), str(args.key)) == (configured.tls_cert_file, configured.tls_key_file)
    else:
        assert args.cert is None and args.key is None
    for probe in PROBES:
        assert spec[probe]["timeoutSeconds"] > args.timeout + 1, "the probe gives up before the kubelet does"
    folder, _, file = script.rpartition("/")
    (mount,) = [m for m in spec["volumeMounts"] if m["mountPath"] == folder]
    volume = next(v for v in pod(deployment)["volumes"] if v["name"] == mount["name"])
    assert one(docs, "ConfigMap", volume["configMap"]["name"])["data"][file] == PROBE.read_text()


@pytest.mark.parametrize("name", SMOA)
def test_the_pods_stay_hardened(docs: list[Manifest], name: str) -> None:
    base = one(overlays.render(K8S / "base"), "Deployment", name)
    secured = one(docs, "Deployment", name)
    assert pod(secured)["securityContext"] == {**pod(base)["securityContext"], "fsGroup": UID}
    assert container(secured)["securityContext"] == container(base)["securityContext"]
    assert one(docs, "Namespace", "smoa")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )


def test_the_combined_overlay_has_both_components_settings(trial: Path) -> None:
    """Both components merge their literals into the one generated smoa-config, which every service reads:
    the TLS files and the collector's endpoint."""
    secured = overlays.render(trial / overlays.OVERLAYS["secure"])
    traced = overlays.render(K8S / overlays.OVERLAYS["tracing"])
    both = overlays.render(trial / overlays.OVERLAYS["secure-tracing"])

    def settings_of(docs: list[Manifest]) -> dict[str, str]:
        (reference,) = container(one(docs, "Deployment", "orchestrator"))["envFrom"]
        data: dict[str, str] = config_map(docs, reference["configMapRef"]["name"])["data"]
        return data

    assert settings_of(both) == {**settings_of(secured), **settings_of(traced)}
    wanted = {"SMOA_TLS_CERT_FILE", "SMOA_AUTH_TOKENS_FILE", "OTEL_EXPORTER_OTLP_ENDPOINT"}
    assert wanted <= set(settings_of(both))
    for name in SMOA:
        variables = environment(both, one(both, "Deployment", name))
        assert variables["SMOA_TLS_CERT_FILE"] == f"{SECRETS_AT}/tls.crt", name
        assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317", name
    # Each Deployment is the secured one (but for the hash in smoa-config's name), the collector beside them.

    def unhashed(deployment: Manifest) -> str:
        return re.sub(r"smoa-config-[a-z0-9]{10}", "smoa-config", json.dumps(deployment, sort_keys=True))

    for name in SMOA:
        assert unhashed(one(both, "Deployment", name)) == unhashed(one(secured, "Deployment", name)), name
    assert {d["metadata"]["name"] for d in both if d["kind"] == "Deployment"} >= {"otel-collector", "jaeger"}


@pytest.fixture
def pod_files(docs: list[Manifest], tmp_path: Path) -> dict[str, dict[str, Path]]:
    """Each Deployment's mounted volumes written out as the kubelet would, by mount path."""
    return {name: mounted(docs, one(docs, "Deployment", name), tmp_path) for name in SMOA}


async def test_the_pods_serve_securely_and_their_probes_pass(
    docs: list[Manifest], pod_files: dict[str, dict[str, Path]]
) -> None:
    configured = {
        name: settings_env.load(
            name, environment_on_host(environment(docs, one(docs, "Deployment", name)), pod_files[name])
        )
        for name in SMOA
    }
    async with secured_stack.running(configured) as ports:
        for name in GRPC:
            command = command_on_host(
                container(one(docs, "Deployment", name))["startupProbe"]["exec"]["command"], pod_files[name]
            )
            command = [
                sys.executable,
                *(f"--port={ports[name]}" if w.startswith("--port=") else w for w in command[1:]),
            ]
            probe = await asyncio.create_subprocess_exec(
                *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            out, err = await asyncio.wait_for(probe.communicate(), timeout=30)
            assert probe.returncode == 0 and out.decode().strip() == "SERVING", f"{name}: {err.decode()}"
            # Why not Kubernetes' own gRPC probe: it speaks plaintext, which a TLS server does not answer.
            async with grpc.aio.insecure_channel(f"127.0.0.1:{ports[name]}") as plaintext:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await health_pb2_grpc.HealthStub(plaintext).Check(
                        health_pb2.HealthCheckRequest(), timeout=5
                    )
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        secrets = {name: pod_files[name][SECRETS_AT] for name in GRPC}
        await secured_stack.assert_secured(
            ports,
            secrets["orchestrator"] / "ca.crt",
            trial_secrets.token_of(secrets["orchestrator"] / "tokens", "user"),
            Issued(secrets["proposer"] / "tls.crt", secrets["proposer"] / "tls.key"),
        )
        async with served_gateway.serving(configured["gateway"], ports["orchestrator"]) as port:
            # As the kubelet probes: HTTPS without verifying the certificate.
            unverified = ssl.create_default_context()
            unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
            spec = container(one(docs, "Deployment", "gateway"))
            for kind in PROBES:
                url = f"https://127.0.0.1:{port}{spec[kind]['httpGet']['path']}"
                status, _ = await asyncio.to_thread(served_gateway.request, url, unverified)
                assert status == 200, f"gateway: {kind}"
            await served_gateway.assert_gateway_secured(
                port,
                pod_files["gateway"][SECRETS_AT] / "ca.crt",
                trial_secrets.token_of(secrets["orchestrator"] / "tokens", "user"),
            )
