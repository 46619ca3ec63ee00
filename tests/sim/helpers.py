"""Configs for simulator tests: the shipped ones, and a short faulty one derived from
configs/nemesis_mix.yaml so hundreds of seeds fit in the default suite."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from paxlab.config import Config, load_config
from paxlab.config.types import Nemesis

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


def shipped(name: str) -> Config:
    return load_config(CONFIGS / f"{name}.yaml")


def short_nemesis() -> Config:
    """nemesis_mix in 1 s: a fault (or its undo) every 50 ms from 100 to 800 ms, clients
    thinking 20 ms between ops, and cheap proof of work. About 80 ms of CPU per seed."""
    config = shipped("nemesis_mix")
    (nemesis,) = config.faults
    assert isinstance(nemesis, Nemesis)
    return dataclasses.replace(
        config,
        name="nemesis_short",
        cluster=dataclasses.replace(config.cluster, difficulty=2),
        workload=dataclasses.replace(config.workload, duration_ms=1000, think_time_ms=20),
        faults=(dataclasses.replace(nemesis, at_ms=100, interval_ms=100, until_ms=800),),
    )
