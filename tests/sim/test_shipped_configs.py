"""Every shipped config passes every check, and the invariant monitor, in the simulator
with seed 1."""

from __future__ import annotations

import pytest

from paxlab.check import checks_passed
from paxlab.sim import run_checks, simulate
from tests.sim.helpers import CONFIGS, shipped

# bench.yaml is 16 clients back to back for 3 s: about 7 s of CPU, too slow here, and
# report_bench.yaml (11,000 ops for `paxlab bench-report`) about 5 s.
SLOW = ("bench", "report_bench")
NAMES = sorted(p.stem for p in CONFIGS.glob("*.yaml") if p.stem not in SLOW)


def test_every_config_is_covered() -> None:
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_shipped_config_passes(name: str) -> None:
    config = shipped(name)
    sim_run = simulate(config, 1)
    checks = run_checks(sim_run)
    failed = [f"{c.name}: {c.details}" for c in checks if c.verdict != "pass"]
    assert checks_passed(checks), failed
    assert sim_run.quiescent and not sim_run.errors, sim_run.errors
    assert len(sim_run.faults) >= min(1, len(config.faults))


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_bench_config_passes(name: str) -> None:
    sim_run = simulate(shipped(name), 1)
    assert checks_passed(run_checks(sim_run)) and sim_run.quiescent
