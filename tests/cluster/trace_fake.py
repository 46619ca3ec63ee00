"""A stand-in for paxlab/results/messages.py (the RECORD helper's, issue 13 contract
section 1) until it lands on main: the writer and reader the cluster's tests need, to
the contract's API. `messages_module()` gives the real module when it exists."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MESSAGES_FILE = "messages.jsonl"


def messages_path(run_dir: Path) -> Path:
    return Path(run_dir) / MESSAGES_FILE


@dataclass(frozen=True, slots=True)
class SendRow:
    id: int
    t_us: int
    src: str
    dst: str
    type: str
    ballot: str | None
    slot: int | None
    ops: list[list[int]] | None
    fate: str


@dataclass(frozen=True, slots=True)
class ArrivalRow:
    id: int
    t_us: int
    outcome: str


@dataclass
class MessageRecords:
    header: dict[str, Any] | None
    sends: list[SendRow] = field(default_factory=list)
    arrivals: list[ArrivalRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class MessageLog:
    def __init__(self, file: Any) -> None:
        self.file = file

    @classmethod
    def open(cls, path: Path, driver: str) -> MessageLog:
        file = open(path, "w", encoding="utf-8")  # noqa: SIM115
        file.write(json.dumps({"format": "paxlab-messages", "version": 1, "driver": driver,
                               "time_unit": "us"}) + "\n")
        return cls(file)

    def sent(self, id: int, t_us: int, src: str, dst: str, type: str, ballot: str | None,
             slot: int | None, ops: Any, fate: str) -> None:
        self.file.write(json.dumps(["s", id, t_us, src, dst, type, ballot, slot, ops, fate])
                        + "\n")

    def arrived(self, id: int, t_us: int, outcome: str) -> None:
        self.file.write(json.dumps(["a", id, t_us, outcome]) + "\n")

    def close(self) -> None:
        self.file.close()


def read_messages(run_dir: Path) -> MessageRecords:
    path = messages_path(run_dir)
    if not path.exists():
        return MessageRecords(None, problems=["messages.jsonl: missing"])
    records = MessageRecords(None)
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError:
            records.problems.append(f"messages.jsonl line {number}: not JSON")
            continue
        if isinstance(row, dict):
            records.header = row
        elif row[0] == "s":
            records.sends.append(SendRow(*row[1:]))
        else:
            records.arrivals.append(ArrivalRow(*row[1:]))
    return records


def messages_module() -> types.ModuleType:
    """paxlab.results.messages, or this stand-in installed under its name."""
    try:
        import paxlab.results.messages as real
    except ImportError:
        sys.modules["paxlab.results.messages"] = sys.modules[__name__]
        return sys.modules[__name__]
    return real
