"""deploy/make_secrets.py: the files both secured deployments mount, in the formats the services read; a
certificate per service from one CA, for the names it is dialled by; the orchestrator's client certificate;
random tokens that agree between the orchestrator and its peers; a private folder; the operator's LLM key
kept across runs. (The handshakes themselves: test_compose_secure.py and test_k8s_secure.py.)"""

from __future__ import annotations

import datetime
import ipaddress
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smoa_services.access.auth import parse_tokens
from smoa_services.config import Settings
from smoa_services.platform.channel import peer_token
from tests.deploy import overlays, trial_secrets
from tests.deploy.paths import SECURE_COMPOSE_FILE

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trial_secrets.make(tmp_path_factory.mktemp("run") / "secrets")


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def usages(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def referenced() -> set[str]:
    """The files docker-compose.secure.yml and the Kubernetes secure component name."""
    compose = yaml.safe_load(SECURE_COMPOSE_FILE.read_text())["secrets"]
    names = {Path(secret["file"]).name for secret in compose.values()}
    for generator in overlays.kustomization(overlays.COMPONENTS["secure"])["secretGenerator"]:
        names |= {Path(entry.rpartition("=")[2]).name for entry in generator["files"]}
    return names


def test_it_writes_what_the_deployments_mount_and_nothing_else(files: Path) -> None:
    assert {p.name for p in files.iterdir()} == referenced()


def test_the_folder_is_private_and_its_files_readable_by_the_containers_user(files: Path) -> None:
    assert stat.S_IMODE(files.stat().st_mode) == 0o700
    for path in files.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name


def test_every_certificate_comes_from_the_ca_and_matches_its_key(files: Path) -> None:
    ca = certificate(files / "ca.crt")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    now = datetime.datetime.now(datetime.timezone.utc)
    for cert_file in files.glob("*.crt"):
        cert = certificate(cert_file)
        cert.verify_directly_issued_by(ca)
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
        if cert_file.name == "ca.crt":
            continue
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        key = serialization.load_pem_private_key(cert_file.with_suffix(".key").read_bytes(), password=None)
        assert key.public_key() == cert.public_key(), cert_file.name


@pytest.mark.parametrize("name", trial_secrets.SERVICES)
def test_each_service_is_named_as_it_is_dialled(files: Path, name: str) -> None:
    cert = certificate(files / f"{name}.crt")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {name, "localhost"}
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    # A peer's health check presents the peer's own certificate; the front doors (the orchestrator and the
    # HTTP gateway) require none.
    assert usages(cert) == ({SERVER, CLIENT} if name in trial_secrets.PEERS else {SERVER})


def test_only_the_client_certificate_is_the_orchestrator_toward_peers(files: Path) -> None:
    client = certificate(files / "orchestrator-client.crt")
    (common_name,) = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert common_name.value == "orchestrator" and usages(client) == {CLIENT}
    assert CLIENT not in usages(certificate(files / "orchestrator.crt"))


def test_no_key_but_the_services_and_the_clients_is_kept(files: Path) -> None:
    """The CA's key is thrown away: nothing more can be issued from a trial CA."""
    keys = {p.name for p in files.iterdir() if b"PRIVATE KEY" in p.read_bytes()}
    assert keys == {f"{name}.key" for name in trial_secrets.SERVICES} | {"orchestrator-client.key"}


def test_the_peers_accept_the_token_the_orchestrator_sends(files: Path) -> None:
    token = peer_token(Settings(peer_token_file=str(files / "peer-token")))
    assert token is not None
    sent = token()
    accepted = dict(parse_tokens((files / "peers.tokens").read_text()))
    assert accepted == {"orchestrator": sent.encode()} and len(sent) >= 40
    users = dict(parse_tokens((files / "front-door.tokens").read_text()))
    assert set(users) == {"user"} and len(users["user"]) >= 40
    assert users["user"] != sent.encode()


def test_a_second_run_replaces_everything_but_the_llm_key(tmp_path: Path) -> None:
    files = trial_secrets.make(tmp_path / "secrets")
    (files / "llm-api-key").write_text("sk-operators-own\n")
    before = {p.name: p.read_bytes() for p in files.iterdir()}
    trial_secrets.make(files)
    after = {p.name: p.read_bytes() for p in files.iterdir()}
    assert after["llm-api-key"] == b"sk-operators-own\n"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == set(before) - {"llm-api-key"}
