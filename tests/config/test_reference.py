"""docs/configuration.md: its tables are the schema rendered, and every example is valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from paxlab.config import parse_config, reference
from paxlab.config.fault_schema import FAULT_KEYS
from paxlab.config.reference import REGENERATE, drifted_tables, render_tables, rewrite_doc
from tests.config.helpers import ROOT

DOC = ROOT / "docs" / "configuration.md"


def test_doc_holds_the_tables_generated_from_the_schema() -> None:
    problems = drifted_tables(DOC.read_text())
    assert not problems, (
        "docs/configuration.md is out of date: " + "; ".join(problems)
        + f"; regenerate with: {REGENERATE}"
    )


def test_a_drifted_table_is_named_and_rewritten_in_place() -> None:
    tables = render_tables()
    doc = DOC.read_text()
    stale = doc.replace(tables["network"], tables["network"].replace("Mean one-way", "Mean"))
    assert stale != doc
    assert drifted_tables(stale) == ["the 'network' table differs from the schema"]
    assert rewrite_doc(stale) == doc
    no_block = doc.replace("<!-- generated: checks -->", "<!-- generated: checkz -->")
    assert drifted_tables(no_block)[0].startswith("the 'checks' table has no generated block")
    assert rewrite_doc(doc + "\nprose\n") == doc + "\nprose\n"


def test_every_yaml_example_in_the_doc_is_a_valid_config() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 20  # the intro, two workloads and one per fault action
    for block in blocks:
        parse_config(yaml.safe_load(block), "docs/configuration.md")
    actions = {f["action"] for b in blocks for f in yaml.safe_load(b).get("faults") or []}
    assert actions == set(FAULT_KEYS)


def test_the_command_checks_and_rewrites_only_the_generated_blocks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = DOC.read_text()
    network = render_tables()["network"]
    stale = good.replace(network, network.replace("Mean one-way", "Mean")) + "\nmy prose\n"
    doc = tmp_path / "configuration.md"
    doc.write_text(stale)
    assert reference.main(["--doc", str(doc)]) == 1
    err = capsys.readouterr().err
    assert "the 'network' table differs from the schema" in err and REGENERATE in err
    assert doc.read_text() == stale
    assert reference.main(["--doc", str(doc), "--write"]) == 0
    assert doc.read_text() == good + "\nmy prose\n"
    assert reference.main(["--doc", str(doc)]) == 0
