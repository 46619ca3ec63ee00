"""One read of a chain's txns, shared by the checks that look them up or replay them.

writes_exactly_once and no_lost_writes find txns by request (client, seq), and
kv_identical replays the chain into a KV; each used to read every txn itself. txn_index
reads them once, and check_records hands the result (of the longest chain, the one the
write checks read) to all three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from paxlab.check.blocks import is_int
from paxlab.check.history import Request

__all__ = ["Places", "PutSig", "TxnIndex", "acked_all_in", "txn_index"]

Places = Mapping[Request, list[tuple[int, dict]]]  # request -> every (height, txn)
PutSig = tuple[int, int, str, str]  # (client, seq, key, value) of a put


class TxnIndex(NamedTuple):
    """One chain's txns by request, and its replay when that is plain sailing."""

    chain: Sequence[Any]  # the chain read: kv_identical finds it among the servers' by identity
    start: int  # the height of its first block (above 0 after a snapshot install)
    places: dict[Request, list[tuple[int, dict]]]  # every (height, txn) of each request
    puts: set[PutSig]  # the put txns whose key and value are plain strs
    kv: dict[str, str] | None  # replay(chain) if every txn is plain; else None (see replay)


_FIELDS = itemgetter("client", "seq", "op", "key", "value")


def txn_index(chain: Sequence[Any], start: int = 0) -> TxnIndex:
    """Every request's places (heights count from `start`, the chain's first block's
    height), the plain puts, and the replay. Txns without integer client
    and seq have no place (chains_valid reports them). kv is None unless every block has a
    txns list and every txn is a well-formed put or get of plain types (exact int client
    and seq, str key and op, str or null value); kv.replay then goes by the rules."""
    places: dict[Request, list[tuple[int, dict]]] = {}
    puts: set[PutSig] = set()
    kv: dict[str, str] | None = {}
    for height, block in enumerate(chain, start):
        txns = block.get("txns") if isinstance(block, dict) else None
        if not isinstance(txns, list):
            kv = None
            continue
        for txn in txns:
            # txn_problem's own quick test, inline, the five fields read in one C call (a
            # call per txn cost more than the test): nearly every txn is this plain.
            try:
                client, seq, op, key, value = _FIELDS(txn)
                plain = (type(txn) is dict and type(client) is int and type(seq) is int
                         and type(key) is str and type(op) is str
                         and (type(value) is str if op == "put"
                              else op == "get" and value is None))  # fmt: skip
            except (KeyError, TypeError):  # a field missing, or not a dict at all
                plain = False
            if not plain:
                kv = None
                if not isinstance(txn, dict):
                    continue
                client, seq = txn.get("client"), txn.get("seq")
                if not (is_int(client) and is_int(seq)):
                    continue
                op, key, value = txn.get("op"), txn.get("key"), txn.get("value")
            found = places.get((client, seq))
            if found is None:  # the request's first txn: the one a replay applies
                places[(client, seq)] = [(height, txn)]
                if kv is not None and op == "put":
                    kv[key] = value
            else:
                found.append((height, txn))
            if op == "put" and type(key) is str and type(value) is str:
                puts.add((client, seq, key, value))
    return TxnIndex(chain, start, places, puts, kv)


_PUT_SIG = itemgetter("process", "seq", "key", "value")


def acked_all_in(acked: Mapping[Request, dict], txns: TxnIndex) -> bool:
    """True when every put in `acked` (ok events by request) is in the chain as a put of
    the same key and value under its request. A set comparison in C, where the checks'
    own loops look up each put in Python; False says only "look closer", also for an
    event it cannot read or hash (the loops then report or raise as they do)."""
    try:
        return set(map(_PUT_SIG, acked.values())) <= txns.puts
    except (KeyError, TypeError):
        return False
