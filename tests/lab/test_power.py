"""A power cut under load in the real lab (configs/power_cut.yaml): with fsync always
nothing acknowledged is lost; with fsync never the process-buffer storage loses what was
not synced on every server at once, and the checks catch the lost writes (issue 14)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from paxlab.config import Config, load_config
from paxlab.lab import run_lab

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "power_cut.yaml"


def run(config: Config, tmp_path: Path) -> set[str]:
    """The checks that failed."""
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    faults = (outcome.run_dir / "summary.json").read_text()
    assert "crash all (s0, s1, s2)" in faults, "the power cut must hit every server"
    return {c.name for c in outcome.checks if c.verdict != "pass"}


def test_power_cut_with_fsync_always_loses_no_acknowledged_write(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    assert config.cluster.fsync == "always" and config.cluster.storage == "process_buffer"
    assert run(config, tmp_path) == set()


def test_power_cut_with_fsync_never_loses_acknowledged_writes(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    config = dataclasses.replace(config, cluster=dataclasses.replace(config.cluster,
                                                                     fsync="never"))
    assert "no_lost_writes" in run(config, tmp_path)
