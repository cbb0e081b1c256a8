"""The secured pods' probe: the standard gRPC health check of the whole server (service "", the process
itself, as the base's native gRPC probes ask) over TLS, which Kubernetes' gRPC probes cannot speak. Exits 0
when the server says SERVING. Mounted from a ConfigMap; runs with the image's Python.

    python tls_health_probe.py --port 50052 --server-name proposer --ca-file CA [--cert PEM --key PEM]

Not `smoa health`: that also fails while an LLM backend's circuit breaker is open, and a dead backend must
not get healthy pods restarted or every replica taken out of DNS (see smoa_services/platform/readiness.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True, help="the server's port on 127.0.0.1")
    parser.add_argument(
        "--server-name", required=True, help="a name in the server's certificate (the service's name)"
    )
    parser.add_argument("--ca-file", type=Path, required=True, help="PEM CA the server's certificate is from")
    parser.add_argument("--cert", type=Path, help="client certificate, for a server that requires one")
    parser.add_argument("--key", type=Path, help="its private key")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=args.ca_file.read_bytes(),
        private_key=args.key.read_bytes() if args.key else None,
        certificate_chain=args.cert.read_bytes() if args.cert else None,
    )
    # Dialled on 127.0.0.1, checked against the service's name: any certificate of the service has that.
    options = [("grpc.ssl_target_name_override", args.server_name)]
    with grpc.secure_channel(f"127.0.0.1:{args.port}", credentials, options=options) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=args.timeout
            )
        except grpc.RpcError as e:
            print(f"health check failed: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(status)
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
