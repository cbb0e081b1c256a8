"""The deployment files as the real tools read them, with no engine or cluster: docker-compose 1.29.2 (an
isolated venv) renders each compose file set, `kubectl kustomize` each Kubernetes overlay (skipped where
kubectl is not on PATH) and kubernetes-validate checks what it renders; the services then run with the
settings and files those renderings give them. The image and the compose deployment themselves run on a
real engine in tests/e2e/deployment (make e2e)."""
