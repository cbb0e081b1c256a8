"""`python -m smoa_services.gateway`: the OpenAI-compatible HTTP gateway, served by uvicorn."""

from __future__ import annotations

import uvicorn

from smoa_services.config import Settings
from smoa_services.gateway import create_app


def main() -> None:
    settings = Settings.load("gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=int(settings.grace_seconds),
        ssl_certfile=settings.tls_cert_file or None,
        ssl_keyfile=settings.tls_key_file or None,
    )


if __name__ == "__main__":
    main()
