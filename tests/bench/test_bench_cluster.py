"""`paxlab bench cluster`: the arithmetic of its numbers, and a short run that prints them.

The run itself is not timed (numbers vary by machine); the tests check that the table and
the ratio lines are there and that every process the bench started is gone afterwards."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest

from paxlab.bench import pso
from paxlab.bench.cluster import BenchOptions, run_cluster_bench
from paxlab.bench.cluster_stats import (
    Samples,
    encode_report,
    failover_ms,
    measure_window,
    percentile,
    ratio_text,
)

MS = 1_000_000


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    assert math.isnan(percentile([], 50))


def test_report_round_trips_through_samples() -> None:
    base = 5_000_000_000
    pairs = [(base, base + 2 * MS), (base + 1 * MS, base + 4 * MS)]
    samples = Samples()
    samples.add_report(encode_report(base, pairs, errors=3))
    samples.add_report(encode_report(base, [(base + 10 * MS, base + 11 * MS)], errors=1))
    assert list(zip(samples.invoked_ns, samples.done_ns, strict=True)) == [
        *pairs, (base + 10 * MS, base + 11 * MS)]
    assert samples.errors == 4


def test_window_counts_only_ops_done_inside_it() -> None:
    samples = Samples(invoked_ns=[0, 10 * MS, 500 * MS, 999 * MS],
                      done_ns=[1 * MS, 12 * MS, 504 * MS, 1_001 * MS])
    measured = measure_window("paxlab", "v", 2, samples, 5 * MS, 1_000 * MS)
    assert measured.ops == 2  # the first ended before the window, the last after it
    assert measured.ops_s == pytest.approx(2 / 0.995)
    assert measured.p50_ms == 2 and measured.p99_ms == 4


def test_failover_is_the_end_of_the_pause_after_the_kill() -> None:
    kill = 1_000 * MS
    # oks every ms, two stragglers the old leader committed just after the kill, then
    # a pause until the new leader answers at +300 ms, then oks again
    done = [t * MS for t in range(900, 1_000)] + [kill + MS, kill + 2 * MS]
    done += [kill + (300 + t) * MS for t in range(50)]
    assert failover_ms(done, kill) == 300
    assert failover_ms([t * MS for t in range(10)], kill) is None  # nothing after the kill
    assert failover_ms([kill + 40 * MS], kill) == 40


def test_ratio_text() -> None:
    assert ratio_text(3000, 1500) == "2.00x"
    assert ratio_text(3000, math.nan) == "-"
    assert ratio_text(3000, 0) == "-"


def _our_processes(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker` (the test's own folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_a_short_run_prints_the_numbers_and_leaves_nothing_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """paxlab only (PySyncObj taken away: the run says how to install it): one lone
    client with fsync on, and tuned failover with a kill -9 of the leader."""
    monkeypatch.setattr(pso, "pso_available", lambda: False)
    out = io.StringIO()
    options = BenchOptions(seconds=1.0, clients=4, warmup_s=0.3, horizon_s=1.0,
                           variants=("single", "failover"), keep=tmp_path)
    rows = run_cluster_bench(options, out)
    text = out.getvalue()
    assert "pip install -e '.[bench]'" in text
    assert [m.variant for m in rows] == ["one op at a time", "failover, tuned timeouts"]
    single, failover = rows
    assert single.clients == 1 and single.ops > 0 and 0 < single.p50_ms <= single.p99_ms
    assert failover.ops > 0 and failover.failover_ms is not None
    assert 0 < failover.failover_ms < 1_000, text
    assert re.search(r"one op at a time, fsync on: p50 \d+\.\d\d ms \(target under 2 ms", text)
    assert re.search(r"failover, tuned timeouts: [\d,]+ ms from kill -9 of the leader", text)
    table = text[text.index("┌"):]
    assert "│ paxlab" in table and "PySyncObj" not in table
    assert _our_processes(str(tmp_path)) == []


@pytest.mark.slow
def test_the_whole_bench_against_pysyncobj(tmp_path: Path) -> None:
    pytest.importorskip("pysyncobj")
    out = io.StringIO()
    rows = run_cluster_bench(BenchOptions(seconds=2.0, clients=16, keep=tmp_path), out)
    text = out.getvalue()
    assert {m.system for m in rows} == {"paxlab", "PySyncObj"} and len(rows) == 8
    assert all(m.ops > 0 for m in rows), text
    assert re.search(r"like for like: paxlab [\d,]+ ops/s vs PySyncObj [\d,]+ ops/s .* = "
                     r"\d+\.\d\dx", text)
    assert _our_processes(str(tmp_path)) == []
