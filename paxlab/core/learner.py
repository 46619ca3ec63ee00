"""The learner: the decided chain, blocks decided ahead of a gap, and the applied KV store.

The chain in memory is a suffix: `chain[0]` is at height `base`. Blocks below `base` were
folded into a snapshot and compacted away (`paxlab.core.snapshot`); `base_tip` is the hash
of the block just below `chain[0]`, so the next block still links without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import GENESIS_PREV, Block, Txn
from paxlab.core.errors import RemoteError
from paxlab.core.kv import KVStore, TxnResult
from paxlab.core.snapshot import Snapshot

__all__ = ["Applied", "Learner"]


@fast_init
@dataclass(frozen=True, slots=True)
class Applied:
    """A block that just joined the chain, with each txn's result (for client replies)."""

    block: Block
    results: tuple[tuple[Txn, TxnResult], ...]


@dataclass(slots=True)
class Learner:
    """Keeps the chain contiguous: a decided block above a gap waits in `ahead`."""

    ahead_limit: int = 4096
    # Invariant: heights base..commit_index-1, linked, chain[0].prev == base_tip.
    chain: list[Block] = field(default_factory=list)
    ahead: dict[int, Block] = field(default_factory=dict)  # Invariant: keys > commit_index.
    kv: KVStore = field(default_factory=KVStore)
    base: int = 0  # the height of chain[0]: blocks below it were compacted away
    base_tip: str = GENESIS_PREV  # the hash of block base - 1 (genesis prev when base is 0)

    @property
    def commit_index(self) -> int:
        """Number of blocks decided (held or compacted); never decreases."""
        return self.base + len(self.chain)

    @property
    def tip_hash(self) -> str:
        return self.chain[-1].hash if self.chain else self.base_tip

    def block_at(self, height: int) -> Block | None:
        """The decided block at `height`, if it is still held (not compacted away)."""
        index = height - self.base
        if 0 <= index < len(self.chain):
            return self.chain[index]
        return None

    def blocks_from(self, height: int, count: int) -> tuple[Block, ...]:
        """Up to `count` held decided blocks from `height` on; () if `height` was compacted
        away (the caller sends a snapshot instead) or is not decided yet."""
        if height < self.base:
            return ()
        start = height - self.base
        return tuple(self.chain[start : start + count])

    def learn(self, block: Block) -> list[Applied]:
        """Record a decided (already verified) block; return the blocks that joined the chain.

        A block at a height we hold must be the same block: anything else means two
        blocks were chosen for one slot, which Paxos forbids, so it is a RemoteError the
        driver logs loudly. A block that does not link to the chain is refused the same way.
        """
        height = block.height
        commit_index = self.base + len(self.chain)
        if height < commit_index:
            held = self.block_at(height)
            if held is not None and held.hash != block.hash:
                raise RemoteError(
                    f"conflicting decided block at height {height}: have "
                    f"{held.hash[:12]}, got {block.hash[:12]}"
                )
            return []
        if height > commit_index:
            if len(self.ahead) < self.ahead_limit or height in self.ahead:
                self.ahead[height] = block
            return []
        if block.prev != self.tip_hash:
            raise RemoteError(
                f"decided block {height} links to {block.prev[:12]}, chain tip is "
                f"{self.tip_hash[:12]}"
            )
        joined = [self._append(block)]
        if not self.ahead:
            return joined  # the usual case: nothing was decided above a gap
        while (waiting := self.ahead.pop(self.base + len(self.chain), None)) is not None:
            if waiting.prev != self.tip_hash:
                break  # it was wrong; the real block will come by catch-up
            joined.append(self._append(waiting))
        return joined

    def retire_below(self, height: int) -> tuple[Block, ...]:
        """Drop the held blocks below `height` (a snapshot holds their effect); return
        them, oldest first, for the chain archive."""
        count = height - self.base
        if count <= 0:
            return ()
        retired = tuple(self.chain[:count])
        del self.chain[:count]
        self.base += len(retired)
        self.base_tip = retired[-1].hash
        return retired

    def install(self, snapshot: Snapshot) -> list[Applied]:
        """Take a peer's snapshot above our commit index: its state replaces ours, the
        blocks we held are dropped (all below it), and blocks decided ahead of it join
        if they link. Returns those that joined."""
        assert snapshot.height > self.commit_index, "install only moves forward"
        self.kv = snapshot.to_kv()
        self.chain = []
        self.base = snapshot.height
        self.base_tip = snapshot.tip
        ahead = self.ahead
        for height in [h for h in ahead if h < snapshot.height]:
            del ahead[height]
        joined: list[Applied] = []
        while (waiting := ahead.pop(self.base + len(self.chain), None)) is not None:
            if waiting.prev != self.tip_hash:
                break
            joined.append(self._append(waiting))
        return joined

    def restore(self, snapshot: Snapshot, retained: list[Block]) -> None:
        """Start from our own snapshot after a restart: its state, and the `retained`
        blocks below it (already in its state, kept to serve catch-up). Recovery checked
        that they end at the snapshot's tip."""
        assert not self.chain and self.base == 0, "restore runs on a fresh learner"
        self.kv = snapshot.to_kv()
        self.chain = list(retained)
        self.base = retained[0].height if retained else snapshot.height
        self.base_tip = retained[0].prev if retained else snapshot.tip

    def _append(self, block: Block) -> Applied:
        self.chain.append(block)
        return Applied(block=block, results=tuple(self.kv.apply_block(block)))
