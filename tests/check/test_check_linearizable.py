"""linearizable: stale reads, lost and reordered writes fail; overlapping, info, open and
failed ops that a register allows pass; a search out of time is unknown, never pass."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from paxlab.bench.check import realistic_history, run_check_bench
from paxlab.check.linearizable import _Search, check_linearizable, search_key
from paxlab.check.ops import Op, history_ops
from paxlab.check.reads import check_no_phantom_reads
from paxlab.check.verdict import plain_table
from paxlab.check.zones import find_conflict

_MS = 1_000_000


class History:
    """Builds history.jsonl events; each process numbers its ops 1, 2, ... Times in ms.
    answered=None leaves the op open (its client was killed); kind is ok, info or fail."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.seqs: dict[int, int] = {}

    def op(self, process: int, f: str, value: str | None, invoked: float,
           answered: float | None, kind: str = "ok", key: str = "'x'") -> History:  # fmt: skip
        seq = self.seqs[process] = self.seqs.get(process, 0) + 1
        written = value if f == "put" else None
        event = {"process": process, "f": f, "key": key, "seq": seq}
        self.events.append(
            {**event, "type": "invoke", "value": written, "time": round(invoked * _MS)}
        )
        if answered is not None:
            seen = value if f == "put" or kind == "ok" else None
            self.events.append(
                {**event, "type": kind, "value": seen, "time": round(answered * _MS)}
            )
        return self

    def put(self, process: int, value: str, invoked: float, answered: float | None,
            kind: str = "ok", key: str = "'x'") -> History:  # fmt: skip
        return self.op(process, "put", value, invoked, answered, kind, key)

    def get(self, process: int, value: str | None, invoked: float, answered: float | None,
            kind: str = "ok", key: str = "'x'") -> History:  # fmt: skip
        return self.op(process, "get", value, invoked, answered, kind, key)

    def done(self) -> list[dict]:
        return sorted(self.events, key=lambda e: (e["time"], e["process"]))


def verdict(history: History) -> str:
    result = check_linearizable(history.done())
    assert result.name == "linearizable"
    return result.verdict


# ---- histories no register allows ------------------------------------------------------


def test_stale_read_fails_naming_the_get_and_the_value_it_could_see() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30).get(3, "1", 40, 50)
    result = check_linearizable(h.done())
    assert result.verdict == "fail"
    lines = result.details.splitlines()
    assert lines[0] == "key 'x' (3 ops) is not linearizable"
    assert lines[1] == (
        "why: the get by process 3 seq 1 read 1, but no order of the ops before it leaves "
        "that in the register; it could only hold: 2"
    )
    assert lines[2].split() == ["process", "op", "value", "invoked", "ms", "answered", "ms"]
    assert lines[3].split() == ["1", "put", "1", "0.000", "10.000"]
    assert lines[5].split() == ["3", "get", "1", "40.000", "50.000", "<-", "here"]


def test_get_of_not_found_after_an_acknowledged_put_fails() -> None:
    result = check_linearizable(History().put(1, "1", 0, 10).get(2, None, 11, 12).done())
    assert result.verdict == "fail"
    assert "read not found, but" in result.details and "could only hold: 1" in result.details


def test_write_order_inversion_across_two_clients_fails() -> None:
    """A's put 1 completes before B's put 2 is invoked, so 2 is the later write; reads that
    see 2 and then 1 put them the other way round."""
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30).get(3, "2", 40, 50).get(3, "1", 60, 70)
    result = check_linearizable(h.done())
    assert result.verdict == "fail"
    assert "the get by process 3 seq 2 read 1" in result.details
    assert "could only hold: 2" in result.details


def test_reads_of_overlapping_puts_must_agree_on_one_order() -> None:
    h = History().put(1, "1", 0, 30).put(2, "2", 5, 35).get(3, "2", 40, 50).get(3, "1", 60, 70)
    assert verdict(h) == "fail"


def test_read_of_a_value_never_written_fails() -> None:
    h = History().put(1, "1", 0, 10).get(2, "9", 20, 30)
    result = check_linearizable(h.done())
    assert result.verdict == "fail"
    assert "the get by process 2 seq 1 read 9, which no put to this key wrote" in result.details


def test_read_of_a_failed_put_fails() -> None:
    """fail means certainly not applied: nobody may read its value."""
    h = History().put(1, "1", 0, 10, kind="fail").get(2, "1", 20, 30)
    result = check_linearizable(h.done())
    assert result.verdict == "fail"
    assert "written only by a put that ended fail" in result.details


