"""Process faults in the real lab: client crash and restart, and servers that restart on
a damaged record file (a torn tail is cut and the server serves; mid-file corruption
stops it with the file's path and the byte offset)."""

from __future__ import annotations

import io
import itertools
import json
import multiprocessing
import time
from pathlib import Path

import pytest

from paxlab.config import parse_config
from paxlab.config.params import replica_params
from paxlab.core.recovery import recover_state
from paxlab.lab import run_lab
from paxlab.lab.control import recv_control, send_control
from paxlab.lab.server_proc import server_main
from paxlab.storage import load_records


def _history(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]


def test_a_crashed_client_restarts_with_new_seq_numbers(tmp_path: Path) -> None:
    config = parse_config({
        "name": "client_crash",
        "clients": {"count": 2},
        "workload": {"type": "generated", "ops_per_client": 60, "think_time_ms": 10},
        "faults": [
            {"at_ms": 300, "action": "crash_client", "client": 0},
            {"at_ms": 700, "action": "restart_client", "client": 0},
        ],
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, (outcome.errors, outcome.checks)
    events = [e for e in _history(outcome.run_dir) if e["process"] == 0]
    invokes = [e["seq"] for e in events if e["type"] == "invoke"]
    assert invokes == sorted(set(invokes)), "a restarted client never reuses a seq"
    assert len(invokes) == 60, "the restarted client finishes the rest of its workload"
    gap = [b - a for a, b in itertools.pairwise(invokes)]
    assert max(gap) == 1
    times = [e["time"] for e in events if e["type"] == "invoke"]
    assert any(b - a > 300_000_000 for a, b in itertools.pairwise(times)), (
        "the crash must have stopped client 0 for a while"
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    config = parse_config({"name": "for_storage", "workload": {"ops_per_client": 20}}, "test")
    outcome = run_lab(config, root, io.StringIO(), live=False)
    assert outcome.passed
    return outcome.run_dir


def _start_server(run_dir: Path, replica_id: int) -> tuple[multiprocessing.Process, dict]:
    """Start one server process on an existing run folder; return its first event."""
    ctx = multiprocessing.get_context("spawn")
    config = parse_config({"name": "for_storage"}, "test")
    router_end, node_end = ctx.Pipe(duplex=True)
    lab_end, proc_end = ctx.Pipe(duplex=True)
    process = ctx.Process(target=server_main, args=(
        replica_id, replica_params(config), 1, node_end, proc_end, str(run_dir), True, 1))
    process.start()
    node_end.close()
    proc_end.close()
    assert lab_end.poll(60), "the server neither got ready nor reported an error"
    event = recv_control(lab_end)
    if event["event"] == "ready":
        send_control(lab_end, {"start_ns": time.monotonic_ns()})
        send_control(lab_end, {"cmd": "stop"})
        assert lab_end.poll(30)
        assert recv_control(lab_end)["event"] == "stopped"
    process.join(30)
    router_end.close()
    lab_end.close()
    return process, event


def test_a_clean_stop_leaves_every_decided_block_in_the_record_file(finished_run: Path) -> None:
    # With cluster.storage: process_buffer (the default) the last decided records wait in
    # the server process for the next sync; a clean stop must write them, or a restart
    # comes back with a shorter chain than the one the run reported. (Runs before the
    # tests below damage this folder's files.)
    for server in range(3):
        log_file = finished_run / "data" / f"server-{server}" / "replica.log"
        chain = (finished_run / "chains" / f"server-{server}.jsonl").read_text().splitlines()
        recovered = recover_state(load_records(log_file).records, difficulty=8)
        assert len(recovered.chain) == len(chain), f"server {server}"


def test_a_torn_tail_is_cut_and_the_server_recovers(finished_run: Path) -> None:
    log_file = finished_run / "data" / "server-1" / "replica.log"
    blocks_before = len((finished_run / "chains" / "server-1.jsonl").read_text().splitlines())
    size = log_file.stat().st_size
    with open(log_file, "r+b") as f:
        f.truncate(size - 5)  # a crash in the middle of the last write
    process, event = _start_server(finished_run, 1)
    assert event["event"] == "ready" and process.exitcode == 0
    log = (finished_run / "logs" / "server-1.log").read_text()
    assert "torn tail" in log and str(log_file) in log
    assert log_file.stat().st_size < size - 5
    blocks_after = len((finished_run / "chains" / "server-1.jsonl").read_text().splitlines())
    assert blocks_before - 1 <= blocks_after <= blocks_before


def test_mid_file_corruption_stops_the_server_with_path_and_offset(finished_run: Path) -> None:
    log_file = finished_run / "data" / "server-2" / "replica.log"
    data = bytearray(log_file.read_bytes())
    data[20] ^= 0xFF  # inside the first record's payload
    log_file.write_bytes(bytes(data))
    process, event = _start_server(finished_run, 2)
    assert event["event"] == "error" and process.exitcode == 3
    assert str(log_file) in event["message"] and "byte offset 0" in event["message"]
    assert log_file.read_bytes() == bytes(data), "never repaired silently"


def test_every_client_crashed_is_restarted_before_the_workload_ends(tmp_path: Path) -> None:
    # README's example: with every client down between 700 and 1200 ms, the workload has
    # not ended: the restart is still to come, and the clients finish their ops after it.
    config = parse_config({
        "name": "all_clients_crash",
        "clients": {"count": 2},
        "workload": {"type": "generated", "ops_per_client": 100, "think_time_ms": 10},
        "faults": [
            {"at_ms": 700, "action": "crash_client", "client": "all"},
            {"at_ms": 1200, "action": "restart_client", "client": "all"},
        ],
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, (outcome.errors, outcome.checks)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert [f["action"] for f in summary["faults"]] == ["crash_client", "restart_client"]
    history = _history(outcome.run_dir)
    for client in (0, 1):
        invokes = [e for e in history if e["process"] == client and e["type"] == "invoke"]
        assert len(invokes) == 100
        assert any(e["time"] > 1200 * 1_000_000 for e in invokes)


def test_history_keeps_its_contract_across_client_kills(tmp_path: Path) -> None:
    # The launcher killed these clients mid-op: it writes each pending op's info
    # completion, so an outside checker finds every invoke completed exactly once. The
    # clients run for a time, not a count of ops (a fast cluster finished a client's ops
    # before its kill), and each op waits on 20 ms hops, so a kill lands mid-op, not in
    # the client's brief bookkeeping between two ops.
    from tests.sim.test_history_contract import history_problems

    config = parse_config({
        "name": "client_kills",
        "clients": {"count": 2},
        "network": {"delay_ms_mean": 20},
        "workload": {"type": "generated", "duration_ms": 1200, "think_time_ms": 0},
        "faults": [
            {"at_ms": 300, "action": "crash_client", "client": 0},
            {"at_ms": 500, "action": "crash_client", "client": 1},
            {"at_ms": 700, "action": "restart_client", "client": 0},
        ],
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    lines = (outcome.run_dir / "history.jsonl").read_text().splitlines()
    assert history_problems(lines) == []
    infos = {e["process"] for e in _history(outcome.run_dir) if e["type"] == "info"}
    assert infos == {0, 1}
    assert outcome.passed, (outcome.errors, outcome.checks)
