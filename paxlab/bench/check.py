"""`paxlab bench-check`: how fast the linearizable check decides a realistic history.

The history comes from a simulation, not from a run: closed-loop clients with random
latencies, each op taking effect at a random point inside its interval on one register per
key, so it is linearizable by construction. A few ops end info (some took effect, some
late, some never), a few fail, and one client is killed mid-op and restarted. The machines
are shared and noisy, so the same run also times a baseline (one key, the same clients,
1,000 ops: all contention on one register) and prints the ratio of their rates.
"""

from __future__ import annotations

import heapq
import math
import random
import sys
import time
from typing import TextIO

from paxlab.check.linearizable import check_linearizable
from paxlab.check.verdict import plain_table

__all__ = ["realistic_history", "run_check_bench"]

_BASELINE_OPS = 1_000
_NS_PER_MS = 1_000_000


def realistic_history(
    ops: int, keys: int, clients: int, seed: int, odd_fraction: float = 0.01
) -> list[dict]:
    """A linearizable history of `ops` ops in history.jsonl's shape, in time order.

    Latencies are 0.2 ms plus an exponential of mean 2 ms; puts write unique values; gets
    read the register at their point of effect. About odd_fraction of ops end info (half of
    those take effect, possibly after the info), a fifth as many fail (never applied), and
    one op is left open by a killed client, which restarts and goes on."""
    rng = random.Random(f"{seed}:check-bench")
    key_names = [repr(f"k{i}") for i in range(keys)]
    ready = [(rng.uniform(0, 1.0), c) for c in range(clients)]  # (time ms, client)
    heapq.heapify(ready)
    seqs = [0] * clients
    events: list[dict] = []
    effects: list[tuple[int, int, dict, dict | None]] = []  # (ns, tie, invoke, completion)
    killed_at = ops // 2
    for n in range(ops):
        t, c = heapq.heappop(ready)
        seqs[c] += 1
        f = "put" if rng.random() < 0.5 else "get"
        key = rng.choice(key_names)
        value = repr(f"{c}-{seqs[c]}") if f == "put" else None
        latency = 0.2 + rng.expovariate(1 / 2.0)
        effect = t + rng.uniform(0, latency)
        invoke = {"process": c, "type": "invoke", "f": f, "key": key, "value": value,
                  "seq": seqs[c], "time": round(t * _NS_PER_MS)}  # fmt: skip
        done = dict(invoke, type="ok", time=round((t + latency) * _NS_PER_MS))
        roll = rng.random()
        if n == killed_at:
            done, latency = None, 30.0  # killed; restarted after 30 ms with the next seq
            effect = t + rng.uniform(0, 60) if rng.random() < 0.5 else None
        elif roll < odd_fraction:
            latency = 20.0  # timed out: info, and the client moves on
            done = dict(invoke, type="info", value=None if f == "get" else value,
                        time=round((t + latency) * _NS_PER_MS))  # fmt: skip
            effect = t + rng.uniform(0, 40) if rng.random() < 0.5 else None
        elif roll < odd_fraction * 1.2:
            done = dict(invoke, type="fail", value=None if f == "get" else value)
            effect = None
        events.append(invoke)
        if done is not None:
            events.append(done)
        if effect is not None:
            effects.append((max(round(effect * _NS_PER_MS), invoke["time"]), n, invoke, done))
        heapq.heappush(ready, (t + latency + rng.uniform(0, 0.5), c))
    register: dict[str, str | None] = {}
    for _ns, _n, invoke, done in sorted(effects, key=lambda e: e[:2]):
        if invoke["f"] == "put":
            register[invoke["key"]] = invoke["value"]
        elif done is not None and done["type"] == "ok":
            done["value"] = register.get(invoke["key"])
    events.sort(key=lambda e: (e["time"], e["process"]))
    return events


def _measure(ops: int, keys: int, clients: int, seed: int) -> tuple[str, float]:
    history = realistic_history(ops, keys, clients, seed)
    started = time.perf_counter()
    verdict = check_linearizable(history).verdict
    return verdict, time.perf_counter() - started


def run_check_bench(
    ops: int = 10_000, keys: int = 10, clients: int = 8, seed: int = 1, out: TextIO = sys.stdout
) -> float:
    """Time the linearizable check on a generated history and on the one-key baseline,
    print both and their ratio, and return the main history's seconds."""
    out.write(f"paxlab bench-check: seed {seed}; histories generated linearizable\n")
    base_ops = min(ops, _BASELINE_OPS)
    variants = (("history", ops, keys), ("baseline (one key)", base_ops, 1))
    measured = [(label, n, k, *_measure(n, k, clients, seed)) for label, n, k in variants]
    rates = [n / seconds if seconds > 0 else math.inf for _, n, _, _, seconds in measured]
    rows = [
        [label, n, k, clients, verdict, f"{seconds:.3f}", f"{rate:,.0f}", f"{rate / rates[1]:.2f}x"]
        for (label, n, k, verdict, seconds), rate in zip(measured, rates, strict=True)
    ]
    headers = ("variant", "ops", "keys", "clients", "verdict", "seconds", "ops/s", "vs baseline")
    out.write(plain_table(rows, headers) + "\n")
    out.write(f"ops/s ratio history / baseline: {rates[0] / rates[1]:.2f}\n")
    return measured[0][4]


if __name__ == "__main__":
    run_check_bench()
