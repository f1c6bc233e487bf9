"""The listening socket of ``clipvg serve``: connections accepted on it have Nagle's algorithm off
(without it every keep-alive response waited ~40 ms for the client's delayed ACK)."""
from __future__ import annotations

import asyncio
import socket

import pytest

from clipvg.errors import InvalidInputError
from clipvg.serve.net import listening_socket


def nodelay_of_accepted(sock: socket.socket) -> int:
    """TCP_NODELAY of a connection that asyncio accepts on ``sock`` (as uvicorn's server does)."""

    async def accept_one() -> int:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport) -> None:
                seen.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP,
                                                                              socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(accept_one())


def test_accepted_connections_have_nagle_off() -> None:
    assert nodelay_of_accepted(listening_socket("127.0.0.1", 0)) != 0


def test_a_socket_without_its_protocol_would_keep_nagle_on() -> None:
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # what `clipvg serve` used to bind
    plain.bind(("127.0.0.1", 0))
    assert nodelay_of_accepted(plain) == 0


def test_a_taken_port_is_a_clear_error() -> None:
    with listening_socket("127.0.0.1", 0) as taken:
        taken.listen()
        with pytest.raises(InvalidInputError, match="choose another --port"):
            listening_socket("127.0.0.1", taken.getsockname()[1])
