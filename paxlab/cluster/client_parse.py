"""The client's command language: one line in, one Command out, or a one-line error.

Keys and values are Python literals read by `ast.literal_eval` only (the project this
replaces ran every line through `eval`), and they leave as canonical reprs, the same
text the config's scripted ops store (`paxlab.config.schema.parse_literal`), so a key
typed as `("a",1)` and one typed as `('a', 1)` are one key on the wire, in the chain and
in the history. Words are split where no bracket or quote is open, so
`put 'a b' (1, 'x y')` has a key and a value, each with its spaces.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from paxlab.config.schema import SpecError, parse_literal

__all__ = [
    "COMMANDS",
    "HELP_TEXT",
    "LITERAL_CHARS_MAX",
    "Command",
    "CommandError",
    "canonical_literal",
    "parse_command",
    "split_commands",
    "split_words",
]

CommandName = Literal["put", "get", "status", "help", "quit"]
COMMANDS: tuple[CommandName, ...] = ("put", "get", "status", "help", "quit")
_ALIASES: dict[str, CommandName] = {"exit": "quit", "q": "quit", "?": "help"}

# A frame is capped at 4 MiB; a key or value far below that keeps one op in one frame.
LITERAL_CHARS_MAX = 1 << 20

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}

HELP_TEXT = """\
put KEY VALUE   write VALUE under KEY      put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}
get KEY         read KEY                   get ('alice', 1)
status          who this client believes leads, its last seq, its links
help            this text
quit            leave (Ctrl-D too; Ctrl-C clears the line)
KEY and VALUE are Python literals: 'text', 42, 1.5, True, None, b'raw', (1, 'x'),
[1, 2], {'a': 1}. A string needs quotes: put 'x' 1. A key cannot be a list, dict or set.
Several commands on one line: put 'a' 1; get 'a'"""


class CommandError(Exception):
    """A line the client cannot run: the message is one line for the user, and the client
    keeps running."""


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed command. `key` and `value` are canonical reprs (None where unused)."""

    name: CommandName
    key: str | None = None
    value: str | None = None

    def describe(self) -> str:
        """The command as the client prints it back: `put ('alice', 1) 'x'`."""
        return " ".join(p for p in (self.name, self.key, self.value) if p is not None)


def _scan(text: str, stop: str) -> list[tuple[int, int]]:
    """Spans of `text` between characters of `stop` that sit outside every bracket and
    string. A `#` outside them ends the text (a comment). An unclosed bracket or string
    or a closer that does not match is a CommandError."""
    spans: list[tuple[int, int]] = []
    stack: list[str] = []
    quote: str | None = None
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch in "'\"":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE:
            if not stack:
                raise CommandError(f"'{ch}' closes nothing in {text.strip()}")
            if stack[-1] != _CLOSE[ch]:
                raise CommandError(f"'{ch}' does not close '{stack[-1]}' in {text.strip()}")
            stack.pop()
        elif not stack and ch == "#":
            n = i
            break
        elif not stack and ch in stop:
            spans.append((start, i))
            start = i + 1
        i += 1
    if quote is not None:
        raise CommandError(f"a string is never closed: {quote} opened in {text.strip()}")
    if stack:
        raise CommandError(f"'{stack[-1]}' is never closed in {text[:n].strip()}")
    spans.append((start, n))
    return spans


def split_commands(line: str) -> list[str]:
    """The commands of one line, split at `;` outside brackets and strings, comments
    (`#` outside them) removed, blank ones dropped."""
    parts = (line[a:b].strip() for a, b in _scan(line, ";"))
    return [p for p in parts if p]


def split_words(text: str) -> list[tuple[str, int]]:
    """The words of one command with the offset each starts at: split at whitespace
    outside brackets and strings, so `(1, 'x y')` is one word."""
    words: list[tuple[str, int]] = []
    for a, b in _scan(text, " \t\r\n\f\v"):
        if b > a:
            words.append((text[a:b], a))
    return words


def canonical_literal(text: str, *, hashable: bool) -> str:
    """The canonical repr of a Python literal typed by a user, read with literal_eval
    only (through the config's own `parse_literal`, so both write the same text)."""
    if len(text) > LITERAL_CHARS_MAX:
        raise CommandError(f"{text[:20]}... is {len(text)} characters; at most "
                           f"{LITERAL_CHARS_MAX} are allowed")
    try:
        canonical = parse_literal(text, hashable=hashable)
    except SpecError as error:
        if str(error).startswith("not a Python literal"):
            raise CommandError(_not_a_literal(text)) from None
        raise CommandError(f"{text}: {error}") from None
    if len(canonical) > LITERAL_CHARS_MAX:
        raise CommandError(f"{text[:20]}... is over {LITERAL_CHARS_MAX} characters as a literal")
    return canonical


def _not_a_literal(text: str) -> str:
    """`x is not a Python literal; for the string write 'x'` when the user most likely
    meant a string; a plainer line when the text looks like an attempted literal."""
    if any(ch in text for ch in "'\"()[]{}"):
        return f"{text} is not a Python literal (read with ast.literal_eval, which runs no code)"
    return f"{text} is not a Python literal; for the string write {text!r}"


def _nearest(word: str) -> str:
    names = [*COMMANDS, *_ALIASES]
    close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {_ALIASES.get(close[0], close[0])}?"
    return f"; commands: {', '.join(COMMANDS)}"


def parse_command(text: str) -> Command | None:
    """One command (no `;` in it: see split_commands). None for a blank line or a comment."""
    words = split_words(text)
    if not words:
        return None
    first = words[0][0]
    name = _ALIASES.get(first.lower(), first.lower())
    if name not in COMMANDS:
        raise CommandError(f"unknown command {first!r}{_nearest(first)}")
    args = words[1:]
    if name == "put":
        if len(args) < 2:
            raise CommandError("put takes a key and a value: put KEY VALUE, e.g. put 'x' 1")
        key_text = args[0][0]
        value_text = text[args[1][1]:args[-1][1] + len(args[-1][0])]
        key = canonical_literal(key_text, hashable=True)
        return Command("put", key, canonical_literal(value_text, hashable=False))
    if name == "get":
        if len(args) != 1:
            shown = " ".join(w for w, _ in args)
            raise CommandError("get takes one key: get KEY, e.g. get 'x'"
                               + (f" (got {shown})" if shown else ""))
        return Command("get", canonical_literal(args[0][0], hashable=True))
    if args:
        raise CommandError(f"{name} takes no arguments")
    return Command(name)  # type: ignore[arg-type]
