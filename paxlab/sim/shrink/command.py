"""`paxlab sim CONFIG --seed N --shrink`: shrink a failing seed, write its reproducer, and
replay the reproducer once to show that it fails the same check.

The replay is the proof a user needs before filing the file: it is loaded back from disk
with the same loader `paxlab sim` and `paxlab run` use, and run once more.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from paxlab.config import load_config
from paxlab.config.types import Config
from paxlab.results.report import render_checks
from paxlab.sim.shrink.reproducer import Origin, replay_commands, write_reproducer
from paxlab.sim.shrink.search import failure_kinds, trial
from paxlab.sim.shrink.shrinker import ShrinkError, ShrinkResult, shrink
from paxlab.sim.sweep import announce

__all__ = ["run_shrink"]


def _origin(config: Config, config_arg: str, result: ShrinkResult,
            drawn: list[str]) -> Origin:
    notes = [f"Shrunk by paxlab sim --shrink in {result.simulations} simulations: "
             f"{result.sizes_line()}"]
    if result.pin_note:
        notes.append(f"Note: {result.pin_note}")
    swarm = "; ".join(line.removeprefix("swarm: ") for line in drawn) or None
    return Origin(config_file=config_arg, name=config.name, swarm=swarm, notes=tuple(notes))


def _replay(path: Path, seed: int, mutant: str | None, failed_check: str, out: TextIO) -> bool:
    """Load the reproducer from disk and run it once; True if `failed_check` fails again."""
    checks, _ = trial(load_config(path), seed, mutant)
    again = failed_check in {kind.split(":", 1)[0] for kind in failure_kinds(checks)}
    if again:
        out.write(f"replayed {path}: {failed_check} fails again\n")
    else:
        fails = ", ".join(failure_kinds(checks)) or "nothing"
        out.write(f"warning: replaying {path} did not fail {failed_check} (it fails: {fails})\n")
    return again


def run_shrink(config: Config, seed: int, out: TextIO, config_arg: str, mutant: str | None,
               repro_dir: Path, budget: int, swarm: bool = False) -> bool:
    """Shrink one seed (with its swarm draw if `swarm`, as `run_one` runs it) and print
    each step; True if the seed passes, so there is nothing to shrink."""
    config, drawn = announce(config, seed, out, mutant, swarm)
    first = trial(config, seed, mutant)
    out.write(render_checks(first[0]) + "\n")
    if failing := failure_kinds(first[0]):
        out.write(f"shrinking while one of {', '.join(failing)} still fails "
                  f"(at most {budget} simulations)\n")
    try:
        result = shrink(config, seed, mutant, budget=budget, first=first,
                        progress=lambda line: out.write(f"  shrink: {line}\n"))
    except ShrinkError as error:
        out.write(f"{error}\n")
        return True
    if result.pin_note:
        out.write(f"note: {result.pin_note}\n")
    if not result.reproduces:
        out.write(f"no reproducer written: {result.stopped}\n")
        return False
    out.write(f"shrunk in {result.simulations} simulations, {result.elapsed_s:.1f} s "
              f"({result.stopped}): {result.sizes_line()}\n")
    others = [kind for kind in failure_kinds(result.checks) if kind != result.failed_check]
    also = f" (also: {', '.join(others)})" if others else ""
    out.write(f"still fails: {result.failed_check}{also}\n")
    path = write_reproducer(result.config, seed, mutant, result.failed_check,
                            _origin(config, config_arg, result, drawn), repro_dir)
    out.write(f"reproducer: {path}\n")
    for command in replay_commands(path, seed, mutant):
        out.write(f"replay with: {command}\n")
    _replay(path, seed, mutant, result.failed_check, out)
    return False
