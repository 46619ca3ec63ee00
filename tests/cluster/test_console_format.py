"""The console's views of the contract's reply dicts: whole tables compared as text, so a
change of layout shows in the diff; odd or missing fields render as "-", never raise."""

from __future__ import annotations

from typing import Any

import pytest

from paxlab.cluster.console_format import (
    LINK_MEANINGS,
    format_chain,
    format_kv,
    format_links,
    format_queue,
    format_reply,
    format_status,
    short_hash,
)

H0, H1 = "ab12cd34" + "0" * 56, "ffee0011" + "1" * 56
CHAIN = [
    {"height": 0, "prev": "0" * 64, "nonce": "17", "hash": H0, "txns": [
        {"client": 7, "seq": 1, "op": "put", "key": "('alice', 1)", "value": "{'tags': [1]}"},
        {"client": 8, "seq": 2, "op": "get", "key": "'x'", "value": None}]},
    {"height": 1, "prev": H0, "nonce": "3", "hash": H1, "txns": []},
]
STATUS: dict[str, Any] = {
    "ok": True, "id": 0, "role": "leader", "leader": 0, "ballot": "3.1", "commit": 42,
    "head": H1, "pid": 99, "links": {"s10": "up", "s2": "cut-out", "s1": "down"},
    "reconnects": 2, "auth_failures": 1, "paused": False, "trace": True, "slow": False,
    "queue": 3,
}


def test_the_chain_as_a_table() -> None:
    assert format_chain({"ok": True, "chain": CHAIN, "difficulty": 2}) == "\n".join([
        "blockchain: 2 blocks, head ffee0011, difficulty 2",
        "┌──────────┬──────────┬───────────────────────────────────────┬─────────┬──────────┐",
        "│ height   │ prev     │ txns                                  │ nonce   │ hash     │",
        "├──────────┼──────────┼───────────────────────────────────────┼─────────┼──────────┤",
        "│ 0        │ 00000000 │ c7.1 put ('alice', 1) = {'tags': [1]} │ 17      │ ab12cd34 │",
        "│          │          │ c8.2 get 'x'                          │         │          │",
        "│ 1        │ ab12cd34 │ (none)                                │ 3       │ ffee0011 │",
        "└──────────┴──────────┴───────────────────────────────────────┴─────────┴──────────┘",
    ])


def test_an_empty_chain() -> None:
    assert format_chain({"ok": True, "chain": [], "difficulty": 0}) == (
        "blockchain: empty (difficulty 0)")
    assert format_chain({"ok": True}) == "blockchain: empty (difficulty -)"


def test_a_chain_with_odd_fields_still_renders() -> None:
    text = format_chain({"ok": True, "chain": [{"height": "x", "txns": "no"}, 5, {
        "height": 3, "prev": None, "hash": 7, "nonce": "9" * 40,
        "txns": [{"client": 1}, "junk"]}]})
    assert text.splitlines()[0] == "blockchain: 3 blocks, head -, difficulty -"
    assert "c1.? ? ?" in text and "'junk'" in text
    assert "9" * 16 not in text  # a long nonce is cut


def test_the_kv_store_sorted_by_key_with_long_values_cut() -> None:
    assert format_kv({"ok": True, "kv": {"'b'": "2", "('alice', 1)": "x" * 100}}) == "\n".join([
        "KV store: 2 keys",
        "┌──────────────┬──────────────────────────────────────────────────┐",
        "│ key          │ value                                            │",
        "├──────────────┼──────────────────────────────────────────────────┤",
        "│ 'b'          │ 2                                                │",
        "│ ('alice', 1) │ " + "x" * 45 + "... │",
        "└──────────────┴──────────────────────────────────────────────────┘",
    ])
    assert format_kv({"ok": True, "kv": {}}) == "KV store: empty"
    assert format_kv({"ok": True, "kv": ["not", "a", "dict"]}) == "KV store: empty"


