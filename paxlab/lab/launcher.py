"""The launcher: starts the router, servers and clients, runs the fault schedule, lets
the cluster quiesce, collects the results folder and verifies it.

Every process it starts it also ends: on success, on failure and on Ctrl-C. Children
ignore SIGINT so that an interrupted run is still wound down in order and its servers
still write their chains.
"""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, TextIO

from paxlab import results
from paxlab.check import CheckResult, check_run, checks_passed
from paxlab.config import Config, config_to_dict
from paxlab.lab.control import RunClock, interrupts_deferred, recv_control, send_control
from paxlab.lab.processes import ROUTER, ProcessTable
from paxlab.lab.progress import Progress
from paxlab.network.monitor import MonitorReport, invariants_check
from paxlab.results.summary import build_summary
from paxlab.scenario.faults import FaultRunner
from paxlab.scenario.nemesis import expand_faults
from paxlab.scenario.phases import (
    QUIET_POLLS,
    ServerStatus,
    fault_not_applied,
    is_workload_done,
    plan_recovery,
    quiet_polls,
    run_phases,
)
from paxlab.scenario.workload import planned_op_count

__all__ = ["LabOutcome", "run_lab"]

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
QUIESCE_POLL_S = 0.05


@dataclass
class LabOutcome:
    run_dir: Path
    checks: list[CheckResult]
    partial: bool
    interrupted: bool
    errors: list[str] = field(default_factory=list)
    # The router's online invariant monitor (paxlab/network/monitor.py): apart from `checks`, which
    # `paxlab check` can recompute from the results folder, while this needs the traffic.
    # summary.json lists it after them. None: not monitored.
    invariants: CheckResult | None = None

    @property
    def passed(self) -> bool:
        monitored = self.invariants is None or self.invariants.verdict == "pass"
        return not self.partial and not self.errors and checks_passed(self.checks) and monitored


