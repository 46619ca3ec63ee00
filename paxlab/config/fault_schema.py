"""The table of every fault action: its keys, their rules, and what the action does.

Like `paxlab.config.schema` for the sections, this is the one place the validator
(`paxlab.config.validate_faults`), the reference's tables (`paxlab.config.reference`) and
the nemesis (`paxlab.scenario.nemesis`) read the fault vocabulary from, so they cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from paxlab.config.schema import NETWORK_KEYS, KeySpec

__all__ = [
    "CLIENT_TARGET_WORD",
    "CRASH_SHORTHANDS",
    "FAULT_ACTIONS",
    "FAULT_COMMON_KEYS",
    "FAULT_KEYS",
    "NEMESIS_KEYS",
    "NEMESIS_KINDS",
    "NEMESIS_SERVERS_MIN",
    "PARTITION_BRIDGE_SERVERS_MIN",
    "RESTART_TARGET_WORDS",
    "SIM_ONLY_ACTIONS",
    "SNAPSHOT_ACTIONS",
    "TARGET_WORDS",
    "target_allowed",
]

TARGET_WORDS: tuple[str, ...] = ("leader", "random", "minority", "majority", "all")
"""Words a crash or pause `target` may be instead of server ids; resolved when it fires."""

RESTART_TARGET_WORDS: tuple[str, ...] = ("random", "minority", "majority", "all")
"""Words for restart and resume, which choose among the servers crashed or paused at that
moment. `leader` is not one: a crashed or paused server is nobody's leader."""

CRASH_SHORTHANDS: Mapping[str, str] = {"crash_majority": "majority", "power_cut": "all"}
"""Fault actions that are a crash of a fixed target: the validator turns them into a
`Crash`, so every driver (sim, lab) runs them as it runs a crash, with no class of their own."""

CLIENT_TARGET_WORD = "all"
"""The one word a client fault's `client` may be instead of a client id."""

PARTITION_BRIDGE_SERVERS_MIN = 3  # two non-empty halves and the bridge

SIM_ONLY_ACTIONS: frozenset[str] = frozenset({"crash_in_compaction"})
"""Fault actions and nemesis kinds only the simulator runs; the lab refuses a config
with one (`paxlab.config.refuse_sim_only`)."""

SNAPSHOT_ACTIONS: frozenset[str] = frozenset({"crash_in_compaction"})
"""Fault actions and nemesis kinds that need snapshots (cluster.snapshot_every > 0)."""

_SERVER_PAIR = "two different server ids, e.g. [0, 1]"


def target_allowed(words: tuple[str, ...]) -> str:
    """What a server `target` may be, as used in the docs and in error messages."""
    return "a server id, a non-empty list of distinct server ids, or one of: " + ", ".join(words)


NEMESIS_KINDS: Mapping[str, str] = {
    "crash": "crash a random server, or a random minority of them; undo: restart them",
    "crash_leader": "crash the leader; undo: restart all crashed servers",
    "crash_majority": "crash a random majority of the servers at once; undo: restart all "
    "crashed servers",
    "power_cut": "cut the power of every server at once (each loses what it had not synced); "
    "undo: restart all crashed servers",
    "crash_in_compaction": "simulator only, needs cluster.snapshot_every > 0: arm a random "
    "server to crash inside its next compaction after a random step of three; undo: "
    "restart it (it also restarts half an interval after the crash)",
    "pause": "pause a random server, or a random minority of them; undo: resume them",
    "pause_leader": "pause the leader; undo: resume all paused servers",
    "isolate_leader": "isolate the leader; undo: heal",
    "partition_halves": "partition_halves; undo: heal",
    "partition_ring": "partition_ring; undo: heal",
    "partition_bridge": "partition_bridge; undo: heal",
    "fail_link": "fail the link between two random servers; undo: fix_link",
    "one_way_link": "fail_link_one_way from one random server to another; undo: fix_link",
    "lossy": "set_network drop_probability 0.2, duplicate_probability 0.1, delay_ms_jitter 5; "
    "undo: set those three back to the `network` section's values",
}

