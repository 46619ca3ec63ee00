"""`cluster check`'s join of every node's message record into the results folder's messages.jsonl.

Each server and client wrote what it saw (cluster/msgrecord.py): its sends with the
frames they left as, and the frames that reached it. Here a send and its arrival meet on
(sender, receiver, link, frame counter), which both ends know without the wire carrying
anything more. Every send becomes one line of the results contract
(docs/results-contract.md, "Messages") with an id in time order, every matched arrival
one arrival line; a message sent but never received gets none. A frame the receiver
refused because the link was cut there turns its send's fate into "cut", and a message
dropped before it was sealed (a full queue, a peer that could not be dialed) into
"drop".

Times come from each host's own wall clock: on one machine they agree, across hosts
they are as good as the hosts' clock synchronisation. They are rebased with the
history's zero. Reading is tolerant: a torn last line (a crash mid-write), a corrupt
line or a missing file is a note naming the file and line, and the rest is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxlab.cluster.msgrecord import (
    NODE_FORMAT,
    NODE_MESSAGES_FILE,
    NODE_VERSION,
    OLD_MESSAGES_FILE,
)
from paxlab.results.messages import MessageLog, messages_path

__all__ = ["Merged", "NodeRecords", "node_files", "read_node_records", "write_messages"]

_FATES = frozenset({"deliver", "cut", "drop"})
_OUTCOMES = frozenset({"delivered", "held", "released", "lost", "cut"})
NOTES_PER_FILE_MAX = 5  # past this a file's problems are counted, not listed

Run = tuple[int, int]  # one start of a node's process: (pid, start_us) from its header
SendKey = tuple[str, Run, int]  # (sender, which run of it, message number)
Frame = tuple[str, str, str, int]  # (sender, receiver, link, frame counter)


@dataclass(slots=True)
class NodeRecords:
    """Every node file read: sends by key, which frame carried which send, arrivals,
    and what could not be read."""

    # [t_us, src, dst, type, ballot, slot, ops, fate], by sender, process start, number
    sends: dict[SendKey, list[Any]] = field(default_factory=dict)
    # (sender, receiver, link, frame counter) -> the send it carried: as noted when
    # sealed ("w"), and as the send line expected ("s"; a later expectation wins, and
    # one is void if its send was sealed otherwise or dropped)
    frames: dict[Frame, SendKey] = field(default_factory=dict)
    expected: dict[Frame, SendKey] = field(default_factory=dict)
    expected_of: dict[SendKey, Frame] = field(default_factory=dict)
    arrivals: list[tuple[str, str, str, int, int, str]] = field(default_factory=list)
    dropped: set[SendKey] = field(default_factory=set)
    last_us: dict[str, int] = field(default_factory=dict)  # each node's last noted time
    notes: list[str] = field(default_factory=list)
    files: int = 0

    def expect(self, key: SendKey, frame: Frame) -> None:
        self.expected[frame] = key
        self.expected_of[key] = frame

    def carrier(self) -> dict[Frame, SendKey]:
        """Which send each frame carried: the sealed notes, then the expectations not
        voided by one (a send sealed as another frame, or dropped unsent)."""
        expected = dict(self.expected)
        for key in [*self.frames.values(), *self.dropped]:
            frame = self.expected_of.get(key)
            if frame is not None and expected.get(frame) == key:
                del expected[frame]
        return {**expected, **self.frames}

    def first_us(self) -> int | None:
        """The earliest time in any record (host wall clock, microseconds)."""
        times = [send[0] for send in self.sends.values()]
        times.extend(arrival[4] for arrival in self.arrivals)
        return min(times) if times else None


def node_files(data_dir: Path) -> list[tuple[str, Path]]:
    """(node, path) of every node file in the data dir: servers, then clients, by id;
    a node's older file (rotated away when full) before its current one."""
    found = []
    for kind, letter in (("servers", "s"), ("clients", "c")):
        folders = [p for p in (data_dir / kind).glob(f"{letter}*") if p.name[1:].isdigit()]
        for folder in sorted(folders, key=lambda p: int(p.name[1:])):
            found.extend((folder.name, folder / name)
                         for name in (OLD_MESSAGES_FILE, NODE_MESSAGES_FILE)
                         if (folder / name).is_file())
    return found


def read_node_records(files: Iterable[tuple[str, Path]]) -> NodeRecords:
    records = NodeRecords()
    for node, path in files:
        _read_file(records, node, path)
    return records


