"""Renders the configuration reference's tables from the schema, and keeps the doc in step.

`docs/configuration.md` holds every table between markers,
`<!-- generated: NAME -->` ... `<!-- end generated: NAME -->`, and a test fails when one
differs from what the schema renders now. The tables are read off `paxlab.config.schema`
and `paxlab.config.fault_schema`, the same tables the validator uses, so a key cannot be
accepted by one and missing from the other. This module imports both and neither imports
it, so rendering is no reason for the two schemas to import each other.

Regenerate the doc's tables after a schema change with
`python -m paxlab.config.reference --write`; only the text between markers changes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from paxlab.config.fault_schema import (
    FAULT_ACTIONS,
    FAULT_COMMON_KEYS,
    FAULT_KEYS,
    NEMESIS_KEYS,
    NEMESIS_KINDS,
    NEMESIS_SERVERS_MIN,
)
from paxlab.config.schema import OP_KEYS, SECTIONS, TOP_KEYS, KeySpec

__all__ = [
    "DOC_PATH",
    "REGENERATE",
    "drifted_tables",
    "main",
    "render_fault_tables",
    "render_table",
    "render_tables",
    "rewrite_doc",
]

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
"""The configuration reference, in the source tree (docs/ ships with the repository)."""

REGENERATE = "python -m paxlab.config.reference --write"
"""The command that rewrites the generated tables; drift messages name it."""

_BLOCK_RE = re.compile(
    r"(<!-- generated: (?P<name>[^>]+?) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
    flags=re.DOTALL,
)


def _default_cell(spec: KeySpec) -> str:
    if spec.default_text:
        return spec.default_text
    if spec.required:
        return "required"
    if spec.default is None:
        return "`null`"
    if isinstance(spec.default, bool):  # as YAML writes it
        return "`true`" if spec.default else "`false`"
    return f"`{spec.default}`"


def render_table(specs: Mapping[str, KeySpec]) -> str:
    """One Markdown table of keys: default, allowed values (with cross-key rules), meaning."""
    rows = ["| key | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for key, spec in specs.items():
        allowed = spec.allowed() + (f"; {spec.also}" if spec.also else "")
        rows.append(f"| `{key}` | {_default_cell(spec)} | {allowed} | {spec.doc} |")
    return "\n".join(rows)


def _actions_table() -> str:
    between = FAULT_KEYS["set_link"]["between"].allowed()
    rows = ["| action | its keys (besides at_ms, action) | what it does |", "| --- | --- | --- |"]
    for action, doc in FAULT_ACTIONS.items():
        keys = FAULT_KEYS[action]
        if action == "set_network":
            cell = "any network keys (at least one)"
        elif action == "set_link":
            cell = f"`between`: {between}; any network keys (at least one)"
        elif action == "nemesis":
            cell = ", ".join(f"`{key}`" for key in keys) + " (table below)"
        else:
            cell = "; ".join(f"`{k}`: {s.allowed()}" for k, s in keys.items()) or "none"
        rows.append(f"| `{action}` | {cell} | {doc} |")
    return "\n".join(rows)


def _kinds_table() -> str:
    rows = ["| kind | fault, then its undo | fewest servers |", "| --- | --- | --- |"]
    for kind, doc in NEMESIS_KINDS.items():
        rows.append(f"| `{kind}` | {doc} | {NEMESIS_SERVERS_MIN.get(kind, 1)} |")
    return "\n".join(rows)


def render_fault_tables() -> dict[str, str]:
    """The tables of the reference's `faults` section, by name."""
    return {
        "faults items": render_table(FAULT_COMMON_KEYS),
        "fault actions": _actions_table(),
        "nemesis keys": render_table(NEMESIS_KEYS),
        "nemesis kinds": _kinds_table(),
    }


def render_tables() -> dict[str, str]:
    """Every table of the configuration reference, by name, in the doc's order."""
    tables = {"top level": render_table(TOP_KEYS)}
    tables.update({name: render_table(specs) for name, specs in SECTIONS.items()})
    tables["workload.ops items"] = render_table(OP_KEYS)
    tables.update(render_fault_tables())
    return tables


def drifted_tables(doc: str, tables: Mapping[str, str] | None = None) -> list[str]:
    """One line per table the doc lacks or holds out of date; empty when it is in step."""
    tables = render_tables() if tables is None else tables
    found = {m["name"]: m["body"] for m in _BLOCK_RE.finditer(doc)}
    problems = []
    for name, table in tables.items():
        if name not in found:
            problems.append(f"the {name!r} table has no generated block "
                            f"(<!-- generated: {name} --> ... <!-- end generated: {name} -->)")
        elif found[name] != table + "\n":
            problems.append(f"the {name!r} table differs from the schema")
    problems += [f"the generated block {name!r} names no table" for name in found
                 if name not in tables]
    return problems


def rewrite_doc(doc: str, tables: Mapping[str, str] | None = None) -> str:
    """The doc with every generated block replaced by its table; other text untouched."""
    tables = render_tables() if tables is None else tables

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        body = tables[name] + "\n" if name in tables else match["body"]
        return match.group(1) + body + match.group(4)

    return _BLOCK_RE.sub(replace, doc)


def main(argv: Sequence[str] | None = None) -> int:
    """Check (exit 1 on drift) or, with --write, rewrite the doc's generated tables."""
    parser = argparse.ArgumentParser(
        prog="python -m paxlab.config.reference",
        description="Check or rewrite the configuration reference's generated tables.")
    parser.add_argument("--write", action="store_true",
                        help="rewrite the generated blocks (only the text between markers)")
    parser.add_argument("--doc", type=Path, default=DOC_PATH,
                        help=f"the doc (default: {DOC_PATH})")
    args = parser.parse_args(argv)
    doc = args.doc.read_text(encoding="utf-8")
    if args.write:
        new = rewrite_doc(doc)
        if new != doc:
            args.doc.write_text(new, encoding="utf-8")
        print(f"{args.doc}: {'tables rewritten' if new != doc else 'already up to date'}")
        problems = drifted_tables(new)
    else:
        problems = drifted_tables(doc)
    for problem in problems:
        print(f"{args.doc}: {problem}", file=sys.stderr)
    if problems and not args.write:
        print(f"regenerate with: {REGENERATE}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
