"""docker-compose.secure.yml over docker-compose.yml, as docker-compose renders the pair (`docker-compose
-f docker-compose.yml -f docker-compose.secure.yml config`, tests/deploy/compose_config.py): every smoa
service serves TLS with its own certificate; the orchestrator takes end users' tokens and reaches its peers
with its client certificate and the peer token; the peers require a certificate and allow only the
orchestrator; reflection is off; the HTTP gateway serves HTTPS with its own certificate and trusts the CA
toward the orchestrator; the secrets are files in the gitignored deploy/secrets/ (SMOA_SECRETS_DIR's
default), and the file holds no secret value. Then the services and the gateway run with those settings and
deploy/make_secrets.py's files, and the health checks and a user's call (gRPC and through the gateway) pass
where strangers are refused. On a real engine: `make e2e` (tests/e2e/deployment)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from smoa import cli
from smoa_services.config import Settings
from smoa_testing.certificates import Issued
from tests.deploy import compose_config, secured_stack, served_gateway, settings_env, trial_secrets
from tests.deploy.compose_config import BASE, SECURE
from tests.deploy.container_paths import Mounts, command_on_host, environment_on_host
from tests.deploy.paths import ROOT, SECURE_COMPOSE_FILE

pytestmark = pytest.mark.compose

GRPC = ["orchestrator", "proposer", "judge", "moderator"]
PEERS = ["proposer", "judge", "moderator"]
SMOA = [*GRPC, "gateway"]
SECRETS_DIR = ROOT / "deploy" / "secrets"
MOUNTED_AT = "/run/secrets/"  # compose mounts a secret at /run/secrets/<target>


def services() -> dict[str, Any]:
    return compose_config.services(SECURE)


def secrets() -> dict[str, Any]:
    found: dict[str, Any] = compose_config.rendered(SECURE)["secrets"]
    return found


def env(name: str) -> dict[str, str]:
    return compose_config.environment(SECURE, name)


def settings(name: str) -> Settings:
    return settings_env.load(name, env(name))


def mounted(name: str) -> dict[str, Path]:
    """Where each of the service's secrets is in its container, and which file (in deploy/secrets/) it is."""
    found = {}
    for secret in services()[name].get("secrets", []):
        assert isinstance(secret, dict), f"{name}: mount secrets with source and target"
        found[MOUNTED_AT + secret["target"]] = Path(secrets()[secret["source"]]["file"])
    return found


def source(name: str, container_path: str) -> str:
    """The deploy/secrets/ file a service's setting points at."""
    files = mounted(name)
    assert container_path in files, f"{name}: {container_path} is no secret mounted in it"
    return files[container_path].relative_to(SECRETS_DIR).as_posix()


def test_docker_compose_renders_the_pair_with_every_variable_defaulted() -> None:
    rendering = compose_config.render(SECURE)
    assert rendering.config is not None, rendering.stderr
    assert "variable is not set" not in rendering.stderr, rendering.stderr


def test_the_overlay_adds_to_the_smoa_services_and_changes_nothing_else() -> None:
    """The same services; the model as it was; each smoa service keeps every setting it had and gains
    only TLS, tokens, secrets and a health check that speaks TLS."""
    alone, secured = compose_config.services(BASE), services()
    assert set(secured) == set(alone)
    assert secured["model"] == alone["model"]
    for name in SMOA:
        base_env = compose_config.environment(BASE, name)
        assert {k: env(name).get(k) for k in base_env} == base_env, f"{name}: a setting changed"
        changed = {
            k for k in set(secured[name]) | set(alone[name]) if secured[name].get(k) != alone[name].get(k)
        }
        assert changed == {"environment", "secrets", "healthcheck"}, name
        timing = {k: v for k, v in secured[name]["healthcheck"].items() if k != "test"}
        assert timing == {k: v for k, v in alone[name]["healthcheck"].items() if k != "test"}


@pytest.mark.parametrize("name", GRPC)
def test_every_service_serves_tls_with_its_own_certificate(name: str) -> None:
    configured = settings(name)
    assert source(name, configured.tls_cert_file) == f"{name}.crt"
    assert source(name, configured.tls_key_file) == f"{name}.key"
    assert configured.reflection is False


def test_the_orchestrator_takes_users_tokens_and_reaches_peers_as_the_orchestrator() -> None:
    configured = settings("orchestrator")
    assert source("orchestrator", configured.auth_tokens_file) == "front-door.tokens"
    # End users hold tokens, not certificates; every token holder may call the front door, so a user is
    # added by a line in the tokens file, without a restart.
    assert not configured.tls_client_ca_file and not configured.allowed_calls()
    assert source("orchestrator", configured.peer_ca_file) == "ca.crt"
    assert source("orchestrator", configured.peer_cert_file) == "orchestrator-client.crt"
    assert source("orchestrator", configured.peer_key_file) == "orchestrator-client.key"
    assert source("orchestrator", configured.peer_token_file) == "peer-token"


def test_the_gateway_serves_https_and_trusts_the_ca_toward_the_orchestrator() -> None:
    """Its own certificate; toward the orchestrator (a front door that requires no client certificate) the
    CA only: no certificate and no token of its own, as its callers' API keys are the orchestrator's
    tokens."""
    configured = settings("gateway")
    assert source("gateway", configured.tls_cert_file) == "gateway.crt"
    assert source("gateway", configured.tls_key_file) == "gateway.key"
    assert source("gateway", configured.peer_ca_file) == "ca.crt"
    assert not configured.peer_cert_file and not configured.peer_key_file and not configured.peer_token_file
    assert {s["target"] for s in services()["gateway"]["secrets"]} == {"tls.crt", "tls.key", "ca.crt"}


