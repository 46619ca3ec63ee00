"""The model's parts on hand-made input: fault bars from applied faults, leader reigns,
the message table's fates and copies, quorums, who answered an op, buckets, recovery, the
failure explanation's units and the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paxlab.report import build_model, verdict
from paxlab.report.faults import down_intervals, fault_intervals, fault_nodes
from paxlab.report.timeline import bucket_us, leader_reigns, recovery, series
from paxlab.report.verdict import first_problem
from paxlab.results.verdict import CheckResult
from tests.report.runs import copy_run, sim_folder, write_messages
from tests.report.shape import assert_model_shape

SERVERS = ["s0", "s1", "s2", "s3", "s4"]
CLIENTS = ["c0", "c1"]


def fault(ms: int, action: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"time_ms": ms, "action": action, "detail": detail, **extra}


@pytest.mark.parametrize(("action", "detail", "nodes"), [
    ("crash", "crash leader (s3)", ["s3"]),
    ("crash", "crash [0, 3] (s0, s3)", ["s0", "s3"]),
    ("crash", "crash 1", ["s1"]),
    ("fail_link", "fail_link 0-1", ["s0", "s1"]),
    ("fail_link_one_way", "fail_link_one_way 2->4", ["s2", "s4"]),
    ("partition", "partition [0] | [1, 2]", SERVERS),  # s3 s4 are a third group: no majority
    ("partition", "partition [0, 1, 2] | [3]", ["s3", "s4"]),
    ("partition_halves", "partition_halves (s0 s4 | s1 s2 s3)", ["s0", "s4"]),
    ("partition_bridge", "partition_bridge (s3 s4 | bridge s0 | s1 s2)", ["s1", "s2", "s3", "s4"]),
    ("partition_ring", "partition_ring", SERVERS),
    ("isolate", "isolate leader (s4)", ["s4"]),
    ("isolate", "isolate 2", ["s2"]),
    ("crash_client", "crash_client 1", ["c1"]),
    ("crash_client", "crash_client all", CLIENTS),
    ("heal", "heal", []),
    ("set_network", "set_network drop_probability=0.2", []),
])  # fmt: skip
def test_fault_nodes_are_read_from_the_detail(action: str, detail: str, nodes: list[str]) -> None:
    assert fault_nodes(fault(0, action, detail), SERVERS, CLIENTS) == nodes


def test_recorded_nodes_win_over_the_detail() -> None:
    recorded = fault(0, "partition_halves", "partition_halves (s0 s4 | s1 s2 s3)", nodes=["s0"])
    assert fault_nodes(recorded, SERVERS, CLIENTS) == ["s0"]


def test_faults_pair_with_their_undo() -> None:
    applied = [
        fault(100, "crash", "crash [0, 1] (s0, s1)"),
        fault(200, "restart", "restart 0 (s0)"),
        fault(250, "partition_halves", "partition_halves (s2 s3 | s0 s1 s4)"),
        fault(300, "restart", "restart all (s1)"),
        fault(320, "partition_ring", "partition_ring"),  # replaces the halves
        fault(350, "fail_link", "fail_link 3-4"),
        fault(400, "fix_link", "fix_link 3-4"),
        fault(450, "set_network", "set_network delay_ms_jitter=5 drop_probability=0.2"),
        fault(500, "heal", "heal"),
        fault(600, "set_network", "set_network delay_ms_jitter=0.5 drop_probability=0"),
        fault(700, "pause", "pause leader (s2)"),
        fault(800, "crash_client", "crash_client 0"),
    ]
    bars = fault_intervals(applied, SERVERS, CLIENTS, {"delay_ms_jitter": 0.5})
    got = [(f.action, f.start_us // 1000, None if f.end_us is None else f.end_us // 1000)
           for f in bars]
    assert got == [("crash", 100, 300), ("partition_halves", 250, 320),
                   ("partition_ring", 320, 500), ("fail_link", 350, 400),
                   ("set_network", 450, 600), ("pause", 700, None), ("crash_client", 800, None)]
    down = down_intervals(bars, 900_000)
    assert down == [("s0", 100_000, 200_000, "crash"), ("s1", 100_000, 300_000, "crash"),
                    ("s2", 700_000, 900_000, "pause"), ("c0", 800_000, 900_000, "crash")]


def test_leaders_follow_the_highest_ballot_and_stop_when_away() -> None:
    claims = [(10, "s0", "1.0"), (20, "s0", "1.0"), (30, "s1", "0.1"),  # lower: ignored
              (50, "s1", "2.1"), (60, "s0", "1.0"),  # s1 took over
              (200, "s1", "2.1"),  # back after its pause (100..150): leads again
              (300, "s2", "3.2")]  # fmt: skip
    away = [(100, 150, "s1"), (400, 500, "s2")]
    assert leader_reigns(claims, away, 1000) == [
        ("s0", "1.0", 10, 50), ("s1", "2.1", 50, 100), ("s1", "2.1", 200, 300),
        ("s2", "3.2", 300, 400)]
    assert leader_reigns([], away, 1000) == []


def test_series_buckets_and_percentiles() -> None:
    assert bucket_us(0) == 1000 and bucket_us(1_000_000) == 5000 and bucket_us(3_000_000) == 20_000
    made = series([0, 0, 1000, 1500], [500, 900, 4000, 1600], ["ok", "ok", "fail", "ok"], 4000)
    assert made["bucket_us"] == 1000 and made["t_us"] == [0, 1000, 2000, 3000, 4000]
    assert made["ok"] == [2, 1, 0, 0, 0] and made["fail"] == [0, 0, 0, 0, 1]
    assert made["p50_ms"] == [0.5, 0.1, None, None, None]
    assert made["p99_ms"][0] == 0.9


def test_recovery_is_the_first_ok_and_the_first_new_op_ok() -> None:
    invoke = [0, 100, 450, 600]
    end = [1000, 350, 900, 700]
    kind = ["ok", "ok", "ok", "ok"]
    rows = recovery([(300, 400), (2000, None)], invoke, end, kind)
    assert rows == [{"fault": 0, "first_ok_us": 50, "recover_us": 300},
                    {"fault": 1, "first_ok_us": None, "recover_us": None}]


def test_first_problem_is_the_earliest_failure() -> None:
    checks = [CheckResult("chains_identical", "fail", "server 1 differs at height 4"),
              CheckResult("linearizable", "pass", ""),
              CheckResult("invariants", "fail", "promise_kept at 12 ms: s1 accepted 1.0")]
    problem = first_problem(checks, None, 4, {4: 20_000}, None)
    assert problem == {"t_us": 12_000, "panel": "messages",
                       "text": "invariants fail: promise_kept at 12 ms: s1 accepted 1.0"}
    assert first_problem(checks[:2], None, 4, {4: 20_000}, None)["panel"] == "chains"
    assert first_problem([checks[1]], None, None, {}, None) is None


# ---- the message table, on hand-made messages over a real folder ----------------------


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim_folder(tmp_path_factory.mktemp("runs"), "basic")


def test_fates_copies_quorums_and_the_answering_server(basic: Path, tmp_path: Path) -> None:
    run = copy_run(basic, tmp_path, "run")
    write_messages(run, [
        ["s", 1, 10, "s1", "s0", "Accept", "1.1", 0, [[0, 1], [1, 1]], "deliver"],
        ["s", 2, 10, "s1", "s2", "Accept", "1.1", 0, [[0, 1], [1, 1]], "duplicate"],
        ["a", 1, 20, "delivered"],
        ["s", 3, 21, "s0", "s1", "Accepted", "1.1", 0, None, "deliver"],
        ["a", 2, 22, "held"], ["a", 2, 23, "down"], ["a", 2, 40, "released"],
        ["a", 3, 30, "delivered"],  # s1 hears s0: with itself, 2 of 3
        ["s", 4, 41, "s2", "s1", "Accepted", "1.1", 0, None, "deliver"],
        ["s", 5, 42, "s1", "c0", "ClientReply", None, None, [[0, 1]], "drop"],
        ["s", 6, 43, "s2", "c0", "ClientReply", None, None, [[0, 1]], "deliver"],
        ["s", 7, 44, "s1", "s2", "Heartbeat", "1.1", 1, None, "cut"],
        ["s", 8, 45, "s1", "s2", "Heartbeat", "1.1", 1, None, "deliver"],
        ["a", 8, 46, "held"], ["a", 8, 47, "lost"],
        ["a", 6, 50, "delivered"],
    ])  # fmt: skip
    model = build_model(run)
    assert_model_shape(model)
    m = model["messages"]
    fate = [m["fates"][i] for i in m["fate"]]
    assert list(zip(m["id"], m["copy"], fate, m["arrive_us"], strict=True)) == [
        (1, 0, "delivered", 20), (2, 0, "held", 40), (2, 1, "down", 23),
        (3, 0, "delivered", 30), (4, 0, "in flight", -1), (5, 0, "dropped", -1),
        (6, 0, "delivered", 50), (7, 0, "cut", -1), (8, 0, "lost", 47)]
    assert m["count"] == 9 and m["ballots"] == ["1.1"]
    assert [m["kinds"][k] for k in m["kind"][:2]] == ["Accept", "Accept"]
    assert m["slot"][-1] == 1 and m["ballot"][5] == -1
    ops = model["ops"]
    row = next(i for i in range(len(ops["client"])) if (ops["client"][i], ops["seq"][i]) == (0, 1))
    assert m["op"][0] == row and m["op"][6] == row
    assert model["nodes"][ops["server"][row]] == "s2"  # the reply that arrived; not s1's
    assert model["quorums"] == {"t_us": [30], "node": [1], "height": [0], "ballot": [0]}
    assert model["commits"] == {"t_us": [30], "height": [0]}
    assert model["leaders"][0]["node"] == 1 and model["leaders"][0]["start_us"] == 10


def test_the_failure_is_explained_in_microseconds(basic: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With an explanation of contract section 3's shape: ns become us, and the first
    problem points at the failing window."""
    run = copy_run(basic, tmp_path, "run")
    summary_path = run / "summary.json"
    summary_path.write_text(summary_path.read_text().replace(
        '"name": "linearizable",\n      "verdict": "pass"',
        '"name": "linearizable",\n      "verdict": "fail"'))

    class Explanation:
        def to_dict(self) -> dict[str, Any]:
            op = {"process": 0, "seq": 1, "f": "get", "value": "'3'", "type": "ok",
                  "invoke_ns": 1_500_000, "end_ns": 2_000_999}
            first = {**op, "seq": 0, "invoke_ns": 1_000_000}
            return {"key": "'k3'", "verdict": "fail", "window_ns": [1_500_000, 9_000_000],
                    "ops": [first, op, {**op, "seq": 2, "end_ns": None}],
                    "prefix": [{"op": 0, "value_after": None}],
                    "blocked": [{"op": 1, "why": "get cannot come next"}],
                    "summary": "A get read 3 after 5 was written.", "gave_up": None}

    monkeypatch.setattr(verdict, "explain_linearizability", lambda history: Explanation())
    model = build_model(run)
    assert_model_shape(model)
    failure = model["failure"]
    assert failure["window_us"] == [1500, 9000] and "window_ns" not in failure
    assert [(op["invoke_us"], op["end_us"]) for op in failure["ops"]] == [
        (1000, 2000), (1500, 2000), (1500, None)]
    assert failure["key"] == "'k3'" and failure["blocked"][0]["why"] == "get cannot come next"
    assert model["verdict"]["first_problem"] == {
        "t_us": 1500, "panel": "failure",  # the blocked op's invoke
        "text": "linearizable fail: A get read 3 after 5 was written."}
