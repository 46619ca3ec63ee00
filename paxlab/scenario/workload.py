"""What each client does: a seeded closed-loop op generator, or a fixed script.

Pure: the client process asks `next_op(now_ms)` and gets the next operation and the
earliest time to submit it. Written values are unique per run (client * 1,000,000 + n),
so a value read names the one put that wrote it.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass

from paxlab.config.types import WorkloadConfig
from paxlab.core.client import Operation

__all__ = ["PlannedOp", "Workload", "make_workload", "planned_op_count"]

VALUE_STRIDE = 1_000_000


@dataclass(frozen=True, slots=True)
class PlannedOp:
    at_ms: int  # submit no earlier than this
    operation: Operation


class Workload:
    """Base: `next_op` returns None when this client has nothing more to do."""

    def next_op(self, now_ms: int, last_done_ms: int) -> PlannedOp | None:
        raise NotImplementedError


class GeneratedWorkload(Workload):
    def __init__(self, config: WorkloadConfig, client: int, rng: random.Random) -> None:
        self.config = config
        self.client = client
        self.rng = rng
        self.issued = 0
        self.keys = [repr(f"k{i}") for i in range(config.keys)]
        weights = (
            [1.0 / (rank + 1) ** config.zipf_exponent for rank in range(config.keys)]
            if config.key_distribution == "zipf"
            else [1.0] * config.keys
        )
        self.cumulative = list(itertools.accumulate(weights))
        # Read once rather than on every op: the config is frozen. `_random` is the same
        # generator's method, so the draws and their order are the same.
        self._random = rng.random
        self._total_weight = self.cumulative[-1]
        self._last_key = len(self.keys) - 1
        self._ops_max = config.ops_per_client
        self._duration_ms = config.duration_ms
        self._put_fraction = config.put_fraction
        self._think_time_ms = config.think_time_ms

    def _key(self) -> str:
        point = self._random() * self._total_weight
        return self.keys[min(bisect.bisect_right(self.cumulative, point), self._last_key)]

    def next_op(self, now_ms: int, last_done_ms: int) -> PlannedOp | None:
        if self._ops_max is not None and self.issued >= self._ops_max:
            return None
        if self._duration_ms is not None and now_ms >= self._duration_ms:
            return None
        self.issued += 1
        key = self._key()  # draws first, then the op kind: the order is part of the seed
        if self._random() < self._put_fraction:
            operation = Operation(op="put", key=key,
                                  value=repr(self.client * VALUE_STRIDE + self.issued))
        else:
            operation = Operation(op="get", key=key, value=None)
        return PlannedOp(last_done_ms + self._think_time_ms, operation)


class ScriptedWorkload(Workload):
    def __init__(self, config: WorkloadConfig, client: int) -> None:
        self.ops = [op for op in config.ops if op.client == client]
        self.index = 0

    def next_op(self, now_ms: int, last_done_ms: int) -> PlannedOp | None:
        if self.index >= len(self.ops):
            return None
        op = self.ops[self.index]
        self.index += 1
        return PlannedOp(at_ms=op.at_ms, operation=Operation(op=op.f, key=op.key, value=op.value))


def make_workload(config: WorkloadConfig, client: int, seed: int) -> Workload:
    if config.type == "scripted":
        return ScriptedWorkload(config, client)
    return GeneratedWorkload(config, client, random.Random(f"{seed}:client:{client}:workload"))


def planned_op_count(config: WorkloadConfig, clients: int) -> int | None:
    """Ops the run will issue, for progress; None when the workload runs for a duration."""
    if config.type == "scripted":
        return len(config.ops)
    if config.ops_per_client is not None:
        return config.ops_per_client * clients
    return None
