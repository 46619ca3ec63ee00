"""A client process: one ClientSession running its workload, writing its history part.

Every invoke and completion is appended (and flushed) to its own history file as it
happens, so a run interrupted at any moment still has the history up to that moment.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.config.types import WorkloadConfig
from paxlab.core import ClientParams, ClientSession
from paxlab.core.codec import decode_envelope, encode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Envelope, Submit
from paxlab.core.output import Output
from paxlab.host import NodeHost
from paxlab.lab.control import RunClock, await_start, recv_control, send_control
from paxlab.scenario.workload import PlannedOp, make_workload

__all__ = ["client_main"]


class ClientProcess:
    def __init__(
        self,
        client_id: int,
        params: ClientParams,
        workload: WorkloadConfig,
        seed: int,
        link: Connection,
        control: Connection,
        run_dir: Path,
        incarnation: int,
    ) -> None:
        self.client_id = client_id
        # A restarted client carries on where its history part ends: new ops get new
        # seq numbers (a reused (client, seq) would be answered from the old result),
        # and the workload skips the ops the earlier process already started.
        past = results.recover_history_part(run_dir, client_id)
        last_seq = max((e["seq"] for e in past), default=0)
        started = sum(1 for e in past if e["type"] == "invoke")
        rng = random.Random(f"{seed}:client:{client_id}:{incarnation}")
        self.session = ClientSession(client_id, params, rng, last_seq=last_seq)
        self.workload = make_workload(workload, client_id, seed)
        for _ in range(started):
            self.workload.next_op(0, 0)
        self.link = link
        self.control = control
        part = results.history_part_path(run_dir, client_id)
        part.parent.mkdir(parents=True, exist_ok=True)
        self.history = open(part, "a", buffering=1)  # noqa: SIM115 - closed in run()
        self.log = open(results.log_path(run_dir, f"client-{client_id}"), "a", buffering=1)  # noqa: SIM115
        self.clock = RunClock(0)
        self.host = NodeHost(self.session, self._send, log=self._write_log)
        self.next_op: PlannedOp | None = None
        self.last_done_ms = 0
        self.done = sum(1 for e in past if e["type"] != "invoke")
        self.finished = False

    def _send(self, envelope: Envelope) -> None:
        self.link.send_bytes(encode_envelope(envelope))

    def _write_log(self, line: str) -> None:
        self.log.write(f"{self.clock.now_ms():>7} ms  {line}\n")

    def _record(self, event: dict[str, Any]) -> None:
        event["process"] = self.client_id
        event["time"] = self.clock.now_ns()
        self.history.write(json.dumps(event, separators=(",", ":")) + "\n")

    def _handle(self, output: Output) -> None:
        for done in output.completed:
            self._record({"type": done.outcome, "f": done.op, "key": done.key,
                          "value": done.value, "seq": done.seq})
            shown = "not found" if done.op == "get" and done.value is None else done.value
            self._write_log(f"#{done.seq} {done.op} {done.key} -> {done.outcome} {shown}")
            self.done += 1
            self.last_done_ms = self.clock.now_ms()
            send_control(self.control, {"event": "progress", "done": self.done})

    def _maybe_submit(self) -> None:
        if self.session.busy or self.finished:
            return
        now = self.clock.now_ms()
        if self.next_op is None:
            self.next_op = self.workload.next_op(now, self.last_done_ms)
            if self.next_op is None:
                self.finished = True
                send_control(self.control, {"event": "finished", "done": self.done})
                return
        if self.next_op.at_ms > now:
            return
        op = self.next_op.operation
        self.next_op = None
        self._record({"type": "invoke", "f": op.op, "key": op.key, "value": op.value,
                      "seq": self.session.seq + 1})
        self._handle(self.host.local(now, Submit(op=op.op, key=op.key, value=op.value)))  # type: ignore[arg-type]

    def _wake_ms(self) -> int | None:
        deadlines = [self.host.timers.next_deadline_ms()]
        if self.next_op is not None and not self.session.busy:
            deadlines.append(self.next_op.at_ms)
        known = [d for d in deadlines if d is not None]
        return min(known) if known else None

    def run(self) -> None:
        send_control(self.control, {"event": "ready"})
        clock = await_start(self.control)
        if clock is None:
            return  # stopped before the run began
        self.clock = clock
        try:
            while True:
                self._maybe_submit()
                timeout = self.clock.seconds_until(self._wake_ms())
                for conn in wait([self.link, self.control], timeout):
                    if conn is self.control:
                        if recv_control(self.control)["cmd"] == "stop":
                            self._handle(self.session.give_up(self.clock.now_ms()))
                            send_control(self.control, {"event": "stopped"})
                            return
                        continue
                    try:
                        envelope = decode_envelope(self.link.recv_bytes())
                    except RemoteError as error:
                        self._write_log(f"dropped invalid frame: {error}")
                        continue
                    self._handle(self.host.deliver(self.clock.now_ms(), envelope))
                for output in self.host.fire_due_timers(self.clock.now_ms()):
                    self._handle(output)
        finally:
            self.history.close()
            self.log.close()


def client_main(
    client_id: int,
    params: ClientParams,
    workload: WorkloadConfig,
    seed: int,
    link: Connection,
    control: Connection,
    run_dir: str,
    incarnation: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    process = ClientProcess(client_id, params, workload, seed, link, control, Path(run_dir),
                            incarnation)
    with contextlib.suppress(EOFError, BrokenPipeError):
        process.run()  # EOF: the launcher or router went away, nothing left to report to
