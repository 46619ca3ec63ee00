"""Start a long lab run, press Ctrl-C once its workload is under way, and look after it.

Shared by the tests that interrupt a real run (tests/lab/test_cli.py,
tests/lab/test_partial_run.py). Every wait has a deadline; output is read with select, so
a run that prints nothing fails at its deadline instead of hanging the suite."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["alive", "interrupt_long_run", "lab_pids"]

ROOT = Path(__file__).resolve().parents[2]
START_S = 60  # until the workload is under way (a loaded machine starts processes slowly)
WIND_DOWN_S = 90  # from Ctrl-C to exit: stop, merge, check, write
LONG_RUN = (
    "cluster: {servers: 3}\nclients: {count: 2}\n"
    "workload: {type: generated, duration_ms: 60000}\n"
    "checks: {run_timeout_s: 120}\n"
)


def _read_until(process: subprocess.Popen[str], done: Callable[[str], bool],
                deadline: float) -> list[str]:
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


def interrupt_long_run(tmp_path: Path) -> tuple[int, str]:
    """Run a 60 s workload under `tmp_path / "r"`, SIGINT its process group once ops are
    flowing (what a terminal's Ctrl-C does), and return (exit code, all output)."""
    config = tmp_path / "long.yaml"
    config.write_text(LONG_RUN)
    process = subprocess.Popen(
        [sys.executable, "-m", "paxlab", "run", str(config), "--results", str(tmp_path / "r")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        seen = _read_until(process, lambda line: " ops " in line and " ops 0" not in line,
                           time.monotonic() + START_S)
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=WIND_DOWN_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode, "".join(seen) + rest


def lab_pids(run_dir: Path) -> list[int]:
    """Every process id the launcher logged starting (router, servers, clients)."""
    return [int(line.rsplit("(pid ", 1)[1].rstrip(")"))
            for line in (run_dir / "logs" / "lab.log").read_text().splitlines()
            if "(pid " in line]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie has exited; its parent has not reaped it
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"
