"""The report's tables and verdict line, and the stats (paxlab.results.stats) it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from paxlab import results
from paxlab.check import CheckResult
from paxlab.results.report import overall_line, render_checks, render_report
from paxlab.results.stats import percentile, summarize_history

CHECKS = [
    {"name": "chains_valid", "verdict": "pass", "details": "3 chains valid"},
    {"name": "chains_identical", "verdict": "pass", "details": "3 chains identical"},
    {"name": "kv_identical", "verdict": "pass", "details": "3 KVs equal"},
    {"name": "writes_exactly_once", "verdict": "pass", "details": "4 acknowledged puts"},
]


def summary(**changes: object) -> dict:
    base = {
        "config": "partition", "seed": 42, "partial": False,
        "started_at": "2025-03-04T05:06:07", "duration_s": 12.34, "servers": 3, "clients": 2,
        "difficulty": 4,
        "ops": {"put": {"ok": 40, "fail": 2, "info": 1}, "get": {"ok": 30, "fail": 0, "info": 0}},
        "throughput_ops_s": 5.67, "latency_ms": {"p50": 1.5, "p95": 9.25, "p99": 20.0, "max": 31.0},
        "faults": [{"time_ms": 2500, "action": "partition", "detail": "{0} | {1, 2}"}],
        "leader_changes": 2, "checks": CHECKS,
    }  # fmt: skip
    return {**base, **changes}


def write(tmp_path: Path, data: dict) -> Path:
    run_dir = tmp_path / "20250304-050607-partition"
    run_dir.mkdir()
    results.write_summary(run_dir, data)
    return run_dir


def test_report_shows_every_table_and_passes(tmp_path: Path) -> None:
    text = render_report(write(tmp_path, summary()))
    for expected in ("Run 20250304-050607-partition", "partition", "42", "12.3 s",
                     "Operations", "Performance", "5.7", "9.25", "Faults (1)", "{0} | {1, 2}",
                     "Checks", "PASS", "4 acknowledged puts"):  # fmt: skip
        assert expected in text, expected
    for check in CHECKS:
        assert check["name"] in text
    assert text.rstrip().endswith("ALL CHECKS PASS")
    assert "PARTIAL" not in text


def test_ops_table_has_rows_and_a_total(tmp_path: Path) -> None:
    lines = render_report(write(tmp_path, summary())).splitlines()
    put_row = next(line for line in lines if " put " in line)
    total_row = next(line for line in lines if " total " in line)
    assert put_row.split()[3:8:2] == ["40", "2", "1"]
    assert total_row.split()[3:8:2] == ["70", "2", "1"]


def test_report_names_failed_and_unknown_checks(tmp_path: Path) -> None:
    checks = [dict(c) for c in CHECKS]
    checks[1].update(verdict="fail", details="first difference at height 3")
    checks[2].update(verdict="unknown", details="cannot replay")
    text = render_report(write(tmp_path, summary(checks=checks, partial=True)))
    assert "FAIL" in text and "UNKNOWN" in text and "first difference at height 3" in text
    assert text.rstrip().endswith("CHECKS FAILED: chains_identical, kv_identical (unknown)")
    assert "PARTIAL RUN" in text


def test_report_survives_a_sparse_summary(tmp_path: Path) -> None:
    text = render_report(write(tmp_path, {"config": "x", "faults": [], "checks": []}))
    assert "Faults" not in text
    assert text.rstrip().endswith("NO CHECKS RUN: nothing was verified")


def test_report_follows_latest(tmp_path: Path) -> None:
    results.update_latest(tmp_path, write(tmp_path, summary()))
    assert "ALL CHECKS PASS" in render_report(tmp_path / "latest")


def test_render_checks_wraps_long_details() -> None:
    long = CheckResult("writes_exactly_once", "fail", "client 1 seq 2: " + "x " * 100)
    text = render_checks([CheckResult("chains_valid", "pass", "ok"), long])
    assert max(len(line) for line in text.splitlines()) < 130
    assert text.splitlines()[-1] == "CHECKS FAILED: writes_exactly_once"
    assert overall_line([]) != "ALL CHECKS PASS"


# ---- paxlab.results.stats --------------------------------------------------------------------


def ev(process: int, kind: str, f: str, seq: int, time_ms: float) -> dict:
    return {"process": process, "type": kind, "f": f, "key": "'k'", "value": "1", "seq": seq,
            "time": int(time_ms * 1_000_000)}  # fmt: skip


def test_summarize_history_counts_pairs_and_percentiles() -> None:
    history = [
        ev(1, "invoke", "put", 1, 0), ev(2, "invoke", "get", 1, 1),
        ev(1, "ok", "put", 1, 10), ev(2, "ok", "get", 1, 3),
        ev(1, "invoke", "put", 2, 20), ev(1, "fail", "put", 2, 25),
        ev(2, "invoke", "put", 2, 30), ev(2, "info", "put", 2, 900),
        ev(3, "invoke", "get", 1, 40), ev(3, "ok", "get", 1, 1000),
        ev(1, "invoke", "put", 3, 50),  # never completed: counts as info
    ]  # fmt: skip
    stats = summarize_history(history)
    assert stats["ops"] == {
        "put": {"ok": 1, "fail": 1, "info": 2},
        "get": {"ok": 2, "fail": 0, "info": 0},
    }
    assert stats["latency_ms"] == {"p50": 10.0, "p95": 960.0, "p99": 960.0, "max": 960.0}
    assert stats["throughput_ops_s"] == 3.0  # 3 ok ops over 0 .. 1000 ms


def test_summarize_empty_history_gives_zeros() -> None:
    assert summarize_history([]) == {
        "ops": {"put": {"ok": 0, "fail": 0, "info": 0}, "get": {"ok": 0, "fail": 0, "info": 0}},
        "throughput_ops_s": 0.0,
        "latency_ms": {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0},
    }


@pytest.mark.parametrize(
    ("p", "expected"), [(0, 1), (41, 5), (50, 5), (90, 9), (91, 10), (99, 10), (100, 10)]
)
def test_percentile_is_nearest_rank(p: float, expected: float) -> None:
    assert percentile(list(range(1, 11)), p) == expected


def test_partial_report_names_the_servers_that_had_not_caught_up(tmp_path: Path) -> None:
    run_dir = write(tmp_path, summary(partial=True))
    block = {"height": 0, "prev": "0" * 64, "txns": [], "nonce": "0", "hash": "f" * 64}
    for sid, length in ((0, 3), (1, 1), (2, 3)):
        results.write_chain(run_dir, sid, [dict(block, height=h) for h in range(length)])
    text = render_report(run_dir)
    assert "PARTIAL RUN" in text
    assert "Not caught up when the run stopped: server 1 (1 of 3 blocks)" in text
    results.write_summary(run_dir, summary(partial=False))
    assert "caught up" not in render_report(run_dir)
