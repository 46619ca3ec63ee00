"""The checkers' shortcuts give exactly the answers of the plain way.

blocks.py writes the hash recipe's JSON itself for plain blocks, chains.py judges a block
shared by identity between servers once; kv, writes and linearizable take similar shortcuts.
These tests hold each one to json.dumps, to chains with no shared objects, or to a
straightforward model, on tricky input.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.check.blocks import (
    _plain_txns_json,
    _pow_bound,
    _recipe_json,
    block_hash,
    block_problems,
    leading_zero_bits,
    txn_problem,
)
from paxlab.check.chains import check_chains_identical, check_chains_valid
from paxlab.check.kv import MalformedChain, check_kv_identical, replay
from paxlab.check.reads import check_no_lost_writes
from paxlab.check.runner import check_records
from paxlab.check.txns import txn_index
from paxlab.check.writes import check_writes_exactly_once

# ---- the recipe's JSON, written out for plain blocks --------------------------------------


def _dumps(value: Any) -> str:
    """The README recipe's serialisation, as an outside tool would write it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_TRICKY_TEXT = [
    "",
    "plain",
    "'k0'",
    'say "hi"',
    "back\\slash",
    "\\u0041 is not A",
    "tab\there\nnewline\rreturn\x00nul\x1f\x7f",
    "\u2028\u2029",
    "caf\u00e9 \u4e2d\u6587",
    "\U0001f600 emoji",
    "\ud800 lone surrogate",
    "</script>",
]
_TRICKY_INTS = [0, 1, -1, 7, 2**31, 2**63 + 1, -(2**64), 10**100]


def _txn(client: Any = 1, seq: Any = 1, op: Any = "put", key: Any = "'x'",
         value: Any = "1") -> dict:  # fmt: skip
    return {"client": client, "seq": seq, "op": op, "key": key, "value": value}


class _Str(str):
    """A str subclass: json writes its text, the fast path leaves it to json."""


class _Int(int):
    """An int subclass: json writes int.__repr__, the fast path leaves it to json."""


_ODD_TXNS = [
    _txn(client=True),
    _txn(seq=False),
    _txn(client=1.0),
    _txn(op="get", value=None),
    _txn(op="get", value="1"),
    _txn(op="put", value=None),
    _txn(op="delete"),
    _txn(op=_Str("put")),
    _txn(key=_Str("'x'")),
    _txn(value=_Str("v")),
    _txn(client=_Int(5)),
    _txn(key=3),
    _txn(value=["list"]),
    {**_txn(), "extra": "field"},
    {k: v for k, v in _txn().items() if k != "value"},
    {"value": "1", "key": "'x'", "op": "put", "seq": 2, "client": 3},  # other key order
    {},
    "not a dict",
    None,
    [1, 2],
]


def test_recipe_json_equals_json_dumps_on_tricky_strings_and_ints() -> None:
    for text in _TRICKY_TEXT:
        for number in _TRICKY_INTS:
            txns = [_txn(number, number, "put", text, text), _txn(2, 3, "get", text, None)]
            body = {"height": number, "prev": text, "txns": txns, "nonce": text}
            assert _recipe_json(number, text, txns, text) == _dumps(body)
            assert _plain_txns_json(txns) == _dumps(txns)


def test_recipe_json_equals_json_dumps_on_odd_txns_and_fields() -> None:
    for txn in _ODD_TXNS:
        txns = [_txn(), txn]
        assert _recipe_json(4, "a" * 64, txns, "9") == _dumps(
            {"height": 4, "prev": "a" * 64, "txns": txns, "nonce": "9"}
        )
    for height, prev, nonce in [(True, "p", "n"), (4, None, "n"), (4, "p", 7), (_Int(4), "p", "n"),
                                (4.0, "p", "n"), (4, _Str("p"), _Str("n"))]:  # fmt: skip
        body = {"height": height, "prev": prev, "txns": [], "nonce": nonce}
        assert _recipe_json(height, prev, [], nonce) == _dumps(body)
    assert _recipe_json(0, "p", (), "n") == _dumps({"height": 0, "prev": "p", "txns": [],
                                                    "nonce": "n"})  # fmt: skip


