"""Transport security from PEM files named by settings; plaintext when none are set (the local default).

Server side: `SMOA_TLS_CERT_FILE` and `SMOA_TLS_KEY_FILE` serve TLS; `SMOA_TLS_CLIENT_CA_FILE` also
requires every client to present a certificate signed by that CA (mutual TLS). The files are read again
when they change, at the next handshake, so certificates rotate without a restart.

Peer side (the orchestrator's channels to the proposer, judge and moderator): `SMOA_PEER_CA_FILE` makes
them TLS, trusting that CA; `SMOA_PEER_CERT_FILE` and `SMOA_PEER_KEY_FILE` are this service's client
certificate toward peers that require one; `SMOA_PEER_SERVER_NAME` is the name expected in the peers'
certificates when the target's host is not it (an IP address)."""

from __future__ import annotations

import os
from pathlib import Path

import grpc

from smoa_services.config import Settings


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


class CertificateFiles:
    """The server's certificate, key and (for mTLS) client CA, re-read when any file's mtime changes."""

    def __init__(self, cert_file: str, key_file: str, client_ca_file: str):
        self.files = [f for f in (cert_file, key_file, client_ca_file) if f]
        self.cert_file, self.key_file, self.client_ca_file = cert_file, key_file, client_ca_file
        self._seen = self._stamp()

    def _stamp(self) -> tuple[float, ...]:
        return tuple(os.stat(f).st_mtime_ns for f in self.files)

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(_read(self.key_file), _read(self.cert_file))],
            root_certificates=_read(self.client_ca_file) if self.client_ca_file else None,
        )

    def changed(self) -> grpc.ServerCertificateConfiguration | None:
        """gRPC asks before each handshake: a new configuration when the files changed, else None."""
        try:
            stamp = self._stamp()
            if stamp == self._seen:
                return None
            configuration = self.configuration()
        except (OSError, ValueError):
            return None  # a file half written or gone: keep what works until it settles
        self._seen = stamp
        return configuration


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """None: plaintext. Refuses a half configuration (a certificate without its key) by naming it."""
    if not (settings.tls_cert_file or settings.tls_key_file or settings.tls_client_ca_file):
        return None
    if not (settings.tls_cert_file and settings.tls_key_file):
        raise ValueError("tls_cert_file and tls_key_file: TLS needs both (and tls_client_ca_file needs them)")
    files = CertificateFiles(settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file)
    return grpc.dynamic_ssl_server_credentials(
        files.configuration(),
        files.changed,  # type: ignore[arg-type]  # grpc takes None for "unchanged"; the stubs do not say so
        require_client_authentication=bool(settings.tls_client_ca_file),
    )


def peer_credentials(settings: Settings) -> grpc.ChannelCredentials | None:
    """None: plaintext channels to peers."""
    if not settings.peer_ca_file:
        if settings.peer_cert_file or settings.peer_key_file:
            raise ValueError("peer_cert_file: a client certificate toward peers needs peer_ca_file (TLS)")
        return None
    if bool(settings.peer_cert_file) != bool(settings.peer_key_file):
        raise ValueError("peer_cert_file and peer_key_file: a client certificate needs both")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(settings.peer_ca_file),
        private_key=_read(settings.peer_key_file) if settings.peer_key_file else None,
        certificate_chain=_read(settings.peer_cert_file) if settings.peer_cert_file else None,
    )
