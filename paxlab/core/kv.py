"""The key-value state machine: the replay of the decided chain, applying each
(client, seq) at most once and keeping its result for retries."""

from __future__ import annotations

from dataclasses import dataclass, field

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import Block, Txn

__all__ = ["PUT_RESULT", "KVStore", "TxnResult"]


@fast_init
@dataclass(frozen=True, slots=True)
class TxnResult:
    """What applying a txn answered: a put echoes nothing, a get the value read."""

    value: str | None


PUT_RESULT = TxnResult(value=None)
"""Every put's result (immutable, so shared): a put answers nothing but that it applied."""


@dataclass(slots=True)
class KVStore:
    """Keys and values are repr strings of Python literals, compared as text."""

    data: dict[str, str] = field(default_factory=dict)
    # client -> seq -> result. Invariant: holds every (client, seq) applied so far, so a
    # retried request is answered with its saved result instead of being applied twice.
    results: dict[int, dict[int, TxnResult]] = field(default_factory=dict)

    def result_of(self, client: int, seq: int) -> TxnResult | None:
        """The saved result if (client, seq) was applied, else None."""
        return self.results.get(client, {}).get(seq)

    def is_applied(self, client: int, seq: int) -> bool:
        return seq in self.results.get(client, {})

    def apply_txn(self, txn: Txn) -> TxnResult:
        """Apply once; a repeated (client, seq) returns the first result unchanged."""
        applied = self.results.get(txn.client)
        if applied is None:
            applied = self.results[txn.client] = {}
        else:
            saved = applied.get(txn.seq)
            if saved is not None:
                return saved
        if txn.op == "put":
            assert txn.value is not None
            self.data[txn.key] = txn.value
            result = PUT_RESULT
        else:
            result = TxnResult(value=self.data.get(txn.key))
        applied[txn.seq] = result
        return result

    def apply_block(self, block: Block) -> list[tuple[Txn, TxnResult]]:
        return [(txn, self.apply_txn(txn)) for txn in block.txns]
