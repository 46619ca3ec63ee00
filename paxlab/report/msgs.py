"""The message diagram's table (one row per copy that travelled, as columns of indexes) and
what the messages tell about the run: quorums, chosen heights, who answered each op and
who claimed to lead.

A message's fate is decided at send time and its copies' outcomes at the target's door
(contract section 1): a duplicate is two rows with one id; a copy held for a paused node
ends "held" with the time it was handed over, "lost" if it never was, and a copy with no
arrival line at all is "in flight" (the run ended first, or the file was cut).

A quorum is the moment the leader heard the majority-th Accepted for (ballot, slot),
counting itself, as `paxlab.core.leader` counts: that is when the slot was chosen.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter
from typing import Any

from paxlab.report.timeline import ballot_key

__all__ = ["COLUMNS", "FATES", "KINDS", "MessageTable", "message_table"]

KINDS = ("PreVote", "PreVoteReply", "Prepare", "Promise", "Accept", "Accepted", "Reject",
         "Heartbeat", "HeartbeatAck", "CatchUp", "InstallSnapshot", "ClientRequest",
         "ClientReply", "Redirect")  # fmt: skip
"""Every message class, in phase order; the page's filters list them in this order."""

FATES = ("delivered", "dropped", "cut", "down", "held", "lost", "in flight")
_DELIVERED, _DROPPED, _CUT, _DOWN, _HELD, _LOST, _IN_FLIGHT = range(len(FATES))
_AT_DOOR = {"delivered": _DELIVERED, "down": _DOWN, "held": _HELD}
_COPIES = {"deliver": 1, "duplicate": 2}
_NO_COPY = {"drop": _DROPPED, "cut": _CUT}
COLUMNS = ("id", "src", "dst", "kind", "ballot", "slot", "op", "sent_us", "arrive_us", "fate",
           "copy")  # fmt: skip
"""The message table's columns, one row per copy of a message."""


@dataclass
class MessageTable:
    """What message_table found: the model's two tables and the facts other parts use."""

    messages: dict[str, Any]
    quorums: dict[str, list[int]]
    commits: tuple[list[int], list[int]]  # (t_us, height), by time
    claims: list[tuple[int, str, str]]  # (t_us, sender, ballot) of each Heartbeat and Accept
    replies: dict[tuple[int, int], list[tuple[int, int]]]  # op -> (arrive_us, server idx)
    problems: list[str] = field(default_factory=list)


def _arrivals_by_id(arrivals: Sequence[Any]) -> tuple[dict[int, Any], dict[int, list[Any]]]:
    """The first arrival of each id, and the later ones of the few ids that have more
    (duplicates, held copies): one dict lookup per message in the common case."""
    first: dict[int, Any] = {}
    more: dict[int, list[Any]] = {}
    for row in arrivals:
        mid = row.id
        if mid in first:
            more.setdefault(mid, []).append(row)
        else:
            first[mid] = row
    return first, more


def _copies(n: int, events: Sequence[Any], problems: list[str]) -> list[tuple[int, int]]:
    """(fate, arrive_us) of each of a message's n copies, from its arrival lines in order."""
    copies = [[_IN_FLIGHT, -1] for _ in range(n)]
    started = 0
    for event in events:
        outcome = event.outcome
        fate = _AT_DOOR.get(outcome)
        if fate is not None:
            if started < n:
                copies[started] = [fate, -1 if fate == _HELD else event.t_us]
                started += 1
            else:
                problems.append(f"message {event.id}: more arrivals than copies")
        elif outcome in ("released", "lost"):
            for copy in copies:
                if copy[0] == _HELD and copy[1] == -1:
                    copy[0] = _HELD if outcome == "released" else _LOST
                    copy[1] = event.t_us
                    break
            else:
                problems.append(f"message {event.id}: {outcome} but not held")
        else:
            problems.append(f"message {event.id}: unknown arrival outcome {outcome!r}")
    return [(fate, arrive) for fate, arrive in copies]


