"""`python -m smoa_services.gateway`: the OpenAI-compatible HTTP gateway, served by uvicorn.

SIGTERM drains as the gRPC services do: /readyz answers 503 for SMOA_DRAIN_DELAY_SECONDS while the port
stays open, then uvicorn stops taking connections and gives requests in flight SMOA_GRACE_SECONDS. A
second signal stops at once."""

from __future__ import annotations

import logging
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI

from smoa_services.config import Settings
from smoa_services.gateway import create_app
from smoa_services.telemetry import Telemetry

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, delay: float):
        super().__init__(config)
        self.app, self.delay = app, delay

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.app.state.draining:
            super().handle_exit(sig, frame)
            return
        self.app.state.draining = True
        log.info("smoa-gateway draining: not ready for %.1fs, then stopping", self.delay)
        # uvicorn's loop polls should_exit, so a timer thread may set it. Not through handle_exit: uvicorn
        # would raise the signal again once stopped, and a drained gateway exits 0, as the services do.
        threading.Timer(self.delay, lambda: setattr(self, "should_exit", True)).start()


def main() -> None:
    settings = Settings.load("gateway")
    telemetry = Telemetry.load("gateway")
    app = create_app(settings, telemetry)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=int(settings.grace_seconds),
        ssl_certfile=settings.tls_cert_file or None,
        ssl_keyfile=settings.tls_key_file or None,
    )
    try:
        DrainingServer(config, app, settings.drain_delay_seconds).run()
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
