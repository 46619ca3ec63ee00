"""The one table of every config key: its type, default, allowed values and meaning.

The validator in `paxlab.config` and the configuration reference (docs/configuration.md,
rendered by `paxlab.config.reference`, which a test compares with the doc) are both read
off these tables, so a key cannot be accepted by one and missing from the other, and an
error's "allowed: ..." list is never stale. The fault actions' tables live in
`paxlab.config.fault_schema`, which builds on this module; this module imports neither.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CHECKS_KEYS",
    "CLIENTS_KEYS",
    "CLUSTER_KEYS",
    "GENERATED_ONLY_KEYS",
    "NETWORK_KEYS",
    "OP_KEYS",
    "SECTIONS",
    "TOP_KEYS",
    "WORKLOAD_KEYS",
    "KeySpec",
    "SpecError",
    "format_number",
    "parse_literal",
]

Kind = Literal["int", "number", "choice", "name", "literal", "custom", "bool"]

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_LITERAL_HINT = "a Python literal in a string, e.g. \"'x'\" (the string x), \"1\" or \"(1, 'a')\""


class SpecError(Exception):
    """One value broke its key's rule. Carries only the "expected ..." text, because the
    key's dotted path is known to the caller in `paxlab.config`, not to the spec."""


def format_number(value: float) -> str:
    """Print 5.0 as 5 and 0.1 as 0.1, so bounds and set_network lines read as written."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _check_literal_value(value: object, *, hashable: bool) -> None:
    """Reject literals whose canonical repr would not read back, or not be stable."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError("inf and nan have no Python literal form; use a finite number")
    if isinstance(value, complex) and not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise SpecError("inf and nan have no Python literal form; use a finite number")
    if isinstance(value, set):
        raise SpecError("sets are not allowed: their printed order can differ between runs")
    if hashable and isinstance(value, (list, dict)):
        raise SpecError(
            f"a {type(value).__name__} cannot be a key (not hashable); "
            "use a str, int, float, bool, None, bytes or a tuple of these"
        )
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_literal_value(item, hashable=hashable)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_literal_value(key, hashable=True)
            _check_literal_value(item, hashable=False)


def parse_literal(value: object, *, hashable: bool) -> str:
    """Canonical repr of a key or value given as a Python literal in a string.

    Only `ast.literal_eval` reads it: a config file must never run code (the project this
    replaces used `eval` on its inputs). Plain YAML scalars are taken via their repr.
    """
    if value is None or isinstance(value, (bool, int, float)):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise SpecError(f"expected {_LITERAL_HINT}")
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        example = f"the string {text}, write \"'{text}'\"" if "'" not in text and '"' not in text \
            else "the string x y, write \"'x y'\""
        raise SpecError(
            "not a Python literal (it is read with ast.literal_eval, which runs no code); "
            f"a string needs quotes inside the YAML quotes: for {example}"
        ) from None
    _check_literal_value(parsed, hashable=hashable)
    return repr(parsed)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySpec:
    """One key's rule. `allowed()` is used both in error messages and in the docs."""

    kind: Kind
    doc: str
    default: object = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low bound excluded: "> low" rather than ">= low"
    choices: tuple[str, ...] = ()
    nullable: bool = False
    required: bool = False
    hashable: bool = False  # kind "literal": the value must be usable as a dict key
    also: str = ""  # a cross-field rule, checked in paxlab.config, shown in the docs
    allowed_text: str = ""  # kind "custom": what the docs say is allowed
    default_text: str = ""  # the docs' default when it is not a plain value

    def allowed(self) -> str:
        """What is allowed, as a noun phrase: "an integer from 1 to 15"."""
        if self.kind == "custom":
            text = self.allowed_text
        elif self.kind == "choice":
            text = "one of: " + ", ".join(self.choices)
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "name":
            text = "1 to 100 letters, digits, '_', '.' or '-' (not only dots)"
        elif self.kind == "literal":
            text = _LITERAL_HINT.replace("a ", "a hashable ", 1) if self.hashable else _LITERAL_HINT
        else:
            text = ("an integer" if self.kind == "int" else "a number") + self._bounds()
        return text + (" or null" if self.nullable else "")

    def _bounds(self) -> str:
        if self.low is not None and self.high is not None:
            return f" from {format_number(self.low)} to {format_number(self.high)}"
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {format_number(self.low)}"
        return ""

    def convert(self, value: object) -> object:
        """Return the checked value (numbers as float, literals as canonical repr)."""
        if self.kind == "custom":
            return value
        if self.kind == "literal":
            return parse_literal(value, hashable=self.hashable)
        expected = "expected " + self.allowed()
        if value is None:
            if self.nullable:
                return None
            raise SpecError(expected)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(expected)
            return value
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise SpecError(expected)
            return value
        if self.kind == "name":
            if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or not value.strip("."):
                raise SpecError(expected)
            return value
        if isinstance(value, bool):
            raise SpecError(expected + " (true and false are not numbers)")
        if self.kind == "int" and not isinstance(value, int):
            raise SpecError(expected)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(expected)
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        if too_low or (self.high is not None and value > self.high):
            raise SpecError(expected)
        return value if self.kind == "int" else float(value)