def test_the_request_queue() -> None:
    reply = {"ok": True, "pending": [
        {"client": 7, "seq": 3, "op": "put", "key": "'a'", "value": "1", "state": "proposed"},
        {"client": 8, "seq": 1, "op": "get", "key": "'a'", "value": None, "state": "queued"}]}
    assert format_queue(reply) == "\n".join([
        "request queue: 2 requests",
        "┌──────────┬───────┬──────┬───────┬─────────┬──────────┐",
        "│ client   │ seq   │ op   │ key   │ value   │ state    │",
        "├──────────┼───────┼──────┼───────┼─────────┼──────────┤",
        "│ c7       │ 3     │ put  │ 'a'   │ 1       │ proposed │",
        "│ c8       │ 1     │ get  │ 'a'   │ -       │ queued   │",
        "└──────────┴───────┴──────┴───────┴─────────┴──────────┘",
    ])
    assert format_queue({"ok": True, "pending": []}) == "request queue: empty"


def test_status_in_four_lines() -> None:
    assert format_status(STATUS) == "\n".join([
        "s0  leader  leader s0  ballot 3.1  commit 42  head ffee0011",
        "links: s1 down, s2 cut-out, s10 up",
        "queue 3  reconnects 2  auth failures 1  pid 99",
        "paused no  trace on  slow off",
    ])


def test_status_without_a_leader_or_fields() -> None:
    text = format_status({"ok": True, "id": 2, "role": "candidate", "leader": None})
    assert text.splitlines()[0] == (
        "s2  candidate  leader none known  ballot -  commit -  head -")
    assert text.splitlines()[1:] == ["links: (none)",
                                     "queue -  reconnects -  auth failures -  pid -",
                                     "paused -  trace -  slow -"]
    assert format_status({"ok": True, "leader": "s1"}).startswith("-  -  leader s1")


def test_links_with_what_each_state_means() -> None:
    assert format_links(STATUS) == "\n".join([
        "links of s0",
        "┌────────┬─────────┬─────────────────────────────────────────────────┐",
        "│ peer   │ state   │ meaning                                         │",
        "├────────┼─────────┼─────────────────────────────────────────────────┤",
        "│ s1     │ down    │ not connected (the peer is down or unreachable) │",
        "│ s2     │ cut-out │ failed one way: nothing is sent to it           │",
        "│ s10    │ up      │ connected                                       │",
        "└────────┴─────────┴─────────────────────────────────────────────────┘",
    ])
    assert format_links({"ok": True, "id": 0, "links": {}}) == "links: none (a cluster of one)"
    assert set(LINK_MEANINGS) == {"up", "down", "cut", "cut-out", "cut-in"}


@pytest.mark.parametrize(("view", "reply", "done", "expected"), [
    ("ok", {"ok": True}, "s0 is running for leader", "OK s0 is running for leader"),
    ("ok", {"ok": True}, "", "OK"),
    ("ok", {"ok": True, "message": "already leader"}, "s0 is running for leader",
     "OK s0 is running for leader: already leader"),
    ("chain", {"ok": False, "error": "not now"}, "", "error: not now"),
    ("status", {"ok": False}, "", "error: the server refused without saying why"),
    ("kv", {"ok": "yes", "kv": {}}, "", "error: the server refused without saying why"),
    ("kv", None, "", "error: the server sent no reply dict: None"),
    ("kv", {"ok": True, "kv": {"'a'": "1"}}, "", format_kv({"kv": {"'a'": "1"}})),
    ("links", STATUS, "", format_links(STATUS)),
    ("status", STATUS, "", format_status(STATUS)),
    ("queue", {"ok": True, "pending": []}, "", "request queue: empty"),
])
def test_format_reply(view: str, reply: Any, done: str, expected: str) -> None:
    assert format_reply(view, reply, done) == expected


def test_short_hash() -> None:
    assert short_hash(H0) == "ab12cd34"
    assert short_hash(None) == short_hash("") == short_hash(5) == "-"