def test_plain_txns_json_is_given_only_for_well_formed_txns() -> None:
    for txn in _ODD_TXNS:
        if _plain_txns_json([txn]) is not None:
            assert txn_problem(txn) is None, txn
    assert _plain_txns_json([{**_txn(), "extra": 1}]) is None  # valid, yet hashed by json
    assert _plain_txns_json([]) == "[]"


_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(),
    st.sampled_from(_TRICKY_TEXT), st.sampled_from(["put", "get"]),
)  # fmt: skip
_any_txn = st.one_of(
    st.builds(_txn, st.integers(), st.integers(), st.sampled_from(["put", "get"]),
              st.text(), st.one_of(st.none(), st.text())),
    st.dictionaries(st.sampled_from(["client", "seq", "op", "key", "value", "extra"]),
                    _json_scalars, max_size=6),
    _json_scalars,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_any_txn, max_size=4), _json_scalars, _json_scalars, _json_scalars)
def test_recipe_json_equals_json_dumps_on_random_blocks(
    txns: list, height: Any, prev: Any, nonce: Any
) -> None:
    body = {"height": height, "prev": prev, "txns": txns, "nonce": nonce}
    assert _recipe_json(height, prev, txns, nonce) == _dumps(body)
    expected = hashlib.sha256(_dumps(body).encode()).hexdigest()
    assert block_hash(height, prev, txns, nonce) == expected
    plain = _plain_txns_json(txns)
    if plain is not None:
        assert plain == _dumps(txns)
        assert all(txn_problem(txn) is None for txn in txns)


# ---- block_problems: a sound plain block accepted by exact types and one comparison -------


def test_pow_bound_orders_hashes_as_leading_zero_bits_do() -> None:
    for difficulty in range(257):
        bound = 1 << (256 - difficulty)
        near = [0, 1, bound - 1, bound, bound + 1, 2**256 - 1, 2**255, 2**252 - 1]
        for number in near:
            if 0 <= number < 2**256:
                stored = format(number, "064x")
                assert (stored < _pow_bound(difficulty)) == (
                    leading_zero_bits(stored) >= difficulty
                ), (difficulty, stored)
    assert _pow_bound(-1) == _pow_bound(257) == ""


def _careful(block: dict) -> dict:
    """The same document, but its height an int subclass: block_problems skips its fast
    path (exact types only) and judges it by the rules alone; json hashes it the same."""
    return {**block, "height": _Int(block["height"])}


def test_block_problems_fast_path_agrees_with_the_rules(kit) -> None:
    chain = kit.chain(kit.batches())
    weak = kit.seal(1, chain[0]["hash"], [_txn()], weak=True)
    cases = [(block, height, chain[height - 1]["hash"] if height else "0" * 64)
             for height, block in enumerate(chain)]  # fmt: skip
    cases += [
        (weak, 1, chain[0]["hash"]),
        (chain[2], 3, chain[1]["hash"]),  # wrong height
        (chain[2], 2, chain[0]["hash"]),  # wrong link
        ({**chain[2], "nonce": "x"}, 2, chain[1]["hash"]),  # hash mismatch
        ({**chain[2], "hash": chain[2]["hash"].upper()}, 2, chain[1]["hash"]),
        ({**chain[2], "extra": 1}, 2, chain[1]["hash"]),  # an extra field is ignored
        ({**chain[2], "txns": [*chain[2]["txns"], _txn(client=True)]}, 2, chain[1]["hash"]),
    ]
    for block, height, prev in cases:
        for difficulty in [0, 1, 2, 3, 4, 5, 8, 12, 16, 40, 256, 257, -1, True]:
            fast = block_problems(block, height, prev, difficulty)
            assert fast == block_problems(_careful(block), height, prev, difficulty)
            zeros = leading_zero_bits(block["hash"]) if block["hash"].islower() else -1
            if block is chain[height] and prev == block["prev"] and 0 <= difficulty <= zeros:
                assert fast == []
    assert block_problems(weak, 1, chain[0]["hash"], 4)[0].startswith("proof of work too weak")


# ---- chains_valid and chains_identical: shared objects judged as distinct ones ------------


def _shared(chain: list[dict], servers: int = 3) -> dict[int, list[dict]]:
    """Servers holding the very same block dicts, as the simulator hands them over."""
    return {sid: list(chain) for sid in range(servers)}


