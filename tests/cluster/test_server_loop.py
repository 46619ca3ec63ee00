"""ServerLoop around a scripted transport: pause holds and steps nothing, trace logs every
message, cut links drop, slow mode delays server hops, commands stop and crash."""

from __future__ import annotations

import io
import random
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from paxlab.cluster.clock import SLOW_HOP_MS, ScaledClock
from paxlab.cluster.commands import ServerState
from paxlab.cluster.links import LinkFilter
from paxlab.cluster.server_loop import COMMIT_SUMMARY_NS, ServerLog, ServerLoop
from paxlab.core import Ballot, Replica, ReplicaParams
from paxlab.core.chain import seal_block
from paxlab.core.messages import Boot, ClientReply, Envelope, Heartbeat
from paxlab.core.output import Output
from paxlab.host import NodeHost, run_node


class FakeTime:
    def __init__(self) -> None:
        self.ns = 1_000_000_000

    def __call__(self) -> int:
        return self.ns


class ScriptedTransport:
    """Returns the scripted items one per receive: a list of envelopes, or a call to run
    (then []). An empty script ends the node (None), as a closed transport does."""

    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self.sent: list[Envelope] = []
        self.waits: list[float | None] = []
        self.lock = threading.Lock()

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        self.waits.append(deadline_ms)
        with self.lock:
            if not self.items:
                return None
            item = self.items.popleft()
        if callable(item):
            item()
            return []
        return list(item)

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)

    def call_in_loop(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self.lock:
            self.items.append(lambda: future.set_result(fn()))
        return future


class Rig:
    def __init__(self) -> None:
        self.time = FakeTime()
        self.clock = ScaledClock(self.time)
        self.inner = ScriptedTransport()
        self.lines: list[str] = []
        self.crashes = 0
        self.spread: list[dict[str, Any]] = []
        self.replica = Replica(0, ReplicaParams(replica_count=3, difficulty=0),
                               random.Random(1))
        self.host = NodeHost(self.replica, lambda env: self.loop.send(env))
        self.state = ServerState(replica=self.replica, host=self.host,
                                 links=LinkFilter("s0", 3), clock=self.clock,
                                 stats=lambda: {}, send_now=self.inner.send,
                                 log=self.lines.append, pid=1)
        # Lines reach `lines` with their time of day cut off (HH:MM:SS.mmm + 2 spaces).
        log = ServerLog(io.StringIO(), lambda line: self.lines.append(line[14:]),
                        now_ns=self.time)
        self.loop = ServerLoop(self.state, self.inner, log, inner_deadline=lambda s: s,
                               crash=self._crash, spread=self.spread.append)
        self.host.local(0, Boot())

    def _crash(self) -> None:
        self.crashes += 1

    def command(self, request: dict[str, Any]) -> Callable[[], None]:
        return lambda: self.loop.run_command(request)


def heartbeat(source: str = "s1", round_: int = 1) -> Envelope:
    return Envelope(source=source, target="s0",
                    message=Heartbeat(ballot=Ballot(round_, int(source[1:])), commit_index=0))


def test_pause_holds_inbound_steps_nothing_and_resume_releases_in_order() -> None:
    rig = Rig()
    first, second = heartbeat(round_=1), heartbeat(round_=2)
    rig.inner.items.extend([rig.command({"cmd": "pause", "ms": None}), [first], [second],
                            rig.command({"cmd": "status"}), rig.command({"cmd": "resume"})])
    # One receive: it only returns once resumed, with both held messages, in order.
    assert rig.loop.receive(deadline_ms=500) == [first, second]
    # While paused the node's timer deadline was not waited on (None: no deadline).
    assert rig.inner.waits[1:4] == [None, None, None]
    assert not rig.state.held and not rig.state.paused


def test_a_timed_pause_ends_by_itself() -> None:
    rig = Rig()
    envelope = heartbeat()
    rig.inner.items.extend([rig.command({"cmd": "pause", "ms": 200}), [envelope]])

    def later() -> None:
        rig.time.ns += 200_000_000

    rig.inner.items.append(later)
    assert rig.loop.receive(deadline_ms=None) == [envelope]
    assert rig.inner.waits[1] == 0.2  # it waited for the pause's end, no longer
    assert any("resumed after the pause: 1 held" in line for line in rig.lines)


def test_trace_logs_in_and_out_and_cut_links_drop_both_ways() -> None:
    rig = Rig()
    rig.loop.run_command({"cmd": "trace", "on": True})
    rig.loop.run_command({"cmd": "fault", "net": {"cmd": "fail_link", "a": "s0", "b": "s2"}})
    rig.inner.items.append([heartbeat("s1"), heartbeat("s2")])
    assert rig.loop.receive(None) == [heartbeat("s1")]
    rig.loop.send(Envelope(source="s0", target="s2", message=Heartbeat(
        ballot=Ballot(1, 0), commit_index=0)))
    reply = Envelope(source="s0", target="c7", message=ClientReply(
        client=7, seq=1, outcome="ok", value="1"))
    rig.loop.send(reply)
    assert rig.inner.sent == [reply]
    traced = [line for line in rig.lines if line.startswith(("in ", "out "))]
    assert traced == [
        "in  s1->s0 Heartbeat b=1.1 commit=0",
        "in  s2->s0 Heartbeat b=1.2 commit=0  (dropped: link cut)",
        "out s0->s2 Heartbeat b=1.0 commit=0  (dropped: link cut)",
        f"out {reply.describe()}",
    ]


def test_slow_mode_delays_server_hops_by_two_seconds_but_not_client_replies() -> None:
    rig = Rig()
    rig.loop.run_command({"cmd": "slow", "on": True})
    to_peer = Envelope(source="s0", target="s1", message=Heartbeat(
        ballot=Ballot(1, 0), commit_index=0))
    to_client = Envelope(source="s0", target="c7", message=ClientReply(
        client=7, seq=1, outcome="ok", value="1"))
    rig.loop.send(to_peer)
    rig.loop.send(to_client)
    assert rig.inner.sent == [to_client]
    rig.inner.items.append([])
    rig.loop.receive(None)
    assert rig.inner.waits[-1] == SLOW_HOP_MS / 1000  # it wakes for the hop, no timer spin
    rig.time.ns += SLOW_HOP_MS * 1_000_000
    rig.inner.items.append([])
    rig.loop.receive(None)
    assert rig.inner.sent == [to_client, to_peer]


def test_stop_ends_run_node_and_crash_freezes_until_killed() -> None:
    rig = Rig()
    rig.inner.items.extend([[heartbeat()], rig.command({"cmd": "stop"}), [heartbeat()]])
    run_node(rig.host, rig.loop, rig.clock)  # returns: the stop ended it
    assert rig.loop.stopped_by_command and len(rig.inner.items) == 1
    rig = Rig()
    rig.inner.items.extend([rig.command({"cmd": "crash"}), [heartbeat()]])
    assert rig.loop.receive(None) is None  # nothing stepped after the crash command
    assert rig.crashes == 1 and rig.replica.leader_id is None


def test_submit_from_another_thread_runs_in_the_loop_and_a_console_slow_spreads() -> None:
    rig = Rig()
    replies: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: replies.append(
        rig.loop.submit({"cmd": "slow", "on": True})))
    thread.start()
    while not rig.inner.items:
        thread.join(0.001)
    rig.loop.receive(None)
    thread.join(5)
    assert replies[0]["ok"] and replies[0]["slow"] is True
    assert rig.spread == [{"cmd": "slow", "on": True}]
    rig.loop.run_command({"cmd": "slow", "on": False})  # from admin: not spread again
    assert len(rig.spread) == 1


def test_submit_times_out_with_an_error_reply_when_the_loop_does_not_answer() -> None:
    rig = Rig()
    reply = rig.loop.submit({"cmd": "status"}, timeout_s=0.01)
    assert reply == {"ok": False, "error": "no answer from the node loop in 0.01 s"}


def test_commits_go_to_the_file_each_and_to_the_terminal_once_a_second() -> None:
    time_ = FakeTime()
    file, shown = io.StringIO(), []
    log = ServerLog(file, shown.append, now_ns=time_)
    prev = "0" * 64
    first = seal_block(0, prev, (), 0)
    for height in range(5):
        block = seal_block(height, prev, (), 0)
        prev = block.hash
        log.commits(Output(committed=(block,)))
    assert file.getvalue().count(" commit ") == 5
    assert len(shown) == 1 and shown[0].endswith(f"commit 0 {first.hash[:8]}")
    assert log.next_summary_ns() == time_.ns + COMMIT_SUMMARY_NS
    log.flush_summary()
    assert len(shown) == 1
    time_.ns += COMMIT_SUMMARY_NS
    log.flush_summary()
    assert shown[-1].endswith("committed 4 more blocks, height 4")
    assert log.next_summary_ns() is None
