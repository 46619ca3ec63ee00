"""The simulator's parts: the clock's tie order, client crash and restart, pause."""

from __future__ import annotations

import dataclasses

from paxlab.check import checks_passed
from paxlab.config_types import CrashClient, Pause, RestartClient, Resume
from paxlab.sim import run_checks, simulate
from paxlab.sim.clock import EventHeap
from tests.sim.helpers import shipped


def test_heap_breaks_ties_in_push_order_and_never_goes_back() -> None:
    heap = EventHeap()
    for name in ("a", "b", "c"):
        heap.push(5.0, name)
    heap.push(1.0, "first")
    assert [heap.pop() for _ in range(2)] == ["first", "a"]
    heap.push(0.0, "late")  # in the past: runs now, after what is already due now
    assert [heap.pop() for _ in range(3)] == ["b", "c", "late"]
    assert heap.now_ms == 5.0 and heap.processed == 5


def _timed(config, faults):  # type: ignore[no-untyped-def]
    workload = dataclasses.replace(config.workload, ops_per_client=None, duration_ms=1500,
                                   think_time_ms=5)
    return dataclasses.replace(config, workload=workload, faults=faults)


def test_client_crash_and_restart_continue_seq_numbers() -> None:
    config = _timed(shipped("basic"), (CrashClient(at_ms=400, client=0),
                                       RestartClient(at_ms=700, client=0)))
    sim_run = simulate(config, 2)
    assert [f["action"] for f in sim_run.faults] == ["crash_client", "restart_client"]
    invokes = [e for e in sim_run.records.history if e["process"] == 0 and e["type"] == "invoke"]
    seqs = [e["seq"] for e in invokes]
    assert seqs == list(range(1, len(seqs) + 1))  # no seq reused after the restart
    assert any(e["time"] > 700 * 1_000_000 for e in invokes)
    assert not any(400 * 1_000_000 < e["time"] < 700 * 1_000_000 for e in invokes)
    assert checks_passed(run_checks(sim_run))


def test_pause_holds_messages_until_resume() -> None:
    config = _timed(shipped("basic"), (Pause(at_ms=300, target=1), Resume(at_ms=600, target=1)))
    sim_run = simulate(config, 3)
    assert [f["detail"] for f in sim_run.faults] == ["pause 1 (s1)", "resume 1 (s1)"]
    assert sim_run.counts["held"] > 0
    assert checks_passed(run_checks(sim_run)) and sim_run.quiescent
