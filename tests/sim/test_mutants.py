"""Mutants prove the checkers bite (STYLE.md section 5): each planted bug is caught by the
check that guards its rule within a bounded seed range, where the correct protocol passes."""

from __future__ import annotations

import io

import pytest

from paxlab.cli import ExitCode, main
from paxlab.config import Config
from paxlab.sim.mutants import MUTANTS
from paxlab.sim.run import simulate, verdicts
from paxlab.sim.sweep import run_sweep
from tests.sim.helpers import CONFIGS, shipped
from tests.sim.test_disk import crash_all_often

SEEDS = range(1, 41)


def leader_churn() -> Config:
    """configs/leader_churn.yaml: the leader isolated, crashed and paused in turn, so an
    old and a new leader overlap while clients read one key at both (its header says
    how)."""
    return shipped("leader_churn")


# a mutant only a majority crash exposes runs on its own config; its test file shows the
# correct protocol passing that config over the same seed range
OWN_CONFIG = {"no-fsync": crash_all_often}


def failed_checks(seed: int, mutant: str | None) -> set[str]:
    config = OWN_CONFIG.get(mutant or "", leader_churn)()
    return {c.name for c in verdicts(simulate(config, seed, mutant)) if c.verdict != "pass"}


def test_the_correct_protocol_passes_the_seed_range() -> None:
    failing = {seed: names for seed in SEEDS if (names := failed_checks(seed, None))}
    assert failing == {}


# mutant -> a check that must fail on the first caught seed, and checks that must not
CAUGHT_BY = {
    "skip-adopt": ({"chains_identical", "invariants"}, set()),
    "ack-before-majority": ({"chains_identical", "no_lost_writes"}, set()),
    "stale-read": ({"linearizable"},
                   {"chains_identical", "no_lost_writes", "liveness", "invariants"}),
    "ballot-reuse": ({"invariants"}, set()),
    "no-fsync": ({"invariants", "no_lost_writes"}, set()),
}


def test_every_mutant_has_a_test() -> None:
    assert set(CAUGHT_BY) == set(MUTANTS)


@pytest.mark.parametrize("mutant", list(CAUGHT_BY))
def test_mutant_is_caught_within_the_seed_range(mutant: str) -> None:
    must, must_not = CAUGHT_BY[mutant]
    for seed in SEEDS:
        failed = failed_checks(seed, mutant)
        if failed:
            assert must <= failed, (seed, failed)
            assert not (must_not & failed), (seed, failed)
            return
    pytest.fail(f"mutant {mutant} was not caught in seeds {SEEDS.start}-{SEEDS.stop - 1}")


def test_list_mutants(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--list-mutants"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(MUTANTS)
    for line, mutant in zip(lines, MUTANTS.values(), strict=True):
        assert line.endswith(mutant.description)


def test_unknown_mutant_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    basic = str(CONFIGS / "basic.yaml")
    assert main(["sim", basic, "--mutant", "no-such"]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "no-such" in err and all(name in err for name in MUTANTS)


def test_a_caught_mutant_fails_the_sweep_with_a_reproducer() -> None:
    out = io.StringIO()
    outcome = run_sweep(leader_churn(), 1, 1, out, "churn.yaml", mutant="ack-before-majority")
    assert not outcome.passed
    assert "reproduce with: paxlab sim churn.yaml --seed 1 --mutant ack-before-majority" in (
        out.getvalue())
