"""TcpTransport on 127.0.0.1: requests and replies, server links, admin, calls into the
node loop, cut links, reconnects after a restart, and the listen rules."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from paxlab.cluster.admin import AdminError, admin_request
from paxlab.cluster.clusterfile import Endpoint, ServerEntry
from paxlab.cluster.ports import bind_listener, is_loopback, port_holder
from paxlab.cluster.transport import TcpTransport, TransportError
from paxlab.cluster.wire import FRAME_BYTES_MAX, derive_keys
from paxlab.core.ids import Ballot
from paxlab.core.messages import ClientReply, Envelope, Heartbeat
from tests.cluster.wire_harness import FakeServer, Log, make_cluster, roundtrip, wait_until


def heartbeat(source: str, target: str, commit: int = 0) -> Envelope:
    return Envelope(source=source, target=target,
                    message=Heartbeat(ballot=Ballot(1, 0), commit_index=commit))


class Cuts:
    """A stand-in for links.LinkFilter: a set of cut (source, target) pairs."""

    def __init__(self) -> None:
        self.pairs: set[tuple[str, str]] = set()

    def is_cut(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs


def test_client_request_and_reply(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    server = FakeServer(cluster)
    client = TcpTransport("c4", cluster, derive_keys(cluster.secret), Log())
    try:
        reply = roundtrip(client, "s0", 1)
        assert (reply.source, reply.target, reply.message.value) == ("s0", "c4", "'k'")
        for seq in range(2, 50):
            assert roundtrip(client, "s0", seq).message.seq == seq
        assert server.transport.stats()["peers"]["c4"]["received"] == 49
        assert client.stats()["peers"]["s0"]["up"] is True
    finally:
        client.close()
        server.close()
    assert client.receive(None) is None


def test_servers_dial_each_other_and_deliver_in_order(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, servers=3)
    servers = [FakeServer(cluster, i) for i in range(3)]
    try:
        wait_until(lambda: all(p["up"] for s in servers
                               for p in s.transport.stats()["peers"].values()))
        for commit in range(100):
            servers[0].transport.send(heartbeat("s0", "s1", commit))
            servers[2].transport.send(heartbeat("s2", "s1", commit))
        wait_until(lambda: len(servers[1].received) == 200)
        from_s0 = [e.message.commit_index for e in servers[1].received if e.source == "s0"]
        assert from_s0 == list(range(100))
        assert servers[1].log.lines.count("link to s0 up") == 1
    finally:
        for server in servers:
            server.close()


def test_cut_links_drop_frames_both_ways(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, servers=2)
    cuts0, cuts1 = Cuts(), Cuts()
    s0, s1 = FakeServer(cluster, 0, links=cuts0), FakeServer(cluster, 1, links=cuts1)
    try:
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"]
                   and s1.transport.stats()["peers"]["s0"]["up"])
        cuts0.pairs.add(("s0", "s1"))  # cut at the sender
        s0.transport.send(heartbeat("s0", "s1", 1))
        cuts1.pairs.add(("s1", "s0"))
        cuts0.pairs.add(("s1", "s0"))  # cut at the receiver: s1 sends, s0 drops it
        cuts1.pairs.discard(("s1", "s0"))
        s1.transport.send(heartbeat("s1", "s0", 2))
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["cut"] == 2)
        assert s1.transport.stats()["peers"]["s0"]["sent"] == 1  # it left s1, s0 dropped it
        cuts0.pairs.clear()
        s0.transport.send(heartbeat("s0", "s1", 3))
        s1.transport.send(heartbeat("s1", "s0", 4))
        wait_until(lambda: s0.received and s1.received)
        assert [e.message.commit_index for e in s1.received] == [3]
        assert [e.message.commit_index for e in s0.received] == [4]
    finally:
        s0.close()
        s1.close()


def test_reconnect_after_the_peer_restarts(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, servers=2)
    s0, s1 = FakeServer(cluster, 0), FakeServer(cluster, 1)
    client = TcpTransport("c9", cluster, derive_keys(cluster.secret), Log())
    try:
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        roundtrip(client, "s1", 1)
        s1.close()
        wait_until(lambda: not s0.transport.stats()["peers"]["s1"]["up"])
        s1 = FakeServer(cluster, 1)
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        assert s0.transport.stats()["peers"]["s1"]["reconnects"] == 1
        s0.transport.send(heartbeat("s0", "s1", 7))
        wait_until(lambda: s1.received)
        # Its old link died with s1: the first try may be lost in it, the retry dials again.
        assert roundtrip(client, "s1", 2, retry_s=0.2).message.seq == 2
        assert s0.log.has("link to s1 lost")
    finally:
        client.close()
        s0.close()
        s1.close()


def test_frames_for_an_unreachable_peer_are_dropped_and_counted(tmp_path: Path) -> None:
    """As a network would drop them: a peer that comes back gets no stale burst."""
    cluster = make_cluster(tmp_path, servers=2)
    s0 = FakeServer(cluster, 0)
    s1 = None
    try:
        for commit in range(5):
            s0.transport.send(heartbeat("s0", "s1", commit))
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["dropped"] == 5)
        assert s0.log.has("link to s1 at ")
        s1 = FakeServer(cluster, 1)
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        s0.transport.send(heartbeat("s0", "s1", 9))
        wait_until(lambda: s1.received)
        assert [e.message.commit_index for e in s1.received] == [9]
    finally:
        s0.close()
        if s1 is not None:
            s1.close()


def test_an_oversized_message_is_dropped_at_the_sender(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, servers=2)
    s0, s1 = FakeServer(cluster, 0), FakeServer(cluster, 1)
    try:
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        huge = Envelope(source="s0", target="s1", message=ClientReply(
            client=1, seq=1, outcome="ok", value="x" * FRAME_BYTES_MAX))
        s0.transport.send(huge)
        s0.transport.send(heartbeat("s0", "s1", 1))
        wait_until(lambda: s1.received)
        assert s0.log.has("over the")
        assert s0.transport.stats()["peers"]["s1"]["up"]  # the link survived
    finally:
        s0.close()
        s1.close()


def test_admin_requests_run_on_the_node_thread(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    seen: list[str] = []

    def on_admin(request: dict) -> dict:
        seen.append(threading.current_thread().name)
        return {"ok": True, "echo": request}

    server = FakeServer(cluster, on_admin=on_admin)
    try:
        assert admin_request(cluster, 0, {"cmd": "status"}) == {
            "ok": True, "echo": {"cmd": "status"}}
        assert seen == [server.thread.name]
        with pytest.raises(AdminError, match="no server s5"):
            admin_request(cluster, 5, {"cmd": "status"})
    finally:
        server.close()
    with pytest.raises(AdminError, match="unreachable"):
        admin_request(cluster, 0, {"cmd": "status"}, timeout_s=0.5)


def test_admin_errors_and_no_handler(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)

    def on_admin(request: dict) -> dict:
        raise ValueError("boom")

    server = FakeServer(cluster, on_admin=on_admin)
    plain = FakeServer(make_cluster(tmp_path))
    try:
        assert admin_request(cluster, 0, {"cmd": "x"}) == {"ok": False, "error": "ValueError: boom"}
        reply = admin_request(plain.transport.cluster, 0, {"cmd": "x"})
        assert reply["ok"] is False and "no admin" in reply["error"]
    finally:
        server.close()
        plain.close()


def test_call_in_loop_runs_between_steps_and_returns_the_result(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    server = FakeServer(cluster)
    try:
        future = server.transport.call_in_loop(lambda: len(server.received) + 40)
        assert future.result(5) == 40
        failing = server.transport.call_in_loop(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(5)
    finally:
        server.close()
    with pytest.raises(RuntimeError, match="closed"):
        server.transport.call_in_loop(lambda: None).result(1)


def test_receive_waits_until_the_deadline(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    client = TcpTransport("c1", cluster, derive_keys(cluster.secret), Log())
    try:
        start = time.monotonic()
        assert client.receive(time.monotonic_ns() / 1e6 + 100) == []
        assert 0.09 < time.monotonic() - start < 1.0
    finally:
        client.close()


def test_no_secret_means_loopback_only(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, secret=None)
    server = FakeServer(cluster)  # loopback without a secret is fine
    client = TcpTransport("c1", cluster, derive_keys(None), Log())
    try:
        roundtrip(client, "s0", 1)
    finally:
        client.close()
        server.close()
    open_listen = Endpoint("0.0.0.0", cluster.servers[0].listen.port)
    exposed = type(cluster)(**{**{f: getattr(cluster, f) for f in cluster.__slots__},
                               "servers": {0: ServerEntry(0, cluster.servers[0].address,
                                                          open_listen)}})
    with pytest.raises(TransportError, match="loopback only"):
        TcpTransport("s0", exposed, derive_keys(None), Log())


def test_a_busy_port_names_its_holder(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    holder = bind_listener(cluster.servers[0].listen)
    try:
        assert port_holder(cluster.servers[0].listen.port).startswith("pid ")
        with pytest.raises(TransportError, match=r"in use by pid \d+ \(.+\)"):
            TcpTransport("s0", cluster, derive_keys(cluster.secret), Log())
    finally:
        holder.close()
    assert port_holder(cluster.servers[0].listen.port) is None


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "10.0.0.1", "example.com", "::"]))


def test_close_frees_the_port(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    FakeServer(cluster).close()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", cluster.servers[0].listen.port))


def test_a_reply_flushed_before_a_crash_reaches_the_admin(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    server: FakeServer

    def on_admin(request: dict) -> dict:
        server.crash_requested = True
        return {"ok": True, "crashing": True}

    server = FakeServer(cluster, on_admin=on_admin)
    try:
        assert admin_request(cluster, 0, {"cmd": "crash"}) == {"ok": True, "crashing": True}
        server.thread.join(5)
        assert not server.thread.is_alive()
    finally:
        server.close()


def test_send_and_close_from_other_threads_wake_the_node(tmp_path: Path) -> None:
    """The loop runs inside receive on the node's thread; a frame sent from another
    thread, or a close, must not wait for the node's next deadline."""
    cluster = make_cluster(tmp_path, servers=2)
    s0, s1 = FakeServer(cluster, 0), FakeServer(cluster, 1)
    try:
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        sender = threading.Thread(target=s0.transport.send, args=(heartbeat("s0", "s1", 5),))
        sender.start()
        sender.join()
        wait_until(lambda: s1.received, timeout_s=2)
    finally:
        start = time.monotonic()
        s0.close()
        s1.close()
        assert time.monotonic() - start < 2