def _fates(row: Any, arrival: Any, more: dict[int, list[Any]], problems: list[str]
           ) -> list[tuple[int, int]]:  # fmt: skip
    """(fate, arrive_us) of each copy of a message that is not simply delivered once."""
    n = _COPIES.get(row.fate)
    if n is None:
        if row.fate not in _NO_COPY:
            problems.append(f"message {row.id}: unknown fate {row.fate!r}")
        return [(_NO_COPY.get(row.fate, _DROPPED), -1)]
    if arrival is None:
        return [(_IN_FLIGHT, -1)] * n
    return _copies(n, [arrival, *more.get(row.id, ())], problems)


def _column(sends: Sequence[Any], name: str) -> list[Any]:
    return list(map(attrgetter(name), sends))


def _in_time_order(sends: Sequence[Any]) -> list[Any]:
    """The send rows by (t_us, id); a file written in time order is kept as it is."""
    keys = list(zip(_column(sends, "t_us"), _column(sends, "id"), strict=True))
    if any(map(operator.gt, keys, keys[1:])):
        return [row for _, row in sorted(zip(keys, sends, strict=True), key=lambda kr: kr[0])]
    return list(sends)


def message_table(records: Any, node_index: dict[str, int], row_of: dict[tuple[int, int], int],
                  servers: int) -> MessageTable:
    """Build every column from `records` (paxlab.results.messages.MessageRecords).

    Column by column, with C-level maps over the rows, for the common message (sent once,
    delivered once); only the others (dropped, cut, duplicated, held, lost, to a down node,
    still in flight) go through Python one by one: at 100,000 messages a per-row loop
    was most of the model's build time."""
    sends = _in_time_order(records.sends)
    first, more = _arrivals_by_id(records.arrivals)
    problems: list[str] = []
    types = _column(sends, "type")
    kinds = list(KINDS) + sorted(set(types) - set(KINDS))
    kind_index = {k: i for i, k in enumerate(kinds)}
    raw_ballots = _column(sends, "ballot")
    ballots = sorted(set(raw_ballots) - {None}, key=lambda b: (ballot_key(b), b))
    ballot_index: dict[str | None, int] = {b: i for i, b in enumerate(ballots)}
    ballot_index[None] = -1
    ids = _column(sends, "id")
    sent = _column(sends, "t_us")
    raw_ops = _column(sends, "ops")
    sources = _column(sends, "src")
    arrivals = list(map(first.get, ids))
    cols: dict[str, list[int]] = {
        "id": ids,
        "src": list(map(node_index.__getitem__, sources)),
        "dst": list(map(node_index.__getitem__, _column(sends, "dst"))),
        "kind": list(map(kind_index.__getitem__, types)),
        "ballot": list(map(ballot_index.__getitem__, raw_ballots)),
        "slot": [-1 if slot is None else slot for slot in _column(sends, "slot")],
        "op": [-1 if not ops else row_of.get((ops[0][0], ops[0][1]), -1) for ops in raw_ops],
        "sent_us": sent,
        "arrive_us": [-1 if a is None else a.t_us for a in arrivals],
        "fate": [_DELIVERED] * len(sends),
        "copy": [0] * len(sends),
    }
    plain = [fate == "deliver" and a is not None and a.outcome == "delivered" and mid not in more
             for fate, a, mid in zip(_column(sends, "fate"), arrivals, ids, strict=True)]
    extra: list[tuple[int, int, int]] = []  # (row, fate, arrive_us) of each second copy
    for i in compress(range(len(plain)), map(operator.not_, plain)):
        copies = _fates(sends[i], arrivals[i], more, problems)
        cols["fate"][i], cols["arrive_us"][i] = copies[0]
        extra += [(i, fate, arrive) for fate, arrive in copies[1:]]
    orphans = len(first.keys() - set(ids))
    if orphans:
        problems.append(f"messages.jsonl: {orphans} arrivals of messages never sent (skipped)")
    leads = {kind_index["Heartbeat"], kind_index["Accept"]}
    claims = [(t_us, src, ballot) for t_us, src, ballot in compress(
        zip(sent, sources, raw_ballots, strict=True),
        map(leads.__contains__, cols["kind"])) if ballot is not None]
    reply = kind_index["ClientReply"]
    reply_ops = dict(compress(zip(ids, raw_ops, strict=True), map(reply.__eq__, cols["kind"])))
    if extra:
        _insert_copies(cols, extra)
    accepted, replies = _heard(cols, kind_index, reply_ops)
    quorums, commits = _quorums(accepted, servers)
    messages = {"count": len(cols["id"]), "kinds": kinds, "fates": list(FATES),
                "ballots": ballots, **cols}  # fmt: skip
    return MessageTable(messages, quorums, commits, claims, replies, problems)


