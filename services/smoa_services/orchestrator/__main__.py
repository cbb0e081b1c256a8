"""python -m smoa_services.orchestrator [--flags]: serve until SIGTERM; --help lists every setting."""

from smoa_services.orchestrator import create_server
from smoa_services.platform.server import main

if __name__ == "__main__":
    main("orchestrator", create_server)
