"""Where the deployment files are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "docker-compose.yml"
COLLECTOR_CONFIG = ROOT / "deploy" / "otel-collector.yaml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus.yml"
K8S = ROOT / "deploy" / "k8s"
SECURE_COMPOSE_FILE = ROOT / "docker-compose.secure.yml"
MAKE_SECRETS = ROOT / "deploy" / "make_secrets.py"
