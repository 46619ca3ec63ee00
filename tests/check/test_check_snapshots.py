"""Chains that start above height 0: a server that installed a snapshot from a peer never
held the blocks below it, so its chain file starts at the snapshot height b.

Good ones pass (complete and partial runs); broken ones fail with a message that names the
server and height: a first prev that is not the hash of block b-1 elsewhere, a gap, a
wrong height field, a KV that is not the replay, a divergent block. What no server holds
cannot be judged: those verdicts are unknown, never pass.
"""

from __future__ import annotations

import copy
from pathlib import Path

from paxlab import results
from paxlab.check import check_records, check_run, checks_passed
from paxlab.check.chains import (
    chain_start,
    check_chains_identical,
    check_chains_valid,
    reference_server,
)
from paxlab.check.kv import check_kv_identical
from paxlab.check.reads import check_no_lost_writes
from paxlab.check.writes import check_writes_exactly_once

SNAP = 3  # server 2 installed a snapshot at height 3 of the conftest's 6-block chain


def _snapshotted(records: results.RunRecords, sid: int = 2, at: int = SNAP
                 ) -> results.RunRecords:  # fmt: skip
    """The run as it is after server `sid` installed a snapshot at `at`: its chain file
    holds blocks at..5 only; its KV is the whole chain's, as every server's."""
    del records.chains[sid][:at]
    return records


def _by_name(verdicts: list) -> dict:
    return {r.name: r for r in verdicts}


def test_a_chain_from_a_snapshot_passes_every_check_and_is_named(records) -> None:
    verdicts = _by_name(check_records(_snapshotted(records)))
    assert {n: r.verdict for n, r in verdicts.items()} == dict.fromkeys(verdicts, "pass"), verdicts
    assert chain_start(records.chains[2]) == SNAP
    assert verdicts["chains_valid"].details == (
        "3 chains valid at difficulty 4 (15 blocks, 2 of them empty; 17 txns); server 2 holds "
        "blocks 3..5: it installed a snapshot at 3, linked to server 0's block 2"
    )
    head = records.chains[0][-1]["hash"][:8]
    assert verdicts["chains_identical"].details == (
        f"3 chains agree at every height they share, all up to height 5, head {head}..; "
        "server 0 holds blocks 0..5; server 1 holds blocks 0..5; server 2 holds blocks 3..5: "
        "it installed a snapshot at 3"
    )
    assert verdicts["kv_identical"].details.endswith(
        "(3 keys); server 2 started from a snapshot: replayed on server 0's blocks below 3"
    )
    assert "server 0's chain (6 blocks)" in verdicts["no_lost_writes"].details


def test_the_same_run_passes_when_read_from_files(kit, records, tmp_path: Path) -> None:
    run_dir = kit.write_run(tmp_path / "run", _snapshotted(records))
    assert (run_dir / "chains" / "server-2.jsonl").read_text().startswith('{"height":3,')
    verdicts = check_run(run_dir)
    assert checks_passed(verdicts), verdicts
    assert verdicts == check_records(records)


def test_partial_run_with_a_snapshot_chain_behind_passes_and_names_it(records) -> None:
    _snapshotted(records)
    del records.chains[2][-1]  # blocks 3..4
    records.kvs[2] = {"'x'": "2", "'y'": "'b'", "'z'": "9"}  # height 5 holds only a get
    verdicts = _by_name(check_records(records, partial=True))
    assert all(r.verdict == "pass" for r in verdicts.values()), verdicts
    assert "server 2 had not caught up (blocks 3..4 of 6 blocks)" in (
        verdicts["chains_identical"].details)
    assert verdicts["no_lost_writes"].details.endswith(
        "partial run: judged against the longest chain; server 2 had not caught up "
        "(blocks 3..4 of 6 blocks)"
    )
    # a complete run needs every tip equal
    strict = check_chains_identical(records.chains)
    assert strict.verdict == "fail"
    assert "server 2 ends below height 5, which servers 0, 1 hold" in strict.details


