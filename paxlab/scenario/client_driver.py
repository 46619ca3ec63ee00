"""The client side of a run, whatever the driver: plan, submit, record, restart.

A `ClientDriver` is the NodeHost of one client incarnation: it steps a ClientSession
and, around it, does what a client process does in a run. It takes the workload's next
op when the session is idle and submits it when its time comes, records every invoke
and completion as a history event (keys in the results folder's order), and counts what
is done. The lab's client process and the simulator's client both use it, so a history
means the same whoever wrote it.

A restarted client carries on from its own past history (`recover_client`): new ops get
new seq numbers, since a reused (client, seq) would be answered from the old result, and
the workload skips the ops an earlier incarnation already started.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from paxlab.config.types import WorkloadConfig
from paxlab.core import ClientParams, ClientSession
from paxlab.core.messages import Envelope, Submit
from paxlab.core.output import Completion, Output
from paxlab.host import Clock, NodeHost
from paxlab.scenario.workload import PlannedOp, Workload, make_workload

__all__ = ["ClientDriver", "ClientPast", "info_for_outstanding", "recover_client",
           "start_client"]


@dataclass(frozen=True, slots=True)
class ClientPast:
    """What a restarted client needs from its earlier incarnations' history."""

    last_seq: int  # the highest seq used: the next op takes last_seq + 1
    started: int  # ops invoked: the workload skips that many
    done: int  # ops completed, for progress


def recover_client(past: Iterable[dict[str, Any]]) -> ClientPast:
    """Read one client's own history events (any order) into where it left off."""
    last_seq = started = done = 0
    for event in past:
        last_seq = max(last_seq, event["seq"])
        if event["type"] == "invoke":
            started += 1
        else:
            done += 1
    return ClientPast(last_seq=last_seq, started=started, done=done)


def info_for_outstanding(events: Iterable[dict[str, Any]], time_ns: int) -> list[dict[str, Any]]:
    """The `info` completions that close every op still outstanding in `events` (one
    client's or many), each at `time_ns`: what a crashed client or a run's end owes the
    history, where every invoke gets exactly one completion. A put's info keeps its value
    (it may have been applied); a get's has none."""
    open_ops: dict[int, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "invoke":
            open_ops[event["process"]] = event
        elif open_ops.get(event["process"], {}).get("seq") == event["seq"]:
            del open_ops[event["process"]]
    return [{"type": "info", "f": e["f"], "key": e["key"],
             "value": e["value"] if e["f"] == "put" else None, "seq": e["seq"],
             "process": e["process"], "time": time_ns}
            for _, e in sorted(open_ops.items())]


class ClientDriver(NodeHost):
    """One client incarnation: a ClientSession behind a NodeHost, plus its workload.

    `record(event)` stores one history event; `on_done(completion, done)` and
    `on_finished(done)` tell a driver about progress (the lab's launcher wants it).
    Times given to `deliver` and `wake` may have fractions (the simulator's do): the
    workload plans with them, the session steps whole milliseconds."""

    def __init__(
        self,
        session: ClientSession,
        workload: Workload,
        send: Callable[[Envelope], None],
        clock: Clock,
        record: Callable[[dict[str, Any]], None],
        *,
        done: int = 0,
        log: Callable[[str], None] | None = None,
        on_done: Callable[[Completion, int], None] | None = None,
        on_finished: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(session, send, log=log)
        self.session = session
        self.workload = workload
        self.clock = clock
        self.record = record
        self.done = done
        self.on_done = on_done
        self.on_finished = on_finished
        self.next_op: PlannedOp | None = None
        self.last_done_ms: float = 0
        self.finished = False  # the workload has no more ops for this client

    def start(self, now_ms: float) -> None:
        """Submit the first op if it is due (else `next_deadline_ms` names its time)."""
        self._maybe_submit(now_ms)

    def deliver(self, now_ms: float, envelope: Envelope) -> Output:  # type: ignore[override]
        output = NodeHost.deliver(self, int(now_ms), envelope)
        if output.completed:
            self._completed(now_ms, output)
        self._maybe_submit(now_ms)
        return output

    def wake(self, now_ms: float) -> list[Output]:
        # Most wakes end a think time with no timer due: look before popping a list.
        # A due timer steps through `local`, hence through `deliver` above, which already
        # records what it completed: recording the outputs here again would give one
        # invoke two completions.
        outputs: list[Output] = []
        deadline = self.timers.next_deadline_ms()
        if deadline is not None and deadline <= now_ms:
            outputs = self.fire_due_timers(int(now_ms))
        self._maybe_submit(now_ms)
        return outputs

    def next_deadline_ms(self) -> float | None:
        """The earlier of the next timer and the next planned op (the timer on a tie)."""
        deadline = self.timers.next_deadline_ms()
        planned = self.next_op
        if planned is not None and self.session.pending is None:
            at_ms = planned.at_ms
            if deadline is None or at_ms < deadline:
                return at_ms
        return deadline

    def give_up(self, now_ms: float) -> None:
        """The run is over, or this client crashes: an op still pending completes as
        info, so no invoke is left without its completion."""
        self._completed(now_ms, self.session.give_up(int(now_ms)))

    def _event(self, kind: str, op: str, key: str, value: str | None, seq: int) -> None:
        """One history event, its keys in the order the results folder has them."""
        self.record({"type": kind, "f": op, "key": key, "value": value, "seq": seq,
                     "process": self.session.id, "time": self.clock.now_ns()})

    def _completed(self, now_ms: float, output: Output) -> None:
        for done in output.completed:
            self._event(done.outcome, done.op, done.key, done.value, done.seq)
            self.done += 1
            self.last_done_ms = now_ms
            if self.on_done is not None:
                self.on_done(done, self.done)

    def _maybe_submit(self, now_ms: float) -> None:
        session = self.session
        if session.pending is not None or self.finished:  # busy, or nothing left to do
            return
        planned = self.next_op
        if planned is None:
            planned = self.next_op = self.workload.next_op(now_ms, self.last_done_ms)  # type: ignore[arg-type]
            if planned is None:
                self.finished = True
                if self.on_finished is not None:
                    self.on_finished(self.done)
                return
        if planned.at_ms <= now_ms:
            op = planned.operation
            self.next_op = None
            self._event("invoke", op.op, op.key, op.value, session.seq + 1)
            submit = Submit(op=op.op, key=op.key, value=op.value)  # type: ignore[arg-type]
            output = self.local(int(now_ms), submit)
            if output.completed:
                self._completed(now_ms, output)


def start_client(
    client_id: int,
    params: ClientParams,
    workload: WorkloadConfig,
    seed: int,
    incarnation: int,
    past: Iterable[dict[str, Any]],
    send: Callable[[Envelope], None],
    clock: Clock,
    record: Callable[[dict[str, Any]], None],
    **hooks: Any,
) -> ClientDriver:
    """A client incarnation that carries on from `past`, its own history so far.

    Each incarnation draws its own timeouts (`seed:client:id:incarnation`): a restart
    must not replay the same ones. The workload is the same seeded one each time."""
    where = recover_client(past)
    rng = random.Random(f"{seed}:client:{client_id}:{incarnation}")
    session = ClientSession(client_id, params, rng, last_seq=where.last_seq)
    plan = make_workload(workload, client_id, seed)
    for _ in range(where.started):
        plan.next_op(0, 0)
    return ClientDriver(session, plan, send, clock, record, done=where.done, **hooks)
