"""The results folder's record formats: validated history events and blocks, atomic
writes, and JSON reads whose errors name the path and line.

Split from paxlab.results, which alone knows the folder's file names; this module knows
only what goes inside a file, so results.py stays one screenful of the contract.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "ResultsError",
    "block_problem",
    "checked_event",
    "event_problem",
    "is_int",
    "jsonl",
    "read_json_object",
    "read_jsonl",
    "read_text",
    "write_atomic",
    "write_atomic_bytes",
]

_EVENT_ORDER = ("process", "type", "f", "key", "value", "seq", "time")
_EVENT_TYPES = ("invoke", "ok", "fail", "info")
_OPS = ("put", "get")


class ResultsError(Exception):
    """A results file is missing or malformed; the message names the path (and line number
    for jsonl), because the user has to go and look at that file."""


# ---- validation shared by writers and readers ----------------------------------------


def is_int(value: Any) -> bool:
    """An int that is not a bool: JSON true must not pass as 1."""
    return isinstance(value, int) and not isinstance(value, bool)


def event_problem(event: Any) -> str | None:
    """Why a history event breaks the contract, or None if it keeps it."""
    if not isinstance(event, dict):
        return "expected a JSON object"
    for name in _EVENT_ORDER:
        if name not in event:
            return f"missing field {name!r}"
    for name in ("process", "seq", "time"):
        if not is_int(event[name]):
            return f"field {name!r} = {event[name]!r}: expected an integer"
    if event["type"] not in _EVENT_TYPES:
        return f"field 'type' = {event['type']!r}: expected one of {', '.join(_EVENT_TYPES)}"
    if event["f"] not in _OPS:
        return f"field 'f' = {event['f']!r}: expected one of {', '.join(_OPS)}"
    if not isinstance(event["key"], str):
        return f"field 'key' = {event['key']!r}: expected a string"
    if event["value"] is not None and not isinstance(event["value"], str):
        return f"field 'value' = {event['value']!r}: expected a string or null"
    return None


def block_problem(block: Any) -> str | None:
    """Why a block lacks a field or has one of the wrong type. Whether its contents are
    right (links, hash, txns) is for check.chains to judge, not for the reader."""
    if not isinstance(block, dict):
        return "expected a JSON object"
    kinds: dict[str, tuple[Callable[[Any], bool], str]] = {
        "height": (is_int, "an integer"),
        "prev": (lambda v: isinstance(v, str), "a string"),
        "txns": (lambda v: isinstance(v, list), "a list"),
        "nonce": (lambda v: isinstance(v, str), "a string"),
        "hash": (lambda v: isinstance(v, str), "a string"),
    }
    for name, (is_ok, expected) in kinds.items():
        if name not in block:
            return f"missing field {name!r}"
        if not is_ok(block[name]):
            return f"field {name!r} = {block[name]!r}: expected {expected}"
    return None


def checked_event(event: dict, where: str) -> dict:
    problem = event_problem(event)
    if problem:
        raise ResultsError(f"{where}: {problem}")
    ordered = {name: event[name] for name in _EVENT_ORDER}
    ordered.update(event)  # extra fields kept, after the contract's own
    return ordered


# ---- low-level file access -----------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write text as UTF-8 with write_atomic_bytes."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write a temp file beside `path`, then rename it over, so a reader (or a crash)
    sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing") from None
    except UnicodeDecodeError as e:
        raise ResultsError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ResultsError(f"{path}: cannot read ({e.strerror})") from None


def read_json_object(path: Path) -> dict:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: line {e.lineno}: malformed JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data


def read_jsonl(
    path: Path, problem: Callable[[Any], str | None], torn_tail_ok: bool = False
) -> list[dict]:
    """Parse one object per line. With torn_tail_ok, a bad last line that lacks its
    newline is dropped: its writer died mid-write, so the event never fully happened."""
    lines = read_text(path).split("\n")
    records: list[dict] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_torn_tail = torn_tail_ok and number == len(lines)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if is_torn_tail:
                break
            raise ResultsError(f"{path}: line {number}: malformed JSON ({e.msg})") from None
        why = problem(record)
        if why:
            if is_torn_tail:
                break
            raise ResultsError(f"{path}: line {number}: {why}")
        records.append(record)
    return records


def jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