NEMESIS_SERVERS_MIN: Mapping[str, int] = {
    "crash": 3,  # a minority must have at least one server
    "pause": 3,
    "partition_bridge": PARTITION_BRIDGE_SERVERS_MIN,
    "fail_link": 2,
    "one_way_link": 2,
}
"""Kinds that cannot work with fewer servers; the others can run on any cluster."""

NEMESIS_KEYS: Mapping[str, KeySpec] = {
    "kinds": KeySpec(kind="custom", required=True,
                     allowed_text="a non-empty list of distinct kinds, from: "
                     + ", ".join(NEMESIS_KINDS),
                     doc="The fault kinds to pick from, each time with equal chance."),
    "interval_ms": KeySpec(kind="int", low=1, default=500,
                           doc="A new fault starts this often; each is undone half an interval "
                           "after it starts."),
    "until_ms": KeySpec(kind="int", low=0, required=True, also="greater than at_ms",
                        doc="When the nemesis stops: every fault it caused is undone then."),
    "seed": KeySpec(kind="int", low=0, nullable=True, default=None,
                    default_text="the config's seed",
                    doc="Seed of its random choices; the same seed gives the same faults."),
}


def _target(words: tuple[str, ...], doc: str) -> Mapping[str, KeySpec]:
    return {"target": KeySpec(kind="custom", required=True, allowed_text=target_allowed(words),
                              doc=doc)}


def _client(doc: str) -> Mapping[str, KeySpec]:
    """A client fault names whom it hits with `client` or, like a server fault, `target`
    (one of the two): users wrote `target:` for client faults and got an error."""
    return {
        "client": KeySpec(kind="custom", default_text="required (or `target`)",
                          allowed_text=f"`{CLIENT_TARGET_WORD}` or a client id", doc=doc),
        "target": KeySpec(kind="custom", default_text="(none)",
                          allowed_text="the same as `client`, in its place",
                          doc="Another name for `client`, the word the server faults use. "
                          "Give `client` or `target`, not both."),
    }


_BETWEEN = KeySpec(kind="custom", required=True, allowed_text=_SERVER_PAIR,
                   doc="The two servers.")

FAULT_KEYS: Mapping[str, Mapping[str, KeySpec]] = {
    "fail_link": {"between": _BETWEEN},
    "fix_link": {"between": _BETWEEN},
    "fail_link_one_way": {
        "from": KeySpec(kind="custom", required=True, allowed_text="a server id",
                        doc="The server whose messages are lost."),
        "to": KeySpec(kind="custom", required=True,
                      allowed_text="a server id other than `from`",
                      doc="The server that no longer hears `from`."),
    },
    "partition": {"groups": KeySpec(kind="custom", required=True,
                                    allowed_text="a non-empty list of non-empty, disjoint lists "
                                    "of server ids", doc="The groups.")},
    "partition_halves": {},
    "partition_ring": {},
    "partition_bridge": {},
    "isolate": {"target": KeySpec(kind="custom", required=True,
                                  allowed_text="`leader` or a server id", doc="Who is cut off.")},
    "heal": {},
    "set_network": NETWORK_KEYS,
    "set_link": {"between": _BETWEEN, **NETWORK_KEYS},
    "crash": _target(TARGET_WORDS, "Which servers crash."),
    "crash_majority": {},
    "power_cut": {},
    "crash_in_compaction": {
        **_target(TARGET_WORDS, "Which servers to arm."),
        "step": KeySpec(kind="int", low=1, high=3, nullable=True, default=None,
                        default_text="random, 1 to 3",
                        doc="After which step of the compaction it crashes: 1 archive, 2 "
                        "snapshot, 3 record file."),
        "restart_after_ms": KeySpec(kind="int", low=1, default=300,
                                    doc="How long after the crash it restarts."),
    },
    "restart": _target(RESTART_TARGET_WORDS, "Which crashed servers start again."),
    "pause": _target(TARGET_WORDS, "Which servers freeze."),
    "resume": _target(RESTART_TARGET_WORDS, "Which paused servers go on."),
    "crash_client": _client("Which client crashes."),
    "restart_client": _client("Which crashed client starts again."),
    "nemesis": NEMESIS_KEYS,
}

