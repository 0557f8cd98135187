"""How ``smp serve`` runs: every connection without Nagle's delay, startup objects frozen."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

from uvicorn.config import Config
from uvicorn.server import ServerState

from app.web.server import NoDelayH11Protocol


def test_a_connection_accepted_from_a_socket_bound_like_uvicorn_workers_gets_tcp_nodelay():
    """With ``--workers N`` uvicorn binds the listening socket itself, protocol number 0, and
    asyncio then leaves Nagle on for each connection (uvicorn #3149): every keep-alive response
    waited ~40 ms for the client's delayed ACK. Our protocol turns it off on every connection."""
    seen: dict[str, int] = {}

    class Probe(NoDelayH11Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            seen["proto"] = sock.proto
            seen["nodelay"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    config = Config(app=app, http=Probe, lifespan="off", log_level="warning")
    config.load()

    async def exchange() -> bytes:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn's bind_socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        state = ServerState()
        server = await asyncio.get_running_loop().create_server(
            lambda: Probe(config=config, server_state=state, app_state={}), sock=listener
        )
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        return answer

    answer = asyncio.run(exchange())
    assert answer.startswith(b"HTTP/1.1 200") and b"\r\nok\r\n" in answer
    assert seen["proto"] == 0  # the case asyncio leaves alone
    assert seen["nodelay"] == 1


def test_the_server_application_freezes_its_startup_objects_out_of_the_collector(database_url):
    """In a process of its own, as a server worker: after startup the long-lived objects (some
    hundreds of thousands) are frozen, so a full collection no longer walks them."""
    script = (
        "import asyncio, gc\n"
        "from app.asgi import app_factory\n"
        "app = app_factory()\n"
        "async def main():\n"
        "    sent = []\n"
        "    messages = [{'type': 'lifespan.startup'}]\n"
        "    async def receive():\n"
        "        return messages.pop() if messages else await asyncio.sleep(3600)\n"
        "    async def send(message):\n"
        "        sent.append(message)\n"
        "    scope = {'type': 'lifespan', 'asgi': {'version': '3.0'}, 'state': {}}\n"
        "    task = asyncio.create_task(app(scope, receive, send))\n"
        "    while not sent:\n"
        "        await asyncio.sleep(0.01)\n"
        "    print(sent[0]['type'], gc.get_freeze_count())\n"
        "    task.cancel()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "SMP_DATABASE_URL": database_url},
        check=True,
    ).stdout.split()
    assert out[0] == "lifespan.startup.complete"
    assert int(out[1]) > 100_000
