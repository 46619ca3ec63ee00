"""Soak: every shipped config over several seeds. Marked slow: `python -m pytest -m slow`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from paxlab.config import load_config, with_seed
from paxlab.lab import run_lab

CONFIGS = sorted(Path(__file__).resolve().parents[2].joinpath("configs").glob("*.yaml"))
SEEDS = range(2, 12)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_passes_under_many_seeds(path: Path, seed: int, tmp_path: Path) -> None:
    config = with_seed(load_config(path), seed)
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, [(c.name, c.verdict, c.details) for c in outcome.checks]