FAULT_COMMON_KEYS: Mapping[str, KeySpec] = {
    "at_ms": KeySpec(kind="int", low=0, required=True,
                     doc="When it happens, in ms from the start of the run. Faults run in "
                     "at_ms order; equal times keep file order."),
    "action": KeySpec(kind="choice", required=True, choices=tuple(FAULT_KEYS),
                      doc="What happens; see the fault actions below."),
}

_REPLACES = "A later partition of any shape replaces an earlier one."

FAULT_ACTIONS: Mapping[str, str] = {
    "fail_link": "Cut the link between two servers, both ways, until fix_link or heal.",
    "fix_link": "Restore a link cut by fail_link or fail_link_one_way, both directions.",
    "fail_link_one_way": "Lose every message from server `from` to server `to`, while "
    "messages from `to` to `from` still arrive, until fix_link on the pair or heal. A server "
    "that hears a leader but cannot answer it is the kind of fault that hides livelocks.",
    "partition": "Servers talk only within their own group; servers listed in no group form "
    f"one extra group together. {_REPLACES}",
    "partition_halves": "Split the servers into two random halves of servers//2 and the rest; "
    f"each half talks only within itself. {_REPLACES}",
    "partition_ring": "Majority ring: server i talks only to servers i-1 and i+1 (mod "
    "servers). With 5 servers each one sees a majority, and no two see the same one. "
    f"{_REPLACES}",
    "partition_bridge": "Two random halves that cannot talk to each other, plus one bridge "
    "server that talks to both. Needs at least 3 servers. " + _REPLACES,
    "isolate": "Cut one server off from every other server. `leader` means whichever server "
    "leads at that moment.",
    "heal": "Remove every partition (of any shape), isolation and failed link (one-way "
    "too). Leaves set_network, set_link, crashed and paused servers as they are.",
    "set_network": "Change one or more network keys from now on (the others keep their "
    "values). At least one key is required.",
    "set_link": "Rules for messages both ways between two servers from now on: the network "
    "keys given (at least one) override the global ones on that link. heal does not clear "
    "them; a later set_link on the same link replaces it.",
    "crash": "SIGKILL: the target servers die at once, losing all they had not synced.",
    "crash_majority": "Crash a random majority of the running servers at once (the same as "
    "crash with target majority): the cluster stops until restart brings enough back.",
    "power_cut": "Power loss of the whole cluster: every running server crashes at the same "
    "instant and loses what it wrote but did not sync (in the lab only with `cluster.storage: "
    "process_buffer`; see docs/storage.md). The same as crash with target all. Restart them "
    "with restart (the phases' recover step restarts crashed servers too).",
    "crash_in_compaction": "Simulator only (the lab refuses it), and only with "
    "cluster.snapshot_every > 0. Arms the target servers (those running when it fires): "
    "each crashes inside its next compaction, after `step` of its three steps (archive the "
    "retired blocks, replace the snapshot, rewrite the record file), before anything that "
    "step would send leaves, and restarts restart_after_ms later from what its disk holds. "
    "The end of the workload disarms servers that have not compacted since.",
    "restart": "Start crashed target servers again; each recovers from its data folder. "
    "Servers that are not crashed are left alone.",
    "pause": "SIGSTOP: the target servers freeze; messages to them wait.",
    "resume": "SIGCONT: paused target servers go on. Servers that are not paused are left "
    "alone.",
    "crash_client": "SIGKILL a client process; its pending operation ends as info (outcome "
    "unknown).",
    "restart_client": "Start a crashed client again; it continues its workload with new "
    "sequence numbers.",
    "nemesis": "A seeded random mix of faults, one every interval_ms until until_ms, each "
    "undone half an interval later; see the nemesis tables below.",
}
