"""messages.jsonl: every message of a run, written live by a driver and read tolerantly.

The file is a contract read by outside tools and by `paxlab report` (docs/results-contract.md,
"Messages"). Line 1 is a header object; then one compact JSON array per line, a send
`["s", id, t_us, src, dst, type, ballot, slot, ops, fate]` or an arrival
`["a", id, t_us, outcome]`. Arrays, not objects, keep a long run's file small.

A driver writes while the run goes, so a Ctrl-C run keeps what it sent: the writer buffers
lines and flushes on close and whenever a second of wall time has passed since its last
flush. The reader never raises on bad content: a report of a crashed run must still show
what was written, so it returns the rows it could read and a list of problems, each
naming the file and line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ARRIVAL_OUTCOMES",
    "DRIVERS",
    "FORMAT",
    "MESSAGES_FILE",
    "PROBLEMS_MAX",
    "SEND_FATES",
    "VERSION",
    "ArrivalRow",
    "MessageLog",
    "MessageRecords",
    "SendRow",
    "messages_path",
    "read_messages",
]

MESSAGES_FILE = "messages.jsonl"
FORMAT = "paxlab-messages"
VERSION = 1
DRIVERS = ("lab", "sim", "cluster")
SEND_FATES = ("deliver", "drop", "duplicate", "cut")
ARRIVAL_OUTCOMES = ("delivered", "down", "held", "released", "lost")
# A file with a million bad lines would otherwise give a million problems: past this many
# the reader counts the rest in one last problem.
PROBLEMS_MAX = 20
_FLUSH_EVERY_S = 1.0
_quote = json.encoder.encode_basestring_ascii  # str -> its JSON text, in C
_scan = json.JSONDecoder().scan_once  # json.loads' C scanner: (value, end) from an index
_UNREAD = object()  # a line the scanner did not take whole
_SEND_FATES = frozenset(SEND_FATES)
_ARRIVAL_OUTCOMES = frozenset(ARRIVAL_OUTCOMES)

Ops = tuple[tuple[int, int], ...]


def messages_path(run_dir: Path | str) -> Path:
    """Where a run folder keeps its messages."""
    return Path(run_dir) / MESSAGES_FILE


@dataclass(frozen=True, slots=True)
class SendRow:
    """One message handed to the network (a duplicate is still one send, two arrivals)."""

    id: int
    t_us: int
    src: str
    dst: str
    type: str
    ballot: str | None
    slot: int | None
    ops: Ops | None  # the (client, seq) ops the message serves
    fate: str  # one of SEND_FATES


@dataclass(frozen=True, slots=True)
class ArrivalRow:
    """One copy of a message reaching its target's door, and what happened there."""

    id: int
    t_us: int
    outcome: str  # one of ARRIVAL_OUTCOMES


