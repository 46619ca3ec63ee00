"""Golden trace digests: the simulator's behaviour pinned, config by config, seed by seed.

The redesign of issue 11 must keep every simulated run bit for bit the same. This module
computes, for a config and a seed, one digest each of the history, the chains, the KV
stores, and the rest of the trace (applied faults, message and disk counts, end time), and
compares them with `testdata/golden_digests.json`, recorded on the code before any move.
The event count is left out on purpose: it counts the driver's internal wake-ups, which a
driver may merge without changing what any node sees.

Regenerate (only for a deliberate behaviour change, in its own commit, saying why):
    python -m tests.sim.golden --write
Check that recording the messages (as `paxlab sim --out` does) changes no run:
    python -m tests.sim.golden --record
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from paxlab.sim import simulate
from tests.sim.helpers import CONFIGS, shipped

__all__ = ["GOLDEN", "NAMES", "SEEDS", "digests", "load_golden"]

GOLDEN = Path(__file__).parent / "testdata" / "golden_digests.json"
NAMES = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
SEEDS = range(1, 21)


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def digests(name: str, seed: int, record: bool = False) -> dict[str, str]:
    """The four digests of one simulated run of configs/NAME.yaml with `seed`; with
    `record`, the run records its messages (to a file thrown away)."""
    if record:
        with tempfile.TemporaryDirectory() as folder:
            run = simulate(shipped(name), seed, messages_to=Path(folder) / "messages.jsonl")
    else:
        run = simulate(shipped(name), seed)
    records = run.records
    counts = {k: v for k, v in run.counts.items() if k != "events"}
    return {
        "history": _sha(records.history),
        "chains": _sha({str(s): [b["hash"] for b in bs] for s, bs in records.chains.items()}),
        "kvs": _sha({str(s): kv for s, kv in records.kvs.items()}),
        "rest": _sha({"faults": run.trace_faults(), "counts": counts, "end_ms": run.duration_ms,
                      "quiescent": run.quiescent, "errors": run.errors}),
    }


def load_golden() -> dict[str, dict[str, dict[str, str]]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the digests anew")
    parser.add_argument("--names", nargs="*", default=NAMES)
    parser.add_argument("--record", action="store_true",
                        help="compare runs that record their messages")
    args = parser.parse_args()
    if not args.write:
        golden = load_golden()
        bad = [(n, s) for n in args.names for s in SEEDS
               if digests(n, s, args.record) != golden[n][str(s)]]
        print("all digests equal" if not bad else f"differ: {bad}")
        raise SystemExit(1 if bad else 0)
    table = {name: {str(seed): digests(name, seed) for seed in SEEDS} for name in NAMES}
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}: {len(NAMES)} configs x {len(SEEDS)} seeds")


if __name__ == "__main__":
    main()
