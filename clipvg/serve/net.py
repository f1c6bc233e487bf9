"""The listening socket of ``clipvg serve``.

Made with ``IPPROTO_TCP`` named explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
connections whose socket says it is TCP, and a socket made with proto 0 passes that on to every
accepted connection. Without it a response written in two pieces (headers, then body) waits for the
client's delayed ACK: ~40 ms per request on a keep-alive connection."""
from __future__ import annotations

import socket

from ..errors import InvalidInputError

BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (0 picks a free port), ready for uvicorn's
    ``sockets=``: from now on connections wait in its backlog until the server accepts them (none is
    refused while the server starts). Raises InvalidInputError when the address is taken."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise InvalidInputError(f"cannot listen on {host}:{port} ({error.strerror}); "
                                "choose another --port or --host") from None
    return sock
