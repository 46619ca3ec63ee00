"""messages.jsonl: the writer's exact lines, round trips, and a reader that survives bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxlab.results import messages
from paxlab.results.messages import (
    MESSAGES_FILE,
    ArrivalRow,
    MessageLog,
    SendRow,
    messages_path,
    read_messages,
)

HEADER = '{"format":"paxlab-messages","version":1,"driver":"lab","time_unit":"us"}\n'
SEND = '["s",1,10,"s0","s1","Accept","3.0",7,[[2,5],[1,9]],"deliver"]\n'
ARRIVAL = '["a",1,250,"delivered"]\n'


def write_sample(run_dir: Path) -> None:
    with MessageLog.open(messages_path(run_dir), "lab") as log:
        log.sent(1, 10, "s0", "s1", "Accept", "3.0", 7, [(2, 5), (1, 9)], "deliver")
        log.arrived(1, 250, "delivered")
        log.sent(2, 11, "c0", "s2", "ClientRequest", None, None, [(0, 1)], "duplicate")
        log.arrived(2, 300, "held")
        log.arrived(2, 310, "delivered")
        log.sent(3, 12, "s1", "s0", "CatchUp", None, 4, None, "cut")


def test_writer_lines_are_the_contract(tmp_path: Path) -> None:
    write_sample(tmp_path)
    lines = messages_path(tmp_path).read_text().splitlines(keepends=True)
    assert messages_path(tmp_path) == tmp_path / MESSAGES_FILE == tmp_path / "messages.jsonl"
    assert lines[:3] == [HEADER, SEND, ARRIVAL]
    assert lines[3] == '["s",2,11,"c0","s2","ClientRequest",null,null,[[0,1]],"duplicate"]\n'
    assert lines[-1] == '["s",3,12,"s1","s0","CatchUp",null,4,null,"cut"]\n'
    assert all(json.loads(line) is not None for line in lines)  # each line is JSON on its own


def test_round_trip(tmp_path: Path) -> None:
    write_sample(tmp_path)
    records = read_messages(tmp_path)
    assert records.problems == []
    assert records.header == {"format": "paxlab-messages", "version": 1, "driver": "lab",
                              "time_unit": "us"}
    assert records.sends == [
        SendRow(1, 10, "s0", "s1", "Accept", "3.0", 7, ((2, 5), (1, 9)), "deliver"),
        SendRow(2, 11, "c0", "s2", "ClientRequest", None, None, ((0, 1),), "duplicate"),
        SendRow(3, 12, "s1", "s0", "CatchUp", None, 4, None, "cut"),
    ]
    assert records.arrivals == [
        ArrivalRow(1, 250, "delivered"), ArrivalRow(2, 300, "held"),
        ArrivalRow(2, 310, "delivered"),
    ]
    with pytest.raises(AttributeError):
        records.sends[0].id = 9  # type: ignore[misc]  # frozen


def test_writer_refuses_unknown_fates_and_drivers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="driver"):
        MessageLog.open(tmp_path / "m.jsonl", "tcp")
    with MessageLog.open(tmp_path / "m.jsonl", "sim") as log:
        with pytest.raises(ValueError, match="fate"):
            log.sent(1, 0, "s0", "s1", "Prepare", "1.0", 0, None, "lost")
        with pytest.raises(ValueError, match="outcome"):
            log.arrived(1, 0, "dropped")
        with pytest.raises(ValueError):
            log.arrived(1, 0.5, "delivered")  # type: ignore[arg-type]  # times are whole us
        with pytest.raises(ValueError):
            log.sent("1", 0, "s0", "s1", "Prepare", "1.0", 0, None, "drop")  # type: ignore[arg-type]
    assert read_messages(tmp_path).problems == ["messages.jsonl: missing"]  # other file
    assert (tmp_path / "m.jsonl").read_text().count("\n") == 1  # the header only


def test_writer_buffers_then_flushes_after_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(messages.time, "monotonic", lambda: now[0])
    log = MessageLog.open(messages_path(tmp_path), "lab")
    assert messages_path(tmp_path).read_text() == HEADER  # the header is out at once
    log.sent(1, 10, "s0", "s1", "Accept", "3.0", 7, [(2, 5), (1, 9)], "deliver")
    assert messages_path(tmp_path).read_text() == HEADER  # buffered
    now[0] += 1.0
    log.arrived(1, 250, "delivered")
    assert messages_path(tmp_path).read_text() == HEADER + SEND + ARRIVAL
    log.close()
    log.close()  # twice is harmless
    with pytest.raises(ValueError, match="closed"):
        log.arrived(1, 251, "delivered")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    records = read_messages(tmp_path)
    assert (records.header, records.sends, records.arrivals) == (None, [], [])
    assert records.problems == ["messages.jsonl: missing"]
    messages_path(tmp_path).write_text("")
    assert read_messages(tmp_path).problems == ["messages.jsonl: empty (no header)"]


def test_truncated_last_line_keeps_the_rows_before(tmp_path: Path) -> None:
    messages_path(tmp_path).write_text(HEADER + SEND + ARRIVAL + '["s",2,11,"c0","s')
    records = read_messages(tmp_path)
    assert len(records.sends) == 1 and len(records.arrivals) == 1
    assert records.problems == [
        "messages.jsonl line 4: not JSON (truncated: the writer stopped mid-line)"]


def test_corrupt_and_malformed_lines_are_named_and_skipped(tmp_path: Path) -> None:
    bad = [
        "{not json\n",                                              # 4
        '["s",2,11,"c0","s2","ClientRequest",null,null]\n',          # 5: too short
        '["s",3,11,"c0","s2","Accept","1.0",1,null,"vanished"]\n',   # 6: unknown fate
        '["s",4,11,"c0","s2","Accept",3,1,null,"drop"]\n',           # 7: ballot not a str
        '["s",5,11,"c0","s2","Accept","1.0",1,[[1]],"drop"]\n',      # 8: bad ops pair
        '["s",6,true,"c0","s2","Accept","1.0",1,null,"drop"]\n',     # 9: bool time
        '["a",1,"late","delivered"]\n',                              # 10
        '["a",1,5,"evaporated"]\n',                                  # 11
        '{"s": 1}\n',                                                # 12: not a row
        SEND,                                                        # 13: id 1 again
        b"\xff\xfe\n".decode("latin-1"),                             # 14: not UTF-8
    ]
    path = messages_path(tmp_path)
    path.write_bytes((HEADER + SEND + ARRIVAL + "".join(bad)).encode("latin-1")
                     + b'["a",1,9,"released"]\n')
    records = read_messages(tmp_path)
    assert [s.id for s in records.sends] == [1]
    assert records.arrivals == [ArrivalRow(1, 250, "delivered"), ArrivalRow(1, 9, "released")]
    lines = [int(p.split("line ")[1].split(":")[0]) for p in records.problems]
    assert lines == list(range(4, 15))
    assert all(p.startswith("messages.jsonl line ") for p in records.problems)
    assert "line 6: fate = 'vanished'" in records.problems[2]
    assert "line 13: id 1 sent twice" in records.problems[9]


def test_unknown_version_reads_no_rows(tmp_path: Path) -> None:
    messages_path(tmp_path).write_text(HEADER.replace('"version":1', '"version":2') + SEND)
    records = read_messages(tmp_path)
    assert records.sends == [] and records.header is None
    assert records.problems == [
        "messages.jsonl line 1: unknown version 2 (this reader knows 1); the rows were not read"]
    messages_path(tmp_path).write_text('{"format": "other"}\n' + SEND)
    assert "not a paxlab-messages header" in read_messages(tmp_path).problems[0]


def test_missing_header_still_reads_rows(tmp_path: Path) -> None:
    messages_path(tmp_path).write_text(SEND + ARRIVAL)
    records = read_messages(tmp_path)
    assert records.header is None and len(records.sends) == 1 and len(records.arrivals) == 1
    assert records.problems[0].startswith("messages.jsonl line 1: no header")


def test_many_bad_lines_give_a_bounded_list(tmp_path: Path) -> None:
    messages_path(tmp_path).write_text(HEADER + "garbage\n" * 1000 + ARRIVAL)
    records = read_messages(tmp_path)
    assert len(records.arrivals) == 1
    assert len(records.problems) == messages.PROBLEMS_MAX + 1
    assert records.problems[-1] == "messages.jsonl: 980 more lines not read"
