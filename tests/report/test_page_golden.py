"""Same run, same bytes: the simulator is deterministic, so two separate runs of one seed,
each written to its own results folder, must draw byte-identical pages (given the same
folder name, the one thing that differs). That is what lets a page be a golden file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from paxlab.report import write_report
from tests.report.runs import sim_folder


def _page_of_a_fresh_run(root: Path, config: str, seed: int, mutant: str | None) -> bytes:
    root.mkdir()
    run_dir = sim_folder(root, config, seed, mutant).rename(root / "the-run")
    return write_report(run_dir).read_bytes()


@pytest.mark.parametrize(("config", "seed", "mutant"), [
    ("nemesis", 3, None), ("basic", 2, "stale-read")])
def test_two_runs_of_one_seed_draw_the_same_page(tmp_path: Path, config: str, seed: int,
                                                  mutant: str | None) -> None:
    first = _page_of_a_fresh_run(tmp_path / "a", config, seed, mutant)
    second = _page_of_a_fresh_run(tmp_path / "b", config, seed, mutant)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    other_seed = _page_of_a_fresh_run(tmp_path / "c", config, seed + 1, mutant)
    assert other_seed != first  # the page does depend on the run
