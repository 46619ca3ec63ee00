"""The learner: the decided chain, blocks decided ahead of a gap, and the applied KV store."""

from __future__ import annotations

from dataclasses import dataclass, field

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import GENESIS_PREV, Block, Txn
from paxlab.core.errors import RemoteError
from paxlab.core.kv import KVStore, TxnResult

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
    chain: list[Block] = field(default_factory=list)  # Invariant: heights 0..n-1, linked.
    ahead: dict[int, Block] = field(default_factory=dict)  # Invariant: keys > len(chain).
    kv: KVStore = field(default_factory=KVStore)

    @property
    def commit_index(self) -> int:
        """Number of blocks in the chain; never decreases."""
        return len(self.chain)

    @property
    def tip_hash(self) -> str:
        return self.chain[-1].hash if self.chain else GENESIS_PREV

    def learn(self, block: Block) -> list[Applied]:
        """Record a decided (already verified) block; return the blocks that joined the chain.

        A block at a height we hold must be the same block: anything else means two
        blocks were chosen for one slot, which Paxos forbids, so it is a RemoteError the
        driver logs loudly. A block that does not link to the chain is refused the same way.
        """
        height = block.height
        if height < len(self.chain):
            if self.chain[height].hash != block.hash:
                raise RemoteError(
                    f"conflicting decided block at height {height}: have "
                    f"{self.chain[height].hash[:12]}, got {block.hash[:12]}"
                )
            return []
        if height > len(self.chain):
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
        while (waiting := self.ahead.pop(len(self.chain), None)) is not None:
            if waiting.prev != self.tip_hash:
                break  # it was wrong; the real block will come by catch-up
            joined.append(self._append(waiting))
        return joined

    def _append(self, block: Block) -> Applied:
        self.chain.append(block)
        return Applied(block=block, results=tuple(self.kv.apply_block(block)))
