"""Static checks of the deployment files: the Dockerfile, docker-compose.yml and the Kubernetes manifests.
No Docker engine or cluster is needed; docker-compose 1.29.2 validates the compose file from an isolated
venv, and `kubectl kustomize` renders the manifests where kubectl is installed."""
