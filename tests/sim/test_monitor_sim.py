"""The invariant monitor beside the simulated network: it sees every message, the correct
protocol passes it, a planted bug is named by the message that broke the rule, and its
verdict reaches the results folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paxlab.check import CHECK_NAMES
from paxlab.cli import ExitCode, main
from paxlab.config import Config
from paxlab.network.monitor import invariants_check
from paxlab.sim.run import SimRun, simulate, write_results
from tests.sim.helpers import shipped
from tests.sim.test_mutants import SEEDS, leader_churn

ACCEPTED_BELOW = re.compile(
    r"^s\d->s\d Accepted b=\d+\.\d slot=\d+ hash=[0-9a-f]{8}: s\d accepted below ballot "
    r"\d+\.\d, which it answered at \d+ ms \(s\d->s\d (Promise|Accepted) b=\d+\.\d")


def first_caught(config: Config, mutant: str) -> SimRun:
    for seed in SEEDS:
        sim_run = simulate(config, seed, mutant)
        if invariants_check(sim_run.monitor).verdict != "pass":
            return sim_run
    raise AssertionError(f"{mutant} broke no invariant in seeds {SEEDS.start}-{SEEDS.stop - 1}")


def test_the_monitor_sees_every_message_and_the_correct_protocol_passes() -> None:
    sim_run = simulate(shipped("basic"), 1)
    assert sim_run.monitor is not None
    assert sim_run.monitor.observed == sim_run.counts["routed"] > 0
    assert invariants_check(sim_run.monitor).verdict == "pass"


def test_ballot_reuse_is_named_by_the_accepted_below_the_promise() -> None:
    sim_run = first_caught(leader_churn(), "ballot-reuse")
    assert sim_run.monitor is not None
    first = sim_run.monitor.violations[0]
    assert first.invariant == "promise_kept"
    assert ACCEPTED_BELOW.match(first.description), first.description


def test_skip_adopt_is_named_by_the_second_choice_in_a_slot() -> None:
    sim_run = first_caught(leader_churn(), "skip-adopt")
    assert sim_run.monitor is not None
    kinds = {v.invariant for v in sim_run.monitor.violations}
    assert kinds == {"one_block_per_slot"}, sim_run.monitor.violations


def test_the_results_folder_carries_the_invariants_verdict(tmp_path: Path) -> None:
    config = shipped("basic")
    sim_run = first_caught(config, "ballot-reuse")
    run_dir = write_results(sim_run, config, tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    checks = {c["name"]: c for c in summary["checks"]}
    assert list(checks) == [*CHECK_NAMES, "invariants"]
    assert checks["invariants"]["verdict"] == "fail"
    assert "promise_kept" in checks["invariants"]["details"]
    assert main(["report", str(run_dir)]) == ExitCode.CHECK_FAILED
