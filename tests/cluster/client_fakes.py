"""A fake of WIRE's TcpTransport for the client's tests: an inbox, scripted servers.

Only the part of `paxlab.cluster.transport.TcpTransport` the client uses: `receive`
(runs queued `call_in_loop` functions, returns [] for them, None once closed), `send`,
`call_in_loop`, `stats`, `close`. Each request the client sends goes to `servers(env)`,
a script that returns the envelopes the "servers" answer with (delivered into the inbox
at once), so a test decides per request: answer, redirect, or stay silent.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from paxlab.cluster.client_node import ClientClock
from paxlab.core.messages import ClientReply, ClientRequest, Envelope, Redirect

__all__ = ["FakeTransport", "ScriptedServers"]


class FakeTransport:
    def __init__(self, clock: ClientClock,
                 servers: Callable[[Envelope], list[Envelope]]) -> None:
        self.clock = clock
        self.servers = servers
        self.sent: list[Envelope] = []
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        if self._closed.is_set():
            return None
        try:
            item = self._inbox.get(timeout=self.clock.seconds_until(deadline_ms))
        except queue.Empty:
            return []
        if item is None:
            return None
        if callable(item):
            item()
            return []
        return [item]

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)
        for answer in self.servers(envelope):
            self._inbox.put(answer)

    def call_in_loop(self, fn: Callable[[], object]) -> None:
        self._inbox.put(fn)

    def stats(self) -> dict[str, Any]:
        return {"peers": {"s0": {"up": True, "reconnects": 1}}}

    def close(self) -> None:
        self._closed.set()
        self._inbox.put(None)


class ScriptedServers:
    """Servers as a table: `leader` answers ok (a get reads `store`), others redirect to
    it; servers in `silent` never answer. Counts the requests each one got."""

    def __init__(self, leader: int | None = 0, silent: frozenset[int] = frozenset(),
                 hint: int | None = None) -> None:
        self.leader = leader
        self.silent = set(silent)
        self.hint = hint  # what non-leaders say (default: the leader)
        self.store: dict[str, str] = {}
        self.applied: dict[tuple[int, int], str | None] = {}

    def __call__(self, env: Envelope) -> list[Envelope]:
        m = env.message
        assert isinstance(m, ClientRequest)
        me = int(env.target[1:])
        if me in self.silent:
            return []
        if me != self.leader:
            hint = self.leader if self.hint is None else self.hint
            return [Envelope(source=env.target, target=env.source,
                             message=Redirect(client=m.client, seq=m.seq, leader_hint=hint))]
        done = (m.client, m.seq)
        if done not in self.applied:  # exactly once: a retried seq is answered, not redone
            if m.op == "put":
                assert m.value is not None
                self.store[m.key] = m.value
                self.applied[done] = None
            else:
                self.applied[done] = self.store.get(m.key)
        value = m.value if m.op == "put" else self.applied[done]
        return [Envelope(source=env.target, target=env.source,
                         message=ClientReply(client=m.client, seq=m.seq, outcome="ok",
                                             value=value))]


def _main(argv: list[str]) -> int:
    """`python -m tests.cluster.client_fakes CLUSTER ID [silent]`: a real `paxlab client`
    prompt over scripted servers (s0 leads; `silent`: nobody answers), for pty tests that
    need the prompt before real servers exist."""
    from pathlib import Path

    from paxlab.cluster.client import run_client

    servers = (ScriptedServers(leader=None, silent=frozenset(range(3)))
               if argv[2:] == ["silent"] else ScriptedServers(leader=0))
    return run_client(int(argv[1]), Path(argv[0]),
                      transport_factory=lambda me, cluster, log, clock:
                      FakeTransport(clock, servers))


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