def test_read_before_the_put_was_invoked_fails() -> None:
    assert verdict(History().get(1, "1", 0, 10).put(2, "1", 20, 30)) == "fail"


def test_info_get_constrains_nothing_but_an_ok_get_does() -> None:
    base = History().put(1, "1", 0, 10).put(2, "2", 20, 30)
    assert verdict(base.get(3, None, 40, 50, kind="info")) == "pass"
    assert verdict(base.get(4, "1", 60, 70)) == "fail"


# ---- histories a register allows -------------------------------------------------------


@pytest.mark.parametrize("seen", ["1", "2"])
def test_concurrent_overlapping_puts_read_in_either_order_pass(seen: str) -> None:
    h = History().put(1, "1", 0, 30).put(2, "2", 5, 35).get(3, seen, 40, 50).get(3, seen, 60, 70)
    assert verdict(h) == "pass"


def test_read_during_overlapping_puts_may_see_either_then_the_other() -> None:
    h = History().put(1, "1", 0, 30).put(2, "2", 5, 35).get(3, "2", 10, 20).get(4, "1", 36, 40)
    assert verdict(h) == "pass"


def test_get_concurrent_with_the_first_put_may_read_not_found() -> None:
    assert verdict(History().put(1, "1", 0, 10).get(2, None, 5, 20).get(2, "1", 21, 22)) == "pass"


def test_info_put_that_took_effect_passes() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30, kind="info").get(3, "2", 40, 50)
    assert verdict(h) == "pass"


def test_info_put_that_never_took_effect_passes() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30, kind="info")
    assert verdict(h.get(3, "1", 40, 50).get(3, "1", 60, 70)) == "pass"


def test_info_put_that_takes_effect_late_passes() -> None:
    """The info put of 2 lands after its client gave up, after put 3 and a read of 3."""
    h = History().put(1, "2", 0, 5, kind="info").put(2, "3", 10, 20).get(3, "3", 30, 40)
    assert verdict(h.get(3, "2", 50, 60).get(4, "2", 70, 80)) == "pass"


def test_info_put_still_must_come_after_its_invoke() -> None:
    h = History().get(1, "2", 0, 5).put(2, "2", 10, 20, kind="info")
    assert verdict(h) == "fail"


def test_killed_clients_open_invoke_may_or_may_not_take_effect() -> None:
    """Process 1 is killed during put 5 and restarted; its new ops run while the old one
    stays open. Both what happened next and what did not are linearizable."""
    took = History().put(1, "5", 0, None).put(1, "6", 20, 30).get(2, "6", 35, 40)
    assert verdict(took.get(2, "5", 50, 60)) == "pass"
    never = History().put(1, "5", 0, None).put(1, "6", 20, 30).get(2, "6", 35, 40)
    assert verdict(never.get(2, "6", 50, 60)) == "pass"


def test_open_get_is_dropped() -> None:
    assert verdict(History().get(1, None, 0, None).put(2, "1", 10, 20).get(3, "1", 30, 40)) == (
        "pass"
    )


def test_failed_ops_are_ignored() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30, kind="fail").get(3, "1", 40, 50)
    assert verdict(h.get(4, None, 45, 55, kind="fail")) == "pass"


def test_a_value_written_again_may_be_read_again_after_another() -> None:
    """Values need not be unique: 1, then 2, then 1 again, each read in turn."""
    h = History().put(1, "1", 0, 10).get(2, "1", 11, 12).put(1, "2", 20, 30)
    assert verdict(h.get(2, "2", 31, 32).put(1, "1", 40, 50).get(2, "1", 51, 52)) == "pass"


def test_a_repeated_value_tried_too_early_is_tried_again_later() -> None:
    """The search first places the long put of 0 at the start, must take it back, and
    then needs it after the put of 1: undoing a step must give its put back."""
    h = History().put(1, "0", 0, 10).put(2, "0", 1, 100).put(3, "1", 20, 30)
    assert verdict(h.get(4, "0", 40, 50)) == "pass"


def test_ops_that_touch_count_as_concurrent() -> None:
    """A get answered at the same nanosecond as a put is invoked may still see it."""
    assert verdict(History().get(1, "1", 0, 10).put(2, "1", 10, 20)) == "pass"


def test_empty_history_passes() -> None:
    result = check_linearizable([])
    assert (result.verdict, result.details) == (
        "pass",
        "0 keys, 0 ops (0 info or unanswered puts) linearizable as registers; 0 search steps",
    )


