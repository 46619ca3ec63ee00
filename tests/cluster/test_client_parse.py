"""The client's command language: every bad input the issue names gets one clear line,
and every good one becomes canonical reprs (the text the chain and history hold)."""

from __future__ import annotations

import pytest

from paxlab.cluster.client_parse import (
    LITERAL_CHARS_MAX,
    Command,
    CommandError,
    canonical_literal,
    parse_command,
    split_commands,
    split_words,
)
from paxlab.config.schema import parse_literal


def error_of(line: str) -> str:
    with pytest.raises(CommandError) as caught:
        parse_command(line)
    message = str(caught.value)
    assert "\n" not in message  # one line, then the prompt returns
    return message


def test_the_issue_example_keeps_nested_literals() -> None:
    line = "put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}"
    assert parse_command(line) == Command(
        "put", "('alice', 1)", "{'phone': '858-1', 'tags': [1, 2]}")
    assert parse_command("get ('alice', 1)") == Command("get", "('alice', 1)")


def test_words_split_only_outside_brackets_and_quotes() -> None:
    assert parse_command("put 'a b' (1, 'x y')") == Command("put", "'a b'", "(1, 'x y')")
    assert [w for w, _ in split_words("put \"x ]\" [1,  ')']")] == ["put", '"x ]"', "[1,  ')']"]
    assert parse_command('put "x" """a b"""') == Command("put", "'x'", "'a b'")
    assert parse_command(r"put 'it\'s' 1") == Command("put", '"it\'s"', "1")


def test_keys_and_values_are_canonical_like_config_scripted_ops() -> None:
    typed = parse_command('put ("a",1)   {"k" : [ 1,2 ]}')
    assert typed == Command("put", "('a', 1)", "{'k': [1, 2]}")
    for text in ['("a",1)', "b'x'", "None", "-3", "1.50", "{'k': (1,)}"]:
        assert canonical_literal(text, hashable=False) == parse_literal(text, hashable=False)


def test_a_value_may_hold_spaces_outside_brackets_only_as_a_literal_allows() -> None:
    assert parse_command("put 1 -2") == Command("put", "1", "-2")
    assert error_of("put 'k' hello world") == (
        "hello world is not a Python literal; for the string write 'hello world'")


def test_bare_word_is_not_a_literal() -> None:
    assert error_of("put x 1") == "x is not a Python literal; for the string write 'x'"
    assert error_of("get alice") == "alice is not a Python literal; for the string write 'alice'"
    assert error_of("put 'x' y") == "y is not a Python literal; for the string write 'y'"


def test_code_is_never_run() -> None:
    for line in ["put 1 __import__('os').system('true')", "put 1 foo()", "get (lambda: 1)"]:
        assert "is not a Python literal" in error_of(line)


def test_unhashable_key_is_refused() -> None:
    assert "a list cannot be a key (not hashable)" in error_of("put [1, 2] 3")
    assert "a dict cannot be a key (not hashable)" in error_of("get {'a': 1}")
    assert "a dict cannot be a key" in error_of("put (1, {'a': 1}) 3")
    # a list is a fine value, and a tuple a fine key
    assert parse_command("put (1, 2) [3]") == Command("put", "(1, 2)", "[3]")


def test_literals_that_would_not_read_back_are_refused() -> None:
    assert "sets are not allowed" in error_of("put 1 {1, 2}")
    assert "inf and nan" in error_of("put 1 1e999")


def test_unknown_command_suggests_the_nearest() -> None:
    assert error_of("gett 1") == "unknown command 'gett'; did you mean get?"
    assert error_of("pu 1 2") == "unknown command 'pu'; did you mean put?"
    assert error_of("stats") == "unknown command 'stats'; did you mean status?"
    assert error_of("failLink 1 2") == (
        "unknown command 'failLink'; commands: put, get, status, help, quit")


def test_wrong_arity() -> None:
    assert error_of("put") == "put takes a key and a value: put KEY VALUE, e.g. put 'x' 1"
    assert error_of("put 'x'").startswith("put takes a key and a value")
    assert error_of("get") == "get takes one key: get KEY, e.g. get 'x'"
    assert error_of("get 1 2") == "get takes one key: get KEY, e.g. get 'x' (got 1 2)"
    assert error_of("status now") == "status takes no arguments"


def test_unclosed_brackets_and_strings() -> None:
    assert error_of("put (1, 2") == "'(' is never closed in put (1, 2"
    assert error_of("put 'abc 1") == "a string is never closed: ' opened in put 'abc 1"
    assert error_of("put 1 (1, 2]") == "']' does not close '(' in put 1 (1, 2]"
    assert error_of("get 1)") == "')' closes nothing in get 1)"


def test_empty_lines_and_comments_are_nothing() -> None:
    for line in ["", "   ", "\t", "# a comment", "   # put x 1"]:
        assert parse_command(line) is None
    assert parse_command("get 'k'  # why") == Command("get", "'k'")
    assert parse_command("get '#'") == Command("get", "'#'")


def test_commands_and_aliases() -> None:
    assert parse_command("STATUS") == Command("status")
    assert parse_command("help") == Command("help")
    assert parse_command("exit") == Command("quit")
    assert parse_command("quit") == Command("quit")


def test_semicolons_split_commands_outside_strings() -> None:
    assert split_commands("put 1 2; get 1 ;; get ';' # ; x") == ["put 1 2", "get 1", "get ';'"]
    assert split_commands("  ") == []


def test_oversized_literal_is_refused() -> None:
    assert "characters" in error_of("put 1 '" + "x" * LITERAL_CHARS_MAX + "'")
