"""A TCP proxy in front of one gRPC server that counts the HTTP/2 streams clients open through it, and
when: every RPC (and every health watch) is a new client stream, a HEADERS frame on an odd stream id not
seen before on its connection. It reads only frame headers (9 bytes each, after the 24-byte preface), so
it observes what reaches the server from the outside, whatever either end believes.

Used to show that a frozen replica gets no calls once it is out of rotation."""

from __future__ import annotations

import asyncio
import contextlib
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS = 0x1


class StreamCounter:
    def __init__(self, host: str, upstream: tuple[str, int]):
        self.host = host
        self.upstream = upstream
        self.port = 0
        # time.monotonic() of each new stream, over every connection.
        self.opened: list[float] = []
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> StreamCounter:
        self._server = await asyncio.start_server(self._connection, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def opened_since(self, moment: float) -> int:
        return sum(1 for t in self.opened if t >= moment)

    async def _connection(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        pipes = [
            asyncio.ensure_future(self._client_to_server(client_reader, server_writer)),
            asyncio.ensure_future(_pipe(server_reader, client_writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._pipes.discard(pipe)
            for writer in (client_writer, server_writer):
                writer.close()

    async def _client_to_server(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        preface_seen = False
        highest = 0
        while True:
            data = await reader.read(65536)
            if not data:
                return
            buffer += data
            if not preface_seen:
                if len(buffer) < len(PREFACE):
                    continue
                buffer, preface_seen = buffer[len(PREFACE) :], True
            while len(buffer) >= 9:
                length = int.from_bytes(buffer[:3], "big")
                if len(buffer) < 9 + length:
                    break
                kind, stream = buffer[3], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
                if kind == HEADERS and stream % 2 == 1 and stream > highest:
                    highest = stream
                    self.opened.append(time.monotonic())
                buffer = buffer[9 + length :]
            # Counted first: a frozen server stops reading, and the wait here is the client's backpressure.
            writer.write(data)
            await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