def _section(name: str, keys: tuple[str, ...]) -> KeySpec:
    return KeySpec(kind="custom", allowed_text="a mapping", default_text="(section)",
                   doc=f"See `{name}` below: " + ", ".join(keys) + ".")


def _int(default: int, low: int, doc: str, high: int | None = None, also: str = "") -> KeySpec:
    return KeySpec(kind="int", default=default, low=low, high=high, also=also, doc=doc)


def _number(default: float, low: float, doc: str, high: float | None = None,
            low_open: bool = False) -> KeySpec:
    return KeySpec(kind="number", default=default, low=low, high=high, low_open=low_open, doc=doc)


CLUSTER_KEYS: Mapping[str, KeySpec] = {
    "servers": _int(3, 1, "Paxos servers (replicas), ids 0 to servers-1. Progress needs a "
                    "majority of them up and connected.", high=15),
    "heartbeat_interval_ms": _int(50, 1, "How often the leader tells the others it is alive."),
    "election_timeout_ms_min": _int(
        300, 1, "A server that hears no leader for a random time between min and max starts an "
        "election; the spread keeps two candidates from colliding again and again.",
        also="greater than heartbeat_interval_ms"),
    "election_timeout_ms_max": _int(600, 1, "Upper end of that random time.",
                                    also="at least election_timeout_ms_min"),
    "batch_size_max": _int(8, 1, "Most client operations in one block (1 = one op per block).",
                           high=10000),
    "pipeline_window": _int(4, 1, "Most slots the leader has in flight (proposed, not yet "
                            "chosen) at once.", high=10000),
    "difficulty": _int(8, 0, "Proof of work: leading zero bits every block hash needs. Each "
                       "extra bit doubles the work per block; 0 means none.", high=32),
    "accept_retry_ms": _int(100, 1, "The leader resends accepts not yet acknowledged after "
                            "this long, so a lost message cannot stall a slot."),
    "fsync": KeySpec(kind="choice", choices=("always", "never"), default="always",
                     doc="Sync the record file before any reply that depends on it. never: "
                     "faster, but a crashed server may forget promises; for benchmarks only "
                     "(the summary says so)."),
    "prevote": KeySpec(kind="bool", default=True,
                       doc="Pre-vote and leader stickiness: before raising its ballot, a "
                       "server asks whether a majority would back it, and a server that "
                       "heard a live leader within election_timeout_ms_min says no. So a "
                       "server cut off from the others cannot depose a healthy leader when "
                       "it rejoins (docs/protocol.md, Pre-vote). false: run at once."),
    "storage": KeySpec(kind="choice", choices=("process_buffer", "page_cache"),
                       default="process_buffer",
                       doc="Where a lab or cluster server keeps bytes it wrote but did not "
                       "sync. process_buffer: in the server process, handed to the file only "
                       "at the sync (with fsync: never, at most 1 s later), so a SIGKILL loses "
                       "them as a power cut would: crash and power_cut mean what they mean in "
                       "the simulator. page_cache: written to the file at once, so a SIGKILL "
                       "keeps them in the OS page cache and only a real power loss could lose "
                       "them. The simulator ignores it (its crash is always a power loss)."),
    "snapshot_every": _int(1000, 0, "Every this many blocks a server snapshots its applied "
                           "state (KV store, exactly-once table, tip hash) and compacts its "
                           "record file behind it, so memory, the record file and restart "
                           "time stay bounded however long it runs (docs/protocol.md, "
                           "Snapshots). 0: never (the chain and the file grow without end)."),
    "retain_blocks": _int(256, 1, "Blocks below a snapshot a server keeps in memory and in "
                          "its record file, so a follower a little behind catches up block "
                          "by block; one further behind gets the snapshot (InstallSnapshot)."),
    "chain_archive": KeySpec(kind="bool", default=True,
                             doc="Lab and cluster servers append the blocks a compaction "
                             "drops to an archive file, so the full chain stays readable "
                             "(chains/ in results, the checks); false: drop them (bounded "
                             "disk). The simulator always keeps its archive in memory."),
}

NETWORK_KEYS: Mapping[str, KeySpec] = {
    "delay_ms_mean": _number(1.0, 0, "Mean one-way delay of a message."),
    "delay_ms_jitter": _number(0.5, 0, "Each delay is the mean plus or minus a uniform random "
                               "jitter up to this, so messages overtake each other (reorder)."),
    "drop_probability": _number(0.0, 0, "Chance that a message is lost.", high=1),
    "duplicate_probability": _number(0.0, 0, "Chance that a message is delivered twice.", high=1),
}