def _read_file(records: NodeRecords, node: str, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        records.notes.append(f"{path}: cannot read: {error.strerror or error}")
        return
    records.files += 1
    lines = text.split("\n")
    torn = lines.pop() if lines else ""  # after the last newline: "" unless cut short
    problems: list[str] = []
    if torn:
        problems.append(f"line {len(lines) + 1}: cut short (the process died mid-write); "
                        "ignored")
    segment: Run | None = None  # the run the lines belong to (each header starts one)
    skipping = False
    last = 0  # the latest time noted
    foreign = 0  # lines under a header we cannot read (another format or version)
    sends, frames, dropped = records.sends, records.frames, records.dropped
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            row = json.loads(line)
            if type(row) is dict:
                skipping = True
                segment = _run_of(row, node)
                skipping = False
                continue
            if skipping:
                foreign += 1
                continue
            if type(row) is not list:
                raise _BadLine("not a message line")
            if segment is None:
                raise _BadLine("before any header")
            kind = row[0]
            if kind == "s":
                _, n, t_us, dst, type_, ballot, slot, ops, fate, *frame = row
                if not (fate in _FATES and _ints(n, t_us) and _texts(dst, type_)
                        and (ballot is None or type(ballot) is str)
                        and (slot is None or type(slot) is int) and _ops(ops)
                        and (not frame or (len(frame) == 2 and _texts(frame[0])
                                           and _ints(frame[1])))):
                    raise _BadLine("a send line with a field of the wrong kind")
                key = (node, segment, n)
                sends[key] = [t_us, node, dst, type_, ballot, slot, ops, fate]
                last = max(last, t_us)
                if frame:
                    records.expect(key, (node, dst, frame[0], frame[1]))
            elif kind == "w":
                _, dst, link, counter, numbers = row
                if not (_texts(dst, link) and _ints(counter, *numbers)):
                    raise _BadLine("a sealed line with a field of the wrong kind")
                for offset, n in enumerate(numbers):
                    frames[(node, dst, link, counter + offset)] = (node, segment, n)
            elif kind == "a":
                _, src, link, counter, t_us, outcome = row
                if not (outcome in _OUTCOMES and _texts(src, link) and _ints(counter, t_us)):
                    raise _BadLine("an arrival line with a field of the wrong kind")
                records.arrivals.append((src, node, link, counter, t_us, outcome))
                last = max(last, t_us)
            elif kind == "d":
                _, numbers = row
                if not _ints(*numbers):
                    raise _BadLine("a dropped line with a field of the wrong kind")
                dropped.update((node, segment, n) for n in numbers)
            else:
                raise _BadLine(f"unknown line kind {kind!r}")
        except (ValueError, TypeError, IndexError, KeyError) as error:
            problems.append(f"line {number}: {_why(error)}; ignored")
    records.last_us[node] = max(last, records.last_us.get(node, 0))
    if foreign:
        problems.append(f"{foreign} lines under a header we cannot read; ignored")
    if problems:
        shown = problems[:NOTES_PER_FILE_MAX]
        more = len(problems) - len(shown)
        records.notes.extend(f"{path}: {problem}" for problem in shown)
        if more:
            records.notes.append(f"{path}: {more} more lines could not be read")


def _run_of(header: dict[str, Any], node: str) -> Run:
    """The run a header starts (or continues, after its file was rotated)."""
    if header.get("format") != NODE_FORMAT or header.get("version") != NODE_VERSION:
        raise _BadLine(f"not a version {NODE_VERSION} {NODE_FORMAT} header")
    if header.get("node") != node:
        raise _BadLine(f"header of {header.get('node')!r} in {node}'s folder")
    pid, start_us = header.get("pid"), header.get("start_us")
    if not _ints(pid, start_us):
        raise _BadLine("a header without its pid and start_us")
    return pid, start_us


def _ints(*values: Any) -> bool:
    return all(type(value) is int for value in values)


def _texts(*values: Any) -> bool:
    return all(type(value) is str for value in values)


def _ops(ops: Any) -> bool:
    """null, or a list of [client, seq] pairs of ints."""
    return ops is None or (type(ops) is list and all(
        type(op) is list and len(op) == 2 and _ints(*op) for op in ops))


class _BadLine(ValueError):
    """A line that parses but says something we cannot use; its text says what."""


def _why(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return "not JSON"
    if isinstance(error, _BadLine):
        return str(error)
    return "not a message line"


@dataclass(frozen=True, slots=True)
class Merged:
    """What `write_messages` wrote, for cluster check's report."""

    sends: int
    arrivals: int
    # arrivals whose send no file holds though the sender's record goes on past them
    # (its file is cut or was rotated away); arrivals of what was sent after the
    # sender's record ends are not counted
    unmatched: int


def write_messages(run_dir: Path, records: NodeRecords, t0_us: int) -> Merged:
    """Write the joined records as the results folder's messages.jsonl, times minus
    `t0_us` (the history's zero), ids in time order."""
    sends = records.sends
    outcomes: dict[SendKey, list[tuple[int, str]]] = {}
    unmatched = 0
    frames = records.carrier()
    last_us = records.last_us
    for src, dst, link, counter, t_us, outcome in records.arrivals:
        key = frames.get((src, dst, link, counter))
        if key is None or key not in sends:
            # Sent after the sender's record ends (the servers are dumped, and so
            # flushed, one after another while they run): nothing is missing.
            if t_us < last_us.get(src, 0):
                unmatched += 1
            continue
        outcomes.setdefault(key, []).append((t_us, outcome))
    order = sorted(sends, key=lambda k: (sends[k][0], k))
    ids = {key: i for i, key in enumerate(order, 1)}  # from 1, as the lab's and the sim's
    events: list[tuple[int, int, int, Any]] = []
    for key in order:
        send = sends[key]
        fate = send[7]
        seen = outcomes.get(key, ())
        if key in records.dropped:
            fate = "drop"
        elif any(outcome == "cut" for _, outcome in seen):
            fate = "cut"
        events.append((send[0], 0, ids[key], (*send[:7], fate)))
        if fate == "deliver":
            for t_us, outcome in sorted(seen):
                events.append((t_us, 1, ids[key], outcome))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    log = MessageLog.open(messages_path(run_dir), "cluster")
    arrivals = 0
    try:
        for t_us, kind, message_id, data in events:
            if kind == 0:
                _, src, dst, type_, ballot, slot, ops, fate = data
                log.sent(message_id, t_us - t0_us, src, dst, type_, ballot, slot,
                         None if ops is None else [tuple(op) for op in ops], fate)
            else:
                log.arrived(message_id, t_us - t0_us, data)
                arrivals += 1
    finally:
        log.close()
    if unmatched:
        records.notes.append(f"messages: {unmatched} arrivals match no send line (the "
                             "sender's file is missing, cut short, or on another host)")
    return Merged(sends=len(order), arrivals=arrivals, unmatched=unmatched)
