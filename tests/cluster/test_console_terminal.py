"""The Terminal and its line editor (paxlab.cluster.lineedit): keys cut from typed
bytes, the editor key by key, and the Terminal itself on a pipe (no tty) and on a pty
opened in this process, where the screen it draws is read back through
tests/cluster/ptyproc.Screen."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import select
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paxlab.cluster.lineedit import (
    CLEAR,
    EDIT,
    ENTER,
    EOF,
    INTERRUPT,
    LIST,
    LineEditor,
    split_keys,
    text_width,
)
from paxlab.cluster.terminal import Terminal, TerminalLogHandler, foreground_tty
from tests.cluster.ptyproc import Screen

# ---- keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "keys", "rest"), [
    ("ab", ["a", "b"], ""),
    ("\x1b[A\x1b[B\x1b[C\x1b[D", ["up", "down", "right", "left"], ""),
    ("\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[3~", ["home", "end", "home", "end", "delete"], ""),
    ("\x1b[1;5D\x1bb\x1bf", ["word-left", "word-left", "word-right"], ""),
    ("\r\n\t\x7f\x08\x03\x04", ["enter", "enter", "tab", "backspace", "backspace",
                                "interrupt", "ctrl-d"], ""),
    ("\x01\x05\x0b\x15\x17\x19\x0c\x10\x0e",
     ["home", "end", "kill-end", "kill-start", "kill-word", "yank", "clear-screen", "up",
      "down"], ""),
    ("x\x1b", ["x"], "\x1b"), ("x\x1b[", ["x"], "\x1b["), ("\x1b[1;5", [], "\x1b[1;5"),
    ("\x1bO", [], "\x1bO"),
    ("\x1b[99~z\x1a", ["", "z", ""], ""),  # unknown sequence, Ctrl-Z: nothing
    ("é世", ["é", "世"], ""),
])
def test_split_keys(text: str, keys: list[str], rest: str) -> None:
    assert split_keys(text) == (keys, rest)


def test_text_width() -> None:
    assert text_width("s0> ") == 4
    assert text_width("世界") == 4
    assert text_width("e\u0301") == 1
    assert text_width("\x1b[1;32ms0>\x1b[0m ") == 4


# ---- the line editor ---------------------------------------------------------------------


def editor(history: list[str] | None = None,
           words: tuple[str, ...] = ("failLink", "fixLink", "failProcess", "status")
           ) -> LineEditor:
    return LineEditor(lambda: words, history if history is not None else [])


def feed(ed: LineEditor, *keys: str) -> list[str]:
    return [ed.feed(k) for k in keys]


def typed(ed: LineEditor, text: str) -> None:
    assert feed(ed, *text) == [EDIT] * len(text)


def test_typing_moving_and_deleting() -> None:
    ed = editor()
    typed(ed, "status")
    feed(ed, "left", "left", "backspace")
    assert (ed.text, ed.pos) == ("staus", 3)
    feed(ed, "home", "delete", "right", "end", "backspace", "left", "left")
    assert (ed.text, ed.pos) == ("tau", 1)
    feed(ed, "ctrl-d")  # not empty: deletes under the cursor
    assert (ed.text, ed.pos) == ("tu", 1)
    feed(ed, "left", "left", "backspace", "right", "right", "right", "delete")
    assert (ed.text, ed.pos) == ("tu", 2)


def test_words_and_cutting() -> None:
    ed = editor()
    typed(ed, "failLink 1  2")
    feed(ed, "word-left")
    assert ed.pos == 12
    feed(ed, "word-left", "word-left")
    assert ed.pos == 0
    feed(ed, "word-right")
    assert ed.pos == 8
    feed(ed, "end", "kill-word")
    assert (ed.text, ed.pos) == ("failLink 1  ", 12)
    feed(ed, "kill-word")
    assert ed.text == "failLink "
    feed(ed, "yank")
    assert ed.text == "failLink 1  "
    feed(ed, "left", "left", "left", "kill-end")
    assert ed.text == "failLink "
    feed(ed, "kill-start")
    assert (ed.text, ed.pos) == ("", 0)
    feed(ed, "yank")
    assert ed.text == "failLink "


def test_enter_interrupt_eof_clear() -> None:
    ed = editor()
    assert feed(ed, "ctrl-d") == [EOF]  # on an empty line: end of input
    typed(ed, "x")
    assert feed(ed, "interrupt", "enter", "clear-screen", "") == [INTERRUPT, ENTER, CLEAR, EDIT]
    assert ed.text == "x"  # the Terminal resets it after a Ctrl-C


def test_history_browsing_keeps_the_new_line() -> None:
    ed = editor(["status", "failLink 2"])
    typed(ed, "fi")
    feed(ed, "up")
    assert (ed.text, ed.pos) == ("failLink 2", 10)
    feed(ed, "up", "up")  # the oldest stays
    assert ed.text == "status"
    feed(ed, "down")
    assert ed.text == "failLink 2"
    feed(ed, "down", "down")
    assert (ed.text, ed.pos) == ("fi", 2)
    ed.reset()
    assert (ed.text, ed.pos) == ("", 0)


def test_completion() -> None:
    ed = editor()
    typed(ed, "st")
    feed(ed, "tab")
    assert (ed.text, ed.pos) == ("status ", 7)  # one match: completed, with a space
    ed = editor()
    typed(ed, "FA")
    feed(ed, "tab")
    assert ed.text == "fail"  # the common prefix, spelled as the words spell it
    assert feed(ed, "tab") == [LIST]  # no progress: the second Tab lists them
    assert ed.listing == ["failLink", "failProcess"]
    typed(ed, "l")
    feed(ed, "tab")
    assert ed.text == "failLink "
    ed = editor()
    typed(ed, "x")
    assert feed(ed, "tab", "tab") == [EDIT, EDIT] and ed.text == "x"


def test_completion_of_an_argument_and_in_the_middle() -> None:
    ed = editor(words=("print", "blockchain", "bc"))
    typed(ed, "print(blo")
    feed(ed, "tab")
    assert ed.text == "print(blockchain "
    ed = editor()
    typed(ed, "stat 2")
    feed(ed, "left", "left", "tab")
    assert (ed.text, ed.pos) == ("status 2", 6)  # no space added inside a line


# ---- the Terminal without a tty --------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_without_a_tty_lines_are_read_as_they_come(pipe: tuple[int, int]) -> None:
    r, w = pipe
    out = io.StringIO()
    term = Terminal("s0> ", [], stdin_fd=r, stdout=out)
    assert not term.is_tty
    os.write(w, b"status\r\nprint bc\n\nlast")
    os.close(w)
    assert [term.read_line() for _ in range(5)] == ["status", "print bc", "", "last", None]
    term.print_above("a log line\n")
    assert out.getvalue() == "a log line\n"  # no prompt, nothing redrawn


def test_close_ends_a_waiting_read_line(pipe: tuple[int, int]) -> None:
    r, _ = pipe
    term = Terminal("s0> ", [], stdin_fd=r, stdout=io.StringIO())
    got: list[str | None] = ["not yet"]
    reader = threading.Thread(target=lambda: got.__setitem__(0, term.read_line()))
    reader.start()
    term.close()
    reader.join(timeout=10)
    assert not reader.is_alive() and got == [None]
    assert term.read_line() is None
    term.close()  # idempotent


def test_the_log_handler_prints_above(pipe: tuple[int, int]) -> None:
    out = io.StringIO()
    term = Terminal("s0> ", [], stdin_fd=pipe[0], stdout=out)
    log = logging.getLogger("paxlab.test.console")
    handler = TerminalLogHandler(term)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    try:
        log.warning("s1 is down")
    finally:
        log.removeHandler(handler)
    assert out.getvalue() == "WARNING s1 is down\n"


# ---- the Terminal on a pty in this process ------------------------------------------------


class OnPty:
    """A Terminal on a pty: read_line runs in a thread; keys go in through the master."""

    def __init__(self, tmp_path: Path, columns: int = 40) -> None:
        import fcntl
        import struct

        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.out = os.fdopen(os.dup(self.slave), "w")
        self.history = tmp_path / "history"
        self.term = Terminal(lambda: "c7 -> s0> ", ["status", "failLink", "failProcess"],
                             history_path=self.history, stdin_fd=self.slave, stdout=self.out)
        self.screen = Screen(columns)
        self.lines: list[str | None] = []
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        self.reader = threading.Thread(target=lambda: self.lines.append(self.term.read_line()))
        self.reader.start()

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, predicate: object, timeout_s: float = 10) -> None:
        """Read what the Terminal draws until predicate() (a callable) holds."""
        assert callable(predicate)
        deadline = time.monotonic() + timeout_s
        while not predicate():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"screen: {self.screen.line()!r} at {self.screen.cursor}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                self.screen.feed(os.read(self.master, 65536).decode())

    def row(self, text: str) -> None:
        """Wait until the cursor's row reads `text` with the cursor at its end."""
        self.wait(lambda: self.screen.line() == text.rstrip() and self.screen.col == len(text))

    def line(self) -> str | None:
        assert self.reader is not None
        self.reader.join(timeout=10)
        assert not self.reader.is_alive()
        return self.lines.pop()

    def close(self) -> None:
        self.term.close()
        if self.reader is not None:
            self.reader.join(timeout=10)
        self.out.close()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def on_pty(tmp_path: Path) -> Iterator[OnPty]:
    pty = OnPty(tmp_path)
    yield pty
    pty.close()


