"""A prompt for people: line editing, history and completion, with other threads' log lines
printed above the prompt while the line being typed stays intact.

The server console and the client REPL both read lines with it. Python's `readline`
cannot do the second part: only the thread inside `input()` may redraw the line, and the
cursor position (`rl_point`) is not exposed, so a log line written from the node loop's
thread would leave what is being typed garbled or the cursor in the wrong place. This
editor owns its line and redraws it under one lock: clear the row, print the log line,
draw the prompt and the buffer again, put the cursor back.

Use (the whole API):

    term = Terminal(lambda: "s0> ", ["status", "failLink"], history_path=None)
    log = term.print_above          # a Callable[[str], None] for log lines, any thread
    while (line := term.read_line()) is not None:   # None: Ctrl-D, end of input, close()
        term.print_above(do(line))
    term.close()                    # any thread (or a signal handler): read_line -> None

Keys: Enter, Backspace/Delete, Left/Right/Home/End (and Ctrl-B/F/A/E), Up/Down (and
Ctrl-P/N) through the history, Tab completes the word under the cursor (twice lists the
candidates), Ctrl-U/K/W cut, Ctrl-Y pastes the last cut, Ctrl-L clears the screen, Ctrl-C
clears the line (no signal: ISIG is off while reading, so Ctrl-C, Ctrl-Z and Ctrl-\\ never
stop the process), Ctrl-D ends input on an empty line and deletes a character otherwise.
A line wider than the terminal scrolls sideways, so the editor only ever owns one row.

The tty is switched to no-echo, no-canonical, no-signal mode only inside `read_line`, so
between lines (while a command runs, or when the process is killed outside the editor) the
terminal is in its normal mode; a shell restores the mode of a job killed by a signal.
Without a tty on both stdin and stdout there is no editing: lines are read as they come,
no prompt is shown, and `print_above` just prints.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import select
import sys
import termios
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from paxlab.cluster.lineedit import CLEAR, ENTER, EOF, INTERRUPT, LIST, LineEditor, split_keys
from paxlab.cluster.lineedit import text_width as _text_width

__all__ = ["Terminal", "TerminalLogHandler", "foreground_tty"]

_HISTORY_MAX = 1000
_ESC_WAIT_S = 0.05  # a lone ESC at the end of a read: wait this long for the rest


class Terminal:
    """A prompt on the process's terminal; see the module docstring for the whole API.

    `prompt_fn` is called at every redraw, so a prompt that shows changing state (the
    client's current server) is always current. `completer_words` is an iterable of words
    or a function returning them (called at each Tab). `history_path`, when given, keeps
    the history across runs (one line per entry, the last 1000)."""

    def __init__(self, prompt_fn: Callable[[], str] | str,
                 completer_words: Iterable[str] | Callable[[], Iterable[str]] = (), *,
                 history_path: Path | None = None, stdin_fd: int | None = None,
                 stdout: TextIO | None = None) -> None:
        self._prompt_fn = prompt_fn if callable(prompt_fn) else (lambda: str(prompt_fn))
        words = completer_words if callable(completer_words) else list(completer_words)
        self._out = stdout if stdout is not None else sys.stdout
        self._fd = _fileno(sys.stdin) if stdin_fd is None else stdin_fd
        out_fd = _fileno(self._out)
        self.is_tty = (self._fd is not None and out_fd is not None
                       and os.isatty(self._fd) and os.isatty(out_fd))
        self._history_path = history_path
        history = _load_history(history_path)
        self._editor = LineEditor(words if callable(words) else (lambda: words), history)
        self._lock = threading.RLock()  # re-entrant: print_above may run in a signal handler
        self._editing = False
        self._queued: list[str] = []  # keys typed ahead (a paste): after the Enter of a line
        self._unfinished = ""  # half an escape sequence, completed by the next read
        self._partial = ""  # no tty: a line read in part
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()

    # ---- the API -------------------------------------------------------------------

    def read_line(self) -> str | None:
        """The next line typed (without its newline), or None at end of input: Ctrl-D on
        an empty line, stdin closed, or `close()` called. Ctrl-C clears the line and goes
        on reading."""
        if self._closed or self._fd is None:
            return None
        if not self.is_tty:
            return self._read_plain_line()
        saved = termios.tcgetattr(self._fd)
        mode = termios.tcgetattr(self._fd)
        mode[0] &= ~termios.IXON  # Ctrl-S/Ctrl-Q are keys, not flow control
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
        mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
        termios.tcsetattr(self._fd, termios.TCSANOW, mode)
        try:
            with self._lock:
                self._editor.reset()
                self._editing = True
                self._write(self._render())
            return self._edit()
        finally:
            with self._lock:
                self._editing = False
            termios.tcsetattr(self._fd, termios.TCSANOW, saved)

    def print_above(self, text: str) -> None:
        """Print `text` (one or more lines) above the prompt, from any thread: the line
        being typed is cleared, the text printed, and the prompt and line drawn again."""
        text = text.rstrip("\n")
        with self._lock:
            if self._editing:
                self._write("\r\x1b[K" + text.replace("\n", "\r\n") + "\r\n" + self._render())
            else:
                self._write(text + "\n")

    def close(self) -> None:
        """Make a `read_line` in progress (or any later one) return None, from any thread
        or a signal handler; it restores the terminal's mode on its way out. Idempotent."""
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # ---- inside --------------------------------------------------------------------

    def _edit(self) -> str | None:
        editor = self._editor
        while True:
            if not self._queued:
                text = self._read_text()
                if text is None:
                    self._write("\r\n")
                    return None
                self._queued, self._unfinished = split_keys(self._unfinished + text)
            while self._queued:
                key = self._queued.pop(0)
                with self._lock:
                    done = editor.feed(key)
                    if done == ENTER:
                        line = editor.text
                        self._write(self._render(full=True) + "\r\n")
                        self._remember(line)
                        return line
                    if done == EOF:
                        self._write("\r\n")
                        return None
                    if done == INTERRUPT:
                        self._write(self._render(full=True) + "^C\r\n")
                        editor.reset()
                    elif done == LIST:
                        self._write("\r\x1b[K" + "  ".join(editor.listing) + "\r\n")
                    elif done == CLEAR:
                        self._write("\x1b[H\x1b[2J")
                    self._write(self._render())

    def _read_text(self) -> str | None:
        """Wait for typed bytes (or close()); None at end of input. Half an escape
        sequence left from the last read waits briefly for its rest, then is dropped."""
        wait = _ESC_WAIT_S if self._unfinished else None
        while not self._closed:
            ready, _, _ = select.select([self._fd, self._wake_r], [], [], wait)
            if self._closed:
                break
            if not ready:
                self._unfinished = ""  # a lone ESC (or half a sequence): ignored
                return ""
            try:
                data = os.read(self._fd, 4096)
            except OSError:  # EIO: the terminal hung up
                return None
            return self._decoder.decode(data) if data else None
        return None

    def _read_plain_line(self) -> str | None:
        """No tty: read bytes up to a newline (select, so close() can interrupt it)."""
        while "\n" not in self._partial:
            text = self._read_text()
            if text is None:
                rest, self._partial = self._partial, ""
                return rest or None
            self._partial += text
        line, _, self._partial = self._partial.partition("\n")
        return line.rstrip("\r")

    def _render(self, *, full: bool = False) -> str:
        """The prompt row: the prompt, the part of the line that fits (scrolled to keep the
        cursor in view), erase the rest, and the cursor back in its column. `full`: all of
        the line, cursor left at its end (before a newline, so scrollback keeps it)."""
        prompt, text, pos = self._prompt_fn(), self._editor.text, self._editor.pos
        if full:
            return "\r" + prompt + text + "\x1b[K"
        room = max(self._columns() - _text_width(prompt) - 1, 1)
        start = pos
        while start > 0 and _text_width(text[start - 1:pos]) <= room:
            start -= 1
        end = pos
        while end < len(text) and _text_width(text[start:end + 1]) <= room:
            end += 1
        column = _text_width(prompt) + _text_width(text[start:pos])
        return ("\r" + prompt + text[start:end] + "\x1b[K\r"
                + (f"\x1b[{column}C" if column else ""))

    def _columns(self) -> int:
        try:
            return os.get_terminal_size(self._out.fileno()).columns or 80
        except (OSError, ValueError):
            return 80

    def _write(self, text: str) -> None:
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # the terminal is gone: nothing to show it on
            pass

    def _remember(self, line: str) -> None:
        history = self._editor.history
        if not line.strip() or (history and history[-1] == line):
            return
        history.append(line)
        del history[:-_HISTORY_MAX]
        if self._history_path is not None:
            with contextlib.suppress(OSError), self._history_path.open("a") as file:
                file.write(line + "\n")


class TerminalLogHandler(logging.Handler):
    """A logging handler that prints each record above the prompt of a Terminal."""

    def __init__(self, terminal: Terminal, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.terminal.print_above(self.format(record))
        except Exception:
            self.handleError(record)


def foreground_tty(fd: int = 0) -> bool:
    """Whether `fd` (stdin) is a terminal on which this process is in the foreground: the
    test for starting a console. A process started in the background (`paxlab server 0 &`)
    that read its tty, or set its mode, would be stopped by SIGTTIN/SIGTTOU, and a stopped
    server serves nobody."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:  # a tty that is not our controlling terminal
        return False


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # pytest's capture, io.StringIO
        return None


def _load_history(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip()][-_HISTORY_MAX:]