def test_close_from_inside_a_call(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path)
    server = FakeServer(cluster)
    server.transport.call_in_loop(server.transport.close).result(5)
    server.thread.join(5)
    assert not server.thread.is_alive()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", cluster.servers[0].listen.port))


def test_flush_from_another_thread_while_the_node_waits(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, servers=2)
    s0, s1 = FakeServer(cluster, 0), FakeServer(cluster, 1)
    try:
        wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
        for commit in range(100):
            s0.transport.send(heartbeat("s0", "s1", commit))
        start = time.monotonic()
        assert s0.transport.flush(2.0) is True  # the node's thread is in receive(None)
        assert time.monotonic() - start < 1.0
        wait_until(lambda: len(s1.received) == 100)
    finally:
        s0.close()
        s1.close()
    assert s0.transport.flush(0.1) is False  # closed


def test_close_leaves_no_open_sockets(tmp_path: Path) -> None:
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    cluster = make_cluster(tmp_path, servers=2)
    before = fds()
    s0, s1 = FakeServer(cluster, 0), FakeServer(cluster, 1)
    client = TcpTransport("c2", cluster, derive_keys(cluster.secret), Log())
    roundtrip(client, "s0", 1)
    roundtrip(client, "s1", 2)
    wait_until(lambda: s0.transport.stats()["peers"]["s1"]["up"])
    client.close()
    s0.close()
    s1.close()
    assert fds() == before
