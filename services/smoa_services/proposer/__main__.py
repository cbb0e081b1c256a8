"""python -m smoa_services.proposer [--flags]: serve until SIGTERM; --help lists every setting."""

from smoa_services.proposer import create_server
from smoa_services.server import main

if __name__ == "__main__":
    main("proposer", create_server)
