"""history.jsonl keeps its contract, read as an outside linearizability checker reads it:
per process, an invoke, then exactly one completion (ok, fail or info) of the same op,
in time order; a process never has two ops outstanding, and none is left open at the
end. A crashed client's pending op ends as info at the crash."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from paxlab.config.types import CrashClient, RestartClient
from paxlab.sim import simulate
from tests.sim.helpers import shipped

COMPLETIONS = {"ok", "fail", "info"}


def history_problems(lines: Iterable[str]) -> list[str]:
    """An independent reader of history.jsonl text: what breaks the contract, if anything.
    It knows the documented fields only, not paxlab's code."""
    problems: list[str] = []
    open_op: dict[object, dict] = {}
    last_time: dict[object, int] = {}
    for number, line in enumerate(lines, 1):
        event = json.loads(line)
        process, kind, time = event["process"], event["type"], event["time"]
        if time < last_time.get(process, time):
            problems.append(f"line {number}: time goes back for process {process}")
        last_time[process] = time
        if kind == "invoke":
            if process in open_op:
                problems.append(f"line {number}: process {process} invokes #{event['seq']} "
                                f"with #{open_op[process]['seq']} still outstanding")
            open_op[process] = event
        elif kind in COMPLETIONS:
            invoked = open_op.pop(process, None)
            if invoked is None or invoked["seq"] != event["seq"] or invoked["f"] != event["f"]:
                problems.append(f"line {number}: {kind} of #{event['seq']} without its invoke")
        else:
            problems.append(f"line {number}: unknown type {kind!r}")
    problems += [f"process {p}: #{e['seq']} never completes" for p, e in open_op.items()]
    return problems


def test_the_reader_rejects_what_an_outside_checker_would() -> None:
    invoke = '{"type":"invoke","f":"put","key":"k","value":"1","seq":1,"process":0,"time":1}'
    again = '{"type":"invoke","f":"put","key":"k","value":"2","seq":2,"process":0,"time":2}'
    info = '{"type":"info","f":"put","key":"k","value":"2","seq":2,"process":0,"time":3}'
    assert history_problems([invoke, again, info]) == [
        "line 2: process 0 invokes #2 with #1 still outstanding"]
    assert history_problems([invoke]) == ["process 0: #1 never completes"]
    assert history_problems([info]) == ["line 1: info of #2 without its invoke"]


def test_a_crashed_clients_pending_op_ends_as_info_at_the_crash() -> None:
    config = shipped("basic")
    workload = dataclasses.replace(config.workload, ops_per_client=100, think_time_ms=0)
    faults = (CrashClient(at_ms=100, client="all"), RestartClient(at_ms=300, client="all"))
    sim_run = simulate(dataclasses.replace(config, workload=workload, faults=faults), 4)
    history = sim_run.records.history
    assert history_problems(json.dumps(e) for e in history) == []
    at_crash = [e for e in history if e["type"] == "info" and e["time"] == 100 * 1_000_000]
    assert at_crash, "an op pending at the crash ends as info, at the crash"
