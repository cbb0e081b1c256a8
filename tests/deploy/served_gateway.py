"""The gateway served as `python -m smoa_services.gateway` serves it (uvicorn, TLS from the settings' files)
with the settings a deployment file gives it, on 127.0.0.1 and a free port in the test's event loop; its
container health check run against it; and, in front of a secured stack, a user's call over HTTPS."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from smoa_services.config import Settings
from smoa_services.gateway import create_app


@asynccontextmanager
async def serving(settings: Settings, orchestrator_port: int) -> AsyncIterator[int]:
    """The gateway's port. Only what cannot be the same here changes: 127.0.0.1, a free port, the
    orchestrator dialled by IP (its certificate names 127.0.0.1 too)."""
    local = dataclasses.replace(
        settings, host="127.0.0.1", port=0, orchestrator_target=f"127.0.0.1:{orchestrator_port}"
    )
    config = uvicorn.Config(
        create_app(local),
        host=local.host,
        port=local.port,
        log_level="warning",
        lifespan="on",
        # As __main__ passes them.
        ssl_certfile=local.tls_cert_file or None,
        ssl_keyfile=local.tls_key_file or None,
    )
    server = uvicorn.Server(config)
    served = asyncio.create_task(server.serve())
    while not server.started:
        if served.done():
            served.result()
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await served


async def run_health_check(test: list[str], port: int, mounts: Mapping[str, Path]) -> tuple[int, str]:
    """A compose `CMD python -c CODE` health check run here: the container's port swapped for the one the
    gateway got, mounted paths for the test's files. (exit status, stderr)"""
    kind, program, flag, code = test
    assert (kind, program, flag) == ("CMD", "python", "-c")
    for inside, outside in mounts.items():
        code = code.replace(f"'{inside}", f"'{outside}")
    code = code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(check.communicate(), timeout=30)
    assert check.returncode is not None
    return check.returncode, err.decode()


def request(
    url: str, context: ssl.SSLContext | None, body: object = None, token: str | None = None
) -> tuple[int, dict[str, object]]:
    """(status, JSON body) of a GET, or of a POST of `body`; blocking, for asyncio.to_thread."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    sent = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(sent, timeout=30, context=context) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def assert_gateway_secured(port: int, ca_file: Path, user_token: str) -> None:
    """Over HTTPS checked against the CA: ready (it reached the orchestrator over TLS); a user's API key is
    the orchestrator's token and gets an answer; a stranger's is refused; plaintext HTTP gets nothing."""
    base = f"https://127.0.0.1:{port}"
    trusted = ssl.create_default_context(cafile=str(ca_file))
    assert await asyncio.to_thread(request, f"{base}/readyz", trusted) == (200, {"status": "ready"})
    ask = {"model": "smoa:n=2,k=1,layers=1", "messages": [{"role": "user", "content": "What is 6 times 7?"}]}
    status, answer = await asyncio.to_thread(request, f"{base}/v1/chat/completions", trusted, ask, user_token)
    assert status == 200, answer
    assert answer["choices"][0]["message"]["content"]  # type: ignore[index]
    status, refused = await asyncio.to_thread(
        request, f"{base}/v1/chat/completions", trusted, ask, "not-a-token"
    )
    assert status == 401, refused
    try:
        await asyncio.to_thread(request, f"http://127.0.0.1:{port}/healthz", None)
    except OSError:  # the TLS handshake fails: the connection is closed unanswered
        pass
    else:
        raise AssertionError("the gateway answered plaintext HTTP")
