"""Reads a results folder without ever raising: what it can, and a line for what it cannot.

`paxlab.results` readers are strict on purpose (a checker must not judge half a file), but
a report is most wanted exactly when a run went wrong: Ctrl-C, a full disk, a hand-edited
file. So each file here is read line by line; a good line is kept, a bad one becomes an
`unread` entry naming the file, the line (or byte offset) and what was wrong with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.results import format as fmt
from paxlab.results.messages import MessageRecords, read_messages

__all__ = ["RunFiles", "read_run"]

_SUMMARY = "summary.json"
_CONFIG = "config.yaml"
_HISTORY = "history.jsonl"
_HISTORY_PARTS = "history-parts"
_CHAINS = "chains"
_CHAIN_META = "chains/meta.json"
_KV = "kv"
_CHAIN_FILE = re.compile(r"server-(\d+)\.jsonl")
_KV_FILE = re.compile(r"server-(\d+)\.json")
_PART_FILE = re.compile(r"client-(\d+)\.jsonl")


@dataclass
class RunFiles:
    """Everything readable in one results folder, and what was not."""

    run_dir: Path
    summary: dict | None = None
    config: dict | None = None
    config_text: str | None = None
    history: list[dict] = field(default_factory=list)
    # server id -> blocks by height (the list index); a block that could not be read is
    # None, and so are the heights below a chain's start
    chains: dict[int, list[dict | None]] = field(default_factory=dict)
    # server id -> the height its chain file starts at: 0, or the height of the snapshot
    # its server installed (it never held the blocks below)
    chain_starts: dict[int, int] = field(default_factory=dict)
    kvs: dict[int, dict[str, str]] = field(default_factory=dict)
    difficulty: int | None = None
    messages: MessageRecords | None = None
    unread: list[str] = field(default_factory=list)


def read_run(run_dir: Path) -> RunFiles:
    """Read every file of the folder a report draws from; never raises on content."""
    files = RunFiles(run_dir=Path(run_dir))
    _read_summary(files)
    _read_config(files)
    _read_history(files)
    _read_chains(files)
    _read_kvs(files)
    _read_messages(files)
    return files


# ---- small tolerant readers ------------------------------------------------------------


def _text(path: Path, name: str, unread: list[str], missing_ok: bool = False) -> str | None:
    """The file's text; None (and an unread line) when it is missing or unreadable.
    Bytes that are not UTF-8 are replaced and reported with their offset."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not missing_ok:
            unread.append(f"{name}: missing")
        return None
    except OSError as e:
        unread.append(f"{name}: cannot read ({e.strerror})")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        unread.append(f"{name} byte {e.start}: not UTF-8 text ({e.reason}); replaced")
        return data.decode("utf-8", errors="replace")


def _json_object(path: Path, name: str, unread: list[str], missing_ok: bool = False
                 ) -> dict | None:  # fmt: skip
    text = _text(path, name, unread, missing_ok)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        why = "truncated?" if e.pos >= len(text.rstrip()) else e.msg
        unread.append(f"{name} line {e.lineno}: not JSON ({why})")
        return None
    if not isinstance(data, dict):
        unread.append(f"{name}: expected a JSON object")
        return None
    return data


def _jsonl(text: str, name: str, problem: Callable[[Any], str | None], unread: list[str],
           seen: dict[str, Any] | None = None) -> list[tuple[int, dict]]:
    """(line number, record) of every good line; each bad one is reported and skipped.
    A bad last line without its newline is called truncated: its writer was cut off.
    `seen`: line text -> its record, shared between files that mostly hold the same lines
    (every server's chain), so each distinct block is parsed and judged once."""
    lines = text.split("\n")
    last = len(lines)
    loads = json.loads
    kept: list[tuple[int, dict]] = []
    for number, line in enumerate(lines, start=1):
        if seen is not None:
            record = seen.get(line)
            if record is not None:
                kept.append((number, record))
                continue
        if not line or line.isspace():
            continue
        try:
            record = loads(line)
        except ValueError:
            truncated = " (truncated?)" if number == last else ""
            unread.append(f"{name} line {number}: not JSON{truncated}")
            continue
        why = problem(record)
        if why:
            unread.append(f"{name} line {number}: {why}")
            continue
        kept.append((number, record))
        if seen is not None:
            seen[line] = record
    return kept


# ---- each file -------------------------------------------------------------------------


def _read_summary(files: RunFiles) -> None:
    files.summary = _json_object(files.run_dir / _SUMMARY, _SUMMARY, files.unread)


