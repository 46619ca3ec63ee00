"""Which servers a fault's target names: an id, a list, leader, random, minority, majority
or all. Pure, so the lab and the simulator resolve targets the same way."""

from __future__ import annotations

import random
from typing import Any

from paxlab.core.ids import server_node

__all__ = ["resolve_servers"]


def resolve_servers(
    target: Any, servers: list[str], pool: list[str], leader: str | None, rng: random.Random
) -> list[str]:
    """The servers a target names, chosen from `pool` (the ones the action applies to:
    running ones for crash and pause, crashed ones for restart, paused ones for resume)."""
    pool = sorted(pool)
    if isinstance(target, int):
        chosen = [server_node(target)]
    elif isinstance(target, tuple):
        chosen = [server_node(t) for t in target]
    elif target == "leader":
        chosen = [leader] if leader is not None else []
    elif target == "all":
        chosen = pool
    elif target == "random":
        chosen = [rng.choice(pool)] if pool else []
    else:
        size = (len(servers) - 1) // 2 if target == "minority" else len(servers) // 2 + 1
        chosen = sorted(rng.sample(pool, min(size, len(pool))))
    return [node for node in chosen if node in pool]
