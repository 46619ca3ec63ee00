"""200 seeds of a short nemesis mix (crashes, pauses, partitions, lossy links) pass every
check, liveness included. A seed that fails is pinned here with the reason."""

from __future__ import annotations

import pytest

from paxlab.sim.run import passed, simulate, verdicts
from tests.sim.helpers import short_nemesis

SEEDS = range(1, 201)
CONFIG = short_nemesis()


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_passes(seed: int) -> None:
    sim_run = simulate(CONFIG, seed)
    checks = verdicts(sim_run)
    failed = [f"{c.name}: {c.details}" for c in checks if c.verdict != "pass"]
    assert passed(checks), f"reproduce with the short nemesis config, seed {seed}: {failed}"
