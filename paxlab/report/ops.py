"""The clients' operations as columns: who asked what, when, how it ended, who answered,
and which block of the final chain holds it.

Ops pair an invoke with its completion by (process, seq), exactly as the checkers pair
them (`paxlab.check.ops.history_ops`), so an op on the page is the op a check names. An op
with no completion (an older folder, a Ctrl-C run) is drawn as `info` up to the run's end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paxlab.check.ops import history_ops

__all__ = ["OpsTable", "fill_heights", "final_chain", "key_order", "ops_table"]

_DIGITS = re.compile(r"(\d+)")


def key_order(key: str) -> tuple[Any, ...]:
    """Natural order of key reprs: 'k2' before 'k10'."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(key))  # fmt: skip


@dataclass
class OpsTable:
    """The model's "ops" columns, plus lookups the other builders need."""

    keys: list[str]
    columns: dict[str, list[Any]]
    row_of: dict[tuple[int, int], int] = field(default_factory=dict)  # (client, seq) -> row

    def to_model(self) -> dict[str, list[Any]]:
        return self.columns


def ops_table(history: Sequence[dict], end_us: int) -> OpsTable:
    """Every op in invoke order (ties by client, seq); times in us (ns // 1000)."""
    ops = history_ops(history)
    keys = sorted({op.key for op in ops}, key=key_order)
    key_index = {key: i for i, key in enumerate(keys)}
    columns: dict[str, list[Any]] = {name: [] for name in (
        "client", "seq", "f", "key", "value", "invoke_us", "end_us", "type", "server", "height")}
    client, seq, f, key, value = (columns[n] for n in ("client", "seq", "f", "key", "value"))
    invoke, end, kind = columns["invoke_us"], columns["end_us"], columns["type"]
    row_of: dict[tuple[int, int], int] = {}
    for row, op in enumerate(ops):
        client.append(op.process)
        seq.append(op.seq)
        f.append(op.f)
        key.append(key_index[op.key])
        value.append(op.value)
        invoke_us = op.invoke_ns // 1000
        invoke.append(invoke_us)
        if op.return_ns is None:
            end.append(max(end_us, invoke_us))
            kind.append("info")
        else:
            end.append(op.return_ns // 1000)
            kind.append(op.outcome)
        row_of.setdefault((op.process, op.seq), row)
    columns["server"] = [-1] * len(ops)
    columns["height"] = [-1] * len(ops)
    return OpsTable(keys, columns, row_of)


def final_chain(chains: dict[int, list[dict | None]],
                starts: Mapping[int, int] | None = None) -> list[dict | None]:  # fmt: skip
    """The chain the checks call final (their reference): the longest that starts at
    height 0, the lowest server id on a tie; when every chain starts above 0 (`starts`:
    each server installed a snapshot), the one reaching highest. Chains are lists by
    height, so their length is the height they reach."""
    if not chains:
        return []
    starts = starts or {}
    sid = min(chains, key=lambda s: (starts.get(s, 0) != 0, -len(chains[s]),
                                     starts.get(s, 0), s))  # fmt: skip
    return chains[sid]


def fill_heights(table: OpsTable, blocks: Iterable[dict | None]) -> None:
    """Each op's height: the first block of the final chain whose txns hold its
    (client, seq); -1 for an op no block holds."""
    heights = table.columns["height"]
    row_of = table.row_of
    for height, block in enumerate(blocks):
        if block is None:
            continue
        for txn in block["txns"]:
            if not isinstance(txn, dict):
                continue
            client, seq = txn.get("client"), txn.get("seq")
            if type(client) is not int or type(seq) is not int:  # a malformed txn
                continue
            row = row_of.get((client, seq))
            if row is not None and heights[row] == -1:
                heights[row] = height
