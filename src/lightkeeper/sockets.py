"""The listening socket of ``serve`` and ``up``, bound before anything else starts.

Binding first turns a port in use into one clear error before a model is loaded or a
background loop has started, instead of a traceback from deep inside the server after
start-up work was done (and loops were left to stop).
"""

from __future__ import annotations

import errno
import socket

from lightkeeper.errors import InvalidInput, PortInUse


def listen(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A socket listening on ``host:port``.

    Raises:
        PortInUse: another process listens there.
        InvalidInput: the port is out of range, or the address is not one of this host.
    """
    if not 0 <= port <= 65535:
        raise InvalidInput(f"port {port} is not a TCP port", hint="use a port from 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is in use by another process",
                hint=f"choose another with --port, or stop the process listening there "
                f"(ss -ltnp 'sport = :{port}' names it)",
            ) from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(
            exc, socket.gaierror
        ):
            raise InvalidInput(
                f"cannot listen on {host}: {exc.strerror or exc}",
                hint="use an address of this host, such as 127.0.0.1 or 0.0.0.0",
            ) from None
        if exc.errno == errno.EACCES:
            raise InvalidInput(
                f"not allowed to listen on port {port}: {exc.strerror}",
                hint="ports below 1024 need privileges; use a port from 1024 up",
            ) from None
        raise
    return sock
