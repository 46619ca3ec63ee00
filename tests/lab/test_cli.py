"""The paxlab command as a user runs it: exit codes, messages, check and report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paxlab.cli import ExitCode, main

ROOT = Path(__file__).resolve().parents[2]


def _paxlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paxlab", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of configs/basic.yaml through the command line."""
    results = tmp_path_factory.mktemp("results")
    done = _paxlab("run", str(ROOT / "configs" / "basic.yaml"), "--results", str(results),
                   "--quiet", cwd=ROOT)
    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert "ALL CHECKS PASS" in done.stdout
    return (results / "latest").resolve()


def test_check_and_report_pass_on_a_good_run(finished_run: Path) -> None:
    assert main(["check", str(finished_run)]) == ExitCode.OK
    assert main(["report", str(finished_run)]) == ExitCode.OK


def test_check_fails_on_a_tampered_chain(finished_run: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(finished_run), str(copy)], check=True)
    chain = copy / "chains" / "server-1.jsonl"
    lines = chain.read_text().splitlines()
    block = json.loads(lines[3])
    block["nonce"] = block["nonce"] + "1"
    lines[3] = json.dumps(block)
    chain.write_text("\n".join(lines) + "\n")
    assert main(["check", str(copy)]) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert "server 1 height 3" in out and "FAIL" in out


def test_bad_config_key_names_file_key_and_allowed(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster:\n  sever: 3\n")
    assert main(["run", str(bad), "--results", str(tmp_path / "r")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert str(bad) in err and "cluster.sever" in err and "servers" in err
    assert not (tmp_path / "r").exists(), "nothing may start before the config is valid"


def test_bad_value_and_missing_file_exit_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("network:\n  drop_probability: 1.5\n")
    assert main(["run", str(bad)]) == ExitCode.BAD_INPUT
    assert "network.drop_probability = 1.5" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "nope.yaml")]) == ExitCode.BAD_INPUT
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "no-run")]) == ExitCode.BAD_INPUT


def _pids_from_lab_log(run_dir: Path) -> list[int]:
    pids = []
    for line in (run_dir / "logs" / "lab.log").read_text().splitlines():
        if "(pid " in line:
            pids.append(int(line.rsplit("(pid ", 1)[1].rstrip(")")))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_ctrl_c_stops_every_process_and_keeps_partial_results(tmp_path: Path) -> None:
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
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    seen = []
    for line in process.stdout:  # wait for the workload to be under way, not a fixed sleep
        seen.append(line)
        if " ops " in line and " ops 0" not in line:
            break
        assert time.monotonic() < deadline, "".join(seen)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    rest, _ = process.communicate(timeout=60)
    output = "".join(seen) + rest
    assert process.returncode == ExitCode.INTERRUPTED, output
    assert "interrupted" in output
    run_dir = (tmp_path / "r" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
    assert (run_dir / "history.jsonl").stat().st_size > 0
    assert len(list((run_dir / "chains").glob("server-*.jsonl"))) == 3
    pids = _pids_from_lab_log(run_dir)
    assert len(pids) == 1 + 3 + 2
    assert not [pid for pid in pids if _alive(pid)], "orphan processes left behind"
