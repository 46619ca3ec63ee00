"""`paxlab bench-report` prints its table on a tiny run (not timed: figures vary by machine),
says how to get the browser when it is missing, and says OVER BUDGET plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from paxlab.bench import report, report_open
from paxlab.cli import ExitCode, main
from tests.sim.helpers import CONFIGS

BASIC = str(CONFIGS / "basic.yaml")
ROWS = ("baseline: read files as JSON", "build_model", "render_page", "write_report (whole)",
        "page size", "open to paxlab.ready")


def test_the_table_has_every_row_and_the_folder_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["bench-report", BASIC, "--seed", "3", "--repeats", "2", "--no-browser",
                 "--keep", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "paxlab bench-report: " in out and "seed 3, 2 repeats" in out
    table = out[out.index("medians of 2 repeats"):]
    for row in ROWS:
        assert f"│ {row} " in table, row
    lines = {line.split("│")[1].strip(): line for line in table.splitlines() if "│" in line}
    assert "pass" in lines["write_report (whole)"] and "3 s" in lines["write_report (whole)"]
    assert "pass" in lines["page size"] and "10 MB" in lines["page size"]
    assert "1.00x" in lines["baseline: read files as JSON"]
    assert "not measured" in lines["open to paxlab.ready"]
    assert "open to paxlab.ready" in out and "not measured: --no-browser" in out
    assert "SMALLER than the budgets' run" in out  # 60 ops: the figures test nothing
    assert "OVER BUDGET" not in out
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "latest"]
    assert (run_dir / "report.html").stat().st_size > 0
    assert (run_dir / "messages.jsonl").exists()


def test_a_missing_browser_says_how_to_install_it_and_an_exceeded_budget_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_open, "available", lambda: "selenium is not installed")
    monkeypatch.setattr(report, "BUDGET_MB", 1e-6)  # any page is over a one-byte budget
    code = main(["bench-report", BASIC, "--repeats", "1", "--keep", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.OK  # a benchmark reports; it does not fail
    assert "not measured: selenium is not installed; to measure it: apt-get install " \
           "chromium chromium-driver" in out and "pip install selenium" in out
    assert "OVER BUDGET: page size: " in out


def test_bad_arguments_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-report", BASIC, "--repeats", "0"]) == ExitCode.BAD_INPUT
    assert main(["bench-report", "configs/no-such.yaml"]) == ExitCode.BAD_INPUT


def test_the_floor_reads_what_is_there(tmp_path: Path) -> None:
    assert report.read_floor(tmp_path) == 0  # an empty folder: nothing to read, no error
    (tmp_path / "chains").mkdir()
    (tmp_path / "chains" / "server-0.jsonl").write_text('{"height": 0}\n{"height": 1}\n')
    (tmp_path / "history.jsonl").write_text('{"a": 1}\n\n')
    assert report.read_floor(tmp_path) == 3
