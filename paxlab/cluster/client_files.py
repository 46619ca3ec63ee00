"""A client's folder (`ClusterFile.client_dir(id)`): its lock, its last seq, its history.

Exactly once needs a client to never reuse a (client, seq) pair: a server answers a
repeated pair from its table of applied ops, so a new op under an old seq would be
acknowledged without being applied. The last seq therefore reaches the disk (fsync)
before a request carrying it leaves, and two live clients with one id are refused: the
`lock` file is held with `fcntl.flock` for the whole run, and the kernel drops the lock
when the process dies, however it dies, so a crashed client never blocks its restart.

`history.jsonl` holds this client's events in the results folder's format, one line
each, flushed and fsynced per line, so `paxlab cluster check` can judge a session played
by hand and a crash loses at most a torn last line (cut on the next start). A restart
first closes the previous run's open op with an `info` event: its outcome is unknown.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paxlab.results import format as fmt
from paxlab.scenario.client_driver import info_for_outstanding, recover_client

__all__ = ["SEQ_WIDTH", "ClientBusyError", "ClientFiles", "ClientFilesError"]

HISTORY = "history.jsonl"
SEQ = "seq"
LOCK = "lock"
LOG = "client.log"
LINES = "repl_history"  # the prompt's line history (readline), not an op history

SEQ_WIDTH = 20  # digits: every write of the seq file is the same size, in place


class ClientFilesError(Exception):
    """The client's folder cannot be used (unreadable, corrupt mid-file): bad input."""


class ClientBusyError(ClientFilesError):
    """Another live process holds this client id's lock."""


@dataclass(frozen=True, slots=True)
class _Recovered:
    last_seq: int
    last_time_ns: int
    keys: tuple[str, ...]


class ClientFiles:
    """The open folder of one running client. `open` takes the lock; `close` frees it.

    Not thread-safe: the node loop thread alone writes (the REPL thread only reads
    what `open` found)."""

    def __init__(self, folder: Path, lock_fd: int, seq_fd: int, recovered: _Recovered) -> None:
        self.folder = folder
        self._lock_fd = lock_fd
        self._seq_fd = seq_fd
        self.last_seq = recovered.last_seq  # Invariant: on disk before any request uses it
        self.last_time_ns = recovered.last_time_ns  # a restart's events never go back in time
        self.keys = list(recovered.keys)  # keys this client used, oldest first (completion)
        self._history = open(folder / HISTORY, "a", encoding="utf-8")  # noqa: SIM115

    @property
    def history_path(self) -> Path:
        return self.folder / HISTORY

    @property
    def log_path(self) -> Path:
        return self.folder / LOG

    @property
    def lines_path(self) -> Path:
        return self.folder / LINES

    @classmethod
    def open(cls, folder: Path, client_id: int, now_ns: int) -> ClientFiles:
        """Lock the folder, cut a torn history tail, close a previous run's open op with
        an `info` event at `now_ns`, and read the last seq used."""
        folder.mkdir(parents=True, exist_ok=True)
        lock_fd = _take_lock(folder / LOCK, client_id)
        try:
            recovered = _recover(folder, client_id, now_ns)
            seq_fd = os.open(folder / SEQ, os.O_RDWR | os.O_CREAT, 0o644)
        except BaseException:
            os.close(lock_fd)
            raise
        files = cls(folder, lock_fd, seq_fd, recovered)
        files.reserve_seq(recovered.last_seq)
        return files

    def reserve_seq(self, seq: int) -> None:
        """Put `seq` on disk (in place, fixed width, then fsync) before a request with it
        leaves. Called with each new op's seq; retries of one op keep theirs."""
        if seq < self.last_seq:
            raise ValueError(f"seq went backwards: {seq} < {self.last_seq}")
        os.pwrite(self._seq_fd, f"{seq:0{SEQ_WIDTH}d}\n".encode(), 0)
        os.fsync(self._seq_fd)
        self.last_seq = seq

    def record(self, event: dict[str, Any]) -> dict[str, Any]:
        """Append one history event (checked against the results format), flushed and
        fsynced. Returns the event as written (keys in the contract's order)."""
        event = fmt.checked_event(event, f"{self.history_path}: event")
        self._history.write(json.dumps(event, separators=(",", ":")) + "\n")
        self._history.flush()
        os.fsync(self._history.fileno())
        self.last_time_ns = max(self.last_time_ns, event["time"])
        if event["type"] == "invoke" and event["key"] not in self.keys:
            self.keys.append(event["key"])
        return event

    def close(self) -> None:
        """Close the files and free the lock (the kernel frees it anyway at exit)."""
        with contextlib.suppress(OSError):
            self._history.close()
        for fd in (self._seq_fd, self._lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def _take_lock(path: Path, client_id: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise ClientBusyError(
            f"client c{client_id} is already running{who}: {path} is locked; one id, one "
            "client, or seq numbers would collide. Use another id or stop the other client"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _read_seq(path: Path) -> int:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as error:
        raise ClientFilesError(f"{path}: unreadable ({error})") from None
    if not text:
        return 0
    if not text.isdigit():
        raise ClientFilesError(f"{path}: expected the last seq used (digits), found {text[:30]!r}")
    return int(text)


def _recover(folder: Path, client_id: int, now_ns: int) -> _Recovered:
    """Read the history (a torn tail is cut), close an open op, take the higher of the
    seq file and the history's highest seq (either may be ahead after a crash)."""
    path = folder / HISTORY
    events: list[dict[str, Any]] = []
    if path.is_file():
        try:
            events = fmt.read_jsonl(path, fmt.event_problem, torn_tail_ok=True)
        except fmt.ResultsError as error:
            raise ClientFilesError(str(error)) from None
        foreign = [e for e in events if e["process"] != client_id]
        if foreign:
            raise ClientFilesError(f"{path}: holds events of process {foreign[0]['process']}, "
                                   f"not {client_id}")
        fmt.write_atomic(path, fmt.jsonl(events))
    last_time_ns = max((e["time"] for e in events), default=0)
    closing = info_for_outstanding(events, max(now_ns, last_time_ns))
    if closing:
        with open(path, "a", encoding="utf-8") as f:
            f.write(fmt.jsonl(closing))
            f.flush()
            os.fsync(f.fileno())
        events.extend(closing)
    last_seq = max(_read_seq(folder / SEQ), recover_client(events).last_seq)
    keys = list(dict.fromkeys(e["key"] for e in events))
    return _Recovered(last_seq, max((e["time"] for e in events), default=0), tuple(keys))
