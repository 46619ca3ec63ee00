"""200 seeds of a short nemesis mix (crashes, pauses, partitions, one-way links, lossy
links), each with its own swarm draw of fault kinds and rates, pass every check, the
invariant monitor and liveness included. A seed that fails is pinned here with the reason."""

from __future__ import annotations

import pytest

from paxlab.sim.run import passed, simulate, verdicts
from paxlab.sim.swarm import swarm_config
from tests.sim.helpers import short_nemesis

SEEDS = range(1, 201)
CONFIG = short_nemesis()


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_passes(seed: int) -> None:
    config, drawn = swarm_config(CONFIG, seed)
    checks = verdicts(simulate(config, seed))
    failed = [f"{c.name}: {c.details}" for c in checks if c.verdict != "pass"]
    assert passed(checks), (f"short nemesis, seed {seed}, swarm {drawn}: {failed}; replay "
                            "with swarm_config(short_nemesis(), seed)")
