"""Every run ends with its page: `paxlab sim --out` writes report.html and prints its path
last; a page that cannot be drawn costs the run nothing but says why; the report command's
picture options refuse what they cannot do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxlab.cli import ExitCode, main, pages

ROOT = Path(__file__).resolve().parents[2]


def test_sim_out_writes_the_page_and_prints_its_path(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    code = main(["sim", str(ROOT / "configs" / "basic.yaml"), "--seed", "2",
                 "--out", str(tmp_path)])
    assert code == ExitCode.OK
    run_dir = (tmp_path / "latest").resolve()
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-2] == f"results: {run_dir}"
    assert lines[-1].startswith(f"report: {run_dir / 'report.html'}")
    page = (run_dir / "report.html").read_bytes()
    assert b'"driver":"sim"' in page and (run_dir / "messages.jsonl").exists()


def test_a_page_that_cannot_be_drawn_says_why_and_how_to_retry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(run_dir: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(pages, "write_page", broken)
    line = pages.page_line(tmp_path)
    assert line == (f"report: not written (OSError: disk full); retry with: "
                    f"paxlab report {tmp_path} --html")


def test_view_needs_a_screenshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), "--view", "failure"]) == ExitCode.BAD_INPUT
    assert "--view picks the panel of a --screenshot" in capsys.readouterr().err


def test_a_missing_browser_fails_the_screenshot_but_keeps_the_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", str(ROOT / "configs" / "basic.yaml"), "--seed", "3",
                 "--out", str(tmp_path)]) == ExitCode.OK
    run_dir = (tmp_path / "latest").resolve()
    (run_dir / "report.html").unlink()
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PAXLAB_CHROMIUM", raising=False)
    capsys.readouterr()
    code = main(["report", str(run_dir), "--screenshot", str(tmp_path / "shot.png")])
    assert code == ExitCode.BAD_INPUT
    assert "apt-get install chromium" in capsys.readouterr().err
    assert (run_dir / "report.html").exists() and not (tmp_path / "shot.png").exists()


def test_a_mutant_run_names_its_planted_bug_in_the_summary_and_the_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sim", str(ROOT / "configs" / "basic.yaml"), "--seed", "2",
                 "--mutant", "stale-read", "--out", str(tmp_path)])
    assert code in (ExitCode.OK, ExitCode.CHECK_FAILED)  # caught or not, it is named
    run_dir = (tmp_path / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["mutant"] == "stale-read"
    assert b'"mutant":"stale-read"' in (run_dir / "report.html").read_bytes()
    plain = tmp_path / "plain"
    assert main(["sim", str(ROOT / "configs" / "basic.yaml"), "--seed", "2",
                 "--out", str(plain)]) == ExitCode.OK
    assert "mutant" not in json.loads(((plain / "latest") / "summary.json").read_text())
