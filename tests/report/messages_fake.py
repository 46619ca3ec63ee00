"""A stand-in for paxlab.results.messages.read_messages (contract section 1), used only
while RECORD's reader has not landed on main: same rows, same problems, same never-raise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ArrivalRow", "MessageRecords", "SendRow", "read_messages"]


@dataclass(frozen=True, slots=True)
class SendRow:
    id: int
    t_us: int
    src: str
    dst: str
    type: str
    ballot: str | None
    slot: int | None
    ops: list | None
    fate: str


@dataclass(frozen=True, slots=True)
class ArrivalRow:
    id: int
    t_us: int
    outcome: str


@dataclass
class MessageRecords:
    header: dict | None = None
    sends: list[SendRow] = field(default_factory=list)
    arrivals: list[ArrivalRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_messages(run_dir: Path) -> MessageRecords:
    records = MessageRecords()
    path = Path(run_dir) / "messages.jsonl"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        records.problems.append("messages.jsonl: missing")
        return records
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            tail = " (truncated?)" if number == len(lines) else ""
            records.problems.append(f"messages.jsonl line {number}: not JSON{tail}")
            continue
        if number == 1 and isinstance(value, dict):
            records.header = value
        elif isinstance(value, list) and len(value) == 10 and value[0] == "s":
            records.sends.append(SendRow(*value[1:]))
        elif isinstance(value, list) and len(value) == 4 and value[0] == "a":
            records.arrivals.append(ArrivalRow(*value[1:]))
        else:
            records.problems.append(f"messages.jsonl line {number}: not a message line")
    return records
