"""The router process: every message of the run passes through here, and the network
rules and faults decide what happens to it (see paxlab.network.model).

It also watches the traffic to tell the launcher who leads (the sender of the
highest-ballot Heartbeat or Accept), which the live progress line and the `isolate:
leader` fault need, and feeds every message to the invariant monitor (paxlab.network.monitor),
whose report goes to the launcher when the router stops.

Given a path, it records every message in the results folder's messages.jsonl
(paxlab.network.recorder): a send line with the model's fate as the message comes in,
and an arrival line for each copy when it reaches its target's door (delivered, down,
held for a paused target, released on resume, or lost). In-flight and held copies carry
their message's id for that; the file is written as the run goes, so a Ctrl-C run keeps
what was sent.
"""

from __future__ import annotations

import heapq
import itertools
import random
import signal
import time
from multiprocessing import reduction
from multiprocessing.connection import Connection, wait
from typing import Any, TextIO

from paxlab.config.types import NetworkConfig
from paxlab.core.codec import decode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.ids import node_kind
from paxlab.core.messages import Envelope
from paxlab.lab.control import RunClock, await_start, recv_control, send_control
from paxlab.network.model import NetworkModel
from paxlab.network.monitor import InvariantMonitor
from paxlab.network.recorder import MessageRecorder
from paxlab.network.watch import HeldMessages, LeaderWatch

__all__ = ["Router", "router_main"]

# A copy on its way: (deliver at, monotonic s; tie-break counter; target; frame; message id,
# 0 when not recording; the outcome to record when handed over: "delivered", or "released"
# for a copy held while its target was paused).
InFlight = tuple[float, int, str, bytes, int, str]

