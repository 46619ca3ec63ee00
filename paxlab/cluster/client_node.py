"""The client's node: a ClientSession behind a NodeHost, run by `run_node` in its own thread.

The session (paxlab.core.client) already does the protocol: it follows leader hints and
redirects, moves on to the next server and nominates it when one stays silent, and keeps
an op's seq through every retry. This module adds what a person at a prompt needs around
it: ops come one at a time from the REPL thread (through the transport's inbox, so only
the loop thread ever steps the session), each invoke and completion is written to the
client's history before anything else sees it, and each new seq is on disk before the
request carrying it leaves.

Not the scenario's ClientDriver: that one plays a planned workload; here the next op is
whatever the user types, whenever they type it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from paxlab.cluster.client_files import ClientFiles
from paxlab.cluster.client_parse import Command
from paxlab.core import ClientSession
from paxlab.core.ids import node_parts, server_node
from paxlab.core.messages import Envelope, Submit
from paxlab.core.output import Completion, Output
from paxlab.host import NodeHost, run_node

__all__ = ["ClientClock", "ClientLoop", "ClientNode", "ClientTransport", "OpInterrupted",
           "OpResult"]

Outcome = Literal["ok", "fail", "info"]


class ClientTransport(Protocol):
    """What the client needs of WIRE's TcpTransport (a test passes a fake)."""

    def receive(self, deadline_ms: float | None) -> Sequence[Envelope] | None: ...
    def send(self, envelope: Envelope) -> None: ...
    def call_in_loop(self, fn: Callable[[], object]) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class ClientClock:
    """`paxlab.host.Clock` for a client: ms since start for the session (monotonic), and
    for history events ns on the wall clock, stepped by the monotonic clock from one
    reading at start. Wall time lets `cluster check` merge the histories of clients that
    ran at different times; stepping it by the monotonic clock keeps one client's events
    in order if the wall clock is set back, and `floor_ns` (the previous run's last event)
    keeps a restart's events after its earlier ones."""

    def __init__(self, floor_ns: int = 0) -> None:
        self._start_mono_ns = time.monotonic_ns()
        self._start_wall_ns = max(time.time_ns(), floor_ns + 1)

    def now_ns(self) -> int:
        return self._start_wall_ns + (time.monotonic_ns() - self._start_mono_ns)

    def now_ms(self) -> int:
        return (time.monotonic_ns() - self._start_mono_ns) // 1_000_000

    def seconds_until(self, at_ms: float | None) -> float | None:
        if at_ms is None:
            return None
        return max(0.0, (at_ms * 1_000_000 - (time.monotonic_ns() - self._start_mono_ns)) / 1e9)


@dataclass(frozen=True, slots=True)
class OpResult:
    """One finished op, as the REPL prints it. `value`: the value read (get) or written
    (put); `via`: the server whose answer ended it (None for info); `events`: the invoke
    and completion exactly as written to history.jsonl."""

    command: Command
    outcome: Outcome
    seq: int
    value: str | None
    error: str | None
    latency_ms: float
    via: str | None
    events: tuple[dict[str, Any], ...]


class OpInterrupted(KeyboardInterrupt):
    """Ctrl-C while an op was pending: the op was abandoned and ended `info` (or had just
    ended), and `result` says how. A KeyboardInterrupt, so a caller that does not care
    still stops."""

    def __init__(self, result: OpResult) -> None:
        super().__init__(result.outcome)
        self.result = result


@dataclass(slots=True)
class _Waiting:
    command: Command
    invoke: dict[str, Any]
    started_ns: int
    done: Callable[[OpResult], None]


