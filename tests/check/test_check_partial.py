"""A partial run (interrupted, timed out, never quiescent) is judged on what it recorded.

A server that had not caught up holds a prefix of the others' chain and the KV of that
prefix: that is no fault, and the checks say who lagged and by how much. Two different
blocks at one height are a fault in any run, and a complete run keeps the strict rules:
there every server must have learned every committed block.
"""

from __future__ import annotations

import copy
from pathlib import Path

from paxlab import results
from paxlab.check import check_records, check_run, checks_passed
from paxlab.check.chains import check_chains_identical
from paxlab.check.kv import check_kv_identical

# The conftest run's chain has 6 blocks; its first 4 replay to this KV ('y' is 'a' until
# height 4 writes 'b').
_KV_OF_4 = {"'x'": "2", "'y'": "'a'", "'z'": "9"}


def _lagging(records: results.RunRecords, sid: int = 2, height: int = 4) -> results.RunRecords:
    """The run as a Ctrl-C leaves it: server `sid` had learned only `height` blocks."""
    del records.chains[sid][height:]
    records.kvs[sid] = dict(_KV_OF_4)
    return records


def _by_name(verdicts: list) -> dict:
    return {r.name: r for r in verdicts}


def test_partial_run_with_a_lagging_server_passes_and_names_it(records) -> None:
    verdicts = _by_name(check_records(_lagging(records), partial=True))
    assert {name: r.verdict for name, r in verdicts.items()} == dict.fromkeys(verdicts, "pass")
    head = records.chains[0][-1]["hash"][:8]
    assert verdicts["chains_identical"].details == (
        "partial run: chains agree on their common prefix of 4 blocks; server 2 had not "
        f"caught up (4 of 6 blocks); servers 0, 1 hold all 6, head {head}.."
    )
    assert verdicts["kv_identical"].details == (
        "partial run: 3 KVs equal the replay of their own chains; KVs compared only at the "
        "same height: servers 0, 1 at 6 blocks (3 keys), server 2 at 4 blocks (3 keys)"
    )
    for name in ("writes_exactly_once", "no_lost_writes"):
        assert "server 0's chain (6 blocks)" in verdicts[name].details
        assert verdicts[name].details.endswith(
            "; partial run: judged against the longest chain; server 2 had not caught up "
            "(4 of 6 blocks)"
        ), verdicts[name].details


def test_several_lagging_servers_are_each_named_with_their_height(kit) -> None:
    records = kit.records(servers=4)
    del records.chains[0][5:]
    del records.chains[3][2:]
    del records.chains[1][2:]
    result = check_chains_identical(records.chains, partial=True)
    assert result.verdict == "pass", result.details
    assert result.details.startswith(
        "partial run: chains agree on their common prefix of 2 blocks; servers 1, 3 had "
        "not caught up (2 of 6 blocks); server 0 had not caught up (5 of 6 blocks); "
        "server 2 holds all 6, head "
    ), result.details


def test_partial_run_with_a_real_divergence_fails(kit, records) -> None:
    _lagging(records)
    chain = records.chains[1]
    chain[3]["txns"] = [kit.put(3, 1, "'z'", "10")]
    records.chains[1] = kit.reseal(chain, start=3)
    verdicts = _by_name(check_records(records, partial=True))
    result = verdicts["chains_identical"]
    assert result.verdict == "fail"
    assert "first difference at height 3" in result.details
    assert f"servers 0, 2 {records.chains[0][3]['hash'][:8]}" in result.details
    assert f"server 1 {records.chains[1][3]['hash'][:8]}" in result.details
    assert not checks_passed(list(verdicts.values()))


def test_partial_run_fails_when_a_lagging_chain_is_no_prefix(kit, records) -> None:
    """Shorter, and different at a height it holds: a divergence, not a lag."""
    _lagging(records, height=3)
    chain = records.chains[2]
    chain[2]["txns"] = [kit.put(2, 2, "'x'", "3")]
    records.chains[2] = kit.reseal(chain, start=2)
    records.kvs[2] = {"'x'": "3", "'y'": "'a'"}
    result = check_chains_identical(records.chains, partial=True)
    assert result.verdict == "fail"
    assert "first difference at height 2" in result.details


def test_the_same_lagging_input_as_a_complete_run_fails_as_before(records) -> None:
    verdicts = _by_name(check_records(_lagging(records), partial=False))
    assert verdicts["chains_identical"].verdict == "fail"
    assert verdicts["chains_identical"].details == (
        "server 2 has 4 blocks, servers 0, 1 have 6; first difference at height 4"
    )
    assert verdicts["kv_identical"].verdict == "fail"
    assert verdicts["kv_identical"].details == (
        "server 2 and server 0 differ at key 'y': \"'a'\" vs \"'b'\""
    )
    assert verdicts == _by_name(check_records(records))  # strict is the default


def test_partial_run_still_judges_each_kv_against_its_own_chain(records) -> None:
    _lagging(records)
    records.kvs[2]["'y'"] = "'b'"  # what the longest chain gives, not what server 2 holds
    result = check_kv_identical(records.chains, records.kvs, partial=True)
    assert result.verdict == "fail"
    assert "server 2: KV differs from the replay of its chain at key 'y'" in result.details


def test_partial_run_still_compares_kvs_at_the_same_height(kit, records) -> None:
    """Servers 1 and 2 both stopped at height 4, each KV the replay of its own chain, but
    their chains differ at height 3: their KVs must still be found to differ."""
    _lagging(records)
    chain = copy.deepcopy(records.chains[2])
    chain[3]["txns"] = [kit.put(3, 1, "'z'", "10")]
    records.chains[1] = kit.reseal(chain, start=3)
    records.kvs[1] = {**_KV_OF_4, "'z'": "10"}
    result = check_kv_identical(records.chains, records.kvs, partial=True)
    assert result.verdict == "fail"
    assert result.details == "server 2 and server 1 differ at key 'z': '9' vs '10'"


def test_partial_run_still_fails_on_a_lost_write(records) -> None:
    """Acknowledged writes must be in the longest chain, partial run or not: here no
    server holds height 4, where client 1's acknowledged put y='b' went."""
    for sid in records.chains:
        _lagging(records, sid)
    verdicts = _by_name(check_records(records, partial=True))
    assert verdicts["chains_identical"].verdict == "pass"
    assert verdicts["no_lost_writes"].verdict == "fail"
    assert verdicts["writes_exactly_once"].verdict == "fail"
    assert "client 1 seq 3: acknowledged put 'y'='b'" in verdicts["writes_exactly_once"].details


def test_check_run_reads_partial_from_the_summary(kit, records, tmp_path: Path) -> None:
    run_dir = kit.write_run(tmp_path / "run", _lagging(records))
    assert not checks_passed(check_run(run_dir))  # no summary: a complete run's rules
    results.write_summary(run_dir, {"partial": False, "checks": []})
    assert not checks_passed(check_run(run_dir))
    results.write_summary(run_dir, {"partial": True, "checks": []})
    verdicts = check_run(run_dir)
    assert checks_passed(verdicts), verdicts
    assert verdicts == check_records(records, partial=True)
    assert not checks_passed(check_run(run_dir, partial=False))  # the caller knows best
