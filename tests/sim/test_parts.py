"""The simulator's parts: the clock's tie order, client crash and restart, pause."""

from __future__ import annotations

import dataclasses
import heapq
import random

from paxlab.check import checks_passed
from paxlab.config.types import CrashClient, Pause, RestartClient, Resume
from paxlab.sim import run_checks, simulate
from paxlab.sim.clock import EventHeap
from paxlab.sim.nodes import Wake, _Waker
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


def test_a_waker_holding_wakes_back_changes_no_pop() -> None:
    # A node's wake later than all of its wakes in the heap waits outside it (see
    # _Waker); everything must still pop in (time, seq) order, as if pushed at once.
    rng = random.Random(5)
    heap = EventHeap()
    waker = _Waker(heap, "c0")
    made: set[tuple[float, int]] = set()  # every key pushed or held back
    popped: list[tuple[float, int]] = []
    for step in range(20_000):
        if step < 15_000 and (rng.random() < 0.6 or not heap.queue):
            if rng.random() < 0.5:
                waker.want(heap.now_ms + rng.choice([0, 0.5, 2, 40, 500]))
            else:
                heap.push(heap.now_ms + rng.random() * 20, "other")
            if rng.random() < 0.01:
                waker.new_incarnation()
            made.update(entry[:2] for entry in heap.queue + waker._later)
            continue
        if not heap.queue:
            break
        at_ms, seq, event = heapq.heappop(heap.queue)
        heap.now_ms = at_ms
        popped.append((at_ms, seq))
        if isinstance(event, Wake):
            waker.left_heap()
            waker.woke(event)
    assert not waker._later and len(popped) == len(made) > 5_000
    assert popped == sorted(made)


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