def test_a_line_with_history_kept_in_a_file(on_pty: OnPty) -> None:
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    on_pty.send("sta\t")
    on_pty.row("c7 -> s0> status ")
    on_pty.send("\r")
    assert on_pty.line() == "status "
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    on_pty.send("\x1b[A")
    on_pty.row("c7 -> s0> status ")
    on_pty.send("\x15\r")
    assert on_pty.line() == ""
    assert on_pty.history.read_text() == "status \n"
    again = Terminal("> ", [], history_path=on_pty.history, stdin_fd=on_pty.slave,
                     stdout=on_pty.out)
    assert again._editor.history == ["status "]


def test_echo_and_signals_are_off_only_inside_read_line(on_pty: OnPty) -> None:
    before = termios.tcgetattr(on_pty.slave)
    assert before[3] & termios.ECHO and before[3] & termios.ISIG
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    during = termios.tcgetattr(on_pty.slave)
    assert not during[3] & (termios.ECHO | termios.ISIG | termios.ICANON)
    on_pty.send("x\x03")  # Ctrl-C: a key here, not a signal; the line is cleared
    on_pty.wait(lambda: "^C" in on_pty.screen.line(on_pty.screen.row - 1))
    on_pty.row("c7 -> s0> ")
    on_pty.send("\x04")  # Ctrl-D on an empty line
    assert on_pty.line() is None
    assert termios.tcgetattr(on_pty.slave) == before