def test_many_keys_pass_and_the_smallest_failing_key_is_named() -> None:
    h = History()
    for k in range(50):
        key = f"'k{k}'"
        for n in range(4):
            t = 100 * n
            h.put(k % 7, f"{k}-{n}", t, t + 30, key=key).get(
                7 + k % 5, f"{k}-{n}", t + 31, t + 40, key=key
            )
    result = check_linearizable(h.done())
    assert result.verdict == "pass", result.details
    assert result.details.startswith("50 keys, 400 ops (0 info or unanswered puts)")
    h.get(20, "'k3'-0", 1000, 1010, key="'k3'")  # stale, on a key with 9 ops
    h.get(20, None, 1020, 1030, key="'k40'").get(20, None, 1040, 1050, key="'k40'")  # 10 ops
    result = check_linearizable(h.done())
    assert result.verdict == "fail"
    assert result.details.splitlines()[0] == (
        "key 'k3' (9 ops) is not linearizable; 1 more key fails: 'k40'"
    )


def test_long_failing_key_shows_about_30_rows_around_the_failure() -> None:
    h = History()
    for n in range(100):
        h.put(n % 4, str(n), 10 * n, 10 * n + 5)
    h.get(9, "3", 2000, 2010)  # stale: 99 was written last
    for n in range(100, 150):
        h.put(n % 4, str(n), 10 * n + 2000, 10 * n + 2005)
    lines = check_linearizable(h.done()).details.splitlines()
    assert lines[2] == "... 80 earlier ops"
    assert lines[-1] == "... 41 later ops"
    rows = lines[4:-1]
    assert len(rows) == 30
    assert rows[20].split() == ["9", "get", "3", "2000.000", "2010.000", "<-", "here"]


# ---- the time budget -----------------------------------------------------------------


def _alternations(n: int, reads: int) -> list[dict]:
    """n puts of 'a' and n of 'b', all concurrent, and `reads` sequential gets alternating
    a, b, a, ...: each switch needs a put of its own, so more than 2n reads is impossible,
    and a search that tells puts of one value apart tries every subset of them."""
    h = History()
    end = 10 * reads + 10
    for i in range(n):
        h.put(2 * i, "'a'", 0, end).put(2 * i + 1, "'b'", 0, end)
    for j in range(reads):
        h.get(100, "'a'" if j % 2 == 0 else "'b'", 10 * j + 1, 10 * j + 5)
    return h.done()


@pytest.mark.parametrize("reads", [20, 21])  # possible and impossible
def test_running_out_of_time_is_unknown_naming_the_key_never_pass(reads: int) -> None:
    history = _alternations(10, reads) + History().put(999, "1", 0, 1, key="'easy'").done()
    result = check_linearizable(history, budget_s=0.05)
    assert result.verdict == "unknown"
    assert result.details == (
        f"out of time (0.05 s budget): could not decide key 'x' ({20 + reads} ops); "
        "1 other key is linearizable"
    )


def test_memoization_decides_alternations_in_time() -> None:
    """With the memo these take about 0.05 s; without it, more than 5 s each."""
    assert check_linearizable(_alternations(5, 10), budget_s=2).verdict == "pass"
    assert check_linearizable(_alternations(5, 11), budget_s=2).verdict == "fail"


# ---- pairing and formatting ----------------------------------------------------------


def test_ops_pair_by_process_and_seq_not_by_one_open_op_per_process() -> None:
    events = History().put(1, "5", 0, None).put(1, "6", 20, 30).get(2, "6", 35, 40).done()
    events.append(
        {
            "process": 3,
            "type": "ok",
            "f": "get",
            "key": "'x'",
            "value": "6",
            "seq": 1,
            "time": 50 * _MS,
        }
    )  # a completion without its invoke: fmt: skip
    ops = history_ops(events + events[:2])  # repeated events count once
    assert [(o.process, o.seq, o.outcome, o.invoke_ns, o.return_ns) for o in ops] == [
        (1, 1, "open", 0, None),
        (3, 1, "ok", 0, 50 * _MS),
        (1, 2, "ok", 20 * _MS, 30 * _MS),
        (2, 1, "ok", 35 * _MS, 40 * _MS),
    ]


def test_plain_table_matches_tabulate_plain() -> None:
    rows = [(1, "put", "'a'", "1.000", "2.000"), (12, "get", "not found", "3.5", "info")]
    headers = ("process", "op", "value", "invoked ms", "answered ms")
    expected = tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)
    assert plain_table(rows, headers) == expected


# ---- zones: quick proofs when every put writes its own value -----------------------------


def _key_ops(h: History) -> list[Op]:
    return [op for op in history_ops(h.done()) if op.is_searched]


