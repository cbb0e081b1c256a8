"""python -m smoa_services.moderator [--flags]: serve until SIGTERM; --help lists every setting."""

from smoa_services.moderator import create_server
from smoa_services.platform.server import main

if __name__ == "__main__":
    main("moderator", create_server)
