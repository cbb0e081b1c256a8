"""python -m smoa_services.judge [--flags]: serve until SIGTERM; --help lists every setting."""

from smoa_services.judge import create_server
from smoa_services.platform.server import main

if __name__ == "__main__":
    main("judge", create_server)
