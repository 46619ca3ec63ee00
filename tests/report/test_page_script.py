"""The page script is made of small parts (page.SCRIPT_PARTS) put into one frame: each part
is plain browser JS with one job said on top, the page's table of where each part starts
is exact, and a script error names the part and its own line, not a line of the page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from paxlab.report import page
from paxlab.report.page import SCRIPT_PARTS, page_script, render_page
from tests.report.browser import chrome, open_page, wait_until
from tests.report.fixtures import models

ASSETS = Path(page.__file__).parent / "assets"


def _table(text: str) -> list[list[Any]]:
    found = re.search(r"const PART_LINES = (\[.*?\]\]);", text)
    assert found is not None
    return json.loads(found.group(1))


def test_every_asset_script_is_a_listed_part_of_plain_js_under_400_lines() -> None:
    on_disk = {p.name for p in ASSETS.glob("*.js")} - {"report.js"}
    assert on_disk == set(SCRIPT_PARTS) and len(SCRIPT_PARTS) == len(set(SCRIPT_PARTS))
    for name in SCRIPT_PARTS:
        text = (ASSETS / name).read_text("utf-8")
        assert text.startswith(f"/* {name}: "), name  # says its job on top
        assert text.count("\n") < 400, name
        assert not re.search(r"^\s*(import|export)\b|\brequire\(", text, re.MULTILINE), name


def test_the_parts_table_points_at_each_parts_first_line() -> None:
    text = render_page(models.failure_model()).decode("utf-8")
    lines = text.split("\n")
    table = _table(text)
    assert [name for name, _ in table] == list(SCRIPT_PARTS)
    for name, first in table:
        assert lines[first - 1].startswith(f"/* {name}: "), (name, lines[first - 1][:60])


def test_the_table_can_be_wrong_and_the_test_above_would_see_it() -> None:
    """The line counting starts where the script does: shift it and the table is off."""
    right, shifted = _table(page_script(50)), _table(page_script(51))
    assert [r[1] + 1 for r in right] == [s[1] for s in shifted]


def test_without_the_parts_marker_the_frame_is_the_whole_script(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "_asset", lambda name: "let x = 1;" if name == "report.js"
                        else pytest.fail(f"read {name}"))
    assert page_script() == "let x = 1;"


@pytest.mark.browser
def test_a_script_error_names_its_part_and_line(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    real = page._asset
    main = real("main.js")
    planted = main + "setTimeout(function () { null.boom; }, 0);\n"
    monkeypatch.setattr(page, "_asset", lambda name: planted if name == "main.js" else real(name))
    line = planted.count("\n")
    with chrome() as driver:
        open_page(driver, render_page(models.clean_model()), tmp_path)
        errors = wait_until(lambda: driver.execute_script("return paxlab.errors"),
                            what="the planted error")
    assert len(errors) == 1 and f"(main.js line {line}:" in errors[0], errors
