"""`paxlab sim`: one seed with a results folder that `paxlab check` passes, a seed range
with its failure table, and exit codes 0/1/2 like `paxlab run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from paxlab.check import CheckResult
from paxlab.cli import ExitCode, main
from paxlab.sim import sweep
from tests.sim.helpers import CONFIGS

BASIC = str(CONFIGS / "basic.yaml")


def test_one_seed_writes_a_folder_check_and_report_accept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC, "--seed", "3", "--out", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("paxlab sim basic: seed 3, 3 servers, 2 clients")
    assert "ALL CHECKS PASS" in out
    latest = tmp_path / "latest"
    assert main(["check", str(latest)]) == ExitCode.OK
    assert main(["report", str(latest)]) == ExitCode.OK
    assert (latest / "history.jsonl").read_text().count("\n") == 80


def test_default_seed_is_the_configs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC]) == ExitCode.OK
    assert "seed 1," in capsys.readouterr().out.splitlines()[0]


def test_seed_range_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC, "--seeds", "1-3"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "seeds 3/3  failures 0" in out and "all 3 seeds passed" in out


def _fail_seed(bad: int, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sweep.verdicts

    def verdicts(sim_run):  # type: ignore[no-untyped-def]
        checks = real(sim_run)
        if sim_run.seed == bad:
            checks[-1] = CheckResult(name="linearizable", verdict="fail", details="made up")
        return checks

    monkeypatch.setattr(sweep, "verdicts", verdicts)


def test_failing_seeds_are_tabled_with_a_reproducer(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fail_seed(2, monkeypatch)
    assert main(["sim", BASIC, "--seeds", "1-3"]) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert "failures 1" in out
    assert "failed checks" in out and "made up" in out
    assert f"reproduce with: paxlab sim {BASIC} --seed 2" in out


def test_failing_single_seed_exits_1(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fail_seed(4, monkeypatch)
    assert main(["sim", BASIC, "--seed", "4"]) == ExitCode.CHECK_FAILED
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["--seeds", "5-1"], ["--seeds", "x"], ["--seeds", "1-"], ["--seeds", "1-2", "--out", "o"],
])
def test_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", BASIC, *args]) == ExitCode.BAD_INPUT
    assert "paxlab:" in capsys.readouterr().err


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", str(tmp_path / "missing.yaml")]) == ExitCode.BAD_INPUT
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ncluster: {servers: zero}\n")
    assert main(["sim", str(broken)]) == ExitCode.BAD_INPUT


def test_a_seed_that_raises_is_a_failure_not_the_end(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = sweep.simulate

    def simulate(config, seed):  # type: ignore[no-untyped-def]
        if seed == 1:
            raise AssertionError("leader without leader state")
        return real(config, seed)

    monkeypatch.setattr(sweep, "simulate", simulate)
    assert main(["sim", BASIC, "--seeds", "1-2"]) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert "crashed" in out and "seeds 2/2  failures 1" in out
