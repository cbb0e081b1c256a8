"""python -m smoa_services.proposer [--flags]: serve until SIGTERM; --help lists every setting."""

from smoa_services.platform.server import main
from smoa_services.proposer import create_server

if __name__ == "__main__":
    main("proposer", create_server)
