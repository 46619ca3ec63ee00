"""End to end: every shipped config runs through the real lab and passes every check."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from paxlab.check import CHECK_NAMES
from paxlab.config import load_config
from paxlab.lab import run_lab
from paxlab.scenario.nemesis import expand_faults

CONFIGS = sorted(Path(__file__).resolve().parents[2].joinpath("configs").glob("*.yaml"))
# report_bench.yaml is 11,000 ops over about 20 s of faults (`paxlab bench-report` draws
# it); in the lab that is about a minute, so it runs with the slow tests only.
# power_cut.yaml already runs in the lab in the default suite, with fsync always and never
# (tests/lab/test_power.py), so here it runs with the slow tests only too.
# The rest of SLOW repeat a fault family that a default-suite config below already runs in
# the lab (each is about 5-9 s of real time; every config still runs in the simulator in the
# default suite, tests/sim/test_shipped_configs.py): bench is basic's no-fault load for 3 s
# (and tests/lab/test_workloads_and_faults.py runs `bench` itself); sim_bench is a nemesis
# like nemesis_mix; partition_bridge and partition_majority_ring are one partition each, and
# nemesis_mix and flapping apply both in the lab; rejoin isolates a follower and heals, as
# partition does its leader; leader_churn's isolate, crash, restart, pause and resume are
# flapping's, leader_crash's and pause_leader's. And for the CI budget (issue 14): flapping
# (isolate and heal) is partition's, nemesis_mix's and test_workloads_and_faults.py's;
# pause_leader's SIGSTOP is nemesis_mix's pause_leader kind and test_workloads_and_faults'
# pause; lossy_network is nemesis_mix's lossy kind; leader_crash runs in the lab with
# snapshots on in tests/lab/test_lab_snapshots.py.
SLOW = ("report_bench", "power_cut", "bench", "sim_bench", "partition_bridge",
        "partition_majority_ring", "rejoin", "leader_churn", "flapping", "pause_leader",
        "lossy_network", "leader_crash")
PARAMS = [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW else p for p in CONFIGS]


def test_the_shipped_configs_are_found() -> None:
    names = {path.stem for path in CONFIGS}
    assert {"basic", "conflicting_puts", "lossy_network", "partition"} <= names


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_passes_every_check(path: Path, tmp_path: Path) -> None:
    config = load_config(path)
    out = io.StringIO()
    outcome = run_lab(config, tmp_path, out, live=False)
    verdicts = {c.name: (c.verdict, c.details) for c in outcome.checks}
    assert outcome.passed, f"{path.name}: {verdicts}\n{out.getvalue()}"
    assert list(verdicts) == list(CHECK_NAMES)

    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    ops = summary["ops"]
    ok = ops["put"]["ok"] + ops["get"]["ok"]
    assert ok > 0 and summary["partial"] is False
    if config.workload.ops_per_client is not None:
        planned = config.workload.ops_per_client * config.clients.count
        # Every planned op was invoked and has an outcome; faults may turn some into info.
        assert sum(sum(v.values()) for v in ops.values()) == planned
    assert len(summary["faults"]) >= len([f for f in expand_faults(config) if f.at_ms < 1000])
    assert (tmp_path / "latest").resolve() == outcome.run_dir.resolve()
    for server in range(config.cluster.servers):
        assert (outcome.run_dir / "chains" / f"server-{server}.jsonl").exists()
        assert (outcome.run_dir / "kv" / f"server-{server}.json").exists()
        assert (outcome.run_dir / "logs" / f"server-{server}.log").exists()
    assert (outcome.run_dir / "logs" / "router.log").exists()
    assert not (outcome.run_dir / "history-parts").exists()