def test_a_long_line_scrolls_sideways_and_is_returned_whole(on_pty: OnPty) -> None:
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    text = "".join(chr(ord("a") + i % 26) for i in range(60))
    on_pty.send(text)
    on_pty.wait(lambda: on_pty.screen.line().endswith(text[-5:]))
    assert on_pty.screen.line().startswith("c7 -> s0> ")
    assert len(on_pty.screen.line()) < 40  # one row: the line scrolled
    on_pty.send("\x01")  # home: the start of the line comes back into view
    on_pty.wait(lambda: on_pty.screen.line().startswith("c7 -> s0> abc")
                and on_pty.screen.col == 10)
    on_pty.term.print_above("log: in the middle")
    on_pty.wait(lambda: on_pty.screen.line(on_pty.screen.row - 1) == "log: in the middle"
                and on_pty.screen.col == 10)
    on_pty.send("\r")
    assert on_pty.line() == text


def test_tab_twice_lists_the_candidates_above(on_pty: OnPty) -> None:
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    on_pty.send("fa\t")
    on_pty.row("c7 -> s0> fail")
    on_pty.send("\t")
    on_pty.wait(lambda: on_pty.screen.line(on_pty.screen.row - 1) == "failLink  failProcess")
    on_pty.row("c7 -> s0> fail")
    on_pty.send("P\t\r")
    assert on_pty.line() == "failProcess "


def test_print_above_between_lines_just_prints(on_pty: OnPty) -> None:
    on_pty.term.print_above("before any prompt")
    on_pty.wait(lambda: on_pty.screen.line(0) == "before any prompt" and on_pty.screen.row == 1)
    on_pty.start()
    on_pty.row("c7 -> s0> ")
    on_pty.term.close()  # from another thread: read_line returns None, the mode is restored
    assert on_pty.line() is None


def test_a_pty_that_is_not_our_terminal_is_no_foreground(on_pty: OnPty,
                                                         pipe: tuple[int, int]) -> None:
    assert not foreground_tty(on_pty.slave)  # a tty, but not this process's terminal
    assert not foreground_tty(pipe[0])
