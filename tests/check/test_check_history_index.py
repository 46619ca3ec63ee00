"""check_records reads the history once (check.history) for four checks, and the longest
chain's txns once (check.txns) for three, and those checks pass the common case by set
comparisons. These tests hold all of it to the checks' plain way, which reads the
history and chain itself: on valid runs, on each kind of broken one, and on histories
too odd to index (missing fields, odd types, repeated events), where the answer, or the
exception, must be the plain way's.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from paxlab import results
from paxlab.check.blocks import is_int, txn_problem
from paxlab.check.chains import check_chains_identical, check_chains_valid
from paxlab.check.history import index_history
from paxlab.check.kv import MalformedChain, check_kv_identical, replay
from paxlab.check.linearizable import check_linearizable
from paxlab.check.ops import Op, history_ops
from paxlab.check.reads import check_no_lost_writes, check_no_phantom_reads
from paxlab.check.runner import check_records
from paxlab.check.txns import txn_index
from paxlab.check.writes import check_writes_exactly_once
from tests.check.conftest import ChainKit


def _plain(records: results.RunRecords) -> list:
    """The seven checks, each reading the records itself (no shared index)."""
    history, chains = records.history, records.chains
    return [
        check_chains_valid(chains, records.difficulty),
        check_chains_identical(chains),
        check_kv_identical(chains, records.kvs),
        check_writes_exactly_once(history, chains),
        check_no_lost_writes(history, chains),
        check_no_phantom_reads(history),
        check_linearizable(history),
    ]


def _outcome(run: Any, records: results.RunRecords) -> Any:
    try:
        return run(records)
    except Exception as e:  # the exception is the answer to compare
        return (type(e), e.args)


def _model_ops(history: list) -> list[Op]:
    """history_ops written the straightforward way: pair by (process, seq), the first
    invoke and the first completion counting, then sort by invoke time."""
    invokes: dict = {}
    completions: dict = {}
    for event in history:
        found = invokes if event["type"] == "invoke" else completions
        found.setdefault((event["process"], event["seq"]), event)
    ops = []
    for pid in [*invokes, *(pid for pid in completions if pid not in invokes)]:
        invoke, done = invokes.get(pid), completions.get(pid)
        first = invoke or done
        outcome = done["type"] if done else "open"
        if first["f"] == "put":
            value = first["value"]
        else:
            value = done["value"] if done and outcome == "ok" else None
        invoke_ns = invoke["time"] if invoke else 0
        return_ns = max(done["time"], invoke_ns) if done else None
        ops.append(Op(pid[0], pid[1], first["f"], first["key"], value, invoke_ns, outcome,
                      return_ns))  # fmt: skip
    return sorted(ops, key=lambda op: (op.invoke_ns, op.process, op.seq))


def _same_as_plain(records: results.RunRecords) -> list:
    shared = _outcome(check_records, records)
    assert shared == _outcome(_plain, records)
    # The ops too, with the index and without, whatever linearizable makes of them.
    model = _outcome(lambda r: _model_ops(r.history), records)
    assert _outcome(lambda r: history_ops(r.history), records) == model
    index = index_history(records.history)
    if index is not None:
        assert _outcome(lambda r: history_ops(r.history, index), records) == model
    return shared


def _with_history(records: results.RunRecords, history: list) -> results.RunRecords:
    return results.RunRecords(history=history, chains=records.chains,
                              difficulty=records.difficulty, kvs=records.kvs)  # fmt: skip


class _Anything(str):
    """A str equal to everything: the plain checks' == would take it for every kind."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


def _ev(process: Any, kind: Any, f: Any, key: Any, value: Any, seq: Any, t: Any) -> dict:
    return {"process": process, "type": kind, "f": f, "key": key, "value": value,
            "seq": seq, "time": t}  # fmt: skip


# ---- the index itself ---------------------------------------------------------------------


def test_index_keeps_the_first_event_of_each_kind(kit) -> None:
    history = kit.history()
    again = _ev(1, "invoke", "put", "'x'", "1", 1, 1_200)  # a repeated invoke, later
    info_after_ok = _ev(1, "info", "put", "'x'", "1", 1, 5_500)  # a second completion
    ok_again = _ev(2, "ok", "get", "'y'", "other", 3, 29_000)  # a second ok, other value
    history = [*history[:2], again, *history[2:], info_after_ok, ok_again]
    index = index_history(history)
    assert index is not None
    assert index.invokes[(1, 1)] is history[0]
    assert index.completions[(1, 1)]["type"] == "ok"
    assert index.firsts["put", "info"][(1, 1)] is info_after_ok
    assert index.firsts["get", "ok"][(2, 3)]["value"] == "'b'"
    assert ("'x'", "1") in index.written and ("'y'", None) not in index.written
    assert sorted(index.firsts["put", "ok"]) == [(1, 1), (1, 3), (2, 1), (2, 2)]


