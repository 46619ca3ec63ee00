"""Sweeps on worker processes: the same text for any worker count, shards that cover a
range exactly once, crashed seeds that do not end the sweep, and no process left behind,
also when the sweep is interrupted."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
from pathlib import Path

import pytest

from paxlab.cli import ExitCode, main
from paxlab.sim.sweep import Shard, parse_shard, run_sweep
from tests.sim.helpers import CONFIGS, shipped
from tests.sim.test_swarm import churn_nemesis

BASIC = str(CONFIGS / "basic.yaml")
MUTANT = "ack-before-majority"


def _children() -> set[int]:
    """Live or unreaped (zombie) child processes of this one, from /proc."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (name) state"
        if ppid == me:
            found.add(int(entry.name))
    return found


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _sweep(workers: int, first: int = 1, last: int = 3) -> tuple[str, list[int]]:
    out = io.StringIO()
    outcome = run_sweep(churn_nemesis(), first, last, out, "churn.yaml", mutant=MUTANT,
                        workers=workers, swarm=True)
    return re.sub(r"[\d.e+]+ seeds/s", "N seeds/s", out.getvalue()), [
        f.seed for f in outcome.failures]


def test_output_is_the_same_for_any_worker_count() -> None:
    one, failed = _sweep(workers=1)
    two, failed_two = _sweep(workers=2)
    assert one == two
    assert failed == failed_two and 1 in failed  # the range holds a failure to compare
    assert "reproduce with: paxlab sim churn.yaml --seed 1 --swarm --mutant " + MUTANT in one
    assert "swarm: faults[0] nemesis kinds" in one and "seeds 3/3  failures" in one


@pytest.mark.parametrize("count", [1, 2, 3, 7, 25])
@pytest.mark.parametrize(("first", "last"), [(1, 20), (5, 5), (0, 6), (100, 117)])
def test_shards_cover_the_range_exactly_once(count: int, first: int, last: int) -> None:
    slices = [Shard(index, count).seeds(first, last) for index in range(1, count + 1)]
    every = [seed for piece in slices for seed in piece]
    assert sorted(every) == list(range(first, last + 1))  # each seed once, none outside
    for index, piece in enumerate(slices, start=1):
        assert all((seed - first) % count == index - 1 for seed in piece)


@pytest.mark.parametrize(("text", "message"), [
    ("x", "expected i/n with 1 <= i <= n"),
    ("1/", "expected i/n"),
    ("-1/3", "expected i/n"),
    ("0/4", "i must be from 1 to 4"),
    ("5/4", "i must be from 1 to 4"),
    ("1/0", "n must be at least 1"),
])
def test_bad_shard_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_shard(text)


@pytest.mark.parametrize("args", [
    ["--seeds", "1-4", "--shard", "3/2"], ["--seeds", "1-4", "--shard", "half"],
    ["--seed", "1", "--shard", "1/2"], ["--seed", "1", "--workers", "2"],
    ["--seeds", "1-4", "--workers", "0"],
])
def test_bad_shard_or_workers_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC, *args]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("paxlab: --") and ("--shard" in err or "--workers" in err)


def test_a_shard_runs_its_slice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC, "--seeds", "1-5", "--shard", "2/2", "--workers", "1"]) == (
        ExitCode.OK)
    out = capsys.readouterr().out
    assert "seeds 1-5, shard 2/2 (2 seeds)" in out and "all 2 seeds passed" in out
    assert main(["sim", BASIC, "--seeds", "1-2", "--shard", "3/4"]) == ExitCode.OK
    assert "holds no seeds" in capsys.readouterr().out


@needs_proc
def test_no_process_is_left_after_a_sweep() -> None:
    before = _children()
    out = io.StringIO()
    outcome = run_sweep(shipped("basic"), 1, 3, out, "basic.yaml", workers=2)
    assert outcome.passed and "seeds 3/3  failures 0" in out.getvalue()
    assert _children() <= before  # first: active_children() would reap what is left
    assert multiprocessing.active_children() == []


class _Interrupting(io.StringIO):
    """An output that raises KeyboardInterrupt at the first progress line, like Ctrl-C
    pressed while workers are busy."""

    def write(self, text: str) -> int:
        if text.startswith("seeds "):
            raise KeyboardInterrupt
        return super().write(text)


@needs_proc
def test_ctrl_c_ends_every_worker() -> None:
    before = _children()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(shipped("basic"), 1, 8, _Interrupting(), "basic.yaml", workers=2)
    assert _children() <= before  # first: active_children() would reap what is left
    assert multiprocessing.active_children() == []


def test_a_seed_that_raises_in_a_worker_is_a_crashed_failure() -> None:
    """An unknown mutant makes every simulation raise inside the workers; each seed is
    reported as crashed and the sweep runs to its end."""
    out = io.StringIO()
    outcome = run_sweep(shipped("basic"), 1, 3, out, "basic.yaml", mutant="no-such",
                        workers=2)
    assert [f.seed for f in outcome.failures] == [1, 2, 3]
    assert {c.name for f in outcome.failures for c in f.checks} == {"crashed"}
    assert "seeds 3/3  failures 3" in out.getvalue() and "KeyError" in out.getvalue()
    assert out.getvalue().endswith("3 of 3 seeds failed: 3 safety, 0 liveness only\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_rewritten_line_on_a_terminal() -> None:
    out = _Terminal()
    run_sweep(shipped("basic"), 1, 2, out, "basic.yaml", workers=1)
    text = out.getvalue()
    assert "\rseeds 1/2  failures 0" in text and "\rseeds 2/2  failures 0" in text
    assert "seeds 2/2  failures 0" in text.split("\n")[1]  # one line, rewritten in place
