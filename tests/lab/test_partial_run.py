"""Ctrl-C mid-run: the partial run is judged on what it recorded, not failed for a lag.

An interrupted run stops servers that had not yet learned the last committed blocks, so
their chains are prefixes of the leader's. That is no fault: every check must pass, the
verdicts name who had not caught up, and `paxlab check` and `paxlab report` agree.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from paxlab import results
from paxlab.check import check_records
from paxlab.cli import ExitCode

ROOT = Path(__file__).resolve().parents[2]
_START_S = 60  # until the workload is under way (a loaded machine starts processes slowly)
_WIND_DOWN_S = 90  # from Ctrl-C to exit: stop, merge, check, write


def _read_until(process: subprocess.Popen[str], done, deadline: float) -> list[str]:
    """Lines of the process's output until `done(line)`, failing at `deadline`."""
    assert process.stdout is not None
    seen: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "workload never got under way:\n" + "".join(seen)
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if not ready:
            continue
        line = process.stdout.readline()
        assert line, "paxlab exited early:\n" + "".join(seen)
        seen.append(line)
        if done(line):
            return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie has exited; its parent has not reaped it
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_interrupted_run_fails_no_check_because_a_chain_lags(tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(
        "cluster: {servers: 3}\nclients: {count: 2}\n"
        "workload: {type: generated, duration_ms: 60000}\n"
        "checks: {run_timeout_s: 120}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "paxlab", "run", str(config), "--results", str(tmp_path / "r")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        seen = _read_until(process, lambda line: " ops " in line and " ops 0" not in line,
                           time.monotonic() + _START_S)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        rest, _ = process.communicate(timeout=_WIND_DOWN_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    output = "".join(seen) + rest
    assert process.returncode == ExitCode.INTERRUPTED, output

    run_dir = (tmp_path / "r" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
    recorded = {c["name"]: c for c in summary["checks"]}
    assert [n for n, c in recorded.items() if c["verdict"] != "pass"] == [], output
    assert "ALL CHECKS PASS" in output

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

    pids = [int(line.rsplit("(pid ", 1)[1].rstrip(")"))
            for line in (run_dir / "logs" / "lab.log").read_text().splitlines()
            if "(pid " in line]
    assert len(pids) == 1 + 3 + 2
    assert not [pid for pid in pids if _alive(pid)], "orphan processes left behind"
