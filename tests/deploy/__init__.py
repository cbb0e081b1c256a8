"""Static checks of the deployment files: the Dockerfile, docker-compose.yml and the Kubernetes manifests.
No Docker engine or cluster is needed; docker-compose 1.29.2 validates the compose file from an isolated
venv, `kubectl kustomize` renders the Kubernetes overlays (the tests that need it are skipped where kubectl
is not on PATH) and kubernetes-validate checks what it renders against Kubernetes' schemas."""
