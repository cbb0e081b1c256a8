"""A TLS channel whose credentials follow their files. grpcio fixes a channel's credentials when it is
made, so when the CA, the client certificate or its key is replaced on disk, calls move to a new channel
made from the new files, and the old one is closed once the calls it still carries have had their time.
Stubs are made once over this channel: each call asks for the current one (its files looked at no more
than once a second; files caught half-written, which make no credentials, leave the old channel in use)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import grpc

from smoa_services.access.watched_file import Watched

log = logging.getLogger(__name__)


class RotatingChannel:
    def __init__(self, make: Callable[[], grpc.aio.Channel], files: Sequence[str], grace: float):
        """`make`: a channel from the files as they are now; `grace`: how long a replaced channel's calls
        may still run before it is closed."""
        self.files = [f for f in files if f]
        self.grace = grace
        self._channels = Watched(self.files, make)
        self._current = self._channels.value()
        self._retired: set[grpc.aio.Channel] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def current(self) -> grpc.aio.Channel:
        channel = self._channels.value()
        if channel is not self._current:
            self._retire(self._current)
            self._current = channel
            log.info("TLS files changed (%s): new calls use a channel made from them", self.files)
        return self._current

    def _retire(self, old: grpc.aio.Channel) -> None:
        self._retired.add(old)

        async def close_later() -> None:
            await asyncio.sleep(self.grace)
            self._retired.discard(old)
            await old.close()

        task = asyncio.get_running_loop().create_task(close_later())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Call(self, "unary_unary", method, args, kwargs)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Call(self, "unary_stream", method, args, kwargs)

    async def close(self, grace: float | None = None) -> None:
        for task in list(self._closing):
            task.cancel()
        for channel in [self._current, *self._retired]:
            await channel.close(grace)

    async def __aenter__(self) -> RotatingChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Call:
    """A stub's method: made once, calling on whichever channel is current, its multicallable kept per
    channel."""

    def __init__(self, owner: RotatingChannel, kind: str, method: str, args: Any, kwargs: Any):
        self.owner, self.kind, self.method, self.args, self.kwargs = owner, kind, method, args, kwargs
        self._on: tuple[grpc.aio.Channel, Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        channel = self.owner.current()
        if self._on is None or self._on[0] is not channel:
            self._on = (channel, getattr(channel, self.kind)(self.method, *self.args, **self.kwargs))
        return self._on[1](*args, **kwargs)
