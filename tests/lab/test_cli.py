"""The paxlab command as a user runs it: exit codes, messages, check and report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paxlab.cli import ExitCode, main
from tests.lab.interrupted import alive, interrupt_long_run, lab_pids

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
    run_dir = (results / "latest").resolve()
    # The run ends by pointing at its page, the last line printed.
    assert done.stdout.rstrip().splitlines()[-1].startswith(f"report: {run_dir / 'report.html'}")
    assert (run_dir / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    return run_dir


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


def test_ctrl_c_stops_every_process_and_keeps_partial_results(tmp_path: Path) -> None:
    returncode, output = interrupt_long_run(tmp_path)
    assert returncode == ExitCode.INTERRUPTED, output
    assert "interrupted" in output
    run_dir = (tmp_path / "r" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
    assert (run_dir / "history.jsonl").stat().st_size > 0
    assert len(list((run_dir / "chains").glob("server-*.jsonl"))) == 3
    pids = lab_pids(run_dir)
    assert len(pids) == 1 + 3 + 2
    assert not [pid for pid in pids if alive(pid)], "orphan processes left behind"
