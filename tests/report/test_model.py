"""build_model on real simulator folders: a clean run, a fault run and mutant runs, each
held to the contract's shape, and the same folder always giving the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paxlab.report import build_model
from tests.report.runs import sim_folder
from tests.report.shape import assert_model_shape, model_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "basic": sim_folder(root, "basic"),
        "nemesis": sim_folder(root, "nemesis", seed=3),
        "ack": sim_folder(root, "churn", mutant="ack-before-majority"),
        "stale": sim_folder(root, "churn", mutant="stale-read"),
    }


def test_a_clean_run_passes_and_every_op_has_its_block(folders: dict[str, Path]) -> None:
    model = build_model(folders["basic"])
    assert_model_shape(model)
    verdict = model["verdict"]
    assert verdict["overall"] == "ALL CHECKS PASS" and verdict["passed"]
    assert verdict["first_problem"] is None and model["failure"] is None
    run = model["run"]
    assert (run["driver"], run["config"], run["seed"], run["servers"], run["clients"]) == (
        "sim", "basic", 1, 3, 2)
    assert run["partial"] is False and "servers: 3" in run["config_text"]
    assert model["nodes"] == ["s0", "s1", "s2", "c0", "c1"]
    ops = model["ops"]
    assert len(ops["client"]) == 40 and set(ops["type"]) == {"ok"}
    assert -1 not in ops["height"]
    assert model["chains"]["diverge_at"] is None and model["kv_diff"] == []
    assert model["chains"]["length"] == [40, 40, 40] and len(model["chains"]["hashes"]) == 40
    heights = sorted(model["commits"]["height"])
    assert heights == sorted(set(ops["height"]))  # each block chosen once, at its time
    assert sum(model["series"]["ok"]) == 40
    messages = model["messages"]
    assert messages["count"] > 200 and "messages.jsonl" not in " ".join(model["unread"])
    assert {messages["fates"][f] for f in messages["fate"]} == {"delivered"}
    (reign,) = model["leaders"]  # one leader, elected once, to the end
    assert model["nodes"][reign["node"]].startswith("s") and reign["end_us"] == run["end_us"]
    assert set(ops["server"]) == {reign["node"]}  # every reply came from the leader
    quorums = model["quorums"]
    assert sorted(quorums["height"]) == heights and set(quorums["node"]) == {reign["node"]}
    assert model["commits"]["t_us"] == sorted(quorums["t_us"])


def test_a_fault_run_has_fault_bars_down_intervals_and_recovery(folders: dict[str, Path]
                                                                ) -> None:  # fmt: skip
    model = build_model(folders["nemesis"])
    assert_model_shape(model)
    summary = json.loads((folders["nemesis"] / "summary.json").read_text())
    undo = {"restart", "resume", "heal", "fix_link", "restart_client"}
    assert len(model["faults"]) <= len(summary["faults"])
    assert len(model["faults"]) >= sum(f["action"] not in undo | {"set_network"}
                                       for f in summary["faults"])
    for fault in model["faults"]:
        if fault["action"] in ("crash", "pause"):
            assert fault["nodes"], fault
            downs = [d for d in model["down"] if d["start_us"] == fault["start_us"]]
            assert {d["node"] for d in downs} == set(fault["nodes"])
    assert all(r["first_ok_us"] is None or r["first_ok_us"] >= 0 for r in model["recovery"])


def test_divergent_chains_point_the_first_problem_at_the_chains(folders: dict[str, Path]
                                                                ) -> None:  # fmt: skip
    model = build_model(folders["ack"])
    assert_model_shape(model)
    assert not model["verdict"]["passed"]
    assert model["verdict"]["overall"].startswith("CHECKS FAILED")
    at = model["chains"]["diverge_at"]
    assert at is not None
    cells = model["chains"]["cells"]
    assert len({row[at] for row in cells if len(row) > at}) > 1
    assert all(len({row[h] for row in cells if len(row) > h}) == 1 for h in range(at))
    problem = model["verdict"]["first_problem"]
    assert problem is not None and problem["panel"] in ("chains", "ops", "failure")


def test_a_stale_read_is_explained_and_is_the_first_problem(folders: dict[str, Path]) -> None:
    model = build_model(folders["stale"])
    assert_model_shape(model)
    failure = model["failure"]
    assert failure is not None and failure["verdict"] == "fail" and failure["blocked"]
    start, end = failure["window_us"]
    assert 0 <= start <= end <= model["run"]["end_us"]
    assert all(start <= op["invoke_us"] <= end for op in failure["ops"])
    problem = model["verdict"]["first_problem"]
    stuck = min(failure["ops"][b["op"]]["invoke_us"] for b in failure["blocked"])
    assert problem == {"t_us": stuck, "panel": "failure",
                       "text": f"linearizable fail: {failure['summary']}"}
    assert stuck > start  # the key's window opens with the run; the stale read came later
    leaders = [model["nodes"][r["node"]] for r in model["leaders"]]
    assert len(leaders) >= 3  # isolated, crashed and paused in turn: others took over
    assert {f["action"] for f in model["faults"]} == {"isolate", "crash", "pause"}


def test_the_same_folder_gives_the_same_bytes(folders: dict[str, Path]) -> None:
    first = model_bytes(build_model(folders["nemesis"]))
    assert model_bytes(build_model(folders["nemesis"])) == first
    code = ("import sys; from paxlab.report import build_model; "
            "from tests.report.shape import model_bytes; "
            "sys.stdout.buffer.write(model_bytes(build_model(sys.argv[1])))")
    other = subprocess.run([sys.executable, "-c", code, str(folders["nemesis"])], cwd=ROOT,
                           env={"PYTHONHASHSEED": "123", "PYTHONPATH": str(ROOT)},
                           capture_output=True, check=True).stdout
    assert other == first


def test_different_runs_give_different_models(folders: dict[str, Path]) -> None:
    assert len({model_bytes(build_model(f)) for f in folders.values()}) == len(folders)
