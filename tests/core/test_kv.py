"""The KV state machine: puts and gets, each (client, seq) applied at most once, and the
exactly-once table kept as seq ranges plus each client's newest result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core.kv import ClientSeqs, KVStore, TxnResult
from tests.core.scripted import blocks, txn


def test_put_then_get() -> None:
    kv = KVStore()
    assert kv.apply_txn(txn(1, 1, "'a'", "1")) == TxnResult(value=None)
    assert kv.apply_txn(txn(1, 2, "'a'", None)) == TxnResult(value="1")
    assert kv.apply_txn(txn(2, 1, "'a'", "'two'")) == TxnResult(value=None)
    assert kv.apply_txn(txn(2, 2, "'a'", None)) == TxnResult(value="'two'")
    assert kv.data == {"'a'": "'two'"}
    assert kv.clients == {
        1: ClientSeqs([[1, 2]], 2, TxnResult("1")),
        2: ClientSeqs([[1, 2]], 2, TxnResult("'two'")),
    }


def test_get_of_a_missing_key_is_none_and_is_saved() -> None:
    kv = KVStore()
    assert kv.apply_txn(txn(1, 1, "'nope'", None)) == TxnResult(value=None)
    assert kv.is_applied(1, 1)
    assert kv.result_of(1, 1) == TxnResult(value=None)  # saved, though its value is None
    assert kv.data == {}


def test_keys_are_compared_as_repr_text() -> None:
    kv = KVStore()
    kv.apply_txn(txn(1, 1, "1", "'int key'"))
    assert kv.apply_txn(txn(1, 2, "'1'", None)).value is None
    assert kv.apply_txn(txn(1, 3, "1", None)).value == "'int key'"


def test_a_repeated_client_seq_is_applied_once_with_its_saved_result() -> None:
    kv = KVStore()
    kv.apply_txn(txn(1, 1, "'a'", "1"))
    assert kv.apply_txn(txn(9, 1, "'a'", None)) == TxnResult("1")
    kv.apply_txn(txn(1, 2, "'a'", "2"))
    # The retry of 9#1 (client 9's newest) answers what it read the first time...
    assert kv.apply_txn(txn(9, 1, "'a'", None)) == TxnResult("1")
    # ...and a retried put older than its client's newest op does not write again, and
    # answers nothing: its result is retired (the client moved on).
    assert kv.apply_txn(txn(1, 1, "'a'", "999")) is None
    assert kv.is_applied(1, 1) and kv.result_of(1, 1) is None
    assert kv.data == {"'a'": "2"}
    assert kv.clients[1] == ClientSeqs([[1, 2]], 2, TxnResult(None))


def test_the_table_keeps_ranges_not_one_entry_per_op() -> None:
    kv = KVStore()
    for seq in range(1, 1001):
        kv.apply_txn(txn(1, seq, "'a'", str(seq)))
    assert kv.clients[1].ranges == [[1, 1000]]
    # seq 1002 and 1004 applied, 1001 and 1003 abandoned (never reached the log)
    kv.apply_txn(txn(1, 1002, "'a'", "x"))
    kv.apply_txn(txn(1, 1004, "'a'", "y"))
    assert kv.clients[1].ranges == [[1, 1000], [1002, 1002], [1004, 1004]]
    assert not kv.is_applied(1, 1001) and not kv.is_applied(1, 1003)
    # a late copy of an abandoned op may still be decided: it applies once, and the
    # ranges merge around it; the newest result stays 1004's
    assert kv.apply_txn(txn(1, 1003, "'b'", "z")) == TxnResult(None)
    assert kv.clients[1].ranges == [[1, 1000], [1002, 1004]]
    assert kv.result_of(1, 1004) == TxnResult(None) and kv.result_of(1, 1003) is None
    kv.apply_txn(txn(1, 1001, "'b'", "w"))
    assert kv.clients[1].ranges == [[1, 1004]] and kv.clients[1].last_seq == 1004


def test_lookups_for_unknown_requests() -> None:
    kv = KVStore()
    kv.apply_txn(txn(1, 1))
    assert kv.result_of(1, 2) is None and not kv.is_applied(1, 2)
    assert kv.result_of(2, 1) is None and not kv.is_applied(2, 1)


def test_apply_block_answers_each_txn_in_order() -> None:
    kv = KVStore()
    (block,) = blocks((txn(1, 1, "'a'", "1"), txn(2, 1, "'a'", None), txn(1, 1, "'a'", "1"),
                       txn(1, 2, "'a'", "2"), txn(1, 1, "'a'", "1")))
    assert kv.apply_block(block) == [
        (block.txns[0], TxnResult(None)),
        (block.txns[1], TxnResult("1")),
        (block.txns[2], TxnResult(None)),  # the duplicate gets the saved result
        (block.txns[3], TxnResult(None)),
        # the last copy of 1#1 is older than client 1's newest: applied, no answer
    ]


OPS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 4), st.sampled_from(["'a'", "'b'"]),
              st.one_of(st.none(), st.sampled_from(["1", "2", "3"]))),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_matches_a_naive_model(ops: list) -> None:
    kv = KVStore()
    data: dict[str, str] = {}
    first: dict[tuple[int, int], str | None] = {}
    for client, seq, key, value in ops:
        newest = max((s for c, s in first if c == client), default=None)
        result = kv.apply_txn(txn(client, seq, key, value))
        if (client, seq) in first and seq != newest:
            assert result is None  # applied before, older than the client's newest
            continue
        if (client, seq) not in first:
            if value is None:
                first[(client, seq)] = data.get(key)
            else:
                data[key] = value
                first[(client, seq)] = None
        assert result == TxnResult(first[(client, seq)])
    assert kv.data == data
    applied = {(c, s) for c, seqs in kv.clients.items() for lo, hi in seqs.ranges
               for s in range(lo, hi + 1)}
    assert applied == set(first)
