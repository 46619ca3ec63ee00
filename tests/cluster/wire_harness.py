"""Small pieces for the wire tests: a cluster file on free ports, a fake server node loop
that answers every ClientRequest, an honest client, and a raw socket speaking wire.py.

The fake node stands in for SERVER's real server so the transport is tested on its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paxlab.cluster.clusterfile import ClusterFile, Endpoint, ServerEntry
from paxlab.cluster.ports import free_port
from paxlab.cluster.transport import TcpTransport
from paxlab.cluster.wire import FrameReader, Keys, derive_keys
from paxlab.config.types import ClientsConfig, ClusterConfig
from paxlab.core.messages import ClientReply, ClientRequest, Envelope
from tests.cluster.harness import wait_until

__all__ = ["SECRET", "FakeServer", "Log", "make_cluster", "next_frame", "pump",
           "read_until_closed", "request", "roundtrip", "wait_until"]

SECRET = b"0123456789abcdef0123456789abcdef"


def pump(transport: TcpTransport, predicate: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    """Run a transport nobody else runs (its loop moves only inside receive) until
    `predicate` holds; what arrives meanwhile is dropped."""
    return wait_until(lambda: transport.receive(time.monotonic_ns() / 1e6 + 5) is not None
                      and predicate(), timeout_s)


def make_cluster(tmp_path: Path, servers: int = 1, secret: bytes | None = SECRET,
                 host: str = "127.0.0.1") -> ClusterFile:
    entries = {}
    for i in range(servers):
        endpoint = Endpoint(host, free_port())
        entries[i] = ServerEntry(id=i, address=endpoint, listen=endpoint)
    return ClusterFile(
        path=tmp_path / "cluster.yaml", name="test", servers=entries,
        cluster=ClusterConfig(servers=servers, heartbeat_interval_ms=50,
                              election_timeout_ms_min=300, election_timeout_ms_max=600,
                              batch_size_max=8, pipeline_window=4, difficulty=0,
                              accept_retry_ms=100, fsync="never"),
        clients=ClientsConfig(count=1, request_timeout_ms=400, op_timeout_ms=5000),
        data_dir=tmp_path / "data", secret_path=None, secret=secret)


class Log:
    """A thread-safe list of log lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self.lines)


class FakeServer:
    """A TcpTransport for "sN" and a node loop that answers each ClientRequest with an
    ok ClientReply (value = the request's key) and keeps every envelope it got."""

    def __init__(self, cluster: ClusterFile, server_id: int = 0, keys: Keys | None = None,
                 **kwargs: Any) -> None:
        self.me = f"s{server_id}"
        self.crash_requested = False  # set by an admin handler: flush, close, stop the loop
        self.log = Log()
        self.received: list[Envelope] = []
        self.transport = TcpTransport(self.me, cluster, keys or derive_keys(cluster.secret),
                                      self.log, **kwargs)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            arrived = self.transport.receive(None)
            if arrived is None:
                return
            if self.crash_requested:  # as a server's crash: the reply must leave first
                self.transport.flush()
                self.transport.close()
                return
            for envelope in arrived:
                self.received.append(envelope)
                message = envelope.message
                if isinstance(message, ClientRequest):
                    reply = ClientReply(client=message.client, seq=message.seq,
                                        outcome="ok", value=message.key)
                    self.transport.send(Envelope(source=self.me, target=envelope.source,
                                                 message=reply))

    def close(self) -> None:
        self.transport.close()
        self.thread.join(5)
        assert not self.thread.is_alive()


def request(client: int, seq: int, key: str = "'k'") -> ClientRequest:
    return ClientRequest(client=client, seq=seq, op="get", key=key, value=None)


def roundtrip(client: TcpTransport, server: str, seq: int, timeout_s: float = 5.0,
              retry_s: float | None = None) -> Envelope:
    """Send a get from `client` to `server`; the reply envelope (AssertionError if none).
    With `retry_s`, send it again that often, as a real client does (a frame written
    into a connection the peer just closed is lost)."""
    number = int(client.me[1:])
    envelope = Envelope(source=client.me, target=server, message=request(number, seq))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        client.send(envelope)
        resend_at = time.monotonic() + (retry_s or timeout_s)
        while time.monotonic() < min(deadline, resend_at):
            for reply in client.receive(time.monotonic_ns() / 1e6 + 50) or []:
                if getattr(reply.message, "seq", None) == seq:
                    return reply
    raise AssertionError(f"{client.me}: no reply from {server} to seq {seq}")


def read_until_closed(sock: socket.socket, timeout_s: float = 5.0) -> bytes:
    """Everything the peer sends until it closes (AssertionError if it never does)."""
    sock.settimeout(timeout_s)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except TimeoutError as error:
            raise AssertionError("the server did not close the connection") from error
        if not chunk:
            return data
        data += chunk


def next_frame(sock: socket.socket, reader: FrameReader, timeout_s: float = 5.0) -> bytes:
    sock.settimeout(timeout_s)
    while (body := reader.pop()) is None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        reader.push(chunk)
    return body
