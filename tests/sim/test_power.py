"""Power loss in the simulator: the correlated fault kinds (crash_majority, power_cut)
make nemesis_mix catch the `no-fsync` mutant, which a minority-only nemesis never did,
while the correct protocol passes the same seeds (docs/simulator.md, issue 14)."""

from __future__ import annotations

import dataclasses

import yaml

from paxlab.config import Config, parse_config
from paxlab.config.types import Crash, Nemesis, Restart
from paxlab.scenario.nemesis import expand_nemesis
from paxlab.sim.run import simulate, verdicts
from tests.sim.helpers import short_nemesis

SEEDS = range(1, 13)  # seeds 5, 7 and 11 catch the mutant (short nemesis_mix, no swarm)
CORRELATED = ("crash_majority", "power_cut")


def failed(config: Config, seed: int, mutant: str | None) -> set[str]:
    return {c.name for c in verdicts(simulate(config, seed, mutant)) if c.verdict != "pass"}


def without_correlated(config: Config) -> Config:
    """The same config with the nemesis as it was before: minority crashes only."""
    (nemesis,) = config.faults
    assert isinstance(nemesis, Nemesis)
    kinds = tuple(k for k in nemesis.kinds if k not in CORRELATED)
    return dataclasses.replace(config, faults=(dataclasses.replace(nemesis, kinds=kinds),))


def test_nemesis_mix_has_the_correlated_kinds() -> None:
    (nemesis,) = short_nemesis().faults
    assert isinstance(nemesis, Nemesis)
    assert set(CORRELATED) <= set(nemesis.kinds)


def test_no_fsync_is_caught_and_the_correct_protocol_passes_the_same_seeds() -> None:
    config = short_nemesis()
    caught = [seed for seed in SEEDS if failed(config, seed, "no-fsync")]
    assert caught, "the no-fsync mutant passed every seed"
    assert "no_lost_writes" in failed(config, caught[0], "no-fsync")
    assert {seed: f for seed in SEEDS if (f := failed(config, seed, None))} == {}


def test_without_the_correlated_kinds_the_mutant_escapes_those_seeds() -> None:
    """The check can fail: the old minority-only mix misses the bug on the same seeds."""
    config = without_correlated(short_nemesis())
    assert [seed for seed in SEEDS if failed(config, seed, "no-fsync")] == []


def test_the_kinds_expand_to_a_majority_crash_and_a_crash_of_all() -> None:
    for kind, target in (("crash_majority", "majority"), ("power_cut", "all")):
        nemesis = Nemesis(at_ms=0, kinds=(kind,), interval_ms=100, until_ms=150, seed=1)
        faults = expand_nemesis(nemesis, 3, 1, short_nemesis().network)
        assert faults[0] == Crash(at_ms=0, target=target)
        assert faults[1] == Restart(at_ms=50, target="all")


def test_the_fault_actions_parse_to_crashes() -> None:
    config = parse_config(yaml.safe_load("""
name: t
cluster: {servers: 3}
faults:
  - {at_ms: 100, action: crash_majority}
  - {at_ms: 200, action: restart, target: all}
  - {at_ms: 300, action: power_cut}
"""), "test")
    assert config.faults[0] == Crash(at_ms=100, target="majority")
    assert config.faults[2] == Crash(at_ms=300, target="all")
