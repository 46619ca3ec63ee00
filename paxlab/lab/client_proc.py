"""A client process: one ClientDriver (paxlab.scenario) run by `run_node` over its pipes.

Every invoke and completion is appended (and flushed) to its own history file as it
happens, so a run interrupted at any moment still has the history up to that moment.

Unlike a server, a client writes to the router from its main loop: it has at most one
request in flight, so its pipe to the router never fills. A client given many requests
at once would want the server's `_Outbox` thread too (lab/server_proc.py).
"""

from __future__ import annotations

import contextlib
import json
import signal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.config.types import WorkloadConfig
from paxlab.core import ClientParams
from paxlab.core.output import Completion
from paxlab.host import run_node
from paxlab.lab.control import RunClock, await_start, send_control
from paxlab.lab.transport import PipeTransport
from paxlab.scenario.client_driver import start_client

__all__ = ["client_main"]


def _run(client_id: int, params: ClientParams, workload: WorkloadConfig, seed: int,
         link: Connection, control: Connection, run_dir: Path, incarnation: int) -> None:
    # A restarted client carries on where its history part ends (see client_driver).
    past = results.recover_history_part(run_dir, client_id)
    part = results.history_part_path(run_dir, client_id)
    part.parent.mkdir(parents=True, exist_ok=True)
    with open(part, "a", buffering=1) as history, \
            open(results.log_path(run_dir, f"client-{client_id}"), "a", buffering=1) as log:
        clock = RunClock(0)

        def write_log(line: str) -> None:
            log.write(f"{clock.now_ms():>7} ms  {line}\n")

        def record(event: dict[str, Any]) -> None:
            history.write(json.dumps(event, separators=(",", ":")) + "\n")

        def on_done(done: Completion, count: int) -> None:
            shown = "not found" if done.op == "get" and done.value is None else done.value
            write_log(f"#{done.seq} {done.op} {done.key} -> {done.outcome} {shown}")
            send_control(control, {"event": "progress", "done": count})

        def on_finished(count: int) -> None:
            send_control(control, {"event": "finished", "done": count})

        def on_command(command: dict[str, Any]) -> bool:
            if command["cmd"] != "stop":
                return True
            driver.give_up(clock.now_ms())
            send_control(control, {"event": "stopped"})
            return False

        send_control(control, {"event": "ready"})
        started = await_start(control)
        if started is None:
            return  # stopped before the run began
        clock = started
        transport = PipeTransport(link, control, clock, link.send_bytes, on_command, write_log)
        driver = start_client(client_id, params, workload, seed, incarnation, past,
                              transport.send, clock, record, log=write_log, on_done=on_done,
                              on_finished=on_finished)
        driver.start(clock.now_ms())
        run_node(driver, transport, clock)


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
    with contextlib.suppress(EOFError, BrokenPipeError):
        # EOF: the launcher or router went away, nothing left to report to
        _run(client_id, params, workload, seed, link, control, Path(run_dir), incarnation)
