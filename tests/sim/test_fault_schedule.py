"""A workload ends when its ops or duration are spent, not when no client happens to be
alive, and a scheduled fault the run never applied fails the run (README's example:
crash_client all at 700 ms, restart_client all at 1200 ms)."""

from __future__ import annotations

import dataclasses

from paxlab.check import checks_passed
from paxlab.config.types import CrashClient, Restart, RestartClient
from paxlab.sim import run_checks, simulate
from tests.sim.helpers import shipped


def _readme_example(seed: int):  # type: ignore[no-untyped-def]
    config = shipped("basic")
    workload = dataclasses.replace(config.workload, ops_per_client=100, think_time_ms=10)
    faults = (CrashClient(at_ms=700, client="all"), RestartClient(at_ms=1200, client="all"))
    config = dataclasses.replace(config, workload=workload, faults=faults)
    return simulate(config, seed)


def test_every_client_crashed_still_restarts_and_finishes_its_workload() -> None:
    sim_run = _readme_example(1)
    assert [f["action"] for f in sim_run.faults] == ["crash_client", "restart_client"]
    assert not sim_run.errors
    history = sim_run.records.history
    assert any(e["type"] == "invoke" and e["time"] > 1200 * 1_000_000 for e in history)
    per_client = sim_run.config.workload.ops_per_client
    for client in range(sim_run.config.clients.count):
        invokes = [e for e in history if e["process"] == client and e["type"] == "invoke"]
        assert len(invokes) == per_client, "the restarted client finishes its ops"
    assert checks_passed(run_checks(sim_run))


def test_a_fault_the_run_never_reached_fails_it() -> None:
    config = shipped("basic")
    checks = dataclasses.replace(config.checks, run_timeout_s=1)
    config = dataclasses.replace(config, checks=checks,
                                 faults=(Restart(at_ms=5_000, target="all"),))
    sim_run = simulate(config, 1)
    assert "fault at 5000 ms not applied: run_timeout_s reached first" in sim_run.errors
