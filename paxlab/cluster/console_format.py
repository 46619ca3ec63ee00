"""Server replies as text for people: the blockchain, the KV store, the request queue,
status and links.

Plain functions over the contract's reply dicts (docs: /work/briefs/contract.md, "Command
dicts"), so the console, `paxlab cluster` and tests render the same text. A reply with a
missing or odd field still renders (as "-"): a person debugging a cluster by hand must
never lose the rest of a table to one bad field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

__all__ = [
    "LINK_MEANINGS",
    "VIEWS",
    "format_chain",
    "format_kv",
    "format_links",
    "format_queue",
    "format_reply",
    "format_status",
    "short_hash",
]

_TABLEFMT = "simple_outline"
_HASH_CHARS = 8
_CELL_MAX = 48  # a key, a value or a txn wider than this is cut with "..."
_MISSING = "-"

LINK_MEANINGS = {
    "up": "connected",
    "down": "not connected (the peer is down or unreachable)",
    "cut": "failed both ways (failLink)",
    "cut-out": "failed one way: nothing is sent to it",
    "cut-in": "failed one way: nothing is taken from it",
}


def short_hash(value: Any) -> str:
    """The first 8 hex digits of a hash, as people quote it; "-" for none."""
    return value[:_HASH_CHARS] if isinstance(value, str) and value else _MISSING


def _cut(text: Any, limit: int = _CELL_MAX) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    return tabulate(rows, headers=list(headers), tablefmt=_TABLEFMT, disable_numparse=True)


def _txn_line(txn: Any) -> str:
    """`c7.3 put ('alice', 1) = 5` or `c7.4 get 'x'`: who, which request, what."""
    if not isinstance(txn, Mapping):
        return _cut(repr(txn))
    who = f"c{txn.get('client', '?')}.{txn.get('seq', '?')}"
    text = f"{who} {txn.get('op', '?')} {txn.get('key', '?')}"
    if txn.get("op") == "put":
        text += f" = {txn.get('value')}"
    return _cut(text)


def format_chain(reply: Mapping[str, Any]) -> str:
    """The blockchain as a table, oldest first: height, prev (short), txns (one line
    each), nonce, hash (short), under a line with its length, head and difficulty."""
    chain = reply.get("chain")
    chain = chain if isinstance(chain, list) else []
    difficulty = reply.get("difficulty", _MISSING)
    if not chain:
        return f"blockchain: empty (difficulty {difficulty})"
    rows = []
    for block in chain:
        block = block if isinstance(block, Mapping) else {}
        txns = block.get("txns")
        txns = txns if isinstance(txns, list) else []
        rows.append([block.get("height", _MISSING), short_hash(block.get("prev")),
                     "\n".join(_txn_line(t) for t in txns) or "(none)",
                     _cut(block.get("nonce", _MISSING), 16), short_hash(block.get("hash"))])
    head = chain[-1].get("hash") if isinstance(chain[-1], Mapping) else None
    title = (f"blockchain: {len(chain)} block{'s' * (len(chain) != 1)}, "
             f"head {short_hash(head)}, difficulty {difficulty}")
    return title + "\n" + _table(rows, ["height", "prev", "txns", "nonce", "hash"])


def format_kv(reply: Mapping[str, Any]) -> str:
    """The KV store as a key/value table, sorted by key (keys are Python literals as
    typed, so they sort as text)."""
    kv = reply.get("kv")
    kv = kv if isinstance(kv, Mapping) else {}
    if not kv:
        return "KV store: empty"
    rows = [[_cut(key), _cut(value)] for key, value in sorted(kv.items(), key=lambda i: str(i[0]))]
    title = f"KV store: {len(kv)} key{'s' * (len(kv) != 1)}"
    return title + "\n" + _table(rows, ["key", "value"])


def format_queue(reply: Mapping[str, Any]) -> str:
    """The request queue: what this server holds that is not committed yet, in order."""
    pending = reply.get("pending")
    pending = pending if isinstance(pending, list) else []
    if not pending:
        return "request queue: empty"
    rows = []
    for item in pending:
        item = item if isinstance(item, Mapping) else {}
        value = item.get("value")
        rows.append([f"c{item.get('client', '?')}", item.get("seq", _MISSING),
                     item.get("op", _MISSING), _cut(item.get("key", _MISSING)),
                     _MISSING if value is None else _cut(value), item.get("state", _MISSING)])
    title = f"request queue: {len(pending)} request{'s' * (len(pending) != 1)}"
    return title + "\n" + _table(rows, ["client", "seq", "op", "key", "value", "state"])


def _server(value: Any) -> str:
    if value is None:
        return "none known"
    return f"s{value}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _peer_order(item: tuple[Any, Any]) -> tuple[int, str]:
    """s2 before s10: peers by number, anything else after them by name."""
    name = str(item[0])
    return (int(name[1:]), name) if name[:1] == "s" and name[1:].isdigit() else (1 << 30, name)


def _on(value: Any) -> str:
    return "on" if value is True else "off" if value is False else _MISSING


def _links_line(links: Any) -> str:
    if not isinstance(links, Mapping) or not links:
        return "(none)"
    return ", ".join(f"{peer} {state}" for peer, state in sorted(links.items(), key=_peer_order))


def format_status(reply: Mapping[str, Any]) -> str:
    """A server's state in four lines: who it is and what it knows, its links, its
    counters, its switches."""
    get = reply.get
    paused = get("paused")
    return "\n".join([
        f"{_server(get('id', _MISSING))}  {get('role', _MISSING)}  "
        f"leader {_server(get('leader'))}  "
        f"ballot {get('ballot') or _MISSING}  commit {get('commit', _MISSING)}  "
        f"head {short_hash(get('head'))}",
        f"links: {_links_line(get('links'))}",
        f"queue {get('queue', _MISSING)}  reconnects {get('reconnects', _MISSING)}  "
        f"auth failures {get('auth_failures', _MISSING)}  pid {get('pid', _MISSING)}",
        f"paused {'yes' if paused is True else 'no' if paused is False else _MISSING}  "
        f"trace {_on(get('trace'))}  slow {_on(get('slow'))}",
    ])


def format_links(reply: Mapping[str, Any]) -> str:
    """This server's link to each peer, with what its state means."""
    links = reply.get("links")
    if not isinstance(links, Mapping) or not links:
        return "links: none (a cluster of one)"
    rows = [[peer, state, LINK_MEANINGS.get(str(state), "")]
            for peer, state in sorted(links.items(), key=_peer_order)]
    title = f"links of {_server(reply.get('id', _MISSING))}"
    return title + "\n" + _table(rows, ["peer", "state", "meaning"])


VIEWS = {
    "chain": format_chain,
    "kv": format_kv,
    "queue": format_queue,
    "status": format_status,
    "links": format_links,
}


def format_reply(view: str, reply: Any, done: str = "") -> str:
    """A reply as the console shows it: `error: ...` for a refusal, the named view
    ("chain", "kv", "queue", "status", "links"), or `OK <done>` for a command that only
    acts ("ok"), followed by any message the server added."""
    if not isinstance(reply, Mapping):
        return f"error: the server sent no reply dict: {_cut(repr(reply))}"
    if reply.get("ok") is not True:
        return f"error: {reply.get('error') or 'the server refused without saying why'}"
    if view in VIEWS:
        return VIEWS[view](reply)
    text = f"OK {done}".rstrip()
    message = reply.get("message")
    return f"{text}: {message}" if message else text