CLIENTS_KEYS: Mapping[str, KeySpec] = {
    "count": _int(3, 1, "Clients, ids 0 to count-1. Each has at most one operation "
                  "outstanding.", high=1000),
    "request_timeout_ms": _int(400, 1, "How long one attempt waits for a reply; then the "
                               "client tries the next server and nominates it as leader."),
    "op_timeout_ms": _int(5000, 1, "When the client gives up on an operation and records it "
                          "as info: outcome unknown, it may or may not have taken effect.",
                          also="at least request_timeout_ms"),
}

WORKLOAD_KEYS: Mapping[str, KeySpec] = {
    "type": KeySpec(kind="choice", choices=("generated", "scripted"), default="generated",
                    doc="generated: random ops, closed loop (each client waits for its reply, "
                    "then sends the next). scripted: the ops listed in `ops`."),
    "ops_per_client": KeySpec(
        kind="int", low=0, nullable=True, default=None, default_text="50 if duration_ms is null",
        also="only for generated; give ops_per_client or duration_ms, not both",
        doc="Ops each client runs before it stops."),
    "duration_ms": KeySpec(kind="int", low=1, nullable=True, default=None,
                           also="only for generated",
                           doc="Instead of a count: clients send ops until this much time has "
                           "passed."),
    "put_fraction": KeySpec(kind="number", low=0, high=1, default=0.5, also="only for generated",
                            doc="Share of ops that are puts; the rest are gets."),
    "keys": KeySpec(kind="int", low=1, default=5, also="only for generated",
                    doc="Distinct keys, named 'k0', 'k1', ... Fewer keys, more conflicts."),
    "key_distribution": KeySpec(kind="choice", choices=("uniform", "zipf"), default="uniform",
                                also="only for generated",
                                doc="How a key is picked; zipf makes 'k0' the most popular."),
    "zipf_exponent": KeySpec(kind="number", low=0, low_open=True, default=1.1,
                             also="only for generated; used by zipf only",
                             doc="Skew of zipf: higher puts more ops on the first keys."),
    "think_time_ms": KeySpec(kind="int", low=0, default=0, also="only for generated",
                             doc="Pause between a client's reply and its next op."),
    "ops": KeySpec(kind="custom", default=(), default_text="(none)",
                   allowed_text="a non-empty list of ops (table below)",
                   also="required for scripted, not allowed for generated",
                   doc="The scripted ops, run in at_ms order."),
}

GENERATED_ONLY_KEYS: tuple[str, ...] = tuple(k for k in WORKLOAD_KEYS if k not in ("type", "ops"))

OP_KEYS: Mapping[str, KeySpec] = {
    "at_ms": KeySpec(kind="int", low=0, required=True,
                     doc="When the op is sent, in ms from the start of the run; later if the "
                     "client's previous op has not finished yet."),
    "client": KeySpec(kind="int", low=0, required=True, also="less than clients.count",
                      doc="Which client sends it."),
    "f": KeySpec(kind="choice", choices=("put", "get"), required=True,
                 doc="put writes value under key; get reads key."),
    "key": KeySpec(kind="literal", hashable=True, required=True, doc="The key."),
    "value": KeySpec(kind="literal", default=None, default_text="(none)",
                     also="required for put, not allowed for get", doc="The value a put writes."),
}

CHECKS_KEYS: Mapping[str, KeySpec] = {
    "quiesce_timeout_ms": _int(5000, 1, "After the workload ends, time allowed for every "
                               "server to reach the same chain."),
    "run_timeout_s": _number(120.0, 0, "Hard bound on the whole run, in seconds.", low_open=True),
    "liveness_timeout_ms": _int(3000, 1, "Simulator: once the last fault is healed, time "
                                "allowed for every pending op; an op that times out later "
                                "fails the liveness check."),
}

SECTIONS: Mapping[str, Mapping[str, KeySpec]] = {
    "cluster": CLUSTER_KEYS,
    "network": NETWORK_KEYS,
    "clients": CLIENTS_KEYS,
    "workload": WORKLOAD_KEYS,
    "checks": CHECKS_KEYS,
}

TOP_KEYS: Mapping[str, KeySpec] = {
    "name": KeySpec(kind="name", default=None,
                    default_text="the file's name without .yaml",
                    doc="Run name, used in results folder names."),
    "seed": _int(1, 0, "Drives every random choice: workload, network, election timeouts, "
                 "random fault targets, nemesis. Same seed and config, same run."),
    "cluster": _section("cluster", tuple(CLUSTER_KEYS)),
    "network": _section("network", tuple(NETWORK_KEYS)),
    "clients": _section("clients", tuple(CLIENTS_KEYS)),
    "workload": _section("workload", tuple(WORKLOAD_KEYS)),
    "faults": KeySpec(kind="custom", default=(), default_text="(none)",
                      allowed_text="a list of fault actions",
                      doc="Time-stamped faults in the network and in the server and client "
                      "processes; see below."),
    "checks": _section("checks", tuple(CHECKS_KEYS)),
}