def test_the_gateway_health_check_speaks_https_trusting_the_ca() -> None:
    _, _, _, code = services()["gateway"]["healthcheck"]["test"]
    url = urllib.parse.urlsplit(code.split("'")[1])
    assert (url.scheme, url.hostname, url.path) == ("https", "127.0.0.1", "/healthz")
    assert url.port == settings("gateway").port
    assert f"cafile='{MOUNTED_AT}ca.crt'" in code and source("gateway", f"{MOUNTED_AT}ca.crt") == "ca.crt"


@pytest.mark.parametrize("name", PEERS)
def test_peers_require_a_certificate_and_allow_only_the_orchestrator(name: str) -> None:
    configured = settings(name)
    assert source(name, configured.tls_client_ca_file) == "ca.crt"
    assert source(name, configured.auth_tokens_file) == "peers.tokens"
    assert configured.allowed_calls() == {"orchestrator": ("*",)}


def test_secrets_are_files_in_the_gitignored_folder_and_all_are_used() -> None:
    used = {s["source"] for name in SMOA for s in services()[name]["secrets"]}
    assert used == set(secrets())
    for name, secret in secrets().items():
        assert set(secret) == {"file"}, f"{name}: only file secrets"
        path = Path(secret["file"])
        assert path.parent == SECRETS_DIR, f"{name}: {secret['file']}"
        ignored = subprocess.run(
            ["git", "check-ignore", "--quiet", str(path.relative_to(ROOT))], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0, f"{path} is not gitignored"


def test_the_file_holds_no_secret_value() -> None:
    """Rendered with nothing from the shell, every secret-named variable is empty: the file gives it no
    value, only `${NAME:-}` passing on the operator's shell's or .env's; files are mounted secrets."""
    text = SECURE_COMPOSE_FILE.read_text()
    assert "BEGIN" not in text and "PRIVATE" not in text
    for name in SMOA:
        for variable, value in env(name).items():
            secret_named = any(w in variable for w in ("TOKEN", "KEY", "PASSWORD", "SECRET"))
            if variable.endswith("_FILE"):
                assert value.startswith(MOUNTED_AT), f"{name}: {variable}"
            elif secret_named and not variable.endswith("_ENV"):
                assert value == "", f"{name}: {variable} has a value"
                written = re.findall(rf"^\s*{variable}:\s*(.*?)\s*$", text, re.MULTILINE)
                assert written == [f"${{{variable}:-}}"], f"{name}: {variable}: {written}"


@pytest.mark.parametrize("name", GRPC)
def test_health_checks_speak_tls_on_the_services_port(name: str) -> None:
    kind, program, *argv = services()[name]["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "smoa")
    args = cli.parser().parse_args(argv)
    configured = settings(name)
    assert args.command == "health" and args.target == f"127.0.0.1:{configured.port}"
    assert source(name, args.ca_file) == "ca.crt"
    if configured.tls_client_ca_file:  # the server requires a certificate: the service's own
        assert (args.cert, args.key) == (configured.tls_cert_file, configured.tls_key_file)


def test_the_certificates_carry_the_names_they_are_dialled_by(tmp_path: Path) -> None:
    """The host the health check dials, and for a peer the host of the orchestrator's target: the
    in-process stack dials 127.0.0.1 only, so the service names are checked here."""
    files = trial_secrets.make(tmp_path)
    for name in GRPC:
        certificate = x509.load_pem_x509_certificate((files / f"{name}.crt").read_bytes())
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dialled = {str(n.value) for n in names}
        health = cli.parser().parse_args(services()[name]["healthcheck"]["test"][2:])
        assert health.target.rpartition(":")[0] in dialled, name
        if name in PEERS:
            target = getattr(settings("orchestrator"), f"{name}_target")
            assert urllib.parse.urlsplit(target).path.lstrip("/").rpartition(":")[0] in dialled, name
        if name == "orchestrator":  # the gateway dials it by its service name
            target = settings("gateway").orchestrator_target
            assert urllib.parse.urlsplit(target).path.lstrip("/").rpartition(":")[0] in dialled
    gateway = x509.load_pem_x509_certificate((files / "gateway.crt").read_bytes())
    names = gateway.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    health = services()["gateway"]["healthcheck"]["test"][3].split("'")[1]
    assert urllib.parse.urlsplit(health).hostname in {str(n.value) for n in names}


async def test_the_secured_services_answer_a_user_and_refuse_everyone_else(tmp_path: Path) -> None:
    files = trial_secrets.make(tmp_path / "secrets")

    def mounts(name: str) -> Mounts:
        return {inside: files / path.name for inside, path in mounted(name).items()}

    configured = {
        name: settings_env.load(name, environment_on_host(env(name), mounts(name))) for name in SMOA
    }
    async with secured_stack.running(configured) as ports:
        for name in GRPC:
            _, _, *argv = command_on_host(services()[name]["healthcheck"]["test"], mounts(name))
            argv[argv.index("--target") + 1] = f"127.0.0.1:{ports[name]}"
            # In a thread: the CLI blocks, and the servers answer on this loop.
            assert await asyncio.to_thread(cli.main, argv) == 0, f"{name}: health check failed"
        await secured_stack.assert_secured(
            ports,
            files / "ca.crt",
            trial_secrets.token_of(files / "front-door.tokens", "user"),
            Issued(files / "proposer.crt", files / "proposer.key"),
        )
        user = trial_secrets.token_of(files / "front-door.tokens", "user")
        async with served_gateway.serving(configured["gateway"], ports["orchestrator"]) as port:
            status, err = await served_gateway.run_health_check(
                services()["gateway"]["healthcheck"]["test"], port, mounts("gateway")
            )
            assert status == 0, f"gateway: health check failed: {err}"
            await served_gateway.assert_gateway_secured(port, files / "ca.crt", user)