def test_zones_find_a_stale_read() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30).get(3, "1", 40, 50)
    conflict = find_conflict(_key_ops(h))
    assert conflict is not None
    assert conflict.why == (
        "why: 1 must be in the register from 10.000 ms (the put by process 1 seq 1 answered) "
        "until 40.000 ms (the get by process 3 seq 1 was invoked), but 2 must be in it at "
        "some time from 20.000 ms to 30.000 ms"
    )
    assert (conflict.op.process, conflict.op.f) == (3, "get")


def test_zones_find_two_values_that_must_both_hold_at_once() -> None:
    h = History().put(1, "1", 0, 10).put(2, "2", 20, 30).get(3, "2", 40, 50).get(3, "1", 60, 70)
    conflict = find_conflict(_key_ops(h))
    assert conflict is not None
    assert "but 2 must be in the register from 30.000 ms" in conflict.why


def test_zones_find_a_read_answered_before_its_put_was_invoked() -> None:
    conflict = find_conflict(_key_ops(History().get(1, "1", 0, 10).put(2, "1", 20, 30)))
    assert conflict is not None
    assert conflict.why == (
        "why: the get by process 1 seq 1 read 1 at 10.000 ms, before its put was invoked at "
        "20.000 ms"
    )


def test_zones_find_not_found_after_a_put() -> None:
    conflict = find_conflict(_key_ops(History().put(1, "1", 0, 10).get(2, None, 20, 30)))
    assert conflict is not None
    assert conflict.why.startswith("why: not found must be in the register from the start")


def test_zones_stand_aside_for_repeated_values_and_valid_histories() -> None:
    assert find_conflict(_key_ops(History().put(1, "1", 0, 10).put(2, "1", 20, 30))) is None
    h = History().put(1, "1", 0, 30).put(2, "2", 5, 35).get(3, "2", 10, 20).get(4, "1", 36, 40)
    assert find_conflict(_key_ops(h)) is None
    late = History().put(1, "2", 0, 5, kind="info").put(2, "3", 10, 20).get(3, "3", 30, 40)
    assert find_conflict(_key_ops(late.get(3, "2", 50, 60))) is None


def test_zones_let_ops_that_touch_go_either_way() -> None:
    """Equal times count as concurrent, in the zones as in the search: a get invoked the
    instant the next put answers, or a put invoked the instant the last one answered, may
    still come first."""
    at_end = History().put(1, "1", 0, 10).get(3, "1", 20, 30).put(2, "2", 5, 20)
    at_end.get(3, "2", 25, 35)
    at_start = History().put(1, "1", 0, 10).put(2, "2", 10, 30).get(3, "1", 40, 50)
    inside_end = History().put(1, "1", 0, 10).put(2, "2", 20, 40).get(3, "1", 40, 50)
    for h in (at_end, at_start, inside_end):
        assert find_conflict(_key_ops(h)) is None
        assert verdict(h) == "pass"


def test_a_stale_read_among_32_busy_clients_is_decided_quickly() -> None:
    """The plain search would try every order of the clients' overlapping ops first."""
    history = realistic_history(ops=3000, keys=1, clients=32, seed=2)
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get" and e["value"]]
    reads[1200]["value"] = reads[400]["value"]
    result = check_linearizable(history, budget_s=3)
    assert result.verdict == "fail"
    assert "<- here" in result.details


# ---- properties --------------------------------------------------------------------------


def _assert_linearization(search: _Search) -> None:
    """The order the search found, checked from scratch: every acknowledged op is in it,
    no op comes before one that had answered before it was invoked, and every get reads
    what the puts before it leave."""
    order = [search.ops[i] for i, *_ in search.stack]
    placed = {id(op) for op in order}
    assert all(id(op) in placed for op in search.ops if op.is_required)
    state, latest_invoke = None, -1
    for op in order:
        if op.is_required:
            assert op.return_ns is not None and latest_invoke <= op.return_ns, op
        latest_invoke = max(latest_invoke, op.invoke_ns)
        if op.f == "put":
            state = op.value
        else:
            assert op.value == state, (op, state)


_OUTCOMES = ["ok", "ok", "ok", "ok", "info-applied", "info-lost", "open-applied", "open-lost",
             "fail"]  # fmt: skip


