"""Swarm testing: each seed of a sweep also draws which fault kinds are on and how often.

A fixed mix of every fault at one rate explores the same middle ground on every seed: a
kind that masks a bug (a crash that resets a livelocked leader) is always there to mask
it. Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012; TigerBeetle's
`src/vopr.zig, options_swarm`) lets each seed switch kinds off and change rates, so some
seeds run a sparse mix long enough for the bug to show. The draw stays within what the
config allows: only the config's own nemesis kinds, rates around its own interval, loss
and duplication no higher than its network section.

Pure and deterministic: every draw comes from `random.Random(f"{seed}:swarm")` (STYLE.md
section 5), so `paxlab sim CONFIG --seed N --swarm` replays seed N of a sweep exactly.
"""

from __future__ import annotations

import dataclasses
import random

from paxlab.config.types import Config, Fault, Nemesis, NetworkConfig

__all__ = ["INTERVAL_SCALES", "LOSS_LEVELS", "swarm_config"]

INTERVAL_SCALES: tuple[float, ...] = (0.5, 0.75, 1.0, 1.5, 2.0)
"""Factors a nemesis's interval_ms is multiplied by: twice as dense down to half as dense."""

LOSS_LEVELS: tuple[float, ...] = (0.0, 0.5, 1.0)
"""Fractions of the config's drop and duplicate probabilities a seed runs with: the
config's values are the ceiling, so a swarm never loses more than the config allows."""

NO_NEMESIS = "swarm: the config has no nemesis, so nothing is drawn (the config as written)"


def _draw_nemesis(nemesis: Nemesis, rng: random.Random) -> tuple[Nemesis, str]:
    """A non-empty subset of the kinds (in the config's order) and a scaled interval."""
    size = rng.randint(1, len(nemesis.kinds))
    chosen = set(rng.sample(nemesis.kinds, size))
    kinds = tuple(kind for kind in nemesis.kinds if kind in chosen)
    scale = rng.choice(INTERVAL_SCALES)
    interval_ms = max(1, round(nemesis.interval_ms * scale))
    drawn = dataclasses.replace(nemesis, kinds=kinds, interval_ms=interval_ms)
    return drawn, f"kinds {', '.join(kinds)}; interval {interval_ms} ms (x{scale:g})"


def _draw_network(network: NetworkConfig, rng: random.Random) -> tuple[NetworkConfig, str]:
    drop = rng.choice(LOSS_LEVELS) * network.drop_probability
    duplicate = rng.choice(LOSS_LEVELS) * network.duplicate_probability
    drawn = dataclasses.replace(network, drop_probability=drop, duplicate_probability=duplicate)
    return drawn, (f"network drop_probability {drop:g} (of {network.drop_probability:g}), "
                   f"duplicate_probability {duplicate:g} (of {network.duplicate_probability:g})")


def swarm_config(config: Config, seed: int) -> tuple[Config, list[str]]:
    """The config seed `seed` runs under swarm testing, and one line per option it drew.

    Each `nemesis` fault keeps its at_ms, until_ms and seed, and gets a non-empty subset
    of its kinds and its interval_ms scaled by one of INTERVAL_SCALES (at least 1 ms); then,
    if the network section loses or duplicates at all, its drop and duplicate probabilities
    are each scaled by one of LOSS_LEVELS. A
    config without a nemesis is returned unchanged, with a line that says so: its faults
    are a fixed schedule the user wrote, not a mix to draw from.
    """
    if not any(isinstance(fault, Nemesis) for fault in config.faults):
        return config, [NO_NEMESIS]
    rng = random.Random(f"{seed}:swarm")
    faults: list[Fault] = []
    lines: list[str] = []
    for index, fault in enumerate(config.faults):
        if isinstance(fault, Nemesis):
            fault, line = _draw_nemesis(fault, rng)
            lines.append(f"swarm: faults[{index}] nemesis {line}")
        faults.append(fault)
    network = config.network
    if network.drop_probability > 0 or network.duplicate_probability > 0:
        network, line = _draw_network(network, rng)  # the last draw: nothing after it moves
        lines.append(f"swarm: {line}")
    return dataclasses.replace(config, faults=tuple(faults), network=network), lines
