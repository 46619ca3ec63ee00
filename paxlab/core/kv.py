"""The key-value state machine: the replay of the decided chain, applying each
(client, seq) at most once and keeping the newest result of each client for retries."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from operator import itemgetter

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import Block, Txn

__all__ = ["PUT_RESULT", "ClientSeqs", "KVStore", "TxnResult"]


@fast_init
@dataclass(frozen=True, slots=True)
class TxnResult:
    """What applying a txn answered: a put echoes nothing, a get the value read."""

    value: str | None


PUT_RESULT = TxnResult(value=None)
"""Every put's result (immutable, so shared): a put answers nothing but that it applied."""


@dataclass(slots=True)
class ClientSeqs:
    """One client's part of the exactly-once table: which seqs were applied, and the
    result of its newest one.

    The low-watermark. A client has one operation at a time (core/client.py), so by the
    time it submits seq s it is done with every seq below s: it got an answer or gave up
    (info). Its seq is the low-watermark it advances, and the table keeps the result of
    the newest applied seq only, the one a retry may still ask for. Which seqs were
    applied is kept exactly, as ranges: one range for a client whose ops all applied, one
    more for each op it gave up on that never reached the log. So the table grows with
    the number of clients and of abandoned ops, never with the number of operations, and
    the replay rule stays the documented one (apply a (client, seq) not applied before).
    """

    ranges: list[list[int]]  # sorted, disjoint, non-adjacent [lo, hi] (inclusive)
    last_seq: int  # the highest seq applied; Invariant: inside ranges[-1]
    last_result: TxnResult

    def has(self, seq: int) -> bool:
        ranges = self.ranges
        last = ranges[-1]
        if seq >= last[0]:
            return seq <= last[1]
        index = bisect_right(ranges, seq, key=itemgetter(0)) - 1
        return index >= 0 and seq <= ranges[index][1]

    def add(self, seq: int, result: TxnResult) -> None:
        """Record `seq` as applied (the caller checked it was not)."""
        ranges = self.ranges
        last = ranges[-1]
        if seq == last[1] + 1:
            last[1] = seq  # the usual case: the client's next op
        elif seq > last[1]:
            ranges.append([seq, seq])
        else:
            index = bisect_right(ranges, seq, key=itemgetter(0))
            ranges.insert(index, [seq, seq])
            # merge with neighbours that now touch
            if index + 1 < len(ranges) and ranges[index + 1][0] == seq + 1:
                ranges[index][1] = ranges[index + 1][1]
                del ranges[index + 1]
            if index > 0 and ranges[index - 1][1] + 1 == seq:
                ranges[index - 1][1] = ranges[index][1]
                del ranges[index]
        if seq > self.last_seq:
            self.last_seq = seq
            self.last_result = result


@dataclass(slots=True)
class KVStore:
    """Keys and values are repr strings of Python literals, compared as text."""

    data: dict[str, str] = field(default_factory=dict)
    # client -> its applied seqs. Invariant: every (client, seq) applied so far is in it,
    # so a retried request is never applied twice (ClientSeqs says what is kept).
    clients: dict[int, ClientSeqs] = field(default_factory=dict)

    def result_of(self, client: int, seq: int) -> TxnResult | None:
        """The saved result if (client, seq) is the client's newest applied op, else None
        (not applied, or applied but older: its result was retired)."""
        seqs = self.clients.get(client)
        if seqs is None or seqs.last_seq != seq:
            return None
        return seqs.last_result

    def is_applied(self, client: int, seq: int) -> bool:
        seqs = self.clients.get(client)
        return seqs is not None and seqs.has(seq)

    def apply_txn(self, txn: Txn) -> TxnResult | None:
        """Apply once. A repeated (client, seq) changes nothing and returns its saved
        result, or None when that result was retired (an op older than the client's
        newest: nobody waits for it any more)."""
        seqs = self.clients.get(txn.client)
        if seqs is not None and seqs.has(txn.seq):
            return seqs.last_result if txn.seq == seqs.last_seq else None
        if txn.op == "put":
            assert txn.value is not None
            self.data[txn.key] = txn.value
            result = PUT_RESULT
        else:
            result = TxnResult(value=self.data.get(txn.key))
        if seqs is None:
            self.clients[txn.client] = ClientSeqs([[txn.seq, txn.seq]], txn.seq, result)
        else:
            seqs.add(txn.seq, result)
        return result

    def apply_block(self, block: Block) -> list[tuple[Txn, TxnResult]]:
        """Each txn with its result, for the replies; a retired duplicate has none."""
        answered = []
        for txn in block.txns:
            result = self.apply_txn(txn)
            if result is not None:
                answered.append((txn, result))
        return answered
