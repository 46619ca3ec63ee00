"""Bad and partial folders: build_model never raises, builds what it can read, and names
what it could not (file, line or byte, and what was wrong) in "unread"."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from paxlab.report import build_model
from tests.report.runs import HEADER, copy_run, damage, sim_folder, write_messages
from tests.report.shape import assert_model_shape


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim_folder(tmp_path_factory.mktemp("runs"), "basic")


@pytest.fixture
def run(basic: Path, tmp_path: Path) -> Path:
    return copy_run(basic, tmp_path, "run")


def built(run_dir: Path) -> dict:
    model = build_model(run_dir)
    assert_model_shape(model)
    return model


def test_without_a_summary_the_checks_are_recomputed_and_the_run_is_partial(run: Path) -> None:
    (run / "summary.json").unlink()
    model = built(run)
    assert model["run"]["partial"] is True
    assert "summary.json: missing" in model["unread"]
    assert any("recomputed" in u for u in model["unread"])
    assert model["verdict"]["overall"] == "ALL CHECKS PASS"
    assert model["verdict"]["passed"] is False  # partial: not shown to hold
    assert model["verdict"]["ops"]["put"]["ok"] + model["verdict"]["ops"]["get"]["ok"] == 40


def test_a_truncated_history_keeps_every_whole_line(run: Path) -> None:
    path = run / "history.jsonl"
    lines = path.read_text().count("\n")
    damage(path, truncate_bytes=20)
    model = built(run)
    assert f"history.jsonl line {lines}: not JSON (truncated?)" in model["unread"]
    assert len(model["ops"]["client"]) == 40  # the op whose completion was cut is info
    assert model["ops"]["type"].count("info") == 1


def test_corrupt_lines_are_named_and_skipped(run: Path) -> None:
    damage(run / "history.jsonl", line=3)
    damage(run / "history.jsonl", line=5, text='{"process": 0, "type": "ok"}')
    damage(run / "chains" / "server-1.jsonl", line=7)
    model = built(run)
    assert "history.jsonl line 3: not JSON" in model["unread"]
    assert "history.jsonl line 5: missing field 'f'" in model["unread"]
    assert "chains/server-1.jsonl line 7: not JSON" in model["unread"]
    assert "chains/server-1.jsonl: no readable block at height 6" in model["unread"]
    cells = model["chains"]["cells"]
    assert cells[1][6] == -1 and cells[0][6] >= 0
    assert model["chains"]["diverge_at"] is None  # an unreadable block is not a different one


def test_malformed_txns_are_left_to_the_checks(run: Path) -> None:
    """A block whose txns are junk is still a block: the grid shows it, no op points at it."""
    path = run / "chains" / "server-0.jsonl"
    blocks = [json.loads(line) for line in path.read_text().splitlines()]
    blocks[0]["txns"] = [{"client": [0], "seq": {}}, "junk", 7]
    path.write_text("".join(json.dumps(b) + "\n" for b in blocks))
    for name in ("server-1.jsonl", "server-2.jsonl"):
        (run / "chains" / name).write_text(path.read_text())
    (run / "messages.jsonl").unlink(missing_ok=True)
    model = built(run)
    assert 0 not in model["ops"]["height"] and model["chains"]["length"][0] == 40


def test_unreadable_json_files_and_config(run: Path) -> None:
    (run / "kv" / "server-0.json").write_text('{"k0": "1", ')
    (run / "chains" / "meta.json").unlink()
    (run / "config.yaml").write_text("name: [unclosed\n")
    (run / "summary.json").write_bytes(b'{"config": "basic\xff\xfe"}')
    model = built(run)
    unread = model["unread"]
    assert "kv/server-0.json line 1: not JSON (truncated?)" in unread
    assert "chains/meta.json: missing" in unread
    assert any(u.startswith("config.yaml: malformed YAML") for u in unread), unread
    assert model["run"]["config_text"] == "name: [unclosed\n"
    assert "summary.json byte 17: not UTF-8 text (invalid start byte); replaced" in unread
    assert model["run"]["difficulty"] is None or model["run"]["difficulty"] >= 0


def test_odd_values_in_the_summary_do_not_break_the_card(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    summary.update(faults="none", ops={"put": 3}, latency_ms=[1], throughput_ops_s="fast",
                   checks=[{"name": "linearizable"}, "junk"], errors="x", servers=10**12,
                   clients=-1)
    (run / "summary.json").write_text(json.dumps(summary))
    model = built(run)
    assert model["faults"] == []
    assert model["verdict"]["checks"] == [
        {"name": "linearizable", "verdict": "unknown", "details": ""}]
    assert model["verdict"]["ops"]["put"]["ok"] > 0  # from the history instead
    assert (model["run"]["servers"], model["run"]["clients"]) == (3, 2)  # from config.yaml


def test_a_cluster_session_folder(run: Path) -> None:
    """`cluster check` writes driver "cluster", no seed and no leader_changes."""
    summary = json.loads((run / "summary.json").read_text())
    summary.update(driver="cluster", faults=[
        {"time_ms": 5, "action": "crash", "detail": "crash 1 (s1)"},
        {"time_ms": 9, "action": "restart", "detail": "restart 1 (s1)"}])
    del summary["seed"], summary["leader_changes"]
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "config.yaml").write_text("driver: cluster\ncluster_file: /x/cluster.yaml\n")
    model = built(run)
    assert (model["run"]["driver"], model["run"]["seed"]) == ("cluster", None)
    assert model["down"] == [{"node": 1, "start_us": 5000, "end_us": 9000, "kind": "crash"}]


def test_clients_are_the_ones_in_the_history_not_the_first_n(run: Path) -> None:
    """A cluster session's two clients may be c7 and c8: no c0 and c1 lifelines."""
    lines = (run / "history.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    clients = sorted({e["process"] for e in events})
    renumber = {c: 7 + i for i, c in enumerate(clients)}
    for event in events:
        event["process"] = renumber[event["process"]]
    (run / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "messages.jsonl").unlink()
    model = built(run)
    assert [n for n in model["nodes"] if n.startswith("c")] == [
        f"c{renumber[c]}" for c in clients]


def test_an_empty_folder_builds_an_empty_model(tmp_path: Path) -> None:
    model = built(tmp_path)
    assert model["verdict"]["overall"].startswith("NO CHECKS RUN")
    assert model["ops"]["client"] == [] and model["messages"]["count"] == 0
    for name in ("summary.json", "config.yaml", "history.jsonl", "chains/meta.json"):
        assert f"{name}: missing" in model["unread"]


def test_a_stopped_lab_run_is_read_from_the_clients_parts(run: Path) -> None:
    """A lab run stopped before it merged the clients' history parts."""
    events = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    parts = run / "history-parts"
    parts.mkdir()
    for client in (0, 1):
        mine = [e for e in events if e["process"] == client]
        (parts / f"client-{client}.jsonl").write_text(
            "".join(json.dumps(e) + "\n" for e in mine) + '{"process": 1, "ty')
    (run / "history.jsonl").unlink()
    (run / "summary.json").unlink()
    model = built(run)
    assert len(model["ops"]["client"]) == 40
    assert any("history-parts" in u for u in model["unread"])
    assert "history-parts/client-0.jsonl line 41: not JSON (truncated?)" in model["unread"]


def test_a_truncated_message_file(run: Path) -> None:
    sends = [["s", 1, 100, "c0", "s0", "ClientRequest", None, None, [[0, 1]], "deliver"],
             ["a", 1, 900, "delivered"]]  # fmt: skip
    write_messages(run, sends, tail='["s",2,950,"s0","c0","ClientRe')
    model = built(run)
    assert model["messages"]["count"] == 1
    assert any(u.startswith("messages.jsonl line 4: not JSON") for u in model["unread"])
    assert model["messages"]["fates"][model["messages"]["fate"][0]] == "delivered"


def test_a_message_file_with_an_unknown_node_or_kind(run: Path) -> None:
    write_messages(run, [["s", 1, 5, "s0", "x9", "Gossip", "1.0", 3, None, "deliver"]],
                   header=dict(HEADER, driver="lab"))  # fmt: skip
    model = built(run)
    assert model["run"]["driver"] == "lab"  # the message file's header names its driver
    assert "x9" in model["nodes"] and model["nodes"][-1] == "x9"
    assert model["messages"]["kinds"][-1] == "Gossip"
    assert model["messages"]["fates"][model["messages"]["fate"][0]] == "in flight"


@pytest.mark.parametrize("seed", range(4))
def test_damage_anywhere_never_raises(basic: Path, tmp_path: Path, seed: int) -> None:
    """Every file of the folder cut at a random byte, or a random byte flipped."""
    rng = random.Random(seed)
    run = copy_run(basic, tmp_path, "run")
    write_messages(run, [["s", 1, 5, "s0", "s1", "Heartbeat", "1.0", 0, None, "duplicate"],
                         ["a", 1, 9, "held"], ["a", 1, 10, "delivered"], ["a", 1, 12, "lost"],
                         ["a", 7, 12, "released"]])  # fmt: skip
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        data = bytearray(path.read_bytes())
        if not data:
            continue
        if rng.random() < 0.5:
            del data[rng.randrange(len(data)):]
        else:
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
    if seed == 0:
        shutil.rmtree(run / "chains")
    built(run)
