"""host.run_node, THE loop, and the simulator's per-event halves of it give one run.

The simulator cannot block inside one node's loop (its heap is everyone's `receive`), so
it calls `NodeHost.deliver` for a message event and `NodeHost.wake` for a wake. The same
server, fed the same messages at the same times, must send the same messages at the same
times either way."""

from __future__ import annotations

import random
from collections.abc import Sequence

from paxlab.core import ClientParams, ClientSession, Replica, ReplicaParams
from paxlab.core.ids import Ballot
from paxlab.core.messages import Boot, ClientRequest, Envelope, Promise, Submit
from paxlab.host import NodeHost, TimerTable, run_node
from paxlab.sim.clock import EventHeap
from paxlab.sim.nodes import SimServer, Wake

PARAMS = ReplicaParams(replica_count=3)
SEED = 11


def _script() -> list[tuple[int, Envelope]]:
    """Client requests (some nominating s0), and promises for a ballot s0 may run at."""
    script: list[tuple[int, Envelope]] = []
    for i in range(12):
        request = ClientRequest(client=0, seq=i + 1, op="put", key="'k'", value=repr(i),
                                nominate=i % 3 == 0)
        script.append((37 * i + 5, Envelope(source="c0", target="s0", message=request)))
    for round_ in (1, 2, 3):
        promise = Promise(ballot=Ballot(round=round_, replica=0), from_slot=0, commit_index=0,
                          accepted=(), decided=())
        script.append((150 * round_ + 3, Envelope(source="s1", target="s0", message=promise)))
    return sorted(script, key=lambda item: item[0])


class _ScriptedClock:
    def __init__(self) -> None:
        self.ms = 0

    def now_ms(self) -> float:
        return self.ms

    def now_ns(self) -> int:
        return self.ms * 1_000_000


class _ScriptedTransport:
    """Hands out the script's messages in time order; the clock jumps to whichever comes
    first, the next message or the deadline; stops at `end_ms`."""

    def __init__(self, script: list[tuple[int, Envelope]], clock: _ScriptedClock,
                 end_ms: int) -> None:
        self.script = list(script)
        self.clock = clock
        self.end_ms = end_ms
        self.sent: list[tuple[float, str]] = []

    def send(self, envelope: Envelope) -> None:
        self.sent.append((self.clock.now_ms(), envelope.describe()))

    def receive(self, deadline_ms: float | None) -> Sequence[Envelope] | None:
        next_ms = self.script[0][0] if self.script else None
        if deadline_ms is not None and (next_ms is None or deadline_ms < next_ms):
            if deadline_ms >= self.end_ms:
                return None
            self.clock.ms = max(self.clock.ms, int(deadline_ms))
            return []
        if next_ms is None or next_ms >= self.end_ms:
            return None
        self.clock.ms = next_ms
        return [self.script.pop(0)[1]]


def _through_run_node(end_ms: int) -> list[tuple[float, str]]:
    clock = _ScriptedClock()
    transport = _ScriptedTransport(_script(), clock, end_ms)
    replica = Replica(0, PARAMS, random.Random(f"{SEED}:server:0:0"))
    host = NodeHost(replica, transport.send)
    host.local(0, Boot())
    run_node(host, transport, clock)
    return transport.sent


def _through_the_simulator(end_ms: int) -> list[tuple[float, str]]:
    heap = EventHeap()
    sent: list[tuple[float, str]] = []
    server = SimServer(0, PARAMS, SEED, heap, lambda env: sent.append((heap.now_ms,
                                                                          env.describe())))
    server.start()
    for at_ms, envelope in _script():
        heap.push(at_ms, envelope)
    while heap.queue and heap.queue[0][0] < end_ms:
        event = heap.pop()
        if isinstance(event, Wake):
            server.wake(event)
        else:
            server.deliver(event)
    return sent


def test_run_node_and_the_simulators_halves_send_the_same() -> None:
    ran = _through_run_node(1_000)
    assert len(ran) > 20  # elections, redirects, proposals: the loop did real work
    assert any("Prepare" in line for _, line in ran)
    assert ran == _through_the_simulator(1_000)


def test_run_node_stops_when_the_transport_says_so() -> None:
    assert all(t == 0 for t, _ in _through_run_node(1))  # Boot's sends, then stop


def test_timer_table_replaces_and_cancels_by_name() -> None:
    from paxlab.core.output import TimerCommand

    table = TimerTable()
    table.apply([TimerCommand(key="a", at_ms=10, message=Boot()),
                 TimerCommand(key="b", at_ms=5, message=Submit(op="get", key="k", value=None))])
    table.apply([TimerCommand(key="a", at_ms=3, message=Boot()),
                 TimerCommand(key="b", at_ms=None)])
    assert table.next_deadline_ms() == 3
    assert table.pop_due(100) == [Boot()]
    assert table.next_deadline_ms() is None


def test_a_client_session_runs_under_run_node_too() -> None:
    clock = _ScriptedClock()
    transport = _ScriptedTransport([], clock, 2_000)
    session = ClientSession(0, ClientParams(server_count=3), random.Random(1))
    host = NodeHost(session, transport.send)
    host.local(0, Submit(op="get", key="'k'", value=None))
    run_node(host, transport, clock)
    # Nobody answers: the request timer moves it from server to server.
    targets = [line.split()[0] for _, line in transport.sent]
    assert len(targets) >= 3
