"""Collects config problems as `<file>: <dotted key> = <bad value>: <what is allowed>` lines.

Shared by `paxlab.config.validate` (sections) and `paxlab.config.validate_faults` (the
faults list), so both report in one format and one run of the validator lists every problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paxlab.config.schema import KeySpec, SpecError

__all__ = ["Problems", "join_path", "read_keys", "server_limit", "show_value"]


def show_value(value: object) -> str:
    """A bad value as the user would recognise it: YAML words for scalars, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def join_path(path: str, key: str) -> str:
    """`faults[2]` + `groups` -> `faults[2].groups`; the top level has no prefix."""
    return f"{path}.{key}" if path else key


def server_limit(servers: int | None) -> str:
    """The id range named in server id errors; without a valid cluster only ">= 0" is known."""
    if servers:
        return f" from 0 to {servers - 1} (cluster.servers is {servers})"
    return " >= 0"


class Problems:
    """Collects every problem, so one run of the validator reports them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def bad(self, path: str, value: object, expected: str) -> None:
        """A key has a value that breaks its rule."""
        self.lines.append(f"{self.source}: {path} = {show_value(value)}: {expected}")

    def note(self, path: str, text: str) -> None:
        """A problem with no single bad value, e.g. a missing key."""
        self.lines.append(f"{self.source}: {path}: {text}")

    def unknown(self, path: str, key: object, allowed: Sequence[str]) -> None:
        """A key that no table knows; the message lists the keys that are allowed there."""
        self.note(join_path(path, str(key)), "unknown key; allowed: " + ", ".join(allowed))


def read_keys(raw: Mapping[Any, Any], path: str, specs: Mapping[str, KeySpec],
              problems: Problems, allowed: Sequence[str] | None = None) -> dict[str, Any]:
    """Check one mapping against its table; return the valid keys, defaults filled in."""
    allowed = list(allowed if allowed is not None else specs)
    for key in raw:
        if key not in allowed:
            problems.unknown(path, key, allowed)
    values: dict[str, Any] = {}
    for key, spec in specs.items():
        where = join_path(path, key)
        if key not in raw:
            if spec.required:
                problems.note(where, "missing; expected " + spec.allowed())
            else:
                values[key] = spec.default
            continue
        try:
            values[key] = spec.convert(raw[key])
        except SpecError as exc:
            problems.bad(where, raw[key], str(exc))
    return values
