"""Results folders for the report's tests, made in-process by the simulator in well under a
second each, and helpers to write hand-made message files and to damage folders.

`sim_folder` writes what `paxlab sim --out` writes; `write_messages` writes a message
file in the contract's format (section 1) for tests that need exact messages.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from paxlab.config import Config
from paxlab.sim.run import simulate, write_results
from tests.sim.helpers import shipped, short_nemesis
from tests.sim.test_mutants import leader_churn

__all__ = ["HEADER", "copy_run", "damage", "fast", "sim_folder", "write_messages"]

HEADER = {"format": "paxlab-messages", "version": 1, "driver": "sim", "time_unit": "us"}


def fast(config: Config) -> Config:
    """Cheap proof of work: the report does not care how hard the blocks were to seal."""
    return dataclasses.replace(config, cluster=dataclasses.replace(config.cluster, difficulty=2))


CONFIGS = {
    "basic": lambda: fast(shipped("basic")),
    "nemesis": short_nemesis,
    "leader_crash": lambda: fast(shipped("leader_crash")),
    "churn": leader_churn,
}


def sim_folder(root: Path, config: str = "basic", seed: int = 1, mutant: str | None = None
               ) -> Path:  # fmt: skip
    """A results folder of one simulated run of CONFIGS[config], messages.jsonl included,
    as `paxlab sim --out` writes it."""
    made = CONFIGS[config]()
    fd, name = tempfile.mkstemp(dir=root, suffix=".messages.jsonl")
    os.close(fd)
    run = simulate(made, seed, mutant, messages_to=Path(name))
    return write_results(run, made, Path(root))


def copy_run(run_dir: Path, root: Path, name: str) -> Path:
    """A copy of a results folder to damage without touching the original."""
    target = Path(root) / name
    shutil.copytree(run_dir, target, symlinks=True)
    return target


def damage(path: Path, *, truncate_bytes: int = 0, line: int | None = None,
           text: str = "{not json") -> None:
    """Cut the last `truncate_bytes` bytes of a file, or replace its line `line` (1-based)."""
    data = path.read_bytes()
    if truncate_bytes:
        path.write_bytes(data[:-truncate_bytes])
    if line is not None:
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[line - 1] = text
        path.write_text("\n".join(lines), encoding="utf-8")


def write_messages(run_dir: Path, lines: Iterable[list[Any]], header: dict | None = None,
                   tail: str = "") -> Path:
    """messages.jsonl with `header` (HEADER by default), then each line, then `tail`."""
    path = Path(run_dir) / "messages.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(header if header is not None else HEADER) + "\n")
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
        f.write(tail)
    return path