@dataclass
class Lab:
    config: Config
    run_dir: Path
    out: TextIO
    live: bool
    clock: RunClock = field(default_factory=lambda: RunClock(time.monotonic_ns()))
    started: bool = False
    leader: str | None = None
    leader_changes: int = 0
    active_faults: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    workload_s: float = 0.0
    invariants: MonitorReport | None = None  # sent by the router as it stops
    _last_event: dict[str, str] = field(default_factory=dict)  # process -> latest event kind
    _stopped: set[str] = field(default_factory=set)  # processes told to stop and done

    def __post_init__(self) -> None:
        self.log = open(results.log_path(self.run_dir, "lab"), "a", buffering=1)  # noqa: SIM115
        self.progress = Progress(
            self.out, self.live, planned_op_count(self.config.workload, self.config.clients.count)
        )
        self.table = ProcessTable(multiprocessing.get_context("spawn"), self.config,
                                  self.run_dir, self.note)
        self.table.leader_of = lambda: self.leader
        self.table.now_ns = lambda: self.clock.now_ns()
        self.faults = FaultRunner(self.table, self.config.seed, self.note)
        self.applied_faults = self.faults.applied

    def note(self, text: str) -> None:
        self.log.write(f"{self.clock.now_ms():>7} ms  {text}\n")

    # --- start --------------------------------------------------------------------------

    def start(self) -> None:
        self.table.start_all()
        self._await_all("ready", READY_TIMEOUT_S)
        self.clock = RunClock(time.monotonic_ns())
        self.started = True
        for conn in self.table.controls.values():
            send_control(conn, {"start_ns": self.clock.start_ns})
        self.note("all processes ready; run clock started")

    def _await_all(self, event: str, timeout_s: float, names: list[str] | None = None) -> None:
        waiting = set(names if names is not None else self.table.controls)
        deadline = time.monotonic() + timeout_s
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {event!r} from {', '.join(sorted(waiting))}")
            for name in self._poll(remaining):
                if self._last_event.get(name) == event:
                    waiting.discard(name)
            for name in list(waiting):
                if not self.table.processes[name].is_alive():
                    code = self.table.processes[name].exitcode
                    raise RuntimeError(f"{name} exited with code {code}")

    # --- events -------------------------------------------------------------------------

    def _poll(self, timeout_s: float | None) -> list[str]:
        """Handle every control message that arrives within the timeout; names heard."""
        controls = self.table.controls
        by_conn = {id(conn): name for name, conn in controls.items()}
        heard = []
        for conn in wait(list(controls.values()), timeout_s):
            name = by_conn[id(conn)]
            with interrupts_deferred():  # a Ctrl-C waits until the message is read whole
                try:
                    event = recv_control(conn)  # type: ignore[arg-type]
                except (EOFError, OSError):
                    self.note(f"{name} closed its control pipe")
                    controls.pop(name).close()
                    continue
                self._handle_event(name, event)
            heard.append(name)
        return heard

    def _handle_event(self, name: str, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        self._last_event[name] = kind
        if kind == "ready":
            self.table.joining.discard(name)
        if kind == "ready" and self.started:  # a restarted process joins the running clock
            send_control(self.table.controls[name], {"start_ns": self.clock.start_ns})
            self.note(f"{name} restarted and joined the run")
        elif kind == "progress":
            self.done[name] = event["done"]
        elif kind == "finished":
            self.done[name] = event["done"]
            self.finished.add(name)
            self.note(f"{name} finished its workload ({event['done']} ops)")
        elif kind == "leader":
            if event["leader"] != self.leader:
                self.leader_changes += 1
            self.leader = event["leader"]
            self.note(f"leader {event['leader']} ballot {event['ballot']}")
        elif kind == "faults":
            self.active_faults = event["active"]
        elif kind == "invariants":
            self.invariants = MonitorReport.from_dict(event)
            self.note(f"invariant monitor: {self.invariants.observed} messages, "
                      f"{self.invariants.total} violations")
        elif kind == "status":
            self.statuses[name] = event
        elif kind == "error":
            self.errors.append(f"{name}: {event['message']}")
            self.note(f"ERROR from {name}: {event['message']}")
            self.out.write(f"\n{name} failed: {event['message']}\n")

    # --- the run ------------------------------------------------------------------------

    def run_workload(self) -> None:
        faults = list(expand_faults(self.config))
        deadline_ms = int(self.config.checks.run_timeout_s * 1000)
        clients = self.table.clients
        while not is_workload_done(clients, self.finished.__contains__,
                                   self.table.crashed.__contains__, len(faults)):
            now_ms = self.clock.now_ms()
            if now_ms >= deadline_ms:
                busy = len(set(clients) - self.finished)
                self.note(f"run_timeout_s reached with {busy} clients busy")
                self.out.write("\nrun timed out; stopping the workload\n")
                self.errors.append("run_timeout_s reached before the workload finished")
                break
            while faults and faults[0].at_ms <= now_ms:
                self.faults.apply_at(faults.pop(0), self.clock.now_ms())
            wake_ms = min([deadline_ms, now_ms + 200] + [f.at_ms for f in faults[:1]])
            self._poll(self.clock.seconds_until(wake_ms))
            self.progress.update(self.clock.now_ms(), sum(self.done.values()), self.leader,
                                 self.active_faults)
        self.workload_s = self.clock.now_ms() / 1000
        for fault in faults:  # run_timeout_s came first: the run fails
            error = fault_not_applied(fault.at_ms, "run_timeout_s reached first")
            self.errors.append(error)
            self.note(error)
        self.progress.finish(self.clock.now_ms(), sum(self.done.values()), self.leader)

    def recover_everything(self) -> None:
        """End of the workload: resume paused servers and restart crashed ones, so every
        server can catch up before the chains are compared."""
        table = self.table
        plan = plan_recovery(table.servers, table.is_paused, table.is_crashed)
        for node in plan.resume:
            table.resume(node)
        for node in plan.restart:
            table.restart(node)
        if plan.restart:
            self.note(f"restarted {', '.join(plan.restart)} for quiescence")
        # Also servers a fault restarted late, still booting: poll none before it is ready.
        joining = sorted(s for s in table.joining if s in table.servers)
        if joining:
            self._await_all("ready", READY_TIMEOUT_S, joining)

    def quiesce(self) -> bool:
        """Heal the network and poll until the quiesce rule holds (scenario.phases)."""
        self.table.router_command({"cmd": "quiesce", "detail": "heal, no loss"})
        self.note("quiescing: network healed, drop and duplicate off")
        servers = self.table.servers
        deadline = time.monotonic() + self.config.checks.quiesce_timeout_ms / 1000
        quiet = 0
        while time.monotonic() < deadline:
            self.statuses.clear()
            for name in servers:
                send_control(self.table.controls[name], {"cmd": "status"})
            self._await_all("status", 5.0, servers)
            statuses = [ServerStatus(commit=self.statuses[n]["commit"],
                                     tip=self.statuses[n]["tip"], busy=self.statuses[n]["busy"])
                        for n in servers]
            quiet = quiet_polls(quiet, statuses)
            if quiet >= QUIET_POLLS:
                self.note(f"quiescent at {statuses[0].commit} blocks")
                return True
            self._poll(QUIESCE_POLL_S)
        self.note(f"not quiescent after {self.config.checks.quiesce_timeout_ms} ms: "
                  f"{sorted((n, s['commit']) for n, s in self.statuses.items())}")
        return False

    def give_up(self) -> None:
        """Stop the clients: an op still pending completes as info."""
        self._stop_group(self.table.clients)

    # --- stop ---------------------------------------------------------------------------

    def stop(self, graceful: bool) -> None:
        """End every process: clients first (pending ops become info), then servers (they
        write chains and KV stores), then the router. Stragglers are killed."""
        table = self.table
        if graceful:
            table.resume_everything()
            for group in (table.clients, table.servers, [ROUTER]):
                self._stop_group(group)
        table.end_all(graceful_s=2 if graceful else 0.1)
        # A client that did not give up (Ctrl-C, or it did not stop in time) left its op
        # open: it ends as info at the run's end, as the summary counts it.
        for client in table.clients:
            table.close_open_ops(client)
        self.log.close()

    def _stop_group(self, group: list[str]) -> None:
        """Tell each live process of `group` not yet stopped to stop; wait for them."""
        table = self.table
        alive = [n for n in group if n in table.controls and n not in self._stopped
                 and table.processes[n].is_alive()]
        for name in alive:
            with contextlib.suppress(OSError):
                send_control(table.controls[name], {"cmd": "stop"})
        self._stopped.update(alive)
        try:
            self._await_all("stopped", STOP_TIMEOUT_S, alive)
        except (TimeoutError, RuntimeError) as error:
            self.note(f"stop: {error}")


def run_lab(config: Config, results_root: Path, out: TextIO = sys.stdout,
            live: bool = True) -> LabOutcome:
    """Run one config end to end and verify it; returns where the results are."""
    run_dir = results.new_run_dir(results_root, config.name, datetime.datetime.now())
    results.write_config(run_dir, config_to_dict(config))
    results.write_chain_meta(run_dir, config.cluster.difficulty)
    started_at = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    out.write(f"paxlab run {config.name}: {config.cluster.servers} servers, "
              f"{config.clients.count} clients, seed {config.seed}\nresults: {run_dir}\n")
    lab = Lab(config, run_dir, out, live)
    partial = interrupted = False
    try:
        try:
            lab.start()
            partial = not run_phases(lab)
        except KeyboardInterrupt:
            interrupted = partial = True
            out.write("\ninterrupted: stopping every process and keeping what we have\n")
        except (TimeoutError, RuntimeError) as error:
            partial = True
            out.write(f"\nlab failure: {error}\n")
            lab.note(f"lab failure: {error}")
            lab.errors.append(str(error))
        lab.stop(graceful=True)
    except KeyboardInterrupt:
        interrupted = partial = True
        lab.stop(graceful=False)
    history = results.merge_history_parts(run_dir)
    try:
        checks = check_run(run_dir, partial=partial)
    except results.ResultsError as error:
        checks = [CheckResult(name="results_readable", verdict="fail", details=str(error))]
    invariants = invariants_check(lab.invariants)
    summary = build_summary(
        config, history, started_at=started_at, duration_s=lab.clock.now_ms() / 1000,
        workload_s=lab.workload_s, partial=partial, faults=lab.applied_faults,
        leader_changes=lab.leader_changes, checks=[*checks, invariants], errors=lab.errors,
    )
    results.write_summary(run_dir, summary)
    results.update_latest(results_root, run_dir)
    return LabOutcome(run_dir=run_dir, checks=checks, partial=partial, interrupted=interrupted,
                      errors=lab.errors, invariants=invariants)
