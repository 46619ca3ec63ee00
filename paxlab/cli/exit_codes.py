"""The exit codes of every `paxlab` command, for scripts and CI (docs: README, Exit codes).

A module of its own so each command group can return them while `cli.main`, which
imports the groups, assembles the parser: no command module imports `cli.main`.
"""

from __future__ import annotations

import enum
import sys

__all__ = ["ExitCode", "bad_input"]


class ExitCode(enum.IntEnum):
    OK = 0  # every check holds
    CHECK_FAILED = 1  # a check failed, or is unknown, or the run is partial
    BAD_INPUT = 2  # bad arguments, config or missing file
    INTERRUPTED = 130  # Ctrl-C: processes stopped, partial results written


def bad_input(message: object) -> ExitCode:
    """Print `paxlab: <message>` to stderr and return BAD_INPUT: the one shape of a
    rejected argument, config or file."""
    print(f"paxlab: {message}", file=sys.stderr)
    return ExitCode.BAD_INPUT
