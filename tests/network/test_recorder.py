"""The recorder: each network message's fields as a send line carries them, and ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from paxlab.core import messages as m
from paxlab.core.chain import GENESIS_PREV, Txn, seal_block
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.snapshot import Snapshot
from paxlab.network.recorder import MessageRecorder, message_fields
from paxlab.results.messages import ArrivalRow, SendRow, messages_path, read_messages

B = Ballot(3, 1)
TXNS = (Txn(client=2, seq=5, op="put", key="'k'", value="'v'"),
        Txn(client=0, seq=9, op="get", key="'k'", value=None))
BLOCK = seal_block(4, GENESIS_PREV, TXNS, 0)
NEXT = seal_block(5, BLOCK.hash, (), 0)

EXAMPLES: list[tuple[m.Message, tuple]] = [
    (m.Prepare(ballot=B, from_slot=2), ("Prepare", "3.1", 2, None)),
    (m.Promise(ballot=B, from_slot=4, commit_index=3,
               accepted=(m.AcceptedEntry(slot=4, ballot=Ballot(2, 0), block=BLOCK),),
               decided=()), ("Promise", "3.1", 4, None)),
    (m.Accept(ballot=B, slot=4, block=BLOCK, commit_index=3),
     ("Accept", "3.1", 4, ((2, 5), (0, 9)))),
    (m.Accept(ballot=B, slot=5, block=NEXT, commit_index=3), ("Accept", "3.1", 5, ())),
    (m.Accepted(ballot=B, slot=4, block_hash=BLOCK.hash), ("Accepted", "3.1", 4, None)),
    (m.Reject(ballot=Ballot(7, 2)), ("Reject", "7.2", None, None)),
    (m.Heartbeat(ballot=B, commit_index=6), ("Heartbeat", "3.1", 6, None)),
    (m.HeartbeatAck(ballot=B, commit_index=5), ("HeartbeatAck", "3.1", 5, None)),
    (m.CatchUp(blocks=(BLOCK, NEXT)), ("CatchUp", None, 4, None)),
    (m.InstallSnapshot(snapshot=Snapshot(height=5, tip=NEXT.hash, kv=(), clients=())),
     ("InstallSnapshot", None, 5, None)),
    (m.ClientRequest(client=2, seq=5, op="put", key="'k'", value="'v'"),
     ("ClientRequest", None, None, ((2, 5),))),
    (m.ClientReply(client=2, seq=5, outcome="ok", value=None),
     ("ClientReply", None, None, ((2, 5),))),
    (m.Redirect(client=2, seq=6, leader_hint=None), ("Redirect", None, None, ((2, 6),))),
    (m.PreVote(ballot=B, commit_index=2), ("PreVote", "3.1", None, None)),
    (m.PreVoteReply(ballot=B, granted=False, max_round=4), ("PreVoteReply", "3.1", None, None)),
]


@pytest.mark.parametrize(("message", "expected"), EXAMPLES,
                         ids=[type(msg).__name__ for msg, _ in EXAMPLES])
def test_fields_of_each_message(message: m.Message, expected: tuple) -> None:
    assert message_fields(message) == expected


def test_every_network_message_class_is_covered() -> None:
    """A new message class must say what its send line carries: this fails until it does."""
    network = {cls for name in m.__all__ if isinstance(cls := getattr(m, name), type)
               and issubclass(cls, m.Message) and cls is not m.Message} - m.LOCAL
    assert network == {type(msg) for msg, _ in EXAMPLES}


def test_a_local_message_gives_its_name_only() -> None:
    assert message_fields(m.Boot()) == ("Boot", None, None, None)


def test_recorder_numbers_messages_and_writes_their_lines(tmp_path: Path) -> None:
    recorder = MessageRecorder.open(messages_path(tmp_path), "sim")
    accept = m.Envelope(source=NodeId("s1"), target=NodeId("s2"), message=EXAMPLES[2][0])
    request = m.Envelope(source=NodeId("c2"), target=NodeId("s0"), message=EXAMPLES[10][0])
    assert recorder.send(1500, accept, "duplicate") == 1
    assert recorder.send(1600, request, "cut") == 2
    recorder.arrive(1, 2000, "delivered")
    recorder.arrive(1, 2100, "held")
    assert recorder.sent == 2
    recorder.close()
    records = read_messages(tmp_path)
    assert records.problems == [] and records.header["driver"] == "sim"
    assert records.sends == [
        SendRow(1, 1500, "s1", "s2", "Accept", "3.1", 4, ((2, 5), (0, 9)), "duplicate"),
        SendRow(2, 1600, "c2", "s0", "ClientRequest", None, None, ((2, 5),), "cut"),
    ]
    assert records.arrivals == [ArrivalRow(1, 2000, "delivered"), ArrivalRow(1, 2100, "held")]
