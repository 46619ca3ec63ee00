"""The chain panel's model when a server's chain file starts above height 0 (it installed a
snapshot from a peer): its row starts at that height, each cell at its own height (the
file's line 1 is height b, not 0), and nothing below it is reported unread or different."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxlab.check import check_run, checks_passed
from paxlab.report import build_model
from paxlab.report.read import read_run
from tests.report.runs import copy_run, sim_folder
from tests.report.shape import assert_model_shape

SNAP = 15


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim_folder(tmp_path_factory.mktemp("runs"), "basic")


def _from_snapshot(run: Path, sid: int = 2, at: int = SNAP) -> Path:
    """Server `sid`'s chain file as after a snapshot install at `at`: blocks at..tip;
    the summary's recorded checks are dropped, so the report recomputes them."""
    path = run / "chains" / f"server-{sid}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[at:]))
    summary = json.loads((run / "summary.json").read_text())
    summary.pop("checks", None)
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def test_a_chain_from_a_snapshot_is_drawn_at_its_heights(basic: Path, tmp_path: Path) -> None:
    run = _from_snapshot(copy_run(basic, tmp_path, "snap"))
    assert checks_passed(check_run(run, partial=False))
    files = read_run(run)
    assert files.chain_starts == {0: 0, 1: 0, 2: SNAP}
    assert files.chains[2][:SNAP] == [None] * SNAP
    assert files.chains[2][SNAP]["height"] == SNAP
    model = build_model(run)
    assert_model_shape(model)
    chains = model["chains"]
    assert chains["start"] == [0, 0, SNAP]
    assert chains["length"] == [40, 40, 40 - SNAP]
    assert chains["cells"][2] == chains["cells"][0][SNAP:]  # cell i is height SNAP + i
    assert chains["diverge_at"] is None and model["kv_diff"] == []
    assert not [u for u in model["unread"] if u.startswith("chains/")], model["unread"]
    assert model["verdict"]["passed"], model["verdict"]
    assert -1 not in model["ops"]["height"]  # the final chain is one from 0


def test_a_different_block_in_a_chain_from_a_snapshot_diverges_at_its_height(
    basic: Path, tmp_path: Path
) -> None:
    run = _from_snapshot(copy_run(basic, tmp_path, "snap-fork"))
    path = run / "chains" / "server-2.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    block = json.loads(lines[5])  # height SNAP + 5
    block["hash"] = "f" * 64
    lines[5] = json.dumps(block) + "\n"
    path.write_text("".join(lines))
    model = build_model(run)
    assert model["chains"]["diverge_at"] == SNAP + 5
    assert model["verdict"]["passed"] is False
    checks = {c["name"]: c for c in model["verdict"]["checks"]}
    assert checks["chains_valid"]["verdict"] == "fail"


def test_a_gap_in_a_chain_from_a_snapshot_is_reported_at_its_height(basic: Path,
                                                                     tmp_path: Path) -> None:
    run = _from_snapshot(copy_run(basic, tmp_path, "snap-gap"))
    path = run / "chains" / "server-2.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + lines[4:]))  # height SNAP + 3 is missing
    files = read_run(run)
    assert files.chain_starts[2] == SNAP
    assert f"chains/server-2.jsonl: no readable block at height {SNAP + 3}" in files.unread
