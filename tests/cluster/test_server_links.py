"""LinkFilter: the fault dicts cut exactly the pairs they cut in a lab run, per server."""

from __future__ import annotations

import pytest

from paxlab.cluster.links import LinkFilter
from paxlab.core.errors import RemoteError


def test_fail_and_fix_link_cut_both_ways_for_the_two_ends_only() -> None:
    links = LinkFilter("s0", 3)
    assert links.apply({"cmd": "fail_link", "a": "s0", "b": "s1"}) == "link s0-s1 failed"
    assert links.is_cut("s0", "s1") and links.is_cut("s1", "s0")
    assert not links.is_cut("s0", "s2")
    assert links.states() == {"s1": "cut", "s2": "up"}
    links.apply({"cmd": "fix_link", "a": "s1", "b": "s0"})
    assert links.states() == {"s1": "up", "s2": "up"}


def test_one_way_cut_shows_as_cut_out_at_the_source_and_cut_in_at_the_target() -> None:
    command = {"cmd": "fail_link_one_way", "source": "s0", "target": "s2"}
    source, target = LinkFilter("s0", 3), LinkFilter("s2", 3)
    source.apply(command)
    target.apply(command)
    assert source.state("s2") == "cut-out" and target.state("s0") == "cut-in"
    assert source.is_cut("s0", "s2") and not source.is_cut("s2", "s0")
    source.apply({"cmd": "fix_link", "a": "s0", "b": "s2"})  # fix undoes one-way cuts too
    assert source.state("s2") == "up"


def test_partition_isolate_and_heal() -> None:
    links = LinkFilter("s1", 5)
    links.apply({"cmd": "partition", "groups": [["s0", "s1"], ["s2", "s3"]]})
    # s4 was in no group: it forms a group of its own.
    assert links.states() == {"s0": "up", "s2": "cut", "s3": "cut", "s4": "cut"}
    links.apply({"cmd": "heal"})
    assert set(links.states().values()) == {"up"}
    links.apply({"cmd": "isolate", "server": "s1"})
    assert set(links.states().values()) == {"cut"}
    assert links.active_faults() == ["s1 isolated"]
    links.heal()
    assert links.active_faults() == []


def test_clients_and_admin_are_never_cut() -> None:
    links = LinkFilter("s0", 3)
    links.apply({"cmd": "isolate", "server": "s0"})
    assert not links.is_cut("c7", "s0") and not links.is_cut("s0", "c7")


@pytest.mark.parametrize(("command", "error"), [
    ({"cmd": "explode"}, "unknown net fault 'explode'"),
    ({"cmd": "fail_link", "a": "s0"}, "fail_link needs b"),
    ({"cmd": "fail_link", "a": "s0", "b": "s0"}, "two different servers"),
    ({"cmd": "fail_link", "a": "s0", "b": "s9"}, "expected a server s0..s2"),
    ({"cmd": "fail_link", "a": "s0", "b": "c1"}, "expected a server"),
    ({"cmd": "fail_link", "a": "s0", "b": 1}, "must be a server id"),
    ({"cmd": "isolate", "server": ["s0"]}, "must be a server id"),
    ({"cmd": "partition", "groups": "s0"}, "non-empty list"),
    ({"cmd": "partition", "groups": [["s0"], ["s0", "s1"]]}, "in two partition groups"),
    ("heal", "must be an object"),
])
def test_bad_fault_dicts_are_errors_that_change_nothing(command: object, error: str) -> None:
    links = LinkFilter("s0", 3)
    with pytest.raises(RemoteError, match=error):
        links.apply(command)  # type: ignore[arg-type]
    assert set(links.states().values()) == {"up"}


def test_a_filter_for_a_server_outside_the_cluster_is_refused() -> None:
    with pytest.raises(RemoteError, match="not one of the servers"):
        LinkFilter("s3", 3)