class Router:
    def __init__(
        self,
        links: dict[str, Connection],
        control: Connection,
        model: NetworkModel,
        log: TextIO,
        clock: RunClock,
        recorder: MessageRecorder | None = None,
    ) -> None:
        self.links = links
        servers = sum(1 for node in links if node_kind(node) == "server")
        self.monitor = InvariantMonitor(servers)
        self.node_of = {id(conn): node for node, conn in links.items()}
        self.control = control
        self.model = model
        self.log = log
        self.clock = clock
        self.recorder = recorder
        self.in_flight: list[InFlight] = []
        self.counter = itertools.count()
        self.leader = LeaderWatch()
        # Messages for a paused (SIGSTOPped) process wait here, not in its pipe, so a
        # frozen reader can never block the router; they are released on resume.
        self.held: HeldMessages[tuple[int, bytes]] = HeldMessages()  # (message id, frame)
        self.counts = {"routed": 0, "deliver": 0, "drop": 0, "duplicate": 0, "cut": 0,
                       "invalid": 0}
        self.running = True
        self.down: set[str] = set()

    def _log(self, text: str) -> None:
        self.log.write(f"{self.clock.now_ms():>7} ms  {text}\n")

    def _t_us(self) -> int:
        return self.clock.now_ns() // 1000

    def serve(self) -> None:
        recorder = self.recorder
        try:
            while self.running:
                timeout = None
                if self.in_flight:
                    timeout = max(0.0, self.in_flight[0][0] - time.monotonic())
                if recorder is not None:  # wake at least every second to flush the file
                    timeout = 1.0 if timeout is None else min(timeout, 1.0)
                for conn in wait([*self.links.values(), self.control], timeout):
                    if conn is self.control:
                        self._command(recv_control(self.control))
                    else:
                        self._receive(conn)  # type: ignore[arg-type]
                self._deliver_due()
                if recorder is not None:
                    recorder.log.flush_if_due()
        finally:
            if recorder is not None:
                recorder.close()
        self.counts["drop"] += self.held.dropped  # held past the cap
        self._log("router stopped; " + ", ".join(f"{k}={v}" for k, v in self.counts.items()))

    def _receive(self, conn: Connection) -> None:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            node = self.node_of[id(conn)]
            self._log(f"{node} closed its link")
            del self.links[node]
            return
        try:
            envelope = decode_envelope(data)
        except RemoteError as error:
            self.counts["invalid"] += 1
            self._log(f"invalid frame from {self.node_of[id(conn)]}: {error}")
            return
        self.counts["routed"] += 1
        self._observe(envelope)
        self._watch_leader(envelope.source, envelope.message)
        fate = self.model.fate(envelope.source, envelope.target)
        self.counts[fate.reason] += 1
        if fate.reason != "deliver":
            self._log(f"{fate.reason} {envelope.describe()}")
        now = time.monotonic()
        recorder = self.recorder
        message_id = 0 if recorder is None else recorder.send(self._t_us(), envelope,
                                                              fate.reason)
        for delay_ms in fate.delays_ms:
            heapq.heappush(self.in_flight, (now + delay_ms / 1000, next(self.counter),
                                            envelope.target, data, message_id, "delivered"))

    def _observe(self, envelope: Envelope) -> None:
        """The invariant monitor sees every message, whatever its fate; each violation it
        keeps goes to router.log at once."""
        monitor = self.monitor
        kept = len(monitor.violations)
        monitor.observe(self.clock.now_ms(), envelope)
        for violation in monitor.violations[kept:]:
            self._log(f"INVARIANT VIOLATED {violation.line()}")

    def report_invariants(self) -> None:
        report = self.monitor.report()
        self._log(f"invariant monitor: {report.observed} messages, {report.total} violations")
        send_control(self.control, {"event": "invariants", **report.to_dict()})

    def _watch_leader(self, source: str, message: object) -> None:
        if self.leader.observe(source, message):
            ballot = self.leader.ballot
            self._log(f"leader is now {source} (ballot {ballot})")
            send_control(self.control, {"event": "leader", "leader": source,
                                        "ballot": str(ballot)})

    def _deliver_due(self) -> None:
        now = time.monotonic()
        recorder = self.recorder
        held = self.held
        while self.in_flight and self.in_flight[0][0] <= now:
            _, _, target, data, message_id, handed = heapq.heappop(self.in_flight)
            if recorder is not None and held.is_paused(target):
                pushed_out = held.pushed_out_next(target)
                t_us = self._t_us()
                if pushed_out is not None:
                    recorder.arrive(pushed_out[0], t_us, "lost")
                recorder.arrive(message_id, t_us, "held")
            if held.hold(target, (message_id, data)):
                continue
            conn = self.links.get(target)
            outcome = handed
            if conn is None:
                outcome = "down"  # crashed: the message is lost, as on a real network
            else:
                try:
                    conn.send_bytes(data)
                except OSError:
                    self._log(f"{target} link broken; message lost")
                    outcome = "down"
            if recorder is not None:
                recorder.arrive(message_id, self._t_us(), outcome)

    def _command(self, command: dict[str, Any]) -> None:
        name = command["cmd"]
        model = self.model
        if name == "stop":
            self.running = False
            return
        if name in ("down", "relink", "pause", "resume"):
            self._process_command(name, command["node"])
            return
        if not model.apply_command(command):
            self._log(f"unknown command {command!r}")
            return
        self._log(f"fault: {name} {command.get('detail', '')}".rstrip())
        self._report_faults()

    def _report_faults(self) -> None:
        active = self.model.active_faults()
        active += [f"{node} paused" for node in self.held]
        active += [f"{node} down" for node in sorted(self.down)]
        send_control(self.control, {"event": "faults", "active": active})

    def _process_command(self, name: str, node: str) -> None:
        """A process crashed, was restarted with a new link, paused or resumed."""
        if name == "down":
            conn = self.links.pop(node, None)
            if conn is not None:
                conn.close()
            self.down.add(node)
            lost = self.held.forget(node)
            if self.recorder is not None:
                t_us = self._t_us()
                for message_id, _ in lost:
                    self.recorder.arrive(message_id, t_us, "lost")
        elif name == "relink":
            # The launcher passes the new process's link over our control socket.
            fd = reduction.recv_handle(self.control)
            self.links[node] = Connection(fd)
            self.node_of[id(self.links[node])] = node
            self.down.discard(node)
        elif name == "pause":
            self.held.pause(node)
        elif name == "resume":
            now = time.monotonic()
            for message_id, data in self.held.release(node):
                heapq.heappush(self.in_flight, (now, next(self.counter), node, data,
                                                message_id, "released"))
        self._log(f"process: {name} {node}")
        self._report_faults()


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def router_main(
    links: dict[str, Connection],
    control: Connection,
    network: NetworkConfig,
    seed: int,
    log_path: str,
    messages_path: str | None = None,
) -> None:
    """Process entry point. Ctrl-C is the launcher's to handle: it stops us in order.
    With `messages_path`, every message is recorded there (messages.jsonl)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Terminated (the launcher gave up waiting): unwind, so messages.jsonl is flushed.
    signal.signal(signal.SIGTERM, _exit_on_term)
    with open(log_path, "a", buffering=1) as log:
        send_control(control, {"event": "ready"})
        clock = await_start(control)
        if clock is None:
            return  # stopped before the run began
        model = NetworkModel(rules=network, rng=random.Random(f"{seed}:network"))
        try:
            recorder = (None if messages_path is None
                        else MessageRecorder.open(messages_path, "lab"))
            router = Router(links, control, model, log, clock, recorder)
            router.serve()
            router.report_invariants()
            send_control(control, {"event": "stopped"})
        except (EOFError, BrokenPipeError):
            log.write("launcher went away; exiting\n")
