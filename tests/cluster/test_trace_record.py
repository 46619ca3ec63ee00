"""A node's message record (cluster/msgrecord.py) and cluster check's join of them
(cluster/msgmerge.py), without sockets: hand-made frames and node files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxlab.cluster.msgmerge import node_files, read_node_records, write_messages
from paxlab.cluster.msgrecord import NODE_MESSAGES_FILE, MessageRecorder, fields_text
from paxlab.core.chain import Block, Txn
from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Accept,
    Accepted,
    CatchUp,
    ClientReply,
    ClientRequest,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    Prepare,
    Promise,
    Redirect,
    Reject,
)
from paxlab.results.messages import read_messages

B = Ballot(3, 1)
BLOCK = Block(height=4, prev="0" * 64, txns=(
    Txn(client=7, seq=2, op="put", key="'k'", value="1"),
    Txn(client=8, seq=5, op="get", key="'k'", value=None)), nonce="0", hash="ab" * 32)


def fields(message: object) -> list[object]:
    return json.loads("[" + fields_text(message) + "]")  # type: ignore[arg-type]


def test_each_message_names_its_type_ballot_slot_and_ops() -> None:
    assert fields(Prepare(ballot=B, from_slot=3)) == ["Prepare", "3.1", 3, None]
    assert fields(Promise(ballot=B, from_slot=3, commit_index=2, accepted=(),
                          decided=())) == ["Promise", "3.1", 3, None]
    assert fields(Accept(ballot=B, slot=4, block=BLOCK, commit_index=3)) == [
        "Accept", "3.1", 4, [[7, 2], [8, 5]]]
    assert fields(Accepted(ballot=B, slot=4, block_hash="ab" * 32)) == [
        "Accepted", "3.1", 4, None]
    assert fields(Reject(ballot=B)) == ["Reject", "3.1", None, None]
    assert fields(Heartbeat(ballot=B, commit_index=9)) == ["Heartbeat", "3.1", 9, None]
    assert fields(HeartbeatAck(ballot=B, commit_index=8)) == ["HeartbeatAck", "3.1", 8, None]
    assert fields(CatchUp(blocks=(BLOCK,))) == ["CatchUp", None, 4, None]
    assert fields(ClientRequest(client=7, seq=2, op="get", key="'k'", value=None)) == [
        "ClientRequest", None, None, [[7, 2]]]
    assert fields(ClientReply(client=7, seq=2, outcome="ok", value="1")) == [
        "ClientReply", None, None, [[7, 2]]]
    assert fields(Redirect(client=7, seq=2, leader_hint=1)) == [
        "Redirect", None, None, [[7, 2]]]


def lines(folder: Path) -> list[object]:
    return [json.loads(line) for line in
            (folder / NODE_MESSAGES_FILE).read_text().splitlines()]


def env(source: str, target: str, commit: int = 0) -> Envelope:
    return Envelope(source=source, target=target,
                    message=Heartbeat(ballot=B, commit_index=commit))


def test_a_server_notes_sends_seals_arrivals_and_what_a_pause_held(tmp_path: Path) -> None:
    rec = MessageRecorder.open(tmp_path, "s0", deferred=True)
    assert rec.sent(env("s0", "s1"), "deliver") == 1
    assert rec.sent(env("s0", "s2"), "cut") == 2
    rec.sealed("s1", "aa", 0, [1])
    rec.dropped([])  # nothing: no line
    rec.dropped([5])
    first, second, third = env("s1", "s0", 1), env("s1", "s0", 2), env("s1", "s0", 3)
    for counter, envelope in enumerate((first, second, third)):
        rec.door(envelope, "s1", "bb", counter)
    rec.take(first, "delivered")
    rec.take(second, "held")
    rec.take(third, "held")
    rec.take(env("s1", "s0"), "delivered")  # never at the door (a fake's): ignored
    rec.release(second, "released")
    rec.release(third, "lost")
    rec.release(third, "lost")  # once only
    assert rec.pending() == {"door": 0, "held": 0, "sent": 2}
    rec.close()
    header, *rows = lines(tmp_path)
    assert header["node"] == "s0" and header["format"] == "paxlab-node-messages"  # type: ignore[index]
    kinds = [(row[0], row[-1]) for row in rows]  # type: ignore[index]
    assert kinds == [("s", "deliver"), ("s", "cut"), ("w", [1]), ("d", [5]),
                     ("a", "delivered"), ("a", "held"), ("a", "held"),
                     ("a", "released"), ("a", "lost")]
    assert rows[0][3:8] == ["s1", "Heartbeat", "3.1", 0, None]  # type: ignore[index]


def test_a_client_notes_arrivals_at_once_and_a_restart_starts_a_fresh_line(
        tmp_path: Path) -> None:
    rec = MessageRecorder.open(tmp_path, "c7", flush_ns=0)
    rec.sent(env("c7", "s0"), "deliver")
    rec.door(env("s0", "c7"), "s0", "cc", 0)
    # Flushed at once (flush_ns=0): a client at its prompt leaves nothing in a buffer.
    assert len(lines(tmp_path)) == 3
    rec.close()
    path = tmp_path / NODE_MESSAGES_FILE
    path.write_bytes(path.read_bytes()[:-7])  # a crash tore the last line
    MessageRecorder.open(tmp_path, "c7").close()
    text = path.read_text().splitlines()
    assert json.loads(text[-1])["node"] == "c7"  # the new header is whole, on its own line


# --- the join ----------------------------------------------------------------------------


def write_node(data: Path, node: str, rows: list[object], tail: str = "") -> Path:
    folder = data / ("servers" if node[0] == "s" else "clients") / node
    folder.mkdir(parents=True, exist_ok=True)
    header = {"format": "paxlab-node-messages", "version": 1, "node": node, "pid": 10,
              "start_us": 1000}
    path = folder / NODE_MESSAGES_FILE
    path.write_text("".join(json.dumps(row) + "\n" for row in [header, *rows]) + tail)
    return path


def join(data: Path, tmp_path: Path, t0_us: int = 1000) -> tuple[object, list[str]]:
    run = tmp_path / "run"
    run.mkdir()
    records = read_node_records(node_files(data))
    merged = write_messages(run, records, t0_us)
    read = read_messages(run)
    assert read.problems == [] and read.header["driver"] == "cluster"
    return (merged, read), records.notes


SESSION = {
    "c7": [["s", 1, 1100, "s0", "ClientRequest", None, None, [[7, 1]], "deliver"],
           ["w", "s0", "l1", 0, [1]],
           ["a", "s0", "l1", 0, 1400, "delivered"]],
    "s0": [["s", 1, 1200, "s1", "Accept", "1.0", 0, [[7, 1]], "deliver"],
           ["s", 2, 1201, "s2", "Accept", "1.0", 0, [[7, 1]], "deliver"],
           ["s", 3, 1202, "s2", "Heartbeat", "1.0", 0, None, "deliver"],
           ["w", "s1", "l2", 5, [1]], ["w", "s2", "l3", 7, [2, 3]],
           ["a", "c7", "l1", 0, 1150, "delivered"],
           ["a", "s1", "l4", 0, 1300, "delivered"],
           ["s", 4, 1350, "c7", "ClientReply", None, None, [[7, 1]], "deliver"],
           ["w", "c7", "l1", 0, [4]],
           ["s", 5, 1360, "s1", "Heartbeat", "1.0", 1, None, "cut"],
           ["s", 6, 1370, "s1", "Heartbeat", "1.0", 1, None, "deliver"],
           ["d", [6]]],
    "s1": [["a", "s0", "l2", 5, 1250, "delivered"],
           ["s", 1, 1260, "s0", "Accepted", "1.0", 0, None, "deliver"],
           ["w", "s0", "l4", 0, [1]]],
    "s2": [["a", "s0", "l3", 7, 1210, "held"], ["a", "s0", "l3", 7, 1500, "released"],
           ["a", "s0", "l3", 8, 1211, "cut"]],
}


def test_sends_meet_their_arrivals_by_link_and_frame_counter(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for node, rows in SESSION.items():
        write_node(data, node, rows)  # type: ignore[arg-type]
    (merged, read), notes = join(data, tmp_path)
    assert notes == []
    sends = {(s.src, s.dst, s.type): s for s in read.sends}
    assert [s.id for s in read.sends] == sorted(s.id for s in read.sends)  # time order
    assert [s.t_us for s in read.sends] == sorted(s.t_us for s in read.sends)
    assert read.sends[0].t_us == 100  # 1100 - t0
    arrivals: dict[int, list[tuple[int, str]]] = {}
    for a in read.arrivals:
        arrivals.setdefault(a.id, []).append((a.t_us, a.outcome))

    def seen(src: str, dst: str, kind: str) -> list[tuple[int, str]]:
        return arrivals.get(sends[(src, dst, kind)].id, [])

    assert seen("c7", "s0", "ClientRequest") == [(150, "delivered")]
    assert seen("s0", "s1", "Accept") == [(250, "delivered")]
    assert seen("s0", "s2", "Accept") == [(210, "held"), (500, "released")]
    assert seen("s1", "s0", "Accepted") == [(300, "delivered")]
    assert seen("s0", "c7", "ClientReply") == [(400, "delivered")]
    # Cut where it arrived: the send's fate, no arrival line.
    assert sends[("s0", "s2", "Heartbeat")].fate == "cut" and seen("s0", "s2", "Heartbeat") == []
    fates = sorted((s.src, s.dst, s.t_us, s.fate) for s in read.sends if s.type == "Heartbeat")
    assert fates == [("s0", "s1", 360, "cut"), ("s0", "s1", 370, "drop"),
                     ("s0", "s2", 202, "cut")]
    assert sends[("s0", "s1", "Accept")].ops == ((7, 1),)
    assert merged.sends == 8 and merged.arrivals == 6 and merged.unmatched == 0  # type: ignore[attr-defined]


def test_torn_corrupt_and_orphan_lines_are_noted_and_the_rest_is_joined(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    for node, rows in SESSION.items():
        if node == "s1":  # its send line is lost: the arrival at s0 matches nothing
            rows = [rows[0], "not a row", ["x", 1], ["s", 1, "late", "s0"],
                    ["s", 2, 5, "s0", 7, None, None, None, "deliver"],
                    ["a", "s0", "l2", 0, 5, "eaten"],
                    # From s0, on a link it never noted, but after s0's record ends: sent
                    # after s0 was flushed, so not counted as missing.
                    ["a", "s0", "l9", 0, 1600, "delivered"]]
        write_node(data, node, rows, tail='garbage{\n["a","s0","l2",9,1' if node == "s1" else "")  # type: ignore[arg-type]
    bad = data / "servers" / "s3"
    bad.mkdir()
    (bad / NODE_MESSAGES_FILE).write_text('["s",1,5,"s0","Prepare","1.3",0,null,"deliver"]\n')
    (merged, read), notes = join(data, tmp_path)
    s1 = str(data / "servers" / "s1" / NODE_MESSAGES_FILE)
    assert notes == [
        f"{s1}: line 10: cut short (the process died mid-write); ignored",
        f"{s1}: line 3: not a message line; ignored",
        f"{s1}: line 4: unknown line kind 'x'; ignored",
        f"{s1}: line 5: not a message line; ignored",
        f"{s1}: line 6: a send line with a field of the wrong kind; ignored",
        f"{s1}: 2 more lines could not be read",  # line 7's outcome, line 9 not JSON
        f"{bad / NODE_MESSAGES_FILE}: line 1: before any header; ignored",
        "messages: 1 arrivals match no send line (the sender's file is missing, cut "
        "short, or on another host)",
    ]
    assert merged.unmatched == 1 and merged.sends == 7  # type: ignore[attr-defined]
    assert {s.type for s in read.sends} == {"ClientRequest", "Accept", "Heartbeat",
                                            "ClientReply"}


def test_each_start_of_a_process_numbers_its_messages_afresh(tmp_path: Path) -> None:
    data = tmp_path / "data"
    header = {"format": "paxlab-node-messages", "version": 1, "node": "s0", "pid": 11,
              "start_us": 1800}
    path = write_node(data, "s0", [["s", 1, 1100, "s1", "Prepare", "1.0", 0, None, "deliver"],
                                   ["w", "s1", "l1", 0, [1]], header,
                                   ["s", 1, 1900, "s1", "Prepare", "2.0", 0, None, "deliver"],
                                   ["w", "s1", "l2", 0, [1]]])
    assert path.exists()
    write_node(data, "s1", [["a", "s0", "l2", 0, 1950, "delivered"],
                            ["a", "s0", "l1", 0, 1150, "delivered"]])
    (_, read), notes = join(data, tmp_path)
    assert notes == []
    by_ballot = {s.ballot: s.id for s in read.sends}
    got = sorted((a.t_us, a.id) for a in read.arrivals)
    assert got == [(150, by_ballot["1.0"]), (950, by_ballot["2.0"])]


@pytest.mark.parametrize("header", [{"format": "other", "version": 1, "node": "s0"},
                                    {"format": "paxlab-node-messages", "version": 2,
                                     "node": "s0", "pid": 1, "start_us": 1},
                                    {"format": "paxlab-node-messages", "version": 1,
                                     "node": "s5", "pid": 1, "start_us": 1},
                                    {"format": "paxlab-node-messages", "version": 1,
                                     "node": "s0", "pid": 1}])
def test_a_foreign_header_is_refused_with_its_lines(tmp_path: Path,
                                                   header: dict[str, object]) -> None:
    data = tmp_path / "data"
    folder = data / "servers" / "s0"
    folder.mkdir(parents=True)
    (folder / NODE_MESSAGES_FILE).write_text(
        json.dumps(header) + "\n" + '["s",1,5,"s1","Prepare","1.0",0,null,"deliver"]\n')
    records = read_node_records(node_files(data))
    # A format or version we do not know is named, and its lines are not mixed in.
    path = folder / NODE_MESSAGES_FILE
    assert [note.split(": ", 1) for note in records.notes] == [
        [str(path), records.notes[0].split(": ", 1)[1]],
        [str(path), "1 lines under a header we cannot read; ignored"]]
    assert "line 1: " in records.notes[0] and records.sends == {}


def test_a_send_line_s_expected_frame_counts_unless_it_left_as_another(
        tmp_path: Path) -> None:
    """A send on a live link names the frame it should leave as; the connection notes
    ("w") only those that left otherwise. Here the queue overflowed: message 2 was
    dropped, so 3 left as frame 1, not 2, and 4 (sent after the drop) as frame 2."""
    data = tmp_path / "data"

    def send(n: int, t_us: int, frame: int) -> list[object]:
        return ["s", n, t_us, "s1", "Heartbeat", "1.0", n, None, "deliver", "L", frame]

    write_node(data, "s0", [send(1, 1100, 0), send(2, 1200, 1), send(3, 1300, 2),
                            ["d", [2]], send(4, 1400, 2), ["w", "s1", "L", 1, [3]]])
    write_node(data, "s1", [["a", "s0", "L", 0, 1150, "delivered"],
                            ["a", "s0", "L", 1, 1350, "delivered"],
                            ["a", "s0", "L", 2, 1450, "delivered"]])
    (merged, read), notes = join(data, tmp_path)
    assert notes == [] and merged.unmatched == 0  # type: ignore[attr-defined]
    by_slot = {s.slot: s for s in read.sends}
    arrived = {a.id: a.t_us for a in read.arrivals}
    assert by_slot[2].fate == "drop" and by_slot[2].id not in arrived
    assert [arrived[by_slot[n].id] for n in (1, 3, 4)] == [150, 350, 450]


def test_a_full_file_rotates_and_the_join_reads_both(tmp_path: Path) -> None:
    """Past its size limit a node's file becomes messages.1.jsonl (one older file kept)
    and a new one starts under the same run's header: sends in one file meet their
    arrivals and frame notes in the other."""
    data = tmp_path / "data"
    folder = data / "servers" / "s0"
    rec = MessageRecorder.open(folder, "s0", file_bytes_max=400)
    for _ in range(12):
        rec.sent(env("s0", "s1"), "deliver", "L", rec.pending()["sent"])
        rec.flush()
    rec.close()
    old = folder / "messages.1.jsonl"
    assert old.exists() and (folder / NODE_MESSAGES_FILE).stat().st_size < 400
    headers = [json.loads(line) for path in (old, folder / NODE_MESSAGES_FILE)
               for line in path.read_text().splitlines() if line.startswith("{")]
    assert len(headers) == 2 and headers[0] == headers[1]  # one run, continued
    first_kept = json.loads(old.read_text().splitlines()[1])[1]
    write_node(data, "s1", [["a", "s0", "L", counter, 10**15, "delivered"]
                            for counter in range(12)])
    (merged, read), notes = join(data, tmp_path, t0_us=0)
    # The oldest file was replaced: arrivals of the sends it held match nothing.
    assert len(read.sends) == 13 - first_kept > 1 and first_kept > 1
    assert len(read.arrivals) == len(read.sends)
    assert merged.unmatched == first_kept - 1 and len(notes) == 1  # type: ignore[attr-defined]
