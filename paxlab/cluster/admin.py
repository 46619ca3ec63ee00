"""Admin requests: one authenticated request to one server, one reply, from any process.

`paxlab cluster status|crash|pause|fail-link ...` call this. It dials the server as node
"admin" with the admin key (a client key cannot), sends one b"A" request and waits for
the b"R" reply. A plain blocking socket is enough for one request, so no event loop.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.payload import REPLY, admin_payload, decode_json_payload
from paxlab.cluster.wire import (
    FRAME_BYTES_MAX,
    HANDSHAKE_BYTES_MAX,
    AcceptorRefused,
    Connector,
    FrameReader,
    Keys,
    WireError,
    derive_keys,
)

__all__ = ["AdminError", "admin_request"]


class AdminError(Exception):
    """The request got no reply: the server is unreachable, too slow, or refused us
    (wrong secret). The message says which, in one line."""


def admin_request(cluster: ClusterFile, server_id: int, request: dict[str, Any],
                  timeout_s: float = 2.0) -> dict[str, Any]:
    """Send `request` ({"cmd": ...}) to server `server_id`; its reply dict."""
    entry = cluster.servers.get(server_id)
    if entry is None:
        raise AdminError(f"no server s{server_id} (servers are s0..s{len(cluster.servers) - 1})")
    target = f"s{server_id}"
    deadline = time.monotonic() + timeout_s
    address = entry.address
    try:
        sock = socket.create_connection((address.host, address.port), timeout=timeout_s)
    except OSError as error:
        raise AdminError(f"{target} at {address} is unreachable: "
                         f"{error.strerror or error}") from error
    with sock:
        try:
            return _exchange(sock, target, derive_keys(cluster.secret), request, deadline)
        except TimeoutError as error:
            raise AdminError(f"{target} at {address} did not answer within "
                             f"{timeout_s:g} s") from error
        except WireError as error:
            raise AdminError(f"{target} at {address}: {error}") from error
        except OSError as error:
            raise AdminError(f"{target} at {address}: {error.strerror or error}") from error


def _exchange(sock: socket.socket, target: str, keys: Keys, request: dict[str, Any],
              deadline: float) -> dict[str, Any]:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connector = Connector(keys, "admin", target)
    reader = FrameReader(HANDSHAKE_BYTES_MAX)
    sock.sendall(connector.hello())
    try:
        confirm, session = connector.on_challenge(_next_frame(sock, reader, deadline))
    except AcceptorRefused as error:
        sock.sendall(error.confirm)  # the server logs the failed attempt
        raise
    reader.limit = FRAME_BYTES_MAX
    sock.sendall(confirm + session.seal(admin_payload(request)))
    try:
        payload = session.open(_next_frame(sock, reader, deadline))
    except WireError as error:
        if "closed" in str(error):
            raise WireError("closed the connection: refused (wrong secret?)") from error
        raise
    if payload[:1] != REPLY:
        raise WireError(f"answered with a {payload[:1]!r} frame, not a reply")
    return decode_json_payload(payload)


def _next_frame(sock: socket.socket, reader: FrameReader, deadline: float) -> bytes:
    while True:
        body = reader.pop()
        if body is not None:
            return body
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if not data:
            raise WireError("closed the connection")
        reader.push(data)
