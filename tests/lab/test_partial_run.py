"""Ctrl-C mid-run: the partial run is judged on what it recorded, not failed for a lag.

An interrupted run stops servers that had not yet learned the last committed blocks, so
their chains are prefixes of the leader's. That is no fault: every check must pass, the
verdicts name who had not caught up, and `paxlab check` and `paxlab report` agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from paxlab import results
from paxlab.check import check_records
from paxlab.cli import ExitCode
from paxlab.results.messages import read_messages
from tests.lab.interrupted import alive, interrupt_long_run, lab_pids

ROOT = Path(__file__).resolve().parents[2]


def test_interrupted_run_fails_no_check_because_a_chain_lags(tmp_path: Path) -> None:
    returncode, output = interrupt_long_run(tmp_path)
    assert returncode == ExitCode.INTERRUPTED, output

    run_dir = (tmp_path / "r" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
    recorded = {c["name"]: c for c in summary["checks"]}
    assert [n for n, c in recorded.items() if c["verdict"] != "pass"] == [], output
    assert "ALL CHECKS PASS" in output

    assert f"report: {run_dir / 'report.html'}" in output  # a Ctrl-C run gets its page too
    assert b"\"partial\":true" in (run_dir / "report.html").read_bytes()
    messages = read_messages(run_dir)  # a Ctrl-C run keeps the messages it routed
    assert messages.problems == [] and len(messages.sends) > 100
    records = results.read_records(run_dir)
    lengths = {sid: len(chain) for sid, chain in records.chains.items()}
    assert len(lengths) == 3
    longest = max(lengths.values())
    behind = sorted(sid for sid, n in lengths.items() if n < longest)
    details = recorded["chains_identical"]["details"]
    if behind:  # the usual case: a follower had not learned the last commit yet
        assert details.startswith("partial run: chains agree on their common prefix"), details
        for n in sorted({lengths[sid] for sid in behind}):
            group = ", ".join(str(sid) for sid in behind if lengths[sid] == n)
            who = f"server {group}" if "," not in group else f"servers {group}"
            assert f"{who} had not caught up ({n} of {longest} blocks)" in details, details
        strict = {r.name: r.verdict for r in check_records(records)}
        assert strict["chains_identical"] == "fail"  # what a complete run's rules say
        assert "Not caught up when the run stopped" in output

    check = subprocess.run([sys.executable, "-m", "paxlab", "check", str(run_dir)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    report = subprocess.run([sys.executable, "-m", "paxlab", "report", str(run_dir)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert check.returncode == report.returncode == ExitCode.CHECK_FAILED  # partial: not 0
    assert "PARTIAL RUN" in check.stdout and "PARTIAL RUN" in report.stdout
    assert check.stdout.rstrip().endswith("ALL CHECKS PASS"), check.stdout
    assert report.stdout.rstrip().endswith("ALL CHECKS PASS"), report.stdout

    pids = lab_pids(run_dir)
    assert len(pids) == 1 + 3 + 2
    assert not [pid for pid in pids if alive(pid)], "orphan processes left behind"
