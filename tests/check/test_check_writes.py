"""writes_exactly_once: lost, duplicated, altered and failed-yet-committed writes fail."""

from __future__ import annotations

from paxlab.check.writes import check_writes_exactly_once


def test_valid_run_passes_with_counts(records) -> None:
    result = check_writes_exactly_once(records.history, records.chains)
    assert result.name == "writes_exactly_once"
    assert result.verdict == "pass", result.details
    assert result.details == (
        "4 acknowledged puts found exactly once in server 0's chain (6 blocks); "
        "0 duplicate (client, seq); 1 of 2 info puts committed"
    )


def test_lost_write_fails_naming_client_seq_key(kit, records) -> None:
    for sid, chain in records.chains.items():
        chain[4]["txns"] = []  # client 1 seq 3 put 'y'='b' was acknowledged
        records.chains[sid] = kit.reseal(chain, start=4)
    result = check_writes_exactly_once(records.history, records.chains)
    assert result.verdict == "fail"
    assert result.details == (
        "client 1 seq 3: acknowledged put 'y'='b' is not in server 0's chain (6 blocks)"
    )


def test_duplicated_write_in_two_blocks_fails(kit, records) -> None:
    chain = records.chains[0]
    chain[1]["txns"] = [kit.put(2, 2, "'x'", "2")]  # also committed at height 2
    chains = {0: kit.reseal(chain, start=1)}
    result = check_writes_exactly_once(records.history, chains)
    assert result.verdict == "fail"
    assert result.details == (
        "client 2 seq 2: put 'x'=2 appears 2 times in server 0's chain (6 blocks), at heights 1, 2"
    )


def test_duplicated_unacknowledged_request_fails_too(kit, records) -> None:
    chain = records.chains[0]
    chain[5]["txns"].append(kit.put(4, 1, "'q'", "7"))  # info put, committed twice
    chain[1]["txns"] = [kit.put(4, 1, "'q'", "7")]
    chains = {0: kit.reseal(chain, start=1)}
    result = check_writes_exactly_once(records.history, chains)
    assert result.verdict == "fail"
    assert "client 4 seq 1" in result.details and "heights 1, 5" in result.details


def test_acknowledged_value_differs_from_committed_value_fails(kit, records) -> None:
    chain = records.chains[0]
    chain[0]["txns"][1]["value"] = "'A'"
    chains = {0: kit.reseal(chain)}
    result = check_writes_exactly_once(records.history, chains)
    assert result.verdict == "fail"
    assert result.details == (
        "client 2 seq 1: acknowledged put 'y'='a' but height 0 has put 'y'='A'"
    )


def test_failed_put_that_was_committed_fails(kit, records) -> None:
    chain = records.chains[0]
    chain[1]["txns"] = [kit.put(3, 2, "'w'", "5")]  # history says it ended "fail"
    chains = {0: kit.reseal(chain, start=1)}
    result = check_writes_exactly_once(records.history, chains)
    assert result.verdict == "fail"
    assert "client 3 seq 2: put 'w' ended 'fail'" in result.details
    assert "height 1" in result.details


def test_info_put_present_or_absent_passes(kit, records) -> None:
    chain = records.chains[0]
    chain[3]["txns"] = []  # client 3's info put 'z' now never committed
    chains = {0: kit.reseal(chain, start=3)}
    result = check_writes_exactly_once(records.history, chains)
    assert result.verdict == "pass", result.details
    assert "0 of 2 info puts committed" in result.details


def test_uses_the_longest_chain(kit, records) -> None:
    del records.chains[0][4:]  # server 0 lags; server 1's full chain has the write
    result = check_writes_exactly_once(records.history, records.chains)
    assert result.verdict == "pass", result.details
    assert "server 1's chain" in result.details


def test_no_chains_fails(records) -> None:
    result = check_writes_exactly_once(records.history, {})
    assert (result.verdict, result.details) == ("fail", "no chains")


def test_empty_history_and_chain_pass() -> None:
    result = check_writes_exactly_once([], {0: []})
    assert result.verdict == "pass"
    assert result.details.startswith("0 acknowledged puts")
