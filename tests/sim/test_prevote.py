"""Pre-vote in the simulator: fewer leader changes, same seeds, and every check holds.

The issue: "An isolated server keeps raising its ballot and, when it rejoins, deposes a
healthy leader." configs/rejoin.yaml (a server cut off for 2 s) and
configs/one_way_link.yaml (a server that hears nobody but is heard by all) are run with
`cluster.prevote` off and on; with it on the leader must change less, and safety and
liveness must pass both ways. The default suite runs seed 1 (each of seeds 1-3 shows the
leader changing 2-5 times with it off and once with it on); `-m slow` runs 20.
"""

from __future__ import annotations

import pytest

from paxlab.sim.availability import (
    Availability,
    compare_prevote,
    longest_gap_ms,
    main,
    summary_lines,
)
from tests.sim.helpers import CONFIGS, shipped

MS = 1_000_000  # history times are ns


def _assert_prevote_helps(name: str, seeds: range) -> None:
    results = compare_prevote(shipped(name), seeds)
    off, on = results[False], results[True]
    assert all(r.passed for r in off + on), summary_lines(name, results)
    assert sum(r.leader_changes for r in on) < sum(r.leader_changes for r in off), \
        summary_lines(name, results)
    # Only the first election: nobody deposes the leader the majority hears.
    assert all(r.leader_changes == 1 for r in on), summary_lines(name, results)


@pytest.mark.parametrize("name", ["rejoin", "one_way_link"])
def test_prevote_means_fewer_leader_changes(name: str) -> None:
    _assert_prevote_helps(name, range(1, 2))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rejoin", "one_way_link", "partition"])
def test_prevote_means_fewer_leader_changes_over_20_seeds(name: str) -> None:
    results = compare_prevote(shipped(name), range(1, 21))
    off, on = results[False], results[True]
    assert all(r.passed for r in off + on), summary_lines(name, results)
    assert sum(r.leader_changes for r in on) < sum(r.leader_changes for r in off)


def test_longest_gap_counts_the_edges_and_the_middle() -> None:
    ok = [{"type": "ok", "time": t * MS} for t in (100, 150, 900)]
    assert longest_gap_ms(ok, 1000) == 750  # 150 -> 900
    assert longest_gap_ms(ok[:2], 1000) == 850  # 150 -> the end
    assert longest_gap_ms([], 1000) == 1000  # never answered: out the whole time
    infos = [{"type": "info", "time": 500 * MS}, {"type": "invoke", "time": 10 * MS}]
    assert longest_gap_ms(infos + ok[:1], 1000) == 900  # only ok counts
    late = [{"type": "ok", "time": 1500 * MS}]
    assert longest_gap_ms(late, 1000) == 1000  # after the workload: not counted


def test_summary_lines_name_both_runs() -> None:
    runs = {False: [Availability(1, 4, 400.0, True)], True: [Availability(1, 1, 100.0, False)]}
    off, on = summary_lines("x", runs)
    assert "prevote=off" in off and "leader_changes=4" in off and "passed=1/1" in off
    assert "prevote=on" in on and "max=100" in on and "passed=0/1" in on


def test_the_comparison_command_prints_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(CONFIGS / "rejoin.yaml"), "--seeds", "2-2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out] == ["prevote=off", "prevote=on"]
