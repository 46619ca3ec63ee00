"""One seed gives one run, in this process or another with a different hash seed; other
seeds give other runs (STYLE.md section 4, after trio's scheduler determinism test)."""

from __future__ import annotations

import os
import subprocess
import sys

from paxlab.sim import simulate
from tests.sim.helpers import ROOT, short_nemesis

_CHILD = """
from paxlab.sim import simulate
from tests.sim.helpers import short_nemesis
print(simulate(short_nemesis(), {seed}).trace_digest())
"""


def _digest_in_subprocess(seed: int, pythonhashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": pythonhashseed}
    done = subprocess.run([sys.executable, "-c", _CHILD.format(seed=seed)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_same_seed_same_bytes() -> None:
    # seed 2: busy enough (its nemesis draws no power cut, which would idle the cluster)
    first, second = (simulate(short_nemesis(), 2) for _ in range(2))
    assert first.trace_bytes() == second.trace_bytes()
    assert first.faults, "the run should have applied faults"
    assert first.counts["events"] > 1000
    assert _digest_in_subprocess(2, "123") == first.trace_digest()


def test_different_seeds_differ() -> None:
    assert len({simulate(short_nemesis(), seed).trace_bytes() for seed in range(5)}) == 5
