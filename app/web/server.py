"""How ``smp serve`` runs uvicorn: one place for the server's low-level settings.

Nagle's algorithm must be off on every connection. asyncio turns ``TCP_NODELAY`` on only for
accepted sockets whose protocol number says TCP; with ``--workers N`` uvicorn binds the listening
socket itself with that number left at 0, so Nagle stays on (uvicorn issue #3149). A response then
leaves in two TCP segments (headers, then body) and the second waits for the client's delayed ACK:
about 40 ms added to every keep-alive request — measured here, ``/healthz`` took 45 ms with two
workers against 5 ms with one. The protocol below sets the option on each connection itself,
whatever bound the socket.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with ``TCP_NODELAY`` on every connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
