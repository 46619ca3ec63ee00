"""The client's folder: the seq is on disk and survives a restart, a second client with
the same id is refused, a previous run's open op is closed with info, a torn tail cut."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paxlab.cluster.client_files import (
    SEQ_WIDTH,
    ClientBusyError,
    ClientFiles,
    ClientFilesError,
)
from paxlab.results import format as fmt


def event(kind: str, seq: int, time_ns: int, f: str = "put", value: str | None = "1") -> dict:
    return {"type": kind, "f": f, "key": "'k'", "value": value, "seq": seq,
            "process": 7, "time": time_ns}


def history(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]


def test_seq_is_on_disk_as_soon_as_reserved_and_survives_a_restart(tmp_path: Path) -> None:
    files = ClientFiles.open(tmp_path, 7, now_ns=1)
    assert files.last_seq == 0
    files.reserve_seq(1)
    files.reserve_seq(2)
    assert (tmp_path / "seq").read_text() == f"{2:0{SEQ_WIDTH}d}\n"  # before any close
    files.close()
    again = ClientFiles.open(tmp_path, 7, now_ns=2)
    assert again.last_seq == 2
    with pytest.raises(ValueError, match="backwards"):
        again.reserve_seq(1)
    again.close()


def test_the_higher_of_seq_file_and_history_wins(tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_text(fmt.jsonl([event("invoke", 5, 10),
                                                       event("ok", 5, 11)]))
    (tmp_path / "seq").write_text("3\n")
    files = ClientFiles.open(tmp_path, 7, now_ns=20)
    assert files.last_seq == 5
    assert files.keys == ["'k'"]
    files.close()


def test_a_second_client_with_the_same_id_is_refused(tmp_path: Path) -> None:
    first = ClientFiles.open(tmp_path, 7, now_ns=1)
    with pytest.raises(ClientBusyError, match=r"client c7 is already running \(pid \d+\)"):
        ClientFiles.open(tmp_path, 7, now_ns=1)
    first.close()
    ClientFiles.open(tmp_path, 7, now_ns=1).close()  # free once the first has gone


def test_the_lock_is_freed_when_its_process_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from paxlab.cluster.client_files import "
         "ClientFiles; ClientFiles.open(Path(sys.argv[1]), 7, 1); print('locked', flush=True);"
         " sys.stdin.read()", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(ClientBusyError, match=f"pid {holder.pid}"):
            ClientFiles.open(tmp_path, 7, now_ns=1)
    finally:
        holder.kill()
        holder.wait(10)
    ClientFiles.open(tmp_path, 7, now_ns=1).close()  # kill -9 leaves no stale lock


def test_a_previous_runs_open_op_is_closed_with_info(tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_text(fmt.jsonl(
        [event("invoke", 1, 10), event("ok", 1, 11), event("invoke", 2, 12)]))
    files = ClientFiles.open(tmp_path, 7, now_ns=50)
    files.close()
    events = history(tmp_path)
    assert events[-1] == event("info", 2, 50)
    assert [e["type"] for e in events] == ["invoke", "ok", "invoke", "info"]
    ClientFiles.open(tmp_path, 7, now_ns=60).close()  # closed once, not again
    assert len(history(tmp_path)) == 4


def test_an_open_get_closes_without_a_value(tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_text(fmt.jsonl([event("invoke", 1, 10, "get", None)]))
    ClientFiles.open(tmp_path, 7, now_ns=5).close()  # a clock behind the history: kept in order
    assert history(tmp_path)[-1] == event("info", 1, 10, "get", None)


def test_a_torn_last_line_is_cut(tmp_path: Path) -> None:
    whole = fmt.jsonl([event("invoke", 1, 10), event("ok", 1, 11)])
    (tmp_path / "history.jsonl").write_text(whole + '{"type":"inv')
    files = ClientFiles.open(tmp_path, 7, now_ns=20)
    files.record(event("invoke", 2, 21))
    files.close()
    assert [e["seq"] for e in history(tmp_path)] == [1, 1, 2]


def test_record_writes_the_results_format_in_contract_order(tmp_path: Path) -> None:
    files = ClientFiles.open(tmp_path, 7, now_ns=1)
    written = files.record({"time": 5, "process": 7, "seq": 1, "value": None, "key": "'k'",
                            "f": "get", "type": "invoke"})
    files.close()
    assert list(written) == ["process", "type", "f", "key", "value", "seq", "time"]
    assert (tmp_path / "history.jsonl").read_text() == json.dumps(
        written, separators=(",", ":")) + "\n"
    assert fmt.read_jsonl(tmp_path / "history.jsonl", fmt.event_problem) == [written]


def test_bad_folders_are_errors(tmp_path: Path) -> None:
    (tmp_path / "seq").write_text("twelve\n")
    with pytest.raises(ClientFilesError, match="expected the last seq used"):
        ClientFiles.open(tmp_path, 7, now_ns=1)
    (tmp_path / "seq").unlink()
    (tmp_path / "history.jsonl").write_text(fmt.jsonl([{**event("ok", 1, 1), "process": 8}]))
    with pytest.raises(ClientFilesError, match="holds events of process 8, not 7"):
        ClientFiles.open(tmp_path, 7, now_ns=1)
    (tmp_path / "history.jsonl").unlink()
    ClientFiles.open(tmp_path, 7, now_ns=time.time_ns()).close()  # the failed opens freed the lock
