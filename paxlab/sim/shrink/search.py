"""The engine of the shrinker: one search state, its budget, its cache, and ddmin.

`paxlab.sim.shrink.shrinker` decides what to drop (faults, clients, ops, the end of the run); this
module decides whether a smaller config still fails, and keeps the costs in check: every
candidate is validated as the config loader would (an invalid one costs no simulation),
every simulation is cached (the simulator is deterministic, so a config never needs two),
and the budget of simulations and seconds is checked before each one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from paxlab.check import CheckResult
from paxlab.config import ConfigError
from paxlab.config.types import Config
from paxlab.sim.run import SimRun, simulate, verdicts
from paxlab.sim.shrink.pin import count_ops, revalidate

__all__ = ["Search", "Tried", "failure_kinds", "invoked", "matches", "op_count", "trial"]

T = TypeVar("T")


def trial(config: Config, seed: int, mutant: str | None
          ) -> tuple[list[CheckResult], SimRun | None]:
    """Simulate and judge one config; an exception becomes a failed `crashed` check, as in
    a seed sweep, since a core assertion is a finding too."""
    try:
        sim_run = simulate(config, seed, mutant)
        return verdicts(sim_run), sim_run
    except Exception as error:
        return [CheckResult(name="crashed", verdict="fail",
                            details=f"{type(error).__name__}: {error}")], None


def _kind(check: CheckResult) -> str:
    if check.name == "crashed":
        return "crashed:" + check.details.split(":", 1)[0]
    return check.name


def failure_kinds(checks: Sequence[CheckResult]) -> tuple[str, ...]:
    """The kinds of failure in `checks`, in check order: a check's name, or
    `crashed:<ExceptionType>`. Unknown counts as failed, as in `checks_passed`."""
    return tuple(_kind(c) for c in checks if c.verdict != "pass")


def matches(kind: str, target: str) -> bool:
    """Does a failure of `kind` count as the `target` failing? A target `crashed` takes a
    crash of any exception type."""
    return kind == target or (target == "crashed" and kind.startswith("crashed:"))


@dataclass(frozen=True)
class Tried:
    """One simulated candidate: does it fail a target, its verdicts, and its size."""

    failing: bool
    checks: tuple[CheckResult, ...]
    run_ms: float
    invoked: int


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def invoked(sim_run: SimRun | None) -> int:
    """Ops the run's clients invoked (0 for a crashed run, which has no records)."""
    if sim_run is None:
        return 0
    return sum(1 for event in sim_run.records.history if event["type"] == "invoke")


def _chunks(items: list[T], n: int) -> list[list[T]]:
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for index in range(n):
        end = start + size + (1 if index < extra else 0)
        if end > start:
            out.append(items[start:end])
        start = end
    return out


class Search:
    """The state of one shrink: the best failing config so far, the cache and the budget."""

    def __init__(self, seed: int, mutant: str | None, targets: tuple[str, ...],
                 budget: int, deadline: float, clock: Callable[[], float],
                 progress: Callable[[str], None]) -> None:
        self.seed = seed
        self.mutant = mutant
        self.targets = targets
        self.budget = budget
        self.deadline = deadline
        self.clock = clock
        self.progress = progress
        self.simulations = 0
        self.cache: dict[Config, Tried] = {}
        self.steps: list[str] = []
        self.stopped = ""
        self.best: Config | None = None

    @property
    def exhausted(self) -> bool:
        return bool(self.stopped)

    def run(self, config: Config) -> Tried | None:
        """Simulate a valid config once (cached); None when the budget is spent."""
        if config in self.cache:
            return self.cache[config]
        if self.simulations >= self.budget:
            self.stopped = f"budget of {self.budget} simulations used"
            return None
        if self.clock() >= self.deadline:
            self.stopped = "time limit reached"
            return None
        self.simulations += 1
        checks, sim_run = trial(config, self.seed, self.mutant)
        kinds = failure_kinds(checks)
        tried = Tried(
            failing=any(matches(k, t) for k in kinds for t in self.targets),
            checks=tuple(checks), run_ms=sim_run.workload_ms if sim_run else 0.0,
            invoked=invoked(sim_run))
        self.cache[config] = tried
        return tried

    def fails(self, candidate: Config) -> Config | None:
        """The candidate, validated, if it still fails; None if not, invalid or no budget."""
        if self.exhausted:
            return None
        try:
            candidate = revalidate(candidate)
        except ConfigError:
            return None
        tried = self.run(candidate)
        return candidate if tried is not None and tried.failing else None

    def accept(self, candidate: Config, what: str) -> bool:
        """Make `candidate` the best if it fails and differs from it; report the step."""
        found = self.fails(candidate)
        if found is None or found == self.best:
            return False
        self.best = found
        line = (f"{what}: {_plural(len(found.faults), 'fault')}, "
                f"{_plural(op_count(found, self.cache[found]), 'op')} left "
                f"(simulation {self.simulations})")
        self.steps.append(line)
        self.progress(line)
        return True

    def ddmin(self, items: list[T], build: Callable[[list[T]], Config],
              label: Callable[[list[T]], str]) -> bool:
        """ddmin (complements only): drop halves, then smaller chunks, then single items,
        keeping each drop that still fails. `build` makes a config from the items kept,
        `label` names the items dropped for the progress line. True if anything dropped."""
        changed = False
        n = 2
        while items and not self.exhausted:
            for chunk in _chunks(items, min(n, len(items))):
                dropped = set(chunk)
                rest = [item for item in items if item not in dropped]
                if self.accept(build(rest), "dropped " + label(chunk)):
                    items, n, changed = rest, max(n - 1, 2), True
                    break
            else:
                if n >= len(items):
                    break
                n = min(len(items), 2 * n)
        return changed


def op_count(config: Config, tried: Tried) -> int:
    """Ops of a scripted config; for a generated one, the ops its run invoked."""
    ops = count_ops(config)
    return tried.invoked if ops is None else ops
