"""The long campaign: 10,000 seeds of the short nemesis mix under swarm testing, on every
core, every one passing every check (safety, the invariant monitor, liveness); then
10,000 seeds of the same mix on bounded state (issue 14: a snapshot every 8 blocks, 16
kept, crashes of a majority, power cuts and crashes inside a compaction).

Not in the default suite: `python -m pytest -m campaign -n 0 -s -o faulthandler_timeout=0`
(about 5 minutes on 2 cores: on 2026-12-06 the two passed in 137 s and 145 s).
A batch runner can split the same campaign over machines with the command line instead:
`paxlab sim CONFIG --seeds 1-10000 --shard I/N`.
"""

from __future__ import annotations

import io
import os

import pytest

from paxlab.sim.sweep import run_sweep
from tests.sim.helpers import short_nemesis, snapshot_nemesis

SEEDS = (1, 10_000)


@pytest.mark.campaign
def test_ten_thousand_swarm_seeds_pass(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    outcome = run_sweep(short_nemesis(), *SEEDS, out, "short_nemesis (tests/sim/helpers.py)",
                        workers=os.cpu_count() or 1, swarm=True)
    with capsys.disabled():
        print("\n" + out.getvalue().splitlines()[-1], f"in {outcome.elapsed_s:.0f} s")
    assert outcome.seeds == SEEDS[1] - SEEDS[0] + 1
    assert outcome.passed, out.getvalue()


@pytest.mark.campaign
def test_ten_thousand_swarm_seeds_pass_with_snapshots(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    out = io.StringIO()
    outcome = run_sweep(snapshot_nemesis(), *SEEDS, out,
                        "snapshot_nemesis (tests/sim/helpers.py)",
                        workers=os.cpu_count() or 1, swarm=True)
    with capsys.disabled():
        print("\n" + out.getvalue().splitlines()[-1], f"in {outcome.elapsed_s:.0f} s")
    assert outcome.seeds == SEEDS[1] - SEEDS[0] + 1
    assert outcome.passed, out.getvalue()
