"""Drive a program in a pseudo-terminal as a person at a keyboard would: start it, wait for
text with a deadline, type keys, read the screen, and always clean up.

Shared by the console and client tests. The program runs as a session leader with the
pty as its controlling terminal (pty.fork), so a Ctrl-C typed while the program's tty is
in its normal mode becomes a real SIGINT, as in a terminal window. Every wait has a
deadline and fails with the recent output; nothing sleeps a fixed time, so a loaded
machine only makes the test slower, never flaky.

    with PtyProcess([sys.executable, "child.py"]) as proc:
        proc.expect("s0> ")
        proc.send("status\\r")
        proc.expect(r"leader s1")
        assert proc.screen.line() == "s0> "
        proc.send("\\x04")
        assert proc.wait_exit() == 0
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["CTRL_C", "CTRL_D", "PtyProcess", "Screen"]

CTRL_C, CTRL_D = "\x03", "\x04"
_CSI = re.compile(r"\x1b\[([0-9;?]*)([@-~])")
_POLL_S = 0.01  # wait_exit polls the child's exit at this interval, up to its deadline


class Screen:
    """A tiny terminal emulator: enough of VT100 (CR, LF, BS, erase in line/screen, cursor
    moves) to know what the last rows show and where the cursor is, so a test can see
    that a log line left the typed text intact."""

    def __init__(self, columns: int = 80) -> None:
        self.columns = columns
        self.rows: list[list[str]] = [[]]
        self.row = self.col = 0

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            match = _CSI.match(text, i)
            if match is not None:
                self._csi(match.group(1), match.group(2))
                i = match.end()
                continue
            ch = text[i]
            i += 1
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self._down()
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch >= " " and ch != "\x7f":
                if self.col >= self.columns:
                    self.col = 0
                    self._down()
                cells = self.rows[self.row]
                cells.extend(" " * (self.col + 1 - len(cells)))
                cells[self.col] = ch
                self.col += 1

    def _down(self) -> None:
        self.row += 1
        while len(self.rows) <= self.row:
            self.rows.append([])

    def _csi(self, params: str, final: str) -> None:
        count = int(params.split(";")[0] or 1) if params[:1].isdigit() else 1
        cells = self.rows[self.row]
        if final == "K":
            del cells[self.col:]
        elif final == "C":
            self.col = min(self.col + count, self.columns - 1)
        elif final == "D":
            self.col = max(self.col - count, 0)
        elif final == "A":
            self.row = max(self.row - count, 0)
        elif final == "H":
            self.row, self.col = 0, 0
        elif final == "J" and params == "2":
            self.rows = [[] for _ in self.rows]

    def line(self, row: int | None = None) -> str:
        """The text of a row (default: the cursor's row), trailing spaces dropped."""
        return "".join(self.rows[self.row if row is None else row]).rstrip()

    @property
    def cursor(self) -> tuple[int, int]:
        return self.row, self.col


class PtyProcess:
    """A child process on a fresh pty of `columns` x `rows`. `expect` consumes output up
    to each match, `send` types, `screen` shows what a terminal would."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None, columns: int = 80, rows: int = 24) -> None:
        environment = dict(os.environ if env is None else env)
        environment.setdefault("TERM", "xterm")
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (nothing else is safe after fork)
            try:
                if cwd is not None:
                    os.chdir(cwd)
                os.execvpe(argv[0], list(argv), environment)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.screen = Screen(columns)
        self.output = ""  # everything the child wrote, raw
        self._seen = 0  # how much of `output` expect has consumed
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._eof = False
        self.returncode: int | None = None

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, pattern: str | re.Pattern[str], timeout_s: float = 15) -> re.Match[str]:
        """Wait for `pattern` (a regex) in the output not consumed yet; consume up to the
        match's end and return it. Fails at the deadline, or when the child's output ends
        first, showing the unconsumed output."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout_s
        while True:
            match = regex.search(self.output, self._seen)
            if match is not None:
                self._seen = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._eof:
                why = "output ended" if self._eof else f"{timeout_s} s passed"
                raise AssertionError(f"{why} before {regex.pattern!r} appeared; output "
                                     f"since the last match:\n{self.output[self._seen:]!r}")
            self._read(remaining)

    def wait_row(self, row: str | re.Pattern[str], timeout_s: float = 15) -> str:
        """Read output until the cursor's row reads `row` with the cursor at its end: what
        a person sees at a prompt after typing (a prompt redrawn after a log line too).
        `row` may be a compiled regex that the row up to the cursor must fullmatch (a
        prompt that names the leader, whoever it is). Returns the row up to the cursor."""
        deadline = time.monotonic() + timeout_s
        while True:
            typed = self.screen.line().ljust(self.screen.col)[:self.screen.col]
            if len(self.screen.line()) <= self.screen.col and (
                    row.fullmatch(typed) if isinstance(row, re.Pattern) else typed == row):
                return typed
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._eof:
                shown = row.pattern if isinstance(row, re.Pattern) else row
                raise AssertionError(f"the cursor's row never read {shown!r}: it reads "
                                     f"{self.screen.line()!r}, cursor at {self.screen.cursor}")
            self._read(remaining)

    def drain(self, timeout_s: float = 15) -> None:
        """Read until the child's output ends (it exited and closed the pty)."""
        deadline = time.monotonic() + timeout_s
        while not self._eof:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"output did not end within {timeout_s} s"
            self._read(remaining)

    def _read(self, timeout_s: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError as exc:  # EIO: every holder of the pty's other side has closed it
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._eof = True
            return
        text = self._decoder.decode(data)
        self.output += text
        self.screen.feed(text)

    def alive(self) -> bool:
        if self.returncode is not None:
            return False
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return True
        self.returncode = os.waitstatus_to_exitcode(status)
        return False

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait_exit(self, timeout_s: float = 15) -> int:
        """The child's exit code (negative: killed by that signal), reading its output
        meanwhile so it never blocks on a full pty; fails at the deadline."""
        deadline = time.monotonic() + timeout_s
        while self.alive():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the child is still running after {timeout_s} s"
            self._read(min(remaining, _POLL_S))
        assert self.returncode is not None
        return self.returncode

    def close(self) -> None:
        """Kill the child's whole session if it still runs, reap it, close the pty."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            os.close(self.fd)
