"""Where the deployment files are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
MAKEFILE = ROOT / "Makefile"
WHEELHOUSE_SCRIPT = ROOT / "deploy" / "image" / "wheelhouse.py"
COMPOSE_FILE = ROOT / "docker-compose.yml"
TELEMETRY_COMPOSE_FILE = ROOT / "docker-compose.telemetry.yml"
SECURE_COMPOSE_FILE = ROOT / "docker-compose.secure.yml"
COLLECTOR_CONFIG = ROOT / "deploy" / "otel-collector.yaml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus.yml"
K8S = ROOT / "deploy" / "k8s"
MAKE_SECRETS = ROOT / "deploy" / "make_secrets.py"