def test_no_index_for_a_history_too_odd_to_index(kit) -> None:
    base = kit.history()
    odd: list[Any] = [
        "not an event",
        OrderedDict(base[0]),  # a dict subclass
        {k: v for k, v in base[0].items() if k != "time"},
        {k: v for k, v in base[2].items() if k != "seq"},
        {**base[0], "type": "start"},
        {**base[0], "f": "cas"},
        {**base[2], "type": ["ok"]},
        {**base[2], "process": ["unhashable"]},
        {**base[2], "process": True},
        {**base[2], "seq": "1"},
        {**base[0], "value": 5},  # a put invoke writing a non-string
        {**base[0], "key": None},
        {**base[2], "type": _Anything("ok")},
        {**base[2], "f": _Anything("put")},
    ]
    for event in odd:
        assert index_history([*base, event]) is None, event
    assert index_history([]) is not None
    # Not tested by the index: the checks read these from the same events either way.
    assert index_history([*base, {**base[2], "key": None, "value": ["x"]}]) is not None


# ---- check_records with the indexes equals the plain checks -------------------------------


def _broken_runs(kit: ChainKit, records: results.RunRecords) -> list[results.RunRecords]:
    history = records.history
    lost = copy.deepcopy(records)
    for sid, chain in lost.chains.items():
        chain[4]["txns"] = []  # client 1's acknowledged put 'y'='b' is gone
        lost.chains[sid] = kit.reseal(chain, start=4)
    twice = copy.deepcopy(records)
    for sid, chain in twice.chains.items():
        chain[1]["txns"] = [kit.put(2, 2, "'x'", "2")]  # committed at heights 1 and 2
        twice.chains[sid] = kit.reseal(chain, start=1)
    changed = [dict(e) for e in history]
    changed[3]["value"] = "'other'"  # acknowledged, but the chain has 'a'
    phantom = [*history, _ev(5, "invoke", "get", "'x'", None, 1, 31_000),
               _ev(5, "ok", "get", "'x'", "never", 1, 32_000)]  # fmt: skip
    failed = [dict(e) for e in history]
    failed[9]["type"] = "fail"  # client 3's put 'z' ended fail, yet it is committed
    return [lost, twice, *(_with_history(records, h) for h in (changed, phantom, failed))]


def test_valid_and_broken_runs_get_the_plain_answers(kit, records) -> None:
    assert [r.verdict for r in _same_as_plain(records)] == ["pass"] * 7
    for broken in _broken_runs(kit, records):
        assert "fail" in [r.verdict for r in _same_as_plain(broken)]


def test_repeated_open_and_uninvoked_events_get_the_plain_answers(records) -> None:
    history = records.history
    uninvoked = _ev(6, "ok", "get", "'x'", None, 1, 100)  # no invoke: as if invoked at 0
    early = _ev(7, "invoke", "get", "'q'", None, 1, 900)
    done_before = _ev(7, "ok", "get", "'q'", None, 1, 800)  # answered before its invoke
    cases = [
        [*history, *history],  # every event twice
        [*history, _ev(8, "invoke", "put", "'x'", "8", 1, 40_000)],  # open at the end
        [uninvoked, *history],
        [*history, early, done_before],
        [*history[:2], {**history[2], "type": "info"}, *history[2:]],  # info before ok
        [],
    ]
    for history_case in cases:
        _same_as_plain(_with_history(records, history_case))


def test_odd_histories_get_the_plain_answers_or_exceptions(records) -> None:
    base = records.history
    odd_events: list[Any] = [
        "not an event",
        OrderedDict(base[0]),
        {k: v for k, v in base[2].items() if k != "key"},  # an ok put without key
        {k: v for k, v in base[6].items() if k != "value"},  # an ok get without value
        {k: v for k, v in base[4].items() if k != "time"},  # a repeated invoke, no time
        {**base[2], "value": ["unhashable"]},
        {**base[6], "value": ["unhashable"]},
        {**base[6], "key": None},
        {**base[2], "process": True},  # True == 1: client 1's put
        {**base[2], "seq": 1.0},
        {**base[0], "type": "start"},
        {**base[0], "f": "cas"},
        {**base[6], "value": 7},
        {**base[2], "type": _Anything("ok")},  # an invoke and an ok put, to the plain way
        {**base[8], "f": _Anything("get")},
    ]
    for event in odd_events:
        for at in (0, 3, len(base)):
            _same_as_plain(_with_history(records, [*base[:at], event, *base[at:]]))


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["repeat", "drop", "set"]),
        st.integers(0, 40),
        st.sampled_from(["type", "f", "key", "value", "process", "seq", "time"]),
        st.sampled_from(["invoke", "ok", "fail", "info", "put", "get", "'x'", "'y'", "1",
                         "2", "'b'", None, 1, 2, 3, 0, 10**9, True, 1.0, "odd"]),
    ),
    max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(_EDITS)
