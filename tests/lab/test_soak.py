"""Soak: every shipped config over several seeds, and nemesis_mix over 20 seeds.

Marked slow, so the default suite stays fast: run with `python -m pytest -m slow`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from paxlab.config import load_config, with_seed
from paxlab.lab import run_lab

CONFIGS = sorted(Path(__file__).resolve().parents[2].joinpath("configs").glob("*.yaml"))


def _run(path: Path, seed: int, tmp_path: Path) -> None:
    config = with_seed(load_config(path), seed)
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, (seed, outcome.errors,
                            [(c.name, c.verdict, c.details) for c in outcome.checks])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 5))
@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_passes_under_more_seeds(path: Path, seed: int, tmp_path: Path) -> None:
    _run(path, seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 21))
def test_nemesis_mix_over_twenty_seeds(seed: int, tmp_path: Path) -> None:
    _run(CONFIGS[0].parent / "nemesis_mix.yaml", seed, tmp_path)
