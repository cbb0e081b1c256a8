"""Secrets to try a secured smoa with: a CA, a certificate per service (the HTTP gateway's too), the
orchestrator's client certificate, and random bearer tokens, as PEM and token files in one directory.

    python deploy/make_secrets.py deploy/secrets                        # docker-compose.secure.yml
    python deploy/make_secrets.py deploy/k8s/components/secure/secrets  # deploy/k8s/secure, secure-tracing

Running it again replaces every file (new CA, new tokens) but `llm-api-key`, which is the operator's: it is
created empty (the embedded model needs no key) and then left alone. The CA's private key is not kept, so
nothing else can be issued from it: for production, issue these files from your own PKI instead.

Needs the `cryptography` package (in the development venv)."""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import secrets
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVICES = ("orchestrator", "proposer", "judge", "moderator", "gateway")
# The services that require a client certificate of their callers (the orchestrator's).
PEERS = ("proposer", "judge", "moderator")
# Each service's name is the host its callers dial (dns:///proposer:50052, compose and Kubernetes alike);
# localhost and 127.0.0.1 are for health checks inside the container and a port-forwarded front door.
LOCAL_NAMES = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
TRIAL_USER = "user"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Authority:
    def __init__(self, common_name: str, days: int):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.days = days
        self.certificate = (
            self._builder(_name(common_name), self.key.public_key(), _name(common_name))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def _builder(
        self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, issuer: x509.Name
    ) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little behind still accept
            .not_valid_after(now + datetime.timedelta(days=self.days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    def issue(
        self, common_name: str, usages: list[x509.ObjectIdentifier], names: list[x509.GeneralName]
    ) -> tuple[bytes, bytes]:
        """(certificate PEM, private key PEM). With mutual TLS the common name is the caller's name."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            self._builder(_name(common_name), key.public_key(), self.certificate.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        return certificate.public_bytes(serialization.Encoding.PEM), _pem(key)


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _server_usages(service: str) -> list[x509.ObjectIdentifier]:
    """Client auth too for the peers: their health checks present the peer's own certificate to its server,
    which requires one (a caller name no SMOA_AUTH_ALLOW grants anything; health is never authorized). The
    orchestrator and the gateway require no client certificate, and the gateway presents none to the
    orchestrator (its callers' API keys are the orchestrator's tokens)."""
    if service in PEERS:
        return [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    return [ExtendedKeyUsageOID.SERVER_AUTH]


def write(directory: Path, days: int) -> None:
    # The directory keeps other users of this machine out. Its files stay readable by all, because
    # compose bind-mounts each one into containers that run as another user (UID 10001).
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    files: dict[str, bytes] = {}
    authority = Authority("smoa trial CA", days)
    files["ca.crt"] = authority.certificate.public_bytes(serialization.Encoding.PEM)
    for service in SERVICES:
        cert, key = authority.issue(service, _server_usages(service), [x509.DNSName(service), *LOCAL_NAMES])
        files[f"{service}.crt"], files[f"{service}.key"] = cert, key
    # The orchestrator's identity toward its peers lives in this certificate only.
    cert, key = authority.issue("orchestrator", [ExtendedKeyUsageOID.CLIENT_AUTH], [])
    files["orchestrator-client.crt"], files["orchestrator-client.key"] = cert, key
    peer_token = secrets.token_urlsafe(32)
    files["peer-token"] = f"{peer_token}\n".encode()
    # No comments in token files: the services split entries at commas before they drop comments.
    files["peers.tokens"] = f"orchestrator {peer_token}\n".encode()
    files["front-door.tokens"] = f"{TRIAL_USER} {secrets.token_urlsafe(32)}\n".encode()
    for name, content in files.items():
        path = directory / name
        path.write_bytes(content)
        path.chmod(0o644)
    api_key = directory / "llm-api-key"
    if not api_key.exists():
        api_key.touch()
        api_key.chmod(0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path, help="where to write the files (created; keep it out of git)")
    parser.add_argument("--days", type=int, default=90, help="certificate lifetime (default: %(default)s)")
    args = parser.parse_args(argv)
    write(args.directory, args.days)
    print(f"wrote {args.directory}; {TRIAL_USER}'s token is the second word of front-door.tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