def _insert_copies(cols: dict[str, list[int]], extra: list[tuple[int, int, int]]) -> None:
    """Put each second copy right after its first: same columns, its own fate and arrival,
    copy 1. The rows stay in (sent_us, id, copy) order."""
    for name, column in cols.items():
        out: list[int] = []
        done = 0
        for row, fate, arrive in extra:
            out += column[done:row + 1]
            done = row + 1
            out.append(fate if name == "fate" else arrive if name == "arrive_us"
                       else 1 if name == "copy" else column[row])  # fmt: skip
        out += column[done:]
        cols[name] = out


def _heard(cols: dict[str, list[int]], kind_index: dict[str, int], reply_ops: dict[int, Any]
           ) -> tuple[dict[tuple[int, int, int], list[tuple[int, int]]],
                      dict[tuple[int, int], list[tuple[int, int]]]]:  # fmt: skip
    """Accepted copies handed to their target, by (target, ballot index, slot), and
    ClientReply copies handed to their client, by op (`reply_ops`: each reply's ops, by
    id): (arrive_us, source) each. Rows are picked by kind in C (compress) and unpacked
    by zip: about 40% of a run's messages are Accepted."""
    accepted: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    replies: dict[tuple[int, int], list[tuple[int, int]]] = {}
    kind, fate, arrive = cols["kind"], cols["fate"], cols["arrive_us"]
    src, dst, ballot, slot, ids = cols["src"], cols["dst"], cols["ballot"], cols["slot"], cols["id"]
    handed = (_DELIVERED, _HELD)
    for to, b, at, arrive_us, by, how in compress(
            zip(dst, ballot, slot, arrive, src, fate, strict=True),
            map(kind_index["Accepted"].__eq__, kind)):  # fmt: skip
        if arrive_us >= 0 and how in handed and b >= 0 and at >= 0:
            heard = accepted.get((to, b, at))
            if heard is None:
                accepted[(to, b, at)] = [(arrive_us, by)]
            else:
                heard.append((arrive_us, by))
    for mid, arrive_us, by, how in compress(zip(ids, arrive, src, fate, strict=True),
                                            map(kind_index["ClientReply"].__eq__, kind)):
        ops = reply_ops.get(mid)
        if ops and arrive_us >= 0 and how in handed:
            replies.setdefault((ops[0][0], ops[0][1]), []).append((arrive_us, by))
    return accepted, replies


def _quorums(accepted: dict[tuple[int, int, int], list[tuple[int, int]]], servers: int
             ) -> tuple[dict[str, list[int]], tuple[list[int], list[int]]]:  # fmt: skip
    """Each (leader, ballot, slot) that heard a majority (the leader counts itself), at the
    time of the majority-th Accepted; and each slot's first such time, its commit."""
    majority = servers // 2 + 1
    found = []
    for (leader, ballot, slot), heard in accepted.items():
        heard.sort()
        voters = {leader}
        for arrive, src in heard:
            voters.add(src)
            if len(voters) >= majority:
                found.append((arrive, leader, slot, ballot))
                break
    found.sort()
    quorums = {"t_us": [q[0] for q in found], "node": [q[1] for q in found],
               "height": [q[2] for q in found], "ballot": [q[3] for q in found]}
    chosen: dict[int, int] = {}
    for t_us, _, slot, _ in found:
        chosen.setdefault(slot, t_us)
    commits = sorted((t, slot) for slot, t in chosen.items())
    return quorums, ([t for t, _ in commits], [h for _, h in commits])
