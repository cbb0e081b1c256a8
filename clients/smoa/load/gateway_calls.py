"""The HTTP counterpart of calls.py: `POST /v1/chat/completions` to the OpenAI-compatible gateway, JSON or
a server-sent-event stream timed to its first token, over one long-lived httpx2 client. The load
generator sees the same `Outcome`s as over gRPC, so the engine and the report do not know which it drove.

httpx2 (the `load` extra; the HTTP client the services' openai SDK already uses) is imported only here,
and command.py imports this file only when --http is given, so the gRPC path needs nothing more."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path
from types import TracebackType

from smoa.connection import TLS
from smoa.load.calls import Outcome, Send
from smoa.load.gateway_wire import (
    COMPLETIONS_PATH,
    EventData,
    StreamedCompletion,
    chat_body,
    completion_outcome,
    error_outcome,
)
from smoa.load.histogram import MissingExtra
from smoa.load.shape import LoadRequest

try:
    import httpx2
except ImportError as e:  # command.py reports it before any request is sent
    raise MissingExtra("smoa load --http needs the load extra: pip install 'smoa[load]'") from e


def _file(pem: bytes | str | Path | None, name: str) -> str | None:
    # The ssl module loads certificates and keys from files only; the command line gives files.
    if isinstance(pem, bytes):
        raise ValueError(f"tls: over --http the {name} must be a file, not PEM bytes")
    return None if pem is None else str(pem)


def ssl_context(tls: TLS | bool) -> ssl.SSLContext | bool:
    """--ca-file / --cert / --key, as the gRPC path takes them; without them (http://, or https:// with
    --tls) True: httpx2's default verification against the system's roots."""
    if not isinstance(tls, TLS):
        return True
    context = ssl.create_default_context(cafile=_file(tls.root_certificates, "root certificates"))
    chain = _file(tls.certificate_chain, "certificate chain")
    if chain is not None:
        context.load_cert_chain(chain, _file(tls.private_key, "private key"))
    return context


class Gateway:
    """Every request goes over one client whose pool holds a connection for each request in flight
    (`connections`: the closed loop's concurrency, or the open loop's in-flight cap), so none waits for a
    connection and none is reopened per request: what is measured is the gateway, not the client's pool.
    Open it inside the running event loop, as the gRPC Orchestrator."""

    def __init__(
        self, url: str, timeout: float, tls: TLS | bool = False, token: str | None = None, *, connections: int
    ):
        self.url = url.rstrip("/") + COMPLETIONS_PATH
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx2.AsyncClient(
            headers=headers,
            timeout=timeout,
            limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
            verify=ssl_context(tls),
        )

    async def _deadline(self, send: Send, request: LoadRequest) -> Outcome:
        """httpx2's timeout bounds each read; the request's deadline, as over gRPC, bounds the whole."""
        try:
            return await asyncio.wait_for(send(request), self.timeout)
        except (asyncio.TimeoutError, httpx2.TimeoutException) as e:
            return Outcome("DEADLINE_EXCEEDED", f"no answer within {self.timeout:g}s ({type(e).__name__})")
        except httpx2.TransportError as e:  # refused, reset, or a stream cut mid-message
            return Outcome("UNAVAILABLE", f"{type(e).__name__}: {e}")

    async def _complete(self, request: LoadRequest) -> Outcome:
        reply = await self.client.post(self.url, json=chat_body(request, stream=False))
        if reply.status_code != 200:
            return error_outcome(reply.status_code, reply.text)
        return completion_outcome(reply.text)

    async def _stream(self, request: LoadRequest) -> Outcome:
        completion, events = StreamedCompletion(), EventData()
        async with self.client.stream("POST", self.url, json=chat_body(request, stream=True)) as reply:
            if reply.status_code != 200:
                # A stream that failed before its first event is an HTTP error, as a completion's is.
                return error_outcome(reply.status_code, (await reply.aread()).decode(errors="replace"))
            async for line in reply.aiter_lines():
                data = events.feed(line)
                ended = None if data is None else completion.read(data, time.perf_counter())
                if ended is not None:
                    return ended
            # A last event the server did not end with a blank line.
            data = events.feed("")
            ended = None if data is None else completion.read(data, time.perf_counter())
        return ended or completion.cut_short()

    async def generate(self, request: LoadRequest) -> Outcome:
        return await self._deadline(self._complete, request)

    async def generate_stream(self, request: LoadRequest) -> Outcome:
        return await self._deadline(self._stream, request)

    def sender(self, stream: bool) -> Send:
        return self.generate_stream if stream else self.generate

    async def close(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
