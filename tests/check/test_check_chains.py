"""chains_valid and chains_identical: each rule broken alone must fail, valid oddities pass."""

from __future__ import annotations

import copy

import pytest

from paxlab.check.chains import (
    GENESIS_PREV,
    check_chains_identical,
    check_chains_valid,
    leading_zero_bits,
    reference_server,
)

# ---- chains_valid --------------------------------------------------------------------


def test_valid_chains_pass_with_counts(records) -> None:
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.name == "chains_valid"
    assert result.verdict == "pass", result.details
    assert result.details == (
        "3 chains valid at difficulty 4 (18 blocks, 3 of them empty; 21 txns)"
    )


def test_gap_filling_and_get_only_blocks_pass(kit) -> None:
    chain = kit.chain([[], [], [kit.get(1, 1, "'k'")], []])
    assert check_chains_valid({0: chain}, kit.difficulty).verdict == "pass"


def test_difficulty_zero_accepts_any_hash(kit) -> None:
    chain = kit.chain([[kit.put(1, 1, "'a'", "1")]], difficulty=0)
    chain[0] = kit.seal(0, GENESIS_PREV, chain[0]["txns"], difficulty=1, weak=True)
    assert check_chains_valid({0: chain}, 0).verdict == "pass"


def test_changed_txn_value_without_rehash_fails(records) -> None:
    records.chains[2][4]["txns"][0]["value"] = "'evil'"
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 2 height 4: hash mismatch" in result.details
    assert "stored " + records.chains[2][4]["hash"][:8] in result.details


def test_changed_hash_fails_and_breaks_next_link(records) -> None:
    records.chains[1][2]["hash"] = "0" * 63 + "1"
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 1 height 2: hash mismatch" in result.details
    assert "server 1 height 3: bad prev link" in result.details


def test_bad_prev_link_fails_even_when_block_is_resealed(kit, records) -> None:
    chain = records.chains[0]
    chain[3] = kit.seal(3, "f" * 64, chain[3]["txns"])  # self-consistent, wrong parent
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 0 height 3: bad prev link" in result.details
    assert "hash mismatch" not in result.details


def test_first_block_must_point_at_genesis(kit) -> None:
    chain = [kit.seal(0, "a" * 64, [])]
    result = check_chains_valid({5: chain}, kit.difficulty)
    assert result.verdict == "fail"
    assert "server 5 height 0: bad prev link" in result.details


def test_proof_of_work_too_weak_fails(kit, records) -> None:
    chain = records.chains[1]
    weak = kit.seal(5, chain[4]["hash"], chain[5]["txns"], weak=True)
    assert leading_zero_bits(weak["hash"]) < kit.difficulty
    chain[5] = weak
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 1 height 5: proof of work too weak" in result.details


def test_higher_difficulty_than_sealed_fails(records) -> None:
    hardest = max(leading_zero_bits(b["hash"]) for b in records.chains[0])
    assert check_chains_valid(records.chains, hardest + 1).verdict == "fail"


def test_missing_block_makes_heights_non_contiguous(kit, records) -> None:
    chain = records.chains[0]
    del chain[2]
    chain[2:] = kit.reseal(chain, start=2)[2:]  # links fine, heights jump 1 -> 3
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 0 height 2: heights not contiguous (height field 3, expected 2)" in (
        result.details
    )
    assert "prev link" not in result.details


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"client": "1"}, "client = '1': expected an integer"),
        ({"seq": True}, "seq = True: expected an integer"),
        ({"op": "delete"}, "op = 'delete': expected put or get"),
        ({"key": 3}, "key = 3: expected a string"),
        ({"op": "get"}, "get with value '1': expected null"),
        ({"value": None}, "put with value None: expected a string"),
    ],
)
def test_malformed_txn_fails(kit, edit: dict, message: str) -> None:
    txn = {**kit.put(1, 1, "'x'", "1"), **edit}
    chain = kit.chain([[], [txn]])  # sealed properly: only the txn rule breaks
    result = check_chains_valid({0: chain}, kit.difficulty)
    assert result.verdict == "fail"
    assert f"server 0 height 1: txn 0 malformed: {message}" in result.details


def test_block_missing_field_fails_not_crashes(records) -> None:
    del records.chains[0][1]["nonce"]
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "server 0 height 1:" in result.details


def test_no_chains_fails() -> None:
    result = check_chains_valid({}, 4)
    assert (result.verdict, result.details) == ("fail", "no chains")


def test_many_problems_are_capped_with_a_count(records) -> None:
    for chain in records.chains.values():
        for block in chain:
            block["hash"] = "f" * 64
    result = check_chains_valid(records.chains, records.difficulty)
    assert result.verdict == "fail"
    assert "more" in result.details.splitlines()[-1]
    assert len(result.details.splitlines()) == 6


# ---- chains_identical ----------------------------------------------------------------


def test_identical_chains_pass(records) -> None:
    result = check_chains_identical(records.chains)
    assert result.verdict == "pass", result.details
    assert "3 chains identical: 6 blocks each" in result.details


def test_divergence_at_height_3_names_height_servers_and_hashes(kit, records) -> None:
    chain = records.chains[1]
    chain[3]["txns"] = [kit.put(3, 1, "'z'", "10")]
    records.chains[1] = kit.reseal(chain, start=3)
    assert check_chains_valid(records.chains, records.difficulty).verdict == "pass"
    result = check_chains_identical(records.chains)
    assert result.verdict == "fail"
    assert "first difference at height 3" in result.details
    assert f"servers 0, 2 {records.chains[0][3]['hash'][:8]}" in result.details
    assert f"server 1 {records.chains[1][3]['hash'][:8]}" in result.details


def test_strict_prefix_fails(records) -> None:
    del records.chains[1][4:]
    result = check_chains_identical(records.chains)
    assert result.verdict == "fail"
    assert result.details == (
        "server 1 has 4 blocks, servers 0, 2 have 6; first difference at height 4"
    )


def test_same_hash_different_contents_fails(records) -> None:
    records.chains[2][1]["nonce"] = "tampered"
    result = check_chains_identical(records.chains)
    assert result.verdict == "fail"
    assert "height 1: same hash" in result.details and "server 2" in result.details


def test_single_chain_passes_and_no_chains_fails(records) -> None:
    assert check_chains_identical({7: records.chains[0]}).verdict == "pass"
    assert check_chains_identical({}).verdict == "fail"


def test_empty_chains_are_identical() -> None:
    assert check_chains_identical({0: [], 1: []}).verdict == "pass"


def test_reference_server_is_longest_then_lowest_id(records) -> None:
    chains = copy.deepcopy(records.chains)
    assert reference_server(chains) == 0
    del chains[0][5]
    assert reference_server(chains) == 1
    assert reference_server({}) is None
