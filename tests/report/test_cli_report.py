"""`paxlab report RUN --html [--out FILE] [--png]`: prints what it wrote, works on partial
and damaged folders, and without matplotlib still writes the page. Without flags the
text report and its exit codes are as before.

The page itself is PAGE's (paxlab.report.page); here a stand-in renderer writes the model
as JSON, so these tests judge the command, not the drawing."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from paxlab.cli import ExitCode, main
from tests.report.runs import copy_run, damage, sim_folder
from tests.report.test_png import PNG_MAGIC, hide_matplotlib


@pytest.fixture(autouse=True)
def fake_page(monkeypatch: pytest.MonkeyPatch) -> None:
    page = types.ModuleType("paxlab.report.page")
    page.render_page = lambda model: json.dumps(model, sort_keys=True).encode()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "paxlab.report.page", page)


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim_folder(tmp_path_factory.mktemp("runs"), "basic")


@pytest.fixture
def run(basic: Path, tmp_path: Path) -> Path:
    return copy_run(basic, tmp_path, "run")


def written(capsys: pytest.CaptureFixture[str]) -> list[Path]:
    return [Path(line) for line in capsys.readouterr().out.splitlines()]


def test_html_writes_the_page_in_the_folder(run: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:  # fmt: skip
    assert main(["report", str(run), "--html"]) == ExitCode.OK
    assert written(capsys) == [run / "report.html"]
    model = json.loads((run / "report.html").read_text())
    assert model["verdict"]["passed"] and model["run"]["name"] == "run"


def test_out_and_png_write_beside_the_page(run: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pages" / "mine.html"
    assert main(["report", str(run), "--html", "--out", str(out), "--png"]) == ExitCode.OK
    paths = written(capsys)
    assert paths[0] == out and out.is_file()
    assert [p.parent for p in paths[1:]] == [out.parent] * 2
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in paths[1:])


def test_a_partial_folder_gets_its_page_and_exit_code_1(run: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:  # fmt: skip
    (run / "summary.json").unlink()
    (run / "history.jsonl").rename(run / "kept.jsonl")
    parts = run / "history-parts"
    parts.mkdir()
    (run / "kept.jsonl").rename(parts / "client-0.jsonl")
    assert main(["report", str(run), "--html"]) == ExitCode.CHECK_FAILED
    model = json.loads(written(capsys)[0].read_text())
    assert model["run"]["partial"] is True
    assert "summary.json: missing" in model["unread"]


def test_corrupt_files_are_listed_in_the_page(run: Path, capsys: pytest.CaptureFixture[str]
                                              ) -> None:  # fmt: skip
    damage(run / "history.jsonl", truncate_bytes=15)
    damage(run / "chains" / "server-2.jsonl", line=2, text="[1, 2")
    (run / "kv" / "server-1.json").write_bytes(b"\xff\x00")
    main(["report", str(run), "--html"])
    unread = json.loads(written(capsys)[0].read_text())["unread"]
    assert any(u.startswith("history.jsonl line") and "truncated" in u for u in unread)
    assert "chains/server-2.jsonl line 2: not JSON" in unread
    assert any(u.startswith("kv/server-1.json") for u in unread)


def test_without_matplotlib_png_says_how_and_the_page_is_written(
        run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    hide_matplotlib(monkeypatch)
    assert main(["report", str(run), "--html", "--png"]) == ExitCode.BAD_INPUT
    out, err = capsys.readouterr()
    assert out.splitlines() == [str(run / "report.html")] and (run / "report.html").is_file()
    assert "pip install 'paxlab[plots]'" in err


def test_without_flags_the_text_report_is_unchanged(run: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "ALL CHECKS PASS" in out and "Operations" in out
    assert not (run / "report.html").exists()


def test_bad_arguments_and_folders(run: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run), "--out", str(tmp_path / "x.html")]) == ExitCode.BAD_INPUT
    assert "--out" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing"), "--html"]) == ExitCode.BAD_INPUT
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty), "--html"]) == ExitCode.BAD_INPUT
    assert "not a run folder" in capsys.readouterr().err
