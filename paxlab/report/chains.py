"""The chain grid (server x height, each cell a block hash) and the keys whose values differ
between servers' KV stores.

Hashes are shown by their first 8 hex digits; the table is keyed by the full hash, so two
blocks that only share a prefix still get two colours. Cells hold -1 where a server has
no readable block at that height.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paxlab.report.ops import key_order

__all__ = ["HASH_CHARS", "chain_grid", "kv_diff"]

HASH_CHARS = 8


def chain_grid(chains: Mapping[int, list[dict | None]], node_index: Mapping[str, int]
               ) -> dict[str, Any]:  # fmt: skip
    """The model's "chains": servers in id order, their lengths, the hash table, cells, and
    the first height at which two servers hold different blocks (None: none do)."""
    table: dict[str, int] = {}
    shown: list[str] = []
    cells: list[list[int]] = []
    for sid in sorted(chains):
        row = []
        for block in chains[sid]:
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
    return {"servers": [node_index[f"s{sid}"] for sid in sorted(chains)],
            "length": [len(row) for row in cells], "hashes": shown, "cells": cells,
            "diverge_at": _diverge_at(cells)}


def _diverge_at(cells: list[list[int]]) -> int | None:
    """The lowest height at which two readable cells differ."""
    longest = max((len(row) for row in cells), default=0)
    for height in range(longest):
        here = {row[height] for row in cells if height < len(row) and row[height] >= 0}
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