def test_a_snapshot_chain_ahead_of_the_others_is_replayed_on_the_reference(records) -> None:
    """Partial run: server 0 (from 0) stopped at height 3, server 2 (from 2) reached 5.
    The reference is still the chain from 0; server 2's KV is its own blocks replayed
    after server 0's blocks 0..1."""
    del records.chains[0][4:]
    records.kvs[0] = {"'x'": "2", "'y'": "'a'", "'z'": "9"}
    del records.chains[1][4:]
    records.kvs[1] = dict(records.kvs[0])
    _snapshotted(records, at=2)
    assert reference_server(records.chains) == 0
    result = check_kv_identical(records.chains, records.kvs, partial=True)
    assert result.verdict == "pass", result.details
    records.kvs[2]["'y'"] = "'a'"
    result = check_kv_identical(records.chains, records.kvs, partial=True)
    assert result.verdict == "fail"
    assert result.details == (
        "server 2: KV differs from the replay of server 0's blocks 0..1 and its own 2..5 "
        "at key 'y': KV has \"'a'\", replay has \"'b'\""
    )


def test_reference_prefers_a_chain_from_0_over_a_longer_tip(kit) -> None:
    chain = kit.chain(kit.batches())
    assert reference_server({0: chain[:4], 1: chain[2:]}) == 0
    assert reference_server({0: chain[3:], 1: chain[2:], 2: chain[2:5]}) == 1
    assert reference_server({0: chain, 1: chain}) == 0
    assert reference_server({4: chain[:5], 1: chain[:4]}) == 4


# ---- broken chains from a snapshot fail, each with a clear message --------------------------


def test_a_first_prev_that_is_not_block_b_minus_1s_hash_fails(kit, records) -> None:
    _snapshotted(records)
    chain = records.chains[2]
    chain[0] = kit.seal(SNAP, "f" * 64, copy.deepcopy(chain[0]["txns"]))  # sound, misplaced
    records.chains[2] = kit.reseal(chain, start=1)
    result = check_chains_valid(records.chains, kit.difficulty)
    assert result.verdict == "fail"
    expected = records.chains[0][SNAP - 1]["hash"][:8]
    assert result.details == (
        f"server 2 height 3: bad prev link: its first block's prev ffffffff.. is not the "
        f"hash of block 2 on server 0 ({expected}..)"
    )


def test_a_chain_from_a_snapshot_with_a_gap_fails(records) -> None:
    _snapshotted(records, at=2)
    del records.chains[2][1]  # blocks 2, 4, 5: height 3 is missing
    result = check_chains_valid(records.chains, 4)
    assert result.verdict == "fail"
    lines = result.details.splitlines()
    assert lines[0] == "server 2 height 3: heights not contiguous (height field 4, expected 3)"
    assert lines[1].startswith("server 2 height 3: bad prev link")
    assert lines[2] == "server 2 height 4: heights not contiguous (height field 5, expected 4)"
    assert len(lines) == 3
    assert check_records(records)[1].verdict == "fail"  # and chains_identical sees it too


def test_a_wrong_height_field_in_a_snapshot_chain_fails(kit, records) -> None:
    _snapshotted(records)
    chain = records.chains[2]
    chain[1]["height"] = 7  # resealed: only the height field is wrong
    records.chains[2] = [chain[0], *kit.reseal(chain, start=1)[1:]]
    result = check_chains_valid(records.chains, kit.difficulty)
    assert result.verdict == "fail"
    assert result.details.splitlines()[0] == (
        "server 2 height 4: heights not contiguous (height field 7, expected 4)"
    )


def test_a_snapshot_chains_first_block_is_not_expected_at_height_0(records) -> None:
    _snapshotted(records)
    result = check_chains_valid(records.chains, 4)
    assert result.verdict == "pass"
    assert "expected 0" not in result.details


