"""The server's side of `run_node`: pause, trace, slow hops and commands around the TCP transport.

`run_node(host, ServerLoop(...), clock)` is the same loop as the lab's: ServerLoop is the
Transport it blocks on. It wraps the TCP transport and adds only what a person at a
server needs: a paused server does not return from `receive` (so nothing is stepped, not
even a timer) and holds what arrives; `trace` logs every message in and out; slow mode
delays each server-to-server message by a hop and waits on that like on any deadline.
Console and admin commands run inside the wrapped transport's `receive` (its inbox), so
they step the replica in this one thread; what they ask of the process afterwards (exit,
crash, tell the other servers) is carried out here, once their reply has gone.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TextIO

from paxlab.cluster.commands import ServerState, execute
from paxlab.core.messages import Envelope
from paxlab.core.output import Output

__all__ = ["COMMIT_SUMMARY_NS", "InnerTransport", "ServerLog", "ServerLoop"]

COMMIT_SUMMARY_NS = 1_000_000_000  # at most one commit line a second on the terminal


class InnerTransport(Protocol):
    """What ServerLoop needs of the TCP transport (WIRE's TcpTransport, or a test fake)."""

    def receive(self, deadline_ms: float | None) -> Sequence[Envelope] | None: ...
    def send(self, envelope: Envelope) -> None: ...
    def call_in_loop(self, fn: Callable[[], Any]) -> Future[Any]: ...


class ServerLog:
    """Log lines to server.log and to the terminal (the console's printer, or stderr).

    Commits go to the file one line each but to the terminal at most once a second: a
    person sees that commits happen, and a benchmark's thousands a second cost no
    terminal writes."""

    def __init__(self, file: TextIO, terminal: Callable[[str], None] | None,
                 now_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.file = file
        self.terminal = terminal
        self.now_ns = now_ns
        self._commits_unshown = 0
        self._height = 0
        self._shown_ns: int | None = None

    def __call__(self, line: str) -> None:
        stamped = f"{_clock_time()}  {line}"
        self.file.write(stamped + "\n")
        if self.terminal is not None:
            self.terminal(stamped)

    def commits(self, output: Output) -> None:
        """NodeHost's on_output: the file gets every commit, the terminal a summary."""
        committed = output.committed
        if not committed:
            return
        stamp = _clock_time()
        self.file.write("".join(f"{stamp}  commit {block.height} {block.hash[:8]} "
                                f"{len(block.txns)} txns\n" for block in committed))
        self._height = committed[-1].height
        now = self.now_ns()
        if self._shown_ns is None or now - self._shown_ns >= COMMIT_SUMMARY_NS:
            self._shown_ns = now
            last = committed[-1]
            more = self._commits_unshown + len(committed) - 1
            txns = " ".join(f"c{t.client}#{t.seq} {t.op} {t.key}" for t in last.txns[:3])
            text = f"commit {last.height} {last.hash[:8]} {txns}".rstrip()
            self._to_terminal(text + (f" (+{more} more commits)" if more else ""))
            self._commits_unshown = 0
        else:
            self._commits_unshown += len(committed)

    def next_summary_ns(self) -> int | None:
        """When the held-back commit count is due on the terminal (None: nothing held)."""
        if not self._commits_unshown or self._shown_ns is None:
            return None
        return self._shown_ns + COMMIT_SUMMARY_NS

    def flush_summary(self) -> None:
        due = self.next_summary_ns()
        if due is not None and self.now_ns() >= due:
            self._to_terminal(f"committed {self._commits_unshown} more blocks, "
                              f"height {self._height}")
            self._commits_unshown = 0
            self._shown_ns = self.now_ns()

    def _to_terminal(self, text: str) -> None:
        if self.terminal is not None:
            self.terminal(f"{_clock_time()}  {text}")


def _clock_time() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]


class ServerLoop:
    """`paxlab.host.Transport` for `run_node`: the TCP transport plus pause, trace, slow
    mode and commands. `run_command` runs one on the node's thread; after it, "stop"
    makes `receive` return None, "crash" freezes the loop until `crash` has killed the
    process, and "spread" hands the command to `spread` (which must not block)."""

    def __init__(self, state: ServerState, inner: InnerTransport, log: ServerLog, *,
                 inner_deadline: Callable[[float | None], float | None],
                 crash: Callable[[], None],
                 spread: Callable[[dict[str, Any]], None]) -> None:
        self.state = state
        self.inner = inner
        self.log = log
        self.me = state.replica.node
        self.inner_deadline = inner_deadline  # wall seconds from now -> inner's deadline
        self.crash = crash  # SIGKILL this process once the reply has had time to leave
        self.spread = spread  # the same command to every other server, off this thread
        self.stopping = False
        self.stopped_by_command = False  # a stop reply is still on its way out
        self.crashing = False  # from a crash command until the kill: step nothing more

    # --- commands ---------------------------------------------------------------------

    def run_command(self, request: Any, *, from_console: bool = False) -> dict[str, Any]:
        """Run one command now, on the node's thread (the transport's on_admin, or a
        call queued by `submit`), and set in motion what it asks of the process."""
        outcome = execute(self.state, request, from_console=from_console)
        if "stop" in outcome.then:
            self.stopping = self.stopped_by_command = True
        if "crash" in outcome.then:
            self.crashing = True
            self.crash()
        if "spread" in outcome.then:
            self.spread(dict(request))
        return outcome.reply

    def submit(self, request: Any, *, from_console: bool = True,
               timeout_s: float = 5.0) -> dict[str, Any]:
        """From another thread (the console's): run a command in the node loop and wait
        for its reply. Never raises."""
        future = self.inner.call_in_loop(
            lambda: self.run_command(request, from_console=from_console))
        try:
            return future.result(timeout=timeout_s)  # type: ignore[no-any-return]
        except TimeoutError:
            return {"ok": False, "error": f"no answer from the node loop in {timeout_s:g} s"}
        except RuntimeError as error:  # the transport closed: the server is stopping
            return {"ok": False, "error": f"the server is stopping ({error})"}

    # --- Transport ---------------------------------------------------------------------

    def send(self, envelope: Envelope) -> None:
        state = self.state
        target = envelope.target
        if state.links.is_cut(self.me, target):
            if state.trace:
                self.log(f"out {envelope.describe()}  (dropped: link cut)")
            if state.messages is not None:
                state.messages.sent(envelope, "cut")
            return
        if state.trace:
            self.log(f"out {envelope.describe()}")
        if state.slow and target[0] == "s":
            if state.messages is not None:  # sent now; the hop's delay is the network's
                state.messages.stamp(envelope)
            for early in state.delayed.push(state.clock.now_real_ns(), envelope):
                self.inner.send(early)
            return
        self.inner.send(envelope)

    def stop(self) -> None:
        """From a signal's helper thread: end `run_node` at its next wake-up."""
        self.stopping = True
        self.inner.call_in_loop(lambda: None)

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        state = self.state
        clock = state.clock
        while True:
            if self.stopping:
                return None
            if self.crashing:  # nothing more is stepped or sent; the kill is on its way
                if self.inner.receive(self.inner_deadline(None)) is None:
                    return None
                continue
            released = state.release_held()
            if released:
                return released
            now_real = clock.now_real_ns()
            for envelope in state.delayed.pop_due(now_real):
                self.inner.send(envelope)
            self.log.flush_summary()
            if state.paused and state.resume_at_real_ns is not None \
                    and now_real >= state.resume_at_real_ns:
                count = state.resume()
                self.log(f"resumed after the pause: {count} held messages released")
                continue
            wait_s = self._wait_s(deadline_ms, now_real)
            arrived = self.inner.receive(self.inner_deadline(wait_s))
            if arrived is None:
                return None
            kept = self._inbound(arrived)
            if self.stopping:
                return None
            if self.crashing:
                continue
            if state.paused:
                state.hold(kept)
                continue
            held = state.release_held()  # a resume just now: what it held goes first
            return held + kept if held else kept

    def _wait_s(self, deadline_ms: float | None, now_real: int) -> float | None:
        """Wall seconds until the first thing due: the node's timer (not while paused),
        a delayed send, the end of a timed pause, the terminal's commit summary."""
        state = self.state
        waits: list[float] = []
        if not state.paused:
            timer = state.clock.seconds_until(deadline_ms)
            if timer is not None:
                waits.append(timer)
        for due_ns in (state.delayed.next_due_ns(), state.resume_at_real_ns if state.paused
                       else None, self.log.next_summary_ns()):
            if due_ns is not None:
                waits.append(max(0.0, (due_ns - now_real) / 1e9))
        return min(waits) if waits else None

    def _inbound(self, arrived: Sequence[Envelope]) -> list[Envelope]:
        state = self.state
        links = state.links
        messages = state.messages
        kept: list[Envelope] = []
        for envelope in arrived:
            cut = links.is_cut(envelope.source, self.me)
            if state.trace:
                note = "  (dropped: link cut)" if cut else (
                    "  (held: paused)" if state.paused else "")
                self.log(f"in  {envelope.describe()}{note}")
            if messages is not None:
                messages.take(envelope, "cut" if cut else "held" if state.paused
                              else "delivered")
            if not cut:
                kept.append(envelope)
        return kept
