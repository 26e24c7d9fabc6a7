"""Ports for the servers tests start, from below the kernel's ephemeral range.

A port found by binding port 0 comes from the ephemeral range (32768-60999 here), the same range
every outgoing connection draws its local port from: between finding it free and the server
binding it, a connection (to Temporal, PostgreSQL, another test's server) can take it, and the
server dies with "address already in use" (seen in CI, twice). Ports from below that range are
never handed to outgoing connections; each xdist worker draws from its own slice, in turn, so two
workers never pick the same port and one worker reuses a port only after its whole slice."""

import itertools
import os
import random
import socket

FIRST_PORT = 20000
SLICE = 1500  # ports per xdist worker; 8 workers fit below 32000


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = worker.removeprefix("gw")
    return int(digits) % 8 if digits.isdigit() else 0


_start = FIRST_PORT + _worker_index() * SLICE
_candidates = itertools.cycle(range(_start, _start + SLICE))
for _ in range(random.randrange(SLICE)):  # another run on this machine may still hold the first ones
    next(_candidates)


def _bindable(port: int) -> bool:
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A port no server on this machine listens on now, and no outgoing connection will take."""
    for _ in range(SLICE):
        port = next(_candidates)
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port in {_start}-{_start + SLICE - 1}")


def listening_socket() -> socket.socket:
    """A socket bound to a free port and listening already, to hand to a server."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", free_port()))
    sock.listen(128)
    return sock
