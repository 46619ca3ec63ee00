"""Options shared by the whole suite: `--rewrite` regenerates transcript expectations.
And one setting: SIGINT acts as in a terminal (see pytest_configure)."""

from __future__ import annotations

import signal

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="rewrite the expected part of tests/core/testdata/*.txt from what the "
        "scripts produce now (then review the diff)",
    )


def pytest_configure() -> None:
    """Give SIGINT its default Python handler when the suite was started with it ignored.

    A shell without job control (a script running `pytest ... &`) starts a background job
    with SIGINT ignored, and an ignored signal stays ignored across fork and exec: then
    every Ctrl-C test fails, the test's own `os.kill(os.getpid(), SIGINT)` and a child's
    Ctrl-C alike (a pty's Ctrl-C reaches a client that ignores it). A handled signal is
    reset to its default at exec, so with this the children start as from a terminal."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