@example([("set", 0, "process", "invoke")])  # a str process: the checks' sorts raise
def test_edited_histories_get_the_plain_answers(edits: list) -> None:
    records = ChainKit().records()
    history = [dict(e) for e in records.history]
    for action, at, field, value in edits:
        at %= len(history) or 1
        if not history:
            break
        if action == "repeat":
            history.insert((at * 7) % len(history), dict(history[at]))
        elif action == "drop":
            del history[at]
        else:
            history[at][field] = value
    shared = _same_as_plain(_with_history(records, history))
    if not isinstance(shared, tuple):
        assert len(shared) == 7


def test_txn_index_puts_are_the_plain_put_txns(kit) -> None:
    chain = kit.chain(kit.batches())
    chain[3]["txns"].append({**kit.put(9, 9, "'k'", "v"), "value": ["odd"]})
    chain[3]["txns"].append({**kit.put(8, 8, "'k'", "v"), "op": "get"})
    txns = txn_index(chain)
    assert txns.puts == {(1, 1, "'x'", "1"), (2, 1, "'y'", "'a'"), (2, 2, "'x'", "2"),
                         (3, 1, "'z'", "9"), (1, 3, "'y'", "'b'")}  # fmt: skip
    assert set(txns.places) >= {(9, 9), (8, 8)}
    assert txns.kv is None  # a put of a list: replay must judge it


def _model_index(chain: list) -> tuple:
    """txn_index written the straightforward way: places and puts as the write checks
    read them, and the replay by the rules (None where replay would refuse)."""
    places: dict = {}
    puts = set()
    for height, block in enumerate(chain):
        txns = block.get("txns") if isinstance(block, dict) else None
        for txn in txns if isinstance(txns, list) else []:
            if not isinstance(txn, dict):
                continue
            client, seq = txn.get("client"), txn.get("seq")
            if is_int(client) and is_int(seq):
                places.setdefault((client, seq), []).append((height, txn))
                key, value = txn.get("key"), txn.get("value")
                if txn.get("op") == "put" and type(key) is str and type(value) is str:
                    puts.add((client, seq, key, value))
    try:
        kv: Any = replay_by_rules(chain)
    except MalformedChain:
        kv = None
    return places, puts, kv


def replay_by_rules(chain: list) -> dict:
    kv: dict = {}
    applied: set = set()
    for position, block in enumerate(chain):
        txns = block.get("txns") if isinstance(block, dict) else None
        if not isinstance(txns, list):
            raise MalformedChain(f"height {position}: block has no txns list")
        for i, txn in enumerate(txns):
            why = txn_problem(txn)
            if why:
                raise MalformedChain(f"height {position} txn {i}: {why}")
            if (txn["client"], txn["seq"]) not in applied:
                applied.add((txn["client"], txn["seq"]))
                if txn["op"] == "put":
                    kv[txn["key"]] = txn["value"]
    return kv


_odd = st.sampled_from([None, True, 1.0, "1", ["l"], 2**70, "put", "get", "'k'"])
_field = st.one_of(st.integers(0, 3), st.sampled_from(["put", "get", "'a'", "'b'", "v", None]),
                   _odd)  # fmt: skip
_chain_txn = st.one_of(
    st.builds(lambda c, s, put, k, v: {"client": c, "seq": s, "op": "put" if put else "get",
                                       "key": k, "value": v if put else None},
              st.integers(0, 3), st.integers(0, 3), st.booleans(),
              st.sampled_from(["'a'", "'b'"]), st.sampled_from(["1", "2"])),
    st.dictionaries(st.sampled_from(["client", "seq", "op", "key", "value"]), _field),
    _odd,
)  # fmt: skip
_block = st.one_of(st.builds(lambda txns: {"txns": txns}, st.lists(_chain_txn, max_size=3)),
                   st.sampled_from(["not a block", {"txns": "no list"}, {}]))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_block, max_size=6))
def test_txn_index_and_replay_equal_the_plain_reading(chain: list) -> None:
    places, puts, kv = _model_index(chain)
    txns = txn_index(chain)
    assert (txns.places, txns.puts) == (places, puts)
    assert txns.kv is None or txns.kv == kv
    try:
        replayed: Any = replay(chain)
    except MalformedChain as e:
        replayed = ("malformed", str(e))
    try:
        expected: Any = replay_by_rules(chain)
    except MalformedChain as e:
        expected = ("malformed", str(e))
    assert replayed == expected