def _read_config(files: RunFiles) -> None:
    path = files.run_dir / _CONFIG
    files.config_text = _text(path, _CONFIG, files.unread)
    if files.config_text is None:
        return
    try:
        files.config = results.read_config(files.run_dir)
    except results.ResultsError as e:
        files.unread.append(f"{_CONFIG}: {str(e).removeprefix(f'{path}: ')}")


def _read_history(files: RunFiles) -> None:
    """history.jsonl; without one (a lab run stopped before merging), the clients' parts."""
    path = files.run_dir / _HISTORY
    parts = results.numbered_files(files.run_dir / _HISTORY_PARTS, _PART_FILE)
    if not path.exists() and parts:
        events: list[dict] = []
        for client, part in parts.items():
            name = f"{_HISTORY_PARTS}/client-{client}.jsonl"
            text = _text(part, name, files.unread)
            if text is not None:
                events += [e for _, e in _jsonl(text, name, fmt.event_problem, files.unread)]
        files.unread.append(f"{_HISTORY}: missing; read the clients' {_HISTORY_PARTS} instead")
        events.sort(key=lambda e: (e["time"], e["process"]))
        files.history = events
        return
    text = _text(path, _HISTORY, files.unread)
    if text is not None:
        files.history = [e for _, e in _jsonl(text, _HISTORY, fmt.event_problem, files.unread)]


def _read_chains(files: RunFiles) -> None:
    meta = _json_object(files.run_dir / _CHAIN_META, _CHAIN_META, files.unread)
    if meta is not None:
        difficulty = meta.get("difficulty")
        if fmt.is_int(difficulty):
            files.difficulty = difficulty
        else:
            files.unread.append(f"{_CHAIN_META}: 'difficulty' = {difficulty!r}: not an integer")
    seen: dict[str, Any] = {}  # a line's text -> its block, shared by all chains
    # a file's text -> its blocks and start, read without fault
    clean: dict[str, tuple[list[dict | None], int]] = {}
    for sid, path in results.numbered_files(files.run_dir / _CHAINS, _CHAIN_FILE).items():
        name = f"{_CHAINS}/{path.name}"
        text = _text(path, name, files.unread)
        if text is None:
            continue
        if text in clean:  # servers that agree have byte-equal files: read one of them
            blocks, files.chain_starts[sid] = clean[text]
            files.chains[sid] = list(blocks)
            continue
        problems: list[str] = []
        files.chains[sid], files.chain_starts[sid] = _chain_blocks(text, name, seen, problems)
        if problems:
            files.unread += problems
        else:
            clean[text] = files.chains[sid], files.chain_starts[sid]


def _chain_blocks(text: str, name: str, seen: dict[str, Any], problems: list[str]
                  ) -> tuple[list[dict | None], int]:  # fmt: skip
    """A chain file's blocks placed by height (None where no readable block is), and the
    height it starts at. A file starts at height 0, or above it when its server installed
    a snapshot: the first readable block's height, less the lines before it, says where
    (the list then holds None below the start, which is not reported)."""
    blocks: list[dict | None] = []
    lines = text.count("\n") + 1  # no height can be past the file's last line
    rows = _jsonl(text, name, fmt.block_problem, problems, seen)
    start = max(0, rows[0][1]["height"] - (rows[0][0] - 1)) if rows else 0
    for number, block in rows:
        height = block["height"]
        if not start <= height < start + lines:
            problems.append(f"{name} line {number}: height {height} out of place")
            continue
        while len(blocks) <= height:
            blocks.append(None)
        if blocks[height] is not None:
            problems.append(f"{name} line {number}: a second block at height {height}")
            continue
        blocks[height] = block
    if None in blocks[start:]:
        problems.append(f"{name}: no readable block at height {blocks.index(None, start)}")
    return blocks, start


def _read_kvs(files: RunFiles) -> None:
    for sid, path in results.numbered_files(files.run_dir / _KV, _KV_FILE).items():
        name = f"{_KV}/{path.name}"
        kv = _json_object(path, name, files.unread)
        if kv is None:
            continue
        good = {k: v for k, v in kv.items() if isinstance(v, str)}
        if len(good) != len(kv):
            files.unread.append(f"{name}: {len(kv) - len(good)} values that are not strings")
        files.kvs[sid] = good


def _read_messages(files: RunFiles) -> None:
    try:
        records = read_messages(files.run_dir)
    except Exception as e:  # the reader promises not to raise; a report must not either
        files.unread.append(f"messages.jsonl: unreadable ({type(e).__name__}: {e})")
        return
    files.unread.extend(records.problems)
    files.messages = records