@dataclass
class MessageRecords:
    """What read_messages could read, and what it could not (problems, for the reader
    to show: a report says what is missing instead of failing)."""

    header: dict | None = None
    sends: list[SendRow] = field(default_factory=list)
    arrivals: list[ArrivalRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---- writer --------------------------------------------------------------------------


class MessageLog:
    """Appends send and arrival lines to messages.jsonl, buffered.

    Buffered because a run routes thousands of messages a second and a write call per
    message would cost more than the routing; flushed at least every second (checked on
    each line) and on close, so a killed run loses at most the last second."""

    def __init__(self, file: IO[str], driver: str) -> None:
        if driver not in DRIVERS:
            raise ValueError(f"driver {driver!r}: expected one of {', '.join(DRIVERS)}")
        self._file: IO[str] | None = file
        self._buffer: list[str] = []
        header = {"format": FORMAT, "version": VERSION, "driver": driver, "time_unit": "us"}
        file.write(json.dumps(header, separators=(",", ":")) + "\n")
        file.flush()
        self._flushed_at = time.monotonic()

    @classmethod
    def open(cls, path: Path | str, driver: str) -> MessageLog:
        """Start a new file at `path` (replacing any) and write its header."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(open(path, "w", encoding="utf-8"), driver)

    def sent(
        self,
        id: int,
        t_us: int,
        src: str,
        dst: str,
        type: str,
        ballot: str | None,
        slot: int | None,
        ops: Iterable[tuple[int, int]] | None,
        fate: str,
    ) -> None:
        """Record one message handed to the network and the network's decision. Every
        message of a run passes here: one f-string (`:d` refuses a non-number), strings
        quoted by json's own C encoder."""
        if fate not in SEND_FATES:
            raise ValueError(f"fate {fate!r}: expected one of {', '.join(SEND_FATES)}")
        if self._file is None:
            raise ValueError("MessageLog is closed")
        # "[%d,%d]" % pair: twice as fast as an f-string that unpacks the pair
        ops_text = ("null" if ops is None
                    else "[" + ",".join(["[%d,%d]" % op for op in ops]) + "]")  # noqa: UP031
        ballot_text = "null" if ballot is None else _quote(ballot)
        slot_text = "null" if slot is None else f"{slot:d}"
        self._buffer.append(
            f'["s",{id:d},{t_us:d},{_quote(src)},{_quote(dst)},{_quote(type)},'
            f'{ballot_text},{slot_text},{ops_text},"{fate}"]\n')
        if time.monotonic() - self._flushed_at >= _FLUSH_EVERY_S:
            self.flush()

    def arrived(self, id: int, t_us: int, outcome: str) -> None:
        """Record one copy reaching its target's door and what became of it."""
        if outcome not in ARRIVAL_OUTCOMES:
            raise ValueError(f"outcome {outcome!r}: expected one of {', '.join(ARRIVAL_OUTCOMES)}")
        if self._file is None:
            raise ValueError("MessageLog is closed")
        self._buffer.append(f'["a",{id:d},{t_us:d},"{outcome}"]\n')
        if time.monotonic() - self._flushed_at >= _FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines out now; a driver may call it when it goes idle."""
        if self._file is None:
            return
        if self._buffer:
            self._file.write("".join(self._buffer))
            self._buffer.clear()
        self._file.flush()
        self._flushed_at = time.monotonic()

    def flush_if_due(self) -> None:
        """Flush if a second has passed since the last flush: a driver that may go idle
        calls it now and then, so lines never wait long in the buffer."""
        if self._buffer and time.monotonic() - self._flushed_at >= _FLUSH_EVERY_S:
            self.flush()

    def close(self) -> None:
        """Flush and close; closing twice is harmless (a driver closes on every exit path)."""
        if self._file is None:
            return
        self.flush()
        self._file.close()
        self._file = None

    def __enter__(self) -> MessageLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- reader --------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ops(value: Any) -> Ops | str | None:
    """The ops field as a tuple of pairs, None, or a str saying what is wrong."""
    if value is None:
        return None
    if not isinstance(value, list):
        return f"ops = {value!r}: expected a list or null"
    pairs = []
    for op in value:  # type(...) is int, not _is_int: a send line's hot path (no bool)
        if not (type(op) is list and len(op) == 2 and type(op[0]) is int
                and type(op[1]) is int):
            return f"ops entry {op!r}: expected [client, seq]"
        pairs.append((op[0], op[1]))
    return tuple(pairs)


def _send_row(row: list) -> SendRow | str:
    if len(row) != 10:
        return f"send row with {len(row)} fields: expected 10"
    _, id_, t_us, src, dst, type_, ballot, slot, ops, fate = row
    if not (_is_int(id_) and _is_int(t_us)):
        return f"send id/time {id_!r}/{t_us!r}: expected integers"
    if not (isinstance(src, str) and isinstance(dst, str) and isinstance(type_, str)):
        return "send src, dst and type must be strings"
    if ballot is not None and not isinstance(ballot, str):
        return f"ballot = {ballot!r}: expected a string or null"
    if slot is not None and not _is_int(slot):
        return f"slot = {slot!r}: expected an integer or null"
    if fate not in SEND_FATES:
        return f"fate = {fate!r}: expected one of {', '.join(SEND_FATES)}"
    checked = _ops(ops)
    if isinstance(checked, str):
        return checked
    return SendRow(id_, t_us, src, dst, type_, ballot, slot, checked, fate)


def _arrival_row(row: list) -> ArrivalRow | str:
    if len(row) != 4:
        return f"arrival row with {len(row)} fields: expected 4"
    _, id_, t_us, outcome = row
    if not (_is_int(id_) and _is_int(t_us)):
        return f"arrival id/time {id_!r}/{t_us!r}: expected integers"
    if outcome not in ARRIVAL_OUTCOMES:
        return f"outcome = {outcome!r}: expected one of {', '.join(ARRIVAL_OUTCOMES)}"
    return ArrivalRow(id_, t_us, outcome)


def _header_problem(value: Any) -> str | None:
    """Why line 1 is not a header this reader understands (None: it is)."""
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        return f"not a {FORMAT} header"
    if value.get("version") != VERSION:
        return f"unknown version {value.get('version')!r} (this reader knows {VERSION})"
    if value.get("time_unit") != "us":
        return f"unknown time_unit {value.get('time_unit')!r} (expected 'us')"
    return None


def read_messages(run_dir: Path | str) -> MessageRecords:
    """Every row of run_dir's messages.jsonl that can be read, and a problem for each
    line that cannot. Never raises on content: a missing file, a torn last line (the
    writer was killed), a corrupt line or an unknown header give problems, not errors.
    Problems name the file by its name in the run folder, so they read the same wherever
    the folder lives."""
    path = messages_path(run_dir)
    records = MessageRecords()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        records.problems.append(f"{MESSAGES_FILE}: missing")
        return records
    except OSError as e:
        records.problems.append(f"{MESSAGES_FILE}: cannot read ({e.strerror})")
        return records
    if not data:
        records.problems.append(f"{MESSAGES_FILE}: empty (no header)")
        return records
    problems = _read_lines(_split(data), records)
    if len(problems) > PROBLEMS_MAX:
        more = len(problems) - PROBLEMS_MAX
        problems = [*problems[:PROBLEMS_MAX], f"{MESSAGES_FILE}: {more} more lines not read"]
    records.problems.extend(problems)
    return records


def _split(data: bytes) -> list[str] | list[bytes]:
    """The file's lines, decoded once (str) when it is all UTF-8; otherwise as bytes, so
    each line is judged alone and only the bad ones are lost."""
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return data.split(b"\n")


def _read_lines(lines: list[str] | list[bytes], records: MessageRecords) -> list[str]:
    """Fill records from the lines; return a problem per line that could not be read.

    The hot loop of a report: a 100,000-message run has 220,000 lines. json.loads costs
    about 3 us a line in its Python wrapper (encoding detection, whitespace, end checks)
    around 1 us of C scanning, so a decoded line goes straight to the C scanner the
    wrapper calls, and only a line it does not take whole (a blank, whitespace, a bad
    line) goes through json.loads as before, which then names the problem exactly. One
    json.loads over all lines joined into an array was measured a few per cent faster,
    but a corrupt line can join its neighbour into a valid array (`[1` then `2]`) and
    then no problem would name it. Rows that pass the inline type checks are made at
    once; any other goes through _send_row / _arrival_row, which say what is wrong."""
    torn_last = len(lines)  # number of the last line if it lacks its newline
    if lines[-1] in ("", b""):
        lines.pop()
        torn_last = 0
    scan = _scan if lines and isinstance(lines[0], str) else None
    problems: list[str] = []
    seen: set[int] = set()
    sends, arrivals = records.sends, records.arrivals
    fates, outcomes = _SEND_FATES, _ARRIVAL_OUTCOMES
    for number, line in enumerate(lines, start=1):
        value: Any = _UNREAD
        if scan is not None:
            try:
                value, end = scan(line, 0)
                if end != len(line):
                    value = _UNREAD
            except (StopIteration, ValueError, RecursionError):
                value = _UNREAD
        if value is _UNREAD:
            raw = line.encode() if isinstance(line, str) else line
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                why = "not JSON (truncated: the writer stopped mid-line)" if number == torn_last \
                    else "not JSON"
                problems.append(f"{MESSAGES_FILE} line {number}: {why}")
                continue
        if number == 1 and not isinstance(value, list):
            why = _header_problem(value)
            if why is not None:
                problems.append(f"{MESSAGES_FILE} line 1: {why}; the rows were not read")
                break
            records.header = value
            continue
        if number == 1:
            problems.append(f"{MESSAGES_FILE} line 1: no header (expected "
                            f"{{\"format\": \"{FORMAT}\", ...}})")
        kind = value[0] if isinstance(value, list) and value else None
        if kind == "s":
            # the checks of _send_row, inline: JSON gives exact ints (type is int: no bool)
            if len(value) == 10:
                _, id_, t_us, src, dst, type_, ballot, slot, ops, fate = value
                if (type(id_) is int and type(t_us) is int and type(src) is str
                        and type(dst) is str and type(type_) is str
                        and (ballot is None or type(ballot) is str)
                        and (slot is None or type(slot) is int)
                        and type(fate) is str and fate in fates
                        and id_ not in seen):
                    pairs = None if ops is None else _ops(ops)
                    if not isinstance(pairs, str):
                        seen.add(id_)
                        sends.append(SendRow(id_, t_us, src, dst, type_, ballot, slot, pairs,
                                             fate))
                        continue
            row: SendRow | ArrivalRow | str = _send_row(value)
            if isinstance(row, SendRow):
                if row.id in seen:
                    row = f"id {row.id} sent twice"
                else:
                    seen.add(row.id)
                    sends.append(row)
                    continue
        elif kind == "a":
            if len(value) == 4:
                _, id_, t_us, outcome = value
                if (type(id_) is int and type(t_us) is int and type(outcome) is str
                        and outcome in outcomes):
                    arrivals.append(ArrivalRow(id_, t_us, outcome))
                    continue
            row = _arrival_row(value)
        else:
            row = "expected a send [\"s\", ...] or arrival [\"a\", ...] row"
        problems.append(f"{MESSAGES_FILE} line {number}: {row}")
    return problems
