"""no_lost_writes and no_phantom_reads: a lost, altered or never-written value fails, with
a table naming client, seq, key and value; info puts and reads of "not found" pass."""

from __future__ import annotations

from paxlab.check.linearizable import check_linearizable
from paxlab.check.reads import check_no_lost_writes, check_no_phantom_reads


def _event(process: int, kind: str, f: str, key: str, value: str | None, seq: int, t: int):
    return {"process": process, "type": kind, "f": f, "key": key, "value": value,
            "seq": seq, "time": t}  # fmt: skip


def _get(process: int, seq: int, key: str, read: str | None, t: int) -> list[dict]:
    return [
        _event(process, "invoke", "get", key, None, seq, t),
        _event(process, "ok", "get", key, read, seq, t + 1_000_000),
    ]


# ---- no_lost_writes --------------------------------------------------------------------


def test_valid_run_passes_with_counts(records) -> None:
    result = check_no_lost_writes(records.history, records.chains)
    assert result.name == "no_lost_writes"
    assert result.verdict == "pass", result.details
    assert result.details == "all 4 acknowledged puts are in server 0's chain (6 blocks)"


def test_lost_write_fails_with_a_table_of_what_was_lost(kit, records) -> None:
    for sid, chain in records.chains.items():
        chain[4]["txns"] = []  # client 1 seq 3 put 'y'='b' was acknowledged
        records.chains[sid] = kit.reseal(chain, start=4)
    result = check_no_lost_writes(records.history, records.chains)
    assert result.verdict == "fail"
    lines = result.details.splitlines()
    assert lines[0] == "1 of 4 acknowledged puts are not in server 0's chain (6 blocks):"
    assert lines[1].split() == [
        "client", "seq", "key", "value", "invoked", "ms", "acked", "ms", "chain", "has"
    ]  # fmt: skip
    assert lines[2].split() == ["1", "3", "'y'", "'b'", "0.023", "0.025", "nothing"]
    assert len(lines) == 3


def test_acknowledged_put_committed_with_another_value_is_lost(kit, records) -> None:
    chain = records.chains[0]
    chain[0]["txns"][1]["value"] = "'A'"
    result = check_no_lost_writes(records.history, {0: kit.reseal(chain)})
    assert result.verdict == "fail"
    assert result.details.splitlines()[2].split()[-3:] == ["0:", "put", "'y'='A'"]


def test_info_and_failed_puts_may_be_missing(kit, records) -> None:
    chain = records.chains[0]
    chain[3]["txns"] = []  # client 3's info put 'z'
    result = check_no_lost_writes(records.history, {0: kit.reseal(chain, start=3)})
    assert result.verdict == "pass", result.details


def test_uses_the_longest_chain(records) -> None:
    del records.chains[0][4:]  # server 0 lags; server 1's full chain has the write
    result = check_no_lost_writes(records.history, records.chains)
    assert result.verdict == "pass", result.details
    assert "server 1's chain" in result.details


def test_no_chains_fails_and_empty_history_passes() -> None:
    assert check_no_lost_writes([], {}).details == "no chains"
    assert check_no_lost_writes([], {}).verdict == "fail"
    assert check_no_lost_writes([], {0: []}).verdict == "pass"


def test_many_lost_writes_show_30_rows_and_a_count() -> None:
    history = []
    for seq in range(1, 41):
        history += [_event(1, kind, "put", "'k'", str(seq), seq, seq) for kind in ("invoke", "ok")]
    result = check_no_lost_writes(history, {0: []})
    lines = result.details.splitlines()
    assert lines[0] == "40 of 40 acknowledged puts are not in server 0's chain (0 blocks):"
    assert len(lines) == 1 + 1 + 30 + 1
    assert lines[-1] == "... and 10 more"


# ---- no_phantom_reads ------------------------------------------------------------------


def test_valid_history_passes_with_counts(records) -> None:
    result = check_no_phantom_reads(records.history)
    assert result.name == "no_phantom_reads"
    assert result.verdict == "pass", result.details
    assert result.details == (
        "all 2 values read were written to their key by some put (0 gets found nothing)"
    )


def test_read_of_a_value_never_written_fails_here_and_in_linearizable(records) -> None:
    history = records.history + _get(5, 1, "'x'", "42", 40_000)
    result = check_no_phantom_reads(history)
    assert result.verdict == "fail"
    lines = result.details.splitlines()
    assert lines[0] == "1 of 3 values read were never written to their key:"
    assert lines[2].split() == ["5", "1", "'x'", "42", "0.040", "1.040", "never", "written"]
    assert check_linearizable(history).verdict == "fail"


def test_read_of_a_value_written_to_another_key_fails() -> None:
    history = [
        _event(1, "invoke", "put", "'y'", "7", 1, 0),
        _event(1, "ok", "put", "'y'", "7", 1, 10),
        *_get(2, 1, "'x'", "7", 20),
    ]
    result = check_no_phantom_reads(history)
    assert result.verdict == "fail"
    assert result.details.splitlines()[2].endswith("written to 'y'")


def test_not_found_is_always_allowed_and_counted() -> None:
    result = check_no_phantom_reads(_get(1, 1, "'x'", None, 0) + _get(1, 2, "'x'", None, 5))
    assert result.verdict == "pass"
    assert result.details == (
        "all 0 values read were written to their key by some put (2 gets found nothing)"
    )


def test_any_put_outcome_counts_as_written() -> None:
    """A read of an info put's value is fine; of a failed put's, linearizable judges."""
    history = []
    for seq, kind in enumerate(("info", "fail"), start=1):
        history += [_event(1, "invoke", "put", "'x'", kind, seq, 10 * seq),
                    _event(1, kind, "put", "'x'", kind, seq, 10 * seq + 5)]  # fmt: skip
    history += _get(2, 1, "'x'", "info", 40) + _get(2, 2, "'x'", "fail", 50)
    assert check_no_phantom_reads(history).verdict == "pass"
    assert check_linearizable(history).verdict == "fail"


def test_info_and_failed_gets_are_not_reads() -> None:
    history = [
        _event(1, "invoke", "get", "'x'", None, 1, 0),
        _event(1, "info", "get", "'x'", "ghost", 1, 5),
    ]
    assert check_no_phantom_reads(history).verdict == "pass"
