"""Snapshots: the applied state at one height, so a server can forget the blocks below it.

A long-lived server must not grow without end: its chain, its record file and its
(client, seq) table would, one entry per operation. Every `snapshot_every` blocks the
replica folds what it applied into a `Snapshot` (the KV store, the exactly-once table
and the hash of the tip it stands on) and asks its driver, through `Output.compaction`,
to make it durable and rewrite the record file behind it (`paxlab.storage`; the
`Compaction` in `paxlab.core.output` says how). It keeps
the last `retain_blocks` blocks below the snapshot, so a follower a little behind still
catches up block by block; one further behind gets the snapshot itself
(`InstallSnapshot`) and then the blocks after it.

The dict form (`to_dict`) is the snapshot file's payload and the wire form, a contract
documented in docs/storage.md:

    {"height": 1200, "tip": "00ab...", "kv": {"'k'": "1", ...},
     "clients": [[client, [[lo, hi], ...], last_seq, last_value], ...]}

`height` counts the blocks folded in (0..height-1); `tip` is the hash of block height-1
(64 zeros at height 0); `clients` is the exactly-once table (`paxlab.core.kv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paxlab.core.chain import GENESIS_PREV
from paxlab.core.errors import RemoteError
from paxlab.core.kv import ClientSeqs, KVStore, TxnResult

__all__ = ["Snapshot"]

_HASH_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """The applied state after blocks 0..height-1. Immutable: the replica copies its KV
    store and table into one, so the driver may write it while the replica moves on."""

    height: int
    tip: str
    kv: tuple[tuple[str, str], ...]  # sorted by key
    clients: tuple[tuple[int, tuple[tuple[int, int], ...], int, str | None], ...]

    def __post_init__(self) -> None:
        if not (_is_int(self.height) and self.height >= 0):
            raise RemoteError(f"snapshot height must be an int >= 0, got {self.height!r}")
        if not (isinstance(self.tip, str) and len(self.tip) == 64
                and set(self.tip) <= _HASH_CHARS):
            raise RemoteError(f"snapshot tip must be 64 lowercase hex chars, got {self.tip!r}")
        if self.height == 0 and self.tip != GENESIS_PREV:
            raise RemoteError("a snapshot at height 0 stands on genesis: tip must be zeros")

    @classmethod
    def of(cls, height: int, tip: str, kv: KVStore) -> Snapshot:
        """A snapshot of `kv` as it stands after block height-1 (whose hash is `tip`)."""
        clients = tuple(
            (client, tuple((lo, hi) for lo, hi in seqs.ranges), seqs.last_seq,
             seqs.last_result.value)
            for client, seqs in sorted(kv.clients.items())
        )
        return cls(height=height, tip=tip, kv=tuple(sorted(kv.data.items())), clients=clients)

    def to_kv(self) -> KVStore:
        """A fresh KVStore holding this snapshot's state."""
        store = KVStore(data=dict(self.kv))
        for client, ranges, last_seq, last_value in self.clients:
            store.clients[client] = ClientSeqs(
                ranges=[[lo, hi] for lo, hi in ranges], last_seq=last_seq,
                last_result=TxnResult(value=last_value))
        return store

    def describe(self) -> str:
        return (f"snapshot height={self.height} tip={self.tip[:6]} keys={len(self.kv)} "
                f"clients={len(self.clients)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "tip": self.tip,
            "kv": dict(self.kv),
            "clients": [[c, [[lo, hi] for lo, hi in r], s, v] for c, r, s, v in self.clients],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Snapshot:
        """Validate and build; RemoteError names what is wrong (a file or a peer's)."""
        if not isinstance(data, dict) or set(data) != {"height", "tip", "kv", "clients"}:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise RemoteError(f"snapshot must have height, tip, kv and clients; got {keys}")
        kv = data["kv"]
        if not (isinstance(kv, dict) and all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in kv.items())):
            raise RemoteError("snapshot kv must map key repr strings to value repr strings")
        clients = data["clients"]
        if not isinstance(clients, list):
            raise RemoteError("snapshot clients must be a list")
        return cls(height=data["height"], tip=data["tip"], kv=tuple(sorted(kv.items())),
                   clients=tuple(_client_from(item) for item in clients))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _client_from(item: Any) -> tuple[int, tuple[tuple[int, int], ...], int, str | None]:
    """[client, [[lo, hi], ...], last_seq, last_value]: ranges sorted, disjoint, not
    touching, and last_seq inside one of them."""
    if not (isinstance(item, list) and len(item) == 4 and _is_int(item[0])
            and isinstance(item[1], list) and _is_int(item[2])
            and (item[3] is None or isinstance(item[3], str))):
        raise RemoteError(f"bad snapshot client entry {item!r}")
    ranges: list[tuple[int, int]] = []
    for pair in item[1]:
        if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_int, pair))
                and pair[0] <= pair[1]):
            raise RemoteError(f"bad seq range {pair!r} for client {item[0]}")
        if ranges and pair[0] <= ranges[-1][1] + 1:
            raise RemoteError(f"seq ranges of client {item[0]} overlap or are out of order")
        ranges.append((pair[0], pair[1]))
    if not ranges or not any(lo <= item[2] <= hi for lo, hi in ranges):
        raise RemoteError(f"client {item[0]}: last_seq {item[2]} is not in its ranges")
    return item[0], tuple(ranges), item[2], item[3]
