"""How the checks name chains and pick the one they read: where each chain starts (a
server that installed a snapshot holds none below it), which is the reference for the
write and read checks, and the phrases their details use. Shared by check.chains,
check.kv, check.writes and check.reads.

After compaction a server's chain file still starts at height 0 (it keeps the blocks it
compacted in an archive), except for a server that fell so far behind that it installed a
snapshot from a peer: it never held the blocks below that snapshot, so its file starts at
the snapshot height b (`chain_start`). Chains are compared at the heights they share, and
the checks that read one chain prefer one that starts at 0 (`reference_server`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paxlab.check.blocks import is_int

__all__ = [
    "behind_phrase",
    "by_preference",
    "chain_start",
    "chain_starts",
    "chain_where",
    "holds_phrase",
    "partial_note",
    "reference_server",
    "servers_phrase",
    "snapshot_note",
]


def servers_phrase(server_ids: Sequence[int]) -> str:
    """Say "server 1" or "servers 0, 2", so messages read naturally for one or many."""
    ids = ", ".join(str(s) for s in server_ids)
    return f"server {ids}" if len(server_ids) == 1 else f"servers {ids}"


def chain_start(chain: Sequence[Any]) -> int:
    """The height a chain starts at: its first block's height field when that is an
    integer above 0 (a server that installed a snapshot holds no block below it), else 0
    (an empty chain, or a first block without a usable height: chains_valid then judges
    it as the block at height 0 and says what is wrong with it)."""
    if chain:
        first = chain[0]
        height = first.get("height") if isinstance(first, dict) else None
        if is_int(height) and height > 0:
            return height
    return 0


def chain_starts(chains: Mapping[int, Sequence[Any]]) -> dict[int, int]:
    """chain_start of every server's chain, by server id."""
    return {sid: chain_start(chain) for sid, chain in chains.items()}


def holds_phrase(sid: int, start: int, length: int) -> str:
    """'server 2 holds blocks 40..199: it installed a snapshot at 40'; for a chain from
    0, 'server 0 holds blocks 0..199'."""
    held = f"blocks {start}..{start + length - 1}" if length else "no block"
    note = f": it installed a snapshot at {start}" if start else ""
    return f"server {sid} holds {held}{note}"


def chain_where(sid: int, chain: Sequence[dict], start: int) -> str:
    """How the checks name the chain they read: "server 0's chain (199 blocks)", or for a
    chain from a snapshot "server 2's chain (blocks 40..199, from a snapshot)"."""
    if start:
        return f"server {sid}'s chain (blocks {start}..{start + len(chain) - 1}, from a snapshot)"
    return f"server {sid}'s chain ({len(chain)} blocks)"


def snapshot_note(chains: Mapping[int, Sequence[Any]], starts: Mapping[int, int]) -> str:
    """'; server 2 holds blocks 40..199: it installed a snapshot at 40' for each chain
    that starts above 0, or '' when every chain starts at 0."""
    return "".join(f"; {holds_phrase(sid, starts[sid], len(chains[sid]))}"
                   for sid in sorted(chains) if starts.get(sid))  # fmt: skip


def behind_phrase(chains: Mapping[int, Sequence[Any]]) -> str:
    """Who had not caught up with the longest chain, furthest behind first: "servers 1, 3
    had not caught up (2 of 6 blocks); server 0 had not caught up (5 of 6 blocks)", or ""
    when every chain is as long as the longest. What a partial run's verdicts say. A
    chain from a snapshot counts up to its tip: "server 2 had not caught up (blocks
    40..149 of 200)"."""
    starts = chain_starts(chains)
    ends = {sid: starts[sid] + len(chain) for sid, chain in chains.items()}
    longest = max(ends.values(), default=0)
    by_end: dict[tuple[int, int], list[int]] = {}
    for sid in sorted(ends):
        if ends[sid] < longest:
            by_end.setdefault((ends[sid], starts[sid]), []).append(sid)
    return "; ".join(
        f"{servers_phrase(sids)} had not caught up "
        f"({f'blocks {start}..{end - 1}' if start else end} of {longest} blocks)"
        for (end, start), sids in sorted(by_end.items())
    )


def partial_note(chains: Mapping[int, Sequence[Any]]) -> str:
    """What the write checks add to their details in a partial run when some server had
    not caught up: they judge the longest chain, whose prefixes the others hold."""
    behind = behind_phrase(chains)
    return f"; partial run: judged against the longest chain; {behind}" if behind else ""


def reference_server(chains: Mapping[int, Sequence[dict]]) -> int | None:
    """The chain that write checks read: the longest that starts at 0, the lowest server
    id on a tie (so equal chains always give server min id). When every chain starts
    above 0 (each server installed a snapshot), the one reaching highest; the checks
    that read it then see only its heights and say so. None when there are no chains."""
    if not chains:
        return None
    return by_preference(chains, chain_starts(chains))[0]


def by_preference(chains: Mapping[int, Sequence[Any]], starts: Mapping[int, int]
                   ) -> list[int]:  # fmt: skip
    """Server ids in reference order: chains from 0 first, then by tip (highest first),
    start (lowest first) and id. With every chain from 0: the longest, then lowest id."""
    return sorted(chains, key=lambda sid: (starts[sid] != 0, -(starts[sid] + len(chains[sid])),
                                           starts[sid], sid))  # fmt: skip