def test_a_kv_that_differs_from_the_reference_replay_at_its_height_fails(records) -> None:
    _snapshotted(records)
    records.kvs[2]["'y'"] = "'a'"  # the KV of height 3, not of its tip 5
    for partial in (False, True):
        result = check_kv_identical(records.chains, records.kvs, partial=partial)
        assert result.verdict == "fail"
        assert result.details.splitlines()[0] == (
            "server 2: KV differs from the replay of server 0's blocks 0..2 and its own 3..5 "
            "at key 'y': KV has \"'a'\", replay has \"'b'\""
        )


def test_a_snapshot_chain_that_diverges_from_the_others_fails(kit, records) -> None:
    _snapshotted(records)
    chain = records.chains[2]
    chain[1]["txns"] = [kit.put(1, 3, "'y'", "'c'")]
    records.chains[2] = [chain[0], *kit.reseal(chain, start=1)[1:]]
    records.kvs[2]["'y'"] = "'c'"
    verdicts = _by_name(check_records(records, partial=True))
    assert verdicts["chains_valid"].verdict == "pass"  # valid on its own...
    result = verdicts["chains_identical"]
    assert result.verdict == "fail"  # ...but not the others' block at height 4
    assert result.details.startswith("first difference at height 4: servers 0, 1 ")
    assert f"server 2 {records.chains[2][1]['hash'][:8]}.." in result.details


# ---- what no chain holds cannot be judged: unknown, never pass -------------------------------


def test_a_chain_no_server_can_link_is_unknown(records) -> None:
    _snapshotted(records)
    del records.chains[0], records.chains[1]
    result = check_chains_valid(records.chains, 4)
    assert result.verdict == "unknown"
    assert "server 2 holds blocks 3..5: it installed a snapshot at 3, but no server holds " \
        "block 2: its first block could not be linked" in result.details
    records.chains[2][1]["nonce"] = "tampered"
    assert check_chains_valid(records.chains, 4).verdict == "fail"  # what it sees still fails


def test_without_a_chain_from_0_the_chain_checks_do_not_claim_what_they_cannot_see(
    records,
) -> None:
    for sid in records.chains:
        _snapshotted(records, sid)
    verdicts = _by_name(check_records(records))
    assert verdicts["chains_valid"].verdict == "unknown"
    assert verdicts["chains_identical"].verdict == "pass"  # they agree where they overlap
    assert verdicts["kv_identical"].verdict == "unknown"
    assert "no chain from 0 holds blocks 0..2" in verdicts["kv_identical"].details
    # acknowledged puts at heights 0..2 are not there to see
    assert verdicts["writes_exactly_once"].verdict == "unknown"
    assert "no chain holds blocks 0..2" in verdicts["writes_exactly_once"].details
    assert verdicts["no_lost_writes"].verdict == "unknown"
    assert "server 0's chain (blocks 3..5, from a snapshot)" in verdicts["no_lost_writes"].details
    assert not checks_passed(list(verdicts.values()))


def test_without_a_chain_from_0_what_is_seen_still_fails(kit, records) -> None:
    for sid in records.chains:
        _snapshotted(records, sid)
    records.history.extend([  # client 5's put 'v' failed, yet here it is, committed
        {"process": 5, "type": "invoke", "f": "put", "key": "'v'", "value": "1", "seq": 1,
         "time": 40_000},
        {"process": 5, "type": "fail", "f": "put", "key": "'v'", "value": "1", "seq": 1,
         "time": 41_000},
    ])  # fmt: skip
    for sid, chain in records.chains.items():
        chain[1]["txns"] = [*chain[1]["txns"], kit.put(5, 1, "'v'", "1")]
        records.chains[sid] = [chain[0], *kit.reseal(chain, start=1)[1:]]
    result = check_writes_exactly_once(records.history, records.chains)
    assert result.verdict == "fail"
    assert "client 5 seq 1: put 'v' ended 'fail' (certainly not applied) but is committed " \
        "at height 4" in result.details
    found = check_no_lost_writes(records.history, records.chains)
    assert found.verdict == "unknown"