class ClientNode(NodeHost):
    """A ClientSession behind a NodeHost that records history and reports each op's end.

    Every method runs on the loop thread (`submit` and `abandon` arrive through the
    transport's `call_in_loop`)."""

    def __init__(self, session: ClientSession, transport: ClientTransport,
                 clock: ClientClock, files: ClientFiles,
                 log: Callable[[str], None] | None = None) -> None:
        super().__init__(session, transport.send, log=log)
        self.session = session
        self.clock = clock
        self.files = files
        self._waiting: _Waiting | None = None
        self.last_via: str | None = None  # the last server that answered

    def submit(self, command: Command, done: Callable[[OpResult], None]) -> None:
        """Start `command` (put or get): seq to disk, invoke to history, then send."""
        assert command.name in ("put", "get") and command.key is not None
        if self._waiting is not None:
            raise RuntimeError("one op at a time: the previous op has not ended")
        seq = self.session.seq + 1
        self.files.reserve_seq(seq)  # fsynced before the request carrying it leaves
        invoke = self.files.record({
            "type": "invoke", "f": command.name, "key": command.key,
            "value": command.value, "seq": seq, "process": self.session.id,
            "time": self.clock.now_ns()})
        self._waiting = _Waiting(command, invoke, time.monotonic_ns(), done)
        submit = Submit(op=command.name, key=command.key, value=command.value)  # type: ignore[arg-type]
        self.local(self.clock.now_ms(), submit)

    def abandon(self, reason: str) -> None:
        """Stop waiting for the current op (Ctrl-C, or the client is leaving): it ends
        `info`, since it may still be applied. Nothing to do when no op is pending."""
        output = self.session.give_up(self.clock.now_ms())
        self.carry_out(output)
        self._maybe_done(output, None, reason)

    def deliver(self, now_ms: int, envelope: Envelope) -> Output:
        # Timers come back through here too (NodeHost.local), so this sees every end.
        output = NodeHost.deliver(self, now_ms, envelope)
        if output.completed:
            self._maybe_done(output, envelope.source, None)
        return output

    def leader_guess(self) -> str | None:
        """The server this client believes leads: the last hint or answer, if any."""
        hint = self.session.leader_hint
        return None if hint is None else server_node(hint)

    def _maybe_done(self, output: Output, source: str | None, reason: str | None) -> None:
        for completion in output.completed:
            self._finish(completion, source, reason)

    def _finish(self, done: Completion, source: str | None, reason: str | None) -> None:
        waiting = self._waiting
        self._waiting = None
        via = None
        if done.outcome != "info" and source is not None and node_parts(source)[0] == "server":
            via = source
            self.last_via = source
        event = self.files.record({
            "type": done.outcome, "f": done.op, "key": done.key, "value": done.value,
            "seq": done.seq, "process": self.session.id, "time": self.clock.now_ns()})
        if self._log is not None:
            shown = "not found" if done.op == "get" and done.value is None else done.value
            why = f" ({reason or done.error})" if done.outcome != "ok" else ""
            self._log(f"#{done.seq} {done.op} {done.key} -> {done.outcome} {shown}"
                      f"{why} via {via}")
        if waiting is None:
            return
        latency_ms = (time.monotonic_ns() - waiting.started_ns) / 1e6
        error = reason if reason is not None else done.error
        waiting.done(OpResult(waiting.command, done.outcome, done.seq, done.value, error,
                              latency_ms, via, (waiting.invoke, event)))


class ClientLoop:
    """Runs a ClientNode's `run_node` in a daemon thread and hands it ops from another.

    `run(command)` blocks its caller until the op ends; a KeyboardInterrupt while it
    waits abandons the op (it ends `info`), then OpInterrupted is raised with the result."""

    def __init__(self, node: ClientNode, transport: ClientTransport) -> None:
        self.node = node
        self.transport = transport
        self._thread = threading.Thread(target=self._main, name="client-loop", daemon=True)
        self._crash: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        try:
            run_node(self.node, self.transport, self.node.clock)
        except BaseException as error:  # the REPL thread reports it rather than hang
            self._crash = error
            raise

    def _in_loop(self, fn: Callable[[], object]) -> None:
        if not self._thread.is_alive():
            raise RuntimeError(f"the client's loop has stopped ({self._crash!r})")
        self.transport.call_in_loop(fn)

    def run(self, command: Command) -> OpResult:
        """Submit one put or get and wait for its end (ok, fail or info)."""
        box: list[OpResult] = []
        ended = threading.Event()

        def done(result: OpResult) -> None:
            box.append(result)
            ended.set()

        def stop() -> None:  # queued after the submit, if that was queued at all
            self.node.abandon("interrupted by Ctrl-C")
            ended.set()

        try:
            self._in_loop(lambda: self.node.submit(command, done))
            self._wait(ended)
        except KeyboardInterrupt:
            self._in_loop(stop)
            self._wait(ended)
            if box:
                raise OpInterrupted(box[0]) from None
            raise  # before the op was submitted: nothing to report
        return box[0]

    def _wait(self, ended: threading.Event) -> None:
        # The session ends every op by its op timeout; wake now and then only to notice a
        # loop that died, so the prompt can never hang on it.
        while not ended.wait(0.2):
            if not self._thread.is_alive():
                raise RuntimeError(f"the client's loop has stopped ({self._crash!r})")

    def status(self) -> dict[str, Any]:
        """A snapshot taken on the loop thread: leader guess, last seq, links."""
        box: list[dict[str, Any]] = []
        ready = threading.Event()

        def take() -> None:
            session = self.node.session
            box.append({"client": session.node, "leader": self.node.leader_guess(),
                        "last_seq": session.seq, "busy": session.busy,
                        "last_via": self.node.last_via, "links": self.transport.stats()})
            ready.set()

        self._in_loop(take)
        self._wait(ready)
        return box[0]

    def close(self, timeout_s: float = 2.0) -> None:
        """Abandon an op still pending (it ends info), then stop the loop and the sockets."""
        if self._thread.is_alive():
            ended = threading.Event()
            self.transport.call_in_loop(lambda: (self.node.abandon(
                "the client stopped before an answer"), ended.set()))
            ended.wait(timeout_s)
        self.transport.close()
        self._thread.join(timeout_s)
