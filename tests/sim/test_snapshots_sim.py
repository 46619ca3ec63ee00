"""Snapshots in the simulator: a crash between any two steps of a compaction loses
nothing acknowledged, servers report their full chains from their archives, and the
bounded-state nemesis (the campaign's) passes a few swarm seeds in the default suite."""

from __future__ import annotations

import dataclasses

import pytest

from paxlab.config import parse_config
from paxlab.sim.run import simulate, verdicts
from paxlab.sim.sweep import run_sweep
from tests.sim.helpers import snapshot_nemesis


def crash_in_compaction_config(step: int) -> object:
    return parse_config({
        "name": f"crash_in_compaction_step{step}",
        "cluster": {"snapshot_every": 8, "retain_blocks": 4, "difficulty": 2},
        "workload": {"duration_ms": 1500},
        "faults": [
            {"at_ms": 200, "action": "crash_in_compaction", "target": "leader", "step": step,
             "restart_after_ms": 200},
            {"at_ms": 700, "action": "crash_in_compaction", "target": "all", "step": step,
             "restart_after_ms": 100},
        ],
    }, "test")


@pytest.mark.parametrize("step", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_crash_after_each_compaction_step_loses_nothing(step: int, seed: int) -> None:
    run = simulate(crash_in_compaction_config(step), seed)  # type: ignore[arg-type]
    crashed = [f for f in run.faults if f["detail"].endswith(f"crashed in compaction after "
                                                             f"step {step}")]
    assert len(crashed) >= 2, run.faults  # the leader, then at least one more
    assert sum(f["action"] == "restart" for f in run.faults) >= len(crashed)
    failed = [(c.name, c.details[:300]) for c in verdicts(run) if c.verdict != "pass"]
    assert not failed
    assert run.counts["disk_compactions"] > 0


def test_compacted_servers_report_their_chain_from_0() -> None:
    """The archive holds what compaction retired: every chain file starts at height 0
    and all are equal, though each server holds only a few blocks in memory."""
    config = parse_config({"cluster": {"snapshot_every": 8, "retain_blocks": 4,
                                       "difficulty": 2},
                           "workload": {"ops_per_client": 40}}, "test")
    run = simulate(config, 1)
    chains = run.records.chains
    assert {chain[0]["height"] for chain in chains.values()} == {0}
    assert len({len(chain) for chain in chains.values()}) == 1
    assert len(chains[0]) > 8 * 4  # many snapshots were taken
    assert all(c.verdict == "pass" for c in verdicts(run))


def test_snapshots_off_never_compact() -> None:
    config = parse_config({"cluster": {"snapshot_every": 0, "difficulty": 2},
                           "workload": {"ops_per_client": 20}}, "test")
    run = simulate(config, 1)
    assert "disk_compactions" not in run.counts
    assert all(c.verdict == "pass" for c in verdicts(run))


def test_the_bounded_state_nemesis_passes_a_few_swarm_seeds() -> None:
    import io

    out = io.StringIO()
    outcome = run_sweep(snapshot_nemesis(), 1, 20, out, "snapshot_nemesis", workers=1,
                        swarm=True)
    assert outcome.passed, out.getvalue()


def test_snapshot_nemesis_draws_crash_in_compaction() -> None:
    (nemesis,) = snapshot_nemesis().faults
    assert "crash_in_compaction" in nemesis.kinds  # type: ignore[union-attr]
    assert dataclasses.replace(snapshot_nemesis().cluster).snapshot_every == 8
