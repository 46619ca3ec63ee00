"""Replays every tests/core/testdata/*.txt script through the pure core and compares its
lines with the file's expected part; `pytest --rewrite` regenerates that part."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.transcript import parse, render, run_script

TESTDATA = Path(__file__).parent / "testdata"
FILES = sorted(TESTDATA.glob("*.txt"))


def test_there_are_transcripts() -> None:
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--rewrite"):
        path.write_text(render(path))
    commands, expected = parse(path.read_text())
    assert run_script(commands) == expected


def test_a_wrong_expected_line_fails(tmp_path: Path) -> None:
    """The comparison bites: one changed expected line makes the replay differ."""
    source = TESTDATA / "election_by_timeout.txt"
    commands, expected = parse(source.read_text())
    assert run_script(commands) == expected
    broken = [line.replace("b=1.0", "b=1.1", 1) for line in expected]
    assert broken != expected
    assert run_script(commands) != broken


def test_comments_and_request_ids_are_told_apart() -> None:
    commands, expected = parse("replicas 3  # three\nclient s1 c0#1 get x # asks s1\n"
                               "----\nline\n")
    assert commands == ["replicas 3", "client s1 c0#1 get x"] and expected == ["line"]
