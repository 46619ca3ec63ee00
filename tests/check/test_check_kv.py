"""kv_identical: each KV must equal its own chain's replay, and all KVs must agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.check.kv import check_kv_identical, replay


def test_valid_kvs_pass(records) -> None:
    result = check_kv_identical(records.chains, records.kvs)
    assert result.name == "kv_identical"
    assert result.verdict == "pass", result.details
    assert "3 KVs" in result.details and "3 keys" in result.details


def test_replay_applies_puts_in_order_and_ignores_gets(records) -> None:
    assert replay(records.chains[0]) == {"'x'": "2", "'y'": "'b'", "'z'": "9"}


def test_replay_applies_a_repeated_client_seq_once(kit) -> None:
    chain = kit.chain([[kit.put(1, 1, "'x'", "first")], [], [kit.put(1, 1, "'x'", "retry")]])
    assert replay(chain) == {"'x'": "first"}
    assert check_kv_identical({0: chain}, {0: {"'x'": "first"}}).verdict == "pass"
    assert check_kv_identical({0: chain}, {0: {"'x'": "retry"}}).verdict == "fail"


def test_kv_differing_from_replay_fails_naming_server_and_key(records) -> None:
    for kv in records.kvs.values():  # all equal to each other, all wrong
        kv["'y'"] = "'stale'"
    result = check_kv_identical(records.chains, records.kvs)
    assert result.verdict == "fail"
    assert (
        "server 0: KV differs from the replay of its chain at key 'y': "
        "KV has \"'stale'\", replay has \"'b'\""
    ) in result.details
    assert "server 1: KV differs" in result.details


def test_extra_key_in_kv_fails(records) -> None:
    records.kvs[2]["'ghost'"] = "1"
    result = check_kv_identical(records.chains, records.kvs)
    assert result.verdict == "fail"
    assert "server 2: KV differs from the replay of its chain at key 'ghost'" in result.details
    assert "server 2 and server 0 differ at key 'ghost': '1' vs missing" in result.details


def test_two_kvs_that_differ_fail_even_when_each_matches_its_chain(kit, records) -> None:
    chain = records.chains[1]
    chain[4]["txns"] = [kit.put(1, 3, "'y'", "'c'")]
    records.chains[1] = kit.reseal(chain, start=4)
    records.kvs[1] = replay(records.chains[1])
    result = check_kv_identical(records.chains, records.kvs)
    assert result.verdict == "fail"
    assert result.details == "server 1 and server 0 differ at key 'y': \"'c'\" vs \"'b'\""


def test_missing_snapshot_or_chain_fails(records) -> None:
    del records.kvs[1]
    del records.chains[2]
    result = check_kv_identical(records.chains, records.kvs)
    assert result.verdict == "fail"
    assert "server 1: has a chain but no KV snapshot" in result.details
    assert "server 2: has a KV snapshot but no chain" in result.details


def test_no_snapshots_fail(records) -> None:
    assert check_kv_identical(records.chains, {}).verdict == "fail"


def test_unreplayable_chain_is_unknown_not_pass(records) -> None:
    for chain in records.chains.values():
        chain[2]["txns"][0]["op"] = "delete"
    result = check_kv_identical(records.chains, records.kvs)
    assert result.verdict == "unknown"
    assert "server 0: cannot replay its chain (height 2 txn 0:" in result.details


_keys = st.sampled_from(["'a'", "'b'", "'c'"])
_txn = st.tuples(st.integers(1, 3), st.integers(1, 6), st.booleans(), _keys, st.text(max_size=3))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(_txn, max_size=3), max_size=6))
def test_replay_matches_a_dict_model(batches: list) -> None:
    """Replay equals a plain dict updated by first-seen (client, seq) puts."""
    model: dict[str, str] = {}
    seen: set[tuple[int, int]] = set()
    blocks = []
    for height, batch in enumerate(batches):
        txns = []
        for client, seq, is_put, key, value in batch:
            txns.append(
                {"client": client, "seq": seq, "op": "put" if is_put else "get", "key": key,
                 "value": repr(value) if is_put else None}
            )  # fmt: skip
            if (client, seq) not in seen:
                seen.add((client, seq))
                if is_put:
                    model[key] = repr(value)
        blocks.append({"height": height, "txns": txns})
    assert replay(blocks) == model