def _both_ways(chains: dict[int, list[dict]], difficulty: int) -> tuple:
    """chains_valid on the chains as given and on deep copies that share nothing."""
    shared = check_chains_valid(chains, difficulty)
    apart = check_chains_valid(copy.deepcopy(chains), difficulty)
    assert shared == apart
    if "more" not in shared.details:  # every problem is shown: each chain alone agrees
        for sid, chain in chains.items():
            alone = check_chains_valid({sid: list(chain)}, difficulty)
            lines = alone.details.splitlines() if alone.verdict == "fail" else []
            assert [line for line in shared.details.splitlines()
                    if line.startswith(f"server {sid} ")] == lines  # fmt: skip
    return shared.verdict, shared.details


def test_shared_valid_chains_pass_like_copies(kit) -> None:
    chain = kit.chain(kit.batches())
    assert _both_ways(_shared(chain), kit.difficulty) == (
        "pass", "3 chains valid at difficulty 4 (18 blocks, 3 of them empty; 21 txns)"
    )


def test_a_tampered_shared_block_fails_on_every_server(kit) -> None:
    chain = kit.chain(kit.batches())
    chain[2]["txns"][0]["seq"] = 9
    verdict, details = _both_ways(_shared(chain), kit.difficulty)
    assert verdict == "fail"
    for sid in range(3):
        assert f"server {sid} height 2: hash mismatch" in details


def test_malformed_shared_blocks_fail_like_copies(kit) -> None:
    chain = kit.chain(kit.batches())
    chain[0]["height"] = True
    chain[1]["txns"] = [_txn(client=True)]
    chain[3] = "not a block"  # type: ignore[call-overload]
    del chain[4]["nonce"]
    chain[5]["hash"] = "F" * 64
    verdict, details = _both_ways(_shared(chain, 2), kit.difficulty)
    assert verdict == "fail"
    assert details.count("server 0 height") == 5  # the cap: all five lines from server 0
    assert _both_ways(_shared(chain, 2), 0)[0] == "fail"


def test_shared_prefix_then_divergence_is_judged_per_server(kit) -> None:
    chain = kit.chain(kit.batches())
    other = chain[:3] + copy.deepcopy(chain[3:])  # shares heights 0-2 by identity
    other[4]["nonce"] = "tampered"
    shorter = chain[:4]
    verdict, details = _both_ways({0: chain, 1: other, 2: shorter, 3: chain}, kit.difficulty)
    assert verdict == "fail"
    assert details.startswith(f"server 1 height 4: hash mismatch (stored {chain[4]['hash'][:8]}")
    assert len(details.splitlines()) == 1


def test_the_same_object_at_another_height_or_after_another_block_is_judged_again(kit) -> None:
    chain = kit.chain(kit.batches())
    repeated = [*chain[:3], chain[2], *chain[3:]]  # height 3 holds height 2's dict
    skipped = [chain[0], chain[2]]  # chain[2] follows chain[0]: wrong link, wrong height
    verdict, details = _both_ways({0: chain, 1: repeated}, kit.difficulty)
    assert verdict == "fail"
    assert details.startswith(
        "server 1 height 3: heights not contiguous (height field 2, expected 3)\n"
        "server 1 height 3: bad prev link"
    )
    verdict, details = _both_ways({0: chain, 2: skipped}, kit.difficulty)
    assert verdict == "fail"
    assert details.splitlines()[0] == (
        "server 2 height 1: heights not contiguous (height field 2, expected 1)"
    )
    assert details.splitlines()[1].startswith("server 2 height 1: bad prev link")
    assert len(details.splitlines()) == 2


def test_chains_identical_same_with_shared_or_copied_blocks(kit) -> None:
    chain = kit.chain(kit.batches())
    diverged = copy.deepcopy(chain)
    diverged[3]["txns"] = [kit.put(3, 1, "'z'", "10")]
    diverged = chain[:3] + kit.reseal(diverged, start=3)[3:]
    passing = [
        _shared(chain),
        {0: chain, 1: chain[:3] + copy.deepcopy(chain[3:]), 2: chain},  # equal, not shared
        {5: chain},
        {0: [], 1: []},
    ]
    failing = [
        {0: chain, 1: chain[:4]},
        {0: chain, 1: diverged, 2: chain},
        {0: chain, 1: [*chain[:2], {**chain[2], "nonce": "x"}, *chain[3:]]},
        {0: chain[:2], 1: chain, 2: chain},
        {0: [], 1: chain},
    ]
    for chains in passing + failing:
        shared = check_chains_identical(chains)
        assert shared == check_chains_identical(copy.deepcopy(chains)), chains.keys()
        assert shared.verdict == ("pass" if chains in passing else "fail")
    assert "first difference at height 3" in check_chains_identical(failing[1]).details


