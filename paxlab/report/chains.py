"""The chain grid (server x height, each cell a block hash) and the keys whose values differ
between servers' KV stores.

Hashes are shown by their first 8 hex digits; the table is keyed by the full hash, so two
blocks that only share a prefix still get two colours. Cells hold -1 where a server has
no readable block at that height.

A server that installed a snapshot holds its chain only from the snapshot height: its row
of cells starts there (`start`, per server), so cell i of row k is height start[k] + i;
the page draws it at those heights and nothing below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paxlab.report.ops import key_order

__all__ = ["HASH_CHARS", "chain_grid", "kv_diff"]

HASH_CHARS = 8


def chain_grid(chains: Mapping[int, list[dict | None]], node_index: Mapping[str, int],
               starts: Mapping[int, int] | None = None) -> dict[str, Any]:  # fmt: skip
    """The model's "chains": servers in id order, the height each row starts at, their
    lengths (cells held), the hash table, cells, and the first height at which two
    servers hold different blocks (None: none do). `chains` are lists by height (None
    below a chain's start), as read.RunFiles holds them."""
    starts = starts or {}
    table: dict[str, int] = {}
    shown: list[str] = []
    cells: list[list[int]] = []
    first: list[int] = []
    for sid in sorted(chains):
        row = []
        start = starts.get(sid, 0)
        first.append(start)
        for block in chains[sid][start:]:
            if block is None:
                row.append(-1)
                continue
            digest = block["hash"]
            index = table.get(digest)
            if index is None:
                index = table[digest] = len(shown)
                shown.append(digest[:HASH_CHARS])
            row.append(index)
        cells.append(row)
    return {"servers": [node_index[f"s{sid}"] for sid in sorted(chains)], "start": first,
            "length": [len(row) for row in cells], "hashes": shown, "cells": cells,
            "diverge_at": _diverge_at(cells, first)}


def _diverge_at(cells: list[list[int]], starts: list[int]) -> int | None:
    """The lowest height at which two readable cells differ (row k's cell i is height
    starts[k] + i)."""
    highest = max((start + len(row) for start, row in zip(starts, cells, strict=True)),
                  default=0)  # fmt: skip
    spans = list(zip(starts, cells, strict=True))
    for height in range(min(starts, default=0), highest):
        here = {row[height - start] for start, row in spans
                if start <= height < start + len(row) and row[height - start] >= 0}  # fmt: skip
        if len(here) > 1:
            return height
    return None


def kv_diff(kvs: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Each key some server's store holds with a value another's lacks or differs from,
    with every server's value (None: not there), keys in natural order."""
    if len(kvs) < 2:
        return []
    sids = sorted(kvs)
    keys = set().union(*(kvs[sid].keys() for sid in sids))
    rows = []
    for key in sorted(keys, key=key_order):
        values = {f"s{sid}": kvs[sid].get(key) for sid in sids}
        if len(set(values.values())) > 1:
            rows.append({"key": key, "values": values})
    return rows