@st.composite
def register_histories(draw: st.DrawFn, values: int | None = None, keys: int = 3) -> list[dict]:
    """Ops executed one after another on a register per key, op i taking effect at 100*i;
    each op's interval is stretched around that point at random, so they overlap. With
    `values`, puts draw from that many values (repeats allowed) instead of unique ones."""
    count = draw(st.integers(1, 24))
    register: dict[str, str | None] = {}
    h = History()
    for i in range(count):
        key = draw(st.sampled_from(["'a'", "'b'", "'c'"][:keys]))
        process = draw(st.integers(0, 4))
        is_put = draw(st.booleans())
        outcome = draw(st.sampled_from(_OUTCOMES))
        point = 100 * i
        invoked = point - draw(st.integers(0, 450))
        answered = point + draw(st.integers(0, 450))
        applied = outcome in ("ok", "info-applied", "open-applied")
        if outcome.startswith("info"):
            answered = invoked + draw(st.integers(0, 900))  # the effect may come later
        end, kind = (None, "ok") if outcome.startswith("open") else (answered, outcome[:4])
        if is_put:
            value = str(draw(st.integers(0, values - 1))) if values else f"v{i}"
            if applied:
                register[key] = value
            h.put(process, value, invoked, end, kind, key)
        else:
            seen = register.get(key) if applied else None
            h.get(process, seen, invoked, end, kind, key)
    return h.done()


@settings(max_examples=150, deadline=None)
@given(register_histories())
def test_histories_from_a_register_execution_are_linearizable(history: list[dict]) -> None:
    result = check_linearizable(history)
    assert result.verdict == "pass", result.details
    ops = history_ops(history)
    for key in {op.key for op in ops}:
        search = _Search([op for op in ops if op.key == key])
        assert search.run(float("inf")) is True
        _assert_linearization(search)


@settings(max_examples=100, deadline=None)
@given(register_histories(), st.randoms(use_true_random=False))
def test_a_read_of_a_never_written_value_always_fails(
    history: list[dict], rng: random.Random
) -> None:
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get"]
    assume(reads)
    rng.choice(reads)["value"] = "'never-written'"
    assert check_linearizable(history).verdict == "fail"
    assert check_no_phantom_reads(history).verdict == "fail"


@settings(max_examples=150, deadline=None)
@given(register_histories(values=2, keys=1), st.randoms(use_true_random=False))
def test_the_prune_changes_no_verdict(history: list[dict], rng: random.Random) -> None:
    """One key, repeated values, and a get's value changed half the time so some histories
    fail: the pruned search and the plain one must agree."""
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get"]
    if reads and rng.random() < 0.5:
        rng.choice(reads)["value"] = rng.choice([None, "0", "1"])
    ops = history_ops(history)
    assert search_key(ops, prune=True) == search_key(ops, prune=False, zones=False)


@settings(max_examples=150, deadline=None)
@given(register_histories(keys=1), st.randoms(use_true_random=False))
def test_zones_prove_only_what_the_plain_search_finds(
    history: list[dict], rng: random.Random
) -> None:
    """Unique values, and one get's value swapped for another that was written (or for not
    found): a conflict the zones report is one the plain search confirms."""
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get"]
    written = [e["value"] for e in history if e["f"] == "put"]
    if reads and rng.random() < 0.8:
        rng.choice(reads)["value"] = rng.choice([None, *written])
    ops = [op for op in history_ops(history) if op.is_searched]
    plain = search_key(ops, prune=False, zones=False)
    if find_conflict(ops) is not None:
        assert plain is False
    assert search_key(ops) == plain


# ---- the benchmark ---------------------------------------------------------------------


def test_bench_history_is_realistic_and_linearizable() -> None:
    history = realistic_history(ops=600, keys=3, clients=4, seed=3)
    kinds = {e["type"] for e in history}
    assert kinds == {"invoke", "ok", "info", "fail"}
    ops = history_ops(history)
    assert len(ops) == 600 and sum(op.outcome == "open" for op in ops) == 1
    assert check_linearizable(history).verdict == "pass"
    search = _Search([op for op in ops if op.key == "'k0'"])
    assert search.run(float("inf")) is True
    _assert_linearization(search)
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get" and e["value"]]
    reads[len(reads) // 2]["value"] = reads[0]["value"]  # an old value, read again later
    assert check_linearizable(history).verdict == "fail"


def test_bench_prints_both_variants_and_their_ratio() -> None:
    out = io.StringIO()
    seconds = run_check_bench(ops=400, keys=2, clients=4, out=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split()[:5] == ["variant", "ops", "keys", "clients", "verdict"]
    assert lines[2].split()[:5] == ["history", "400", "2", "4", "pass"]
    assert lines[3].split()[:7] == ["baseline", "(one", "key)", "400", "1", "4", "pass"]
    assert lines[4].startswith("ops/s ratio history / baseline: ")
    assert seconds > 0