def test_a_shared_block_after_another_previous_block_fails_its_link(kit) -> None:
    chain = kit.chain(kit.batches())
    fork = kit.seal(0, "0" * 64, [kit.put(9, 9, "'f'", "1")])  # another block at height 0
    verdict, details = _both_ways({0: chain, 1: [fork, *chain[1:]]}, kit.difficulty)
    assert verdict == "fail"
    assert details == (
        f"server 1 height 1: bad prev link (prev {chain[0]['hash'][:8]}.., "
        f"previous hash {fork['hash'][:8]}..)"
    )


# ---- kv_identical: plain txns replayed without txn_problem, shared chains replayed once ----


def _replayed(blocks: list) -> Any:
    try:
        return replay(blocks)
    except MalformedChain as e:
        return ("malformed", str(e))


class _Lookalike:
    """Has a txn's fields by subscript, but is not a dict (nor a JSON object)."""

    def __getitem__(self, name: str) -> Any:
        return _txn()[name]


def test_replay_of_odd_txns_is_as_txn_problem_judges_them() -> None:
    lookalike = _replayed([{"txns": [_Lookalike()]}])
    assert lookalike == ("malformed", "height 0 txn 0: not a JSON object")
    for txn in _ODD_TXNS:
        outcome = _replayed([{"txns": [_txn(7, 7, "put", "'k'", "0"), txn]}])
        why = txn_problem(txn)
        if why:
            assert outcome == ("malformed", f"height 0 txn 1: {why}"), txn
        else:
            written = txn["value"] if txn["op"] == "put" else "0"
            assert outcome == {"'k'": "0", **({txn["key"]: written} if txn["op"] == "put"
                                              else {})}, txn  # fmt: skip


def test_kv_identical_same_with_shared_or_copied_chains(kit, records) -> None:
    chain = records.chains[0]
    odd = copy.deepcopy(chain)
    odd[0]["txns"][0]["client"] = True  # equal to 1 (==), yet not a client id
    variants = [
        {sid: chain for sid in range(3)},  # one chain object
        _shared(chain),  # the same blocks, three lists
        {0: chain, 1: odd, 2: chain},  # an equal chain that replay rejects
        {0: chain, 1: chain[:4], 2: chain},  # a shorter one, sharing its blocks
        {0: chain, 1: [*chain[:5], copy.deepcopy(chain[5])], 2: chain},
    ]
    for chains in variants:
        shared = check_kv_identical(chains, records.kvs)
        assert shared == check_kv_identical(copy.deepcopy(chains), records.kvs)
        for sid in chains:  # a replay handed over serves only the very same blocks
            assert shared == check_kv_identical(chains, records.kvs, txn_index(chains[sid]))
    assert check_kv_identical(variants[2], records.kvs).verdict == "unknown"
    assert "server 1: cannot replay" in check_kv_identical(variants[2], records.kvs).details
    assert check_kv_identical(variants[3], records.kvs).verdict == "fail"


# ---- check_records shares one txn index between two checks --------------------------------


def test_shared_txn_places_give_the_checks_own_answers(kit, records) -> None:
    lost = copy.deepcopy(records)
    for sid, chain in lost.chains.items():
        chain[4]["txns"] = []  # an acknowledged put is gone
        lost.chains[sid] = kit.reseal(chain, start=4)
    twice = copy.deepcopy(records)
    twice.chains[0][1]["txns"] = [kit.put(2, 2, "'x'", "2")]
    twice.chains[0] = kit.reseal(twice.chains[0], start=1)
    for case in (records, lost, twice):
        alone = [
            check_writes_exactly_once(case.history, case.chains),
            check_no_lost_writes(case.history, case.chains),
        ]
        assert check_records(case)[3:5] == alone
    assert [r.verdict for r in check_records(lost)[3:5]] == ["fail", "fail"]
