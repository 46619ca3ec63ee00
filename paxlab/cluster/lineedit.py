"""The line being typed at a prompt, as plain state: typed text cut into keys, each key
applied to (text, cursor), completion and history browsing. No I/O, so every key has a
unit test; paxlab.cluster.terminal reads the keys, draws the line and owns the locking.

Keys (from `split_keys`): a printable character stands for itself; control keys and
escape sequences get names: enter, backspace, delete, left, right, home, end, word-left,
word-right, up, down, tab, interrupt (Ctrl-C), ctrl-d, kill-start (Ctrl-U), kill-end
(Ctrl-K), kill-word (Ctrl-W), yank (Ctrl-Y), clear-screen (Ctrl-L); "" is a key that does
nothing (an unknown sequence, Ctrl-Z).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

__all__ = [
    "CLEAR", "EDIT", "ENTER", "EOF", "INTERRUPT", "LIST",
    "LineEditor", "split_keys", "text_width",
]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CSI = re.compile(r"[0-9;]*[@-~]")  # the rest of "ESC [": parameters, then a final byte
_CSI_KEYS = {
    "A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end",
    "1~": "home", "7~": "home", "4~": "end", "8~": "end", "3~": "delete",
    "1;5C": "word-right", "1;5D": "word-left", "1;3C": "word-right", "1;3D": "word-left",
}
_SS3_KEYS = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end"}
_CTRL_KEYS = {
    "\x01": "home", "\x02": "left", "\x05": "end", "\x06": "right", "\x10": "up",
    "\x0e": "down", "\x7f": "backspace", "\x08": "backspace", "\t": "tab", "\r": "enter",
    "\n": "enter", "\x03": "interrupt", "\x04": "ctrl-d", "\x0b": "kill-end",
    "\x15": "kill-start", "\x17": "kill-word", "\x19": "yank", "\x0c": "clear-screen",
}

# What one key did, for the Terminal to show (LineEditor.feed returns one of these).
EDIT, ENTER, EOF, INTERRUPT, LIST, CLEAR = "edit", "enter", "eof", "interrupt", "list", "clear"


def split_keys(text: str) -> tuple[list[str], str]:
    """Cut typed text into keys: printable characters as themselves, control characters
    and escape sequences as names ("left", "enter", ...), unknown sequences as "".
    Returns the keys and an unfinished escape sequence left at the end, to be completed
    by the next read (or taken as a lone ESC when nothing follows)."""
    keys: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\x1b":
            keys.append(_CTRL_KEYS.get(ch, ch if ch >= " " else ""))
            i += 1
            continue
        if i + 1 == len(text):
            return keys, text[i:]
        kind = text[i + 1]
        if kind == "[":
            match = _CSI.match(text, i + 2)
            if match is None:
                if re.fullmatch(r"[0-9;]*", text[i + 2:]):
                    return keys, text[i:]
                keys.append("")
                i += 2
                continue
            keys.append(_CSI_KEYS.get(match.group(), ""))
            i = match.end()
        elif kind == "O":
            if i + 2 == len(text):
                return keys, text[i:]
            keys.append(_SS3_KEYS.get(text[i + 2], ""))
            i += 3
        else:  # Alt+key
            keys.append({"b": "word-left", "f": "word-right"}.get(kind, ""))
            i += 2
    return keys, ""


def text_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide East Asian characters take two, combining
    marks none, escape sequences (a coloured prompt) none."""
    text = _ANSI.sub("", text)
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class LineEditor:
    """The line being typed, as plain state: keys in, (text, pos) out. No I/O, so each key
    is unit tested; the Terminal feeds it keys and draws it."""

    def __init__(self, words: Callable[[], Iterable[str]], history: list[str]) -> None:
        self.words = words
        self.history = history  # shared with the Terminal, newest last
        self.text = ""
        self.pos = 0  # Invariant: 0 <= pos <= len(text)
        self.listing: list[str] = []  # after LIST: the candidates to show
        self._cut = ""
        self._recall = len(history)  # history index shown; len(history) = the new line
        self._draft = ""  # the new line, kept while browsing the history
        self._last_key = ""

    def reset(self) -> None:
        self.text, self.pos, self._recall, self._draft = "", 0, len(self.history), ""

    def feed(self, key: str) -> str:
        """Apply one key; return what the Terminal must do: EDIT (redraw), ENTER, EOF,
        INTERRUPT, LIST (show `listing` above) or CLEAR (clear the screen, redraw)."""
        last, self._last_key = self._last_key, key
        if len(key) == 1:
            self._insert(key)
            return EDIT
        text, pos = self.text, self.pos
        if key == "enter":
            return ENTER
        if key == "interrupt":
            return INTERRUPT
        if key == "ctrl-d":
            if not text:
                return EOF
            self.text = text[:pos] + text[pos + 1:]
        elif key == "backspace" and pos:
            self.text, self.pos = text[:pos - 1] + text[pos:], pos - 1
        elif key == "delete":
            self.text = text[:pos] + text[pos + 1:]
        elif key in ("left", "right"):
            self.pos = max(0, min(len(text), pos + (1 if key == "right" else -1)))
        elif key in ("home", "end"):
            self.pos = 0 if key == "home" else len(text)
        elif key == "word-left":
            self.pos = _word_start(text, pos)
        elif key == "word-right":
            end = pos
            while end < len(text) and text[end] == " ":
                end += 1
            while end < len(text) and text[end] != " ":
                end += 1
            self.pos = end
        elif key == "kill-start":
            self._cut, self.text, self.pos = text[:pos], text[pos:], 0
        elif key == "kill-end":
            self._cut, self.text = text[pos:], text[:pos]
        elif key == "kill-word":
            start = _word_start(text, pos)
            self._cut, self.text, self.pos = text[start:pos], text[:start] + text[pos:], start
        elif key == "yank":
            self._insert(self._cut)
        elif key in ("up", "down"):
            self._browse(-1 if key == "up" else 1)
        elif key == "tab":
            return self._complete(repeated=last == "tab")
        elif key == "clear-screen":
            return CLEAR
        return EDIT

    def _insert(self, chars: str) -> None:
        self.text = self.text[:self.pos] + chars + self.text[self.pos:]
        self.pos += len(chars)

    def _browse(self, step: int) -> None:
        target = self._recall + step
        if not 0 <= target <= len(self.history):
            return
        if self._recall == len(self.history):
            self._draft = self.text
        self._recall = target
        self.text = self._draft if target == len(self.history) else self.history[target]
        self.pos = len(self.text)

    def _complete(self, *, repeated: bool) -> str:
        """Complete the word before the cursor (a word starts after a space, '(' or ',')
        against the words, ignoring case; one match is completed with a space after it."""
        head = self.text[:self.pos]
        start = max(head.rfind(c) for c in " (,") + 1
        word = head[start:].lower()
        found = sorted({w for w in self.words() if w.lower().startswith(word)}, key=str.lower)
        if not found:
            return EDIT
        common = found[0].lower()
        for other in found[1:]:
            while not other.lower().startswith(common):
                common = common[:-1]
        if len(found) == 1:
            fill = found[0] + (" " if self.pos == len(self.text) else "")
        elif len(common) > len(word):
            fill = found[0][:len(common)]
        else:
            if not repeated:
                return EDIT
            self.listing = found
            return LIST
        self.text = self.text[:start] + fill + self.text[self.pos:]
        self.pos = start + len(fill)
        return EDIT


def _word_start(text: str, pos: int) -> int:
    """Where the word before `pos` starts (skipping the spaces just before `pos`)."""
    while pos > 0 and text[pos - 1] == " ":
        pos -= 1
    while pos > 0 and text[pos - 1] != " ":
        pos -= 1
    return pos
