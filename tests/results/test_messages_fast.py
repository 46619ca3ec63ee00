"""read_messages' fast path (one decode, json's C scanner per line) against a naive model:
json.loads on each line's bytes, as the reader did before. Every corruption below must
give the same rows and name the same lines with the same words."""

from __future__ import annotations

import json
import random
from pathlib import Path

from paxlab.results import messages
from paxlab.results.messages import (
    MESSAGES_FILE,
    ArrivalRow,
    MessageRecords,
    SendRow,
    messages_path,
    read_messages,
)

HEADER = '{"format":"paxlab-messages","version":1,"driver":"sim","time_unit":"us"}'


def naive(data: bytes) -> MessageRecords:
    """The reader without its fast path: every line through json.loads on its own bytes."""
    records = MessageRecords()
    lines = data.split(b"\n")
    torn_last = len(lines)
    if lines[-1] == b"":
        lines.pop()
        torn_last = 0
    seen: set[int] = set()
    for number, raw in enumerate(lines, start=1):
        where = f"{MESSAGES_FILE} line {number}"
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            truncated = " (truncated: the writer stopped mid-line)" if number == torn_last else ""
            records.problems.append(f"{where}: not JSON{truncated}")
            continue
        if number == 1 and not isinstance(value, list):
            why = messages._header_problem(value)
            if why is not None:
                records.problems.append(f"{where}: {why}; the rows were not read")
                break
            records.header = value
            continue
        if number == 1:
            records.problems.append(f"{where}: no header (expected {{\"format\": "
                                    f"\"{messages.FORMAT}\", ...}})")
        kind = value[0] if isinstance(value, list) and value else None
        row: SendRow | ArrivalRow | str
        if kind == "s":
            row = messages._send_row(value)
            if isinstance(row, SendRow):
                if row.id not in seen:
                    seen.add(row.id)
                    records.sends.append(row)
                    continue
                row = f"id {row.id} sent twice"
        elif kind == "a":
            row = messages._arrival_row(value)
            if isinstance(row, ArrivalRow):
                records.arrivals.append(row)
                continue
        else:
            row = "expected a send [\"s\", ...] or arrival [\"a\", ...] row"
        records.problems.append(f"{where}: {row}")
    if len(records.problems) > messages.PROBLEMS_MAX:
        more = len(records.problems) - messages.PROBLEMS_MAX
        records.problems[messages.PROBLEMS_MAX:] = [f"{MESSAGES_FILE}: {more} more lines not read"]
    return records


def good_lines(count: int, rng: random.Random) -> list[str]:
    lines = [HEADER]
    for i in range(1, count + 1):
        ops = rng.choice(["null", "[]", f"[[{i % 3},{i}]]", f"[[1,{i}],[2,{i}]]"])
        slot = rng.choice(["null", str(i)])
        ballot = rng.choice(["null", '"3.1"'])
        lines.append(f'["s",{i},{i * 10},"s0","s1","Accept",{ballot},{slot},{ops},"deliver"]')
        lines.append(f'["a",{i},{i * 10 + 5},"delivered"]')
    return lines


BAD = [
    "", "   ", "\t", " [\"a\",1,5,\"delivered\"]", "[\"a\",1,5,\"delivered\"]  ", "\ufeff[1]",
    "[1", "2]", "[\"a\",1,5,\"delivered\"],[\"a\",2,6,\"delivered\"]", "{}", "[]", "null",
    "[\"s\",1,2,\"s0\",\"s1\",\"Accept\",null,null,null,\"deliver\"]",      # a repeated id
    "[\"s\",99,2,\"s0\",\"s1\",\"Accept\",null,true,null,\"deliver\"]",     # bool slot
    "[\"s\",98,2,\"s0\",\"s1\",\"Accept\",null,1,[[1,true]],\"deliver\"]",  # bool in ops
    "[\"s\",97,2,\"s0\",\"s1\",\"Accept\",null,1,{},\"deliver\"]",
    "[\"s\",96,2.0,\"s0\",\"s1\",\"Accept\",null,1,null,\"deliver\"]",
    "[\"s\",95,2,\"s0\",\"s1\",\"Accept\",null,1,null,[\"deliver\"]]",      # unhashable fate
    "[\"a\",1,5,[\"delivered\"]]", "[\"a\",1,5,\"delivered\",1]", "[\"a\",true,5,\"held\"]",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]",
    "NaN", "[\"a\",1,Infinity,\"held\"]", "[\"a\",1,5,\"h\u00e9ld\"]", "\r",
]


def check_same(tmp_path: Path, data: bytes) -> MessageRecords:
    messages_path(tmp_path).write_bytes(data)
    fast = read_messages(tmp_path)
    model = naive(data)
    assert fast == model
    return fast


def test_a_clean_file_reads_every_row(tmp_path: Path) -> None:
    lines = good_lines(300, random.Random(1))
    records = check_same(tmp_path, ("\n".join(lines) + "\n").encode())
    assert (len(records.sends), len(records.arrivals), records.problems) == (300, 300, [])


def test_bad_lines_in_a_utf8_file_are_named_like_the_naive_reader(tmp_path: Path) -> None:
    for seed in range(40):
        rng = random.Random(seed)
        lines = good_lines(30, rng)
        for _ in range(rng.randint(1, 6)):
            lines.insert(rng.randint(0 if seed % 5 == 0 else 1, len(lines)), rng.choice(BAD))
        ending = rng.choice(["\n", "", "\r\n"])
        check_same(tmp_path, ("\n".join(lines) + ending).encode())


def test_neighbours_that_would_join_into_valid_json_are_each_named(tmp_path: Path) -> None:
    """`[1` then `2]`, and a line holding two rows: an array of all lines joined would
    read them as valid rows; line by line, each is a problem."""
    lines = [HEADER, '["a",1,5', '"delivered"]', '["a",2,6,"held"],["a",3,7,"held"]']
    records = check_same(tmp_path, ("\n".join(lines) + "\n").encode())
    assert records.arrivals == []
    assert records.problems == [f"{MESSAGES_FILE} line {n}: not JSON" for n in (2, 3, 4)]


def test_a_file_with_non_utf8_bytes_reads_the_other_lines(tmp_path: Path) -> None:
    lines = [line.encode() for line in good_lines(5, random.Random(2))]
    lines.insert(3, b'["a",1,5,"\xff"]')
    records = check_same(tmp_path, b"\n".join(lines) + b"\n")
    assert len(records.sends) == 5 and len(records.arrivals) == 5
    assert records.problems == [f"{MESSAGES_FILE} line 4: not JSON"]
