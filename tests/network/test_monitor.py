"""The online invariant monitor on scripted message sequences: each rule broken and named
by the message that broke it, and tricky correct sequences (a new leader re-proposing an
adopted block, resent and duplicated messages, an acceptor restarted with its promise on
disk) passing."""

from __future__ import annotations

import json

import pytest

from paxlab.core.chain import GENESIS_PREV, Block, Txn, seal_block
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.messages import (
    Accept,
    Accepted,
    ClientRequest,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    Message,
    Prepare,
    Promise,
    Reject,
)
from paxlab.network.monitor import INVARIANTS, InvariantMonitor, MonitorReport, invariants_check

DIFFICULTY = 2
BLOCK_A = seal_block(0, GENESIS_PREV, (Txn(client=0, seq=1, op="put", key="'k'", value="'a'"),),
                     DIFFICULTY)
BLOCK_B = seal_block(0, GENESIS_PREV, (Txn(client=1, seq=1, op="put", key="'k'", value="'b'"),),
                     DIFFICULTY)


def b(round_: int, replica: int) -> Ballot:
    return Ballot(round_, replica)


def env(source: str, target: str, message: Message) -> Envelope:
    return Envelope(source=NodeId(source), target=NodeId(target), message=message)


def accept(ballot: Ballot, block: Block, slot: int = 0) -> Accept:
    return Accept(ballot=ballot, slot=slot, block=block, commit_index=0)


def accepted(ballot: Ballot, block: Block, slot: int = 0) -> Accepted:
    return Accepted(ballot=ballot, slot=slot, block_hash=block.hash)


def promise(ballot: Ballot) -> Promise:
    return Promise(ballot=ballot, from_slot=0, commit_index=0, accepted=(), decided=())


def run(servers: int, script: list[Envelope]) -> InvariantMonitor:
    """Feed the script at 10 ms, 20 ms, ... and return the monitor."""
    monitor = InvariantMonitor(servers)
    for index, envelope in enumerate(script, start=1):
        monitor.observe(10 * index, envelope)
    return monitor


def only(monitor: InvariantMonitor, invariant: str) -> str:
    """The one violation the script should produce, as its description."""
    assert [v.invariant for v in monitor.violations] == [invariant], monitor.violations
    assert monitor.total == 1 and invariants_check(monitor.report()).verdict == "fail"
    return monitor.violations[0].description


# --- one_block_per_slot -----------------------------------------------------------------


def test_two_blocks_chosen_in_one_slot_names_the_accepted_that_chose_the_second() -> None:
    # s0 leads b=1.0 and s1 accepts A: chosen by s0 (which accepts its own Accept) and s1.
    # Then s2 leads b=1.2 without adopting A, and s1 accepts B: chosen by s1 and s2.
    monitor = run(3, [
        env("s0", "s1", accept(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
        env("s2", "s1", Prepare(ballot=b(1, 2), from_slot=0)),
        env("s1", "s2", promise(b(1, 2))),
        env("s2", "s1", accept(b(1, 2), BLOCK_B)),
        env("s1", "s2", accepted(b(1, 2), BLOCK_B)),
    ])
    text = only(monitor, "one_block_per_slot")
    assert text.startswith(f"s1->s2 Accepted b=1.2 slot=0 hash={BLOCK_B.hash[:8]}")
    assert f"hash {BLOCK_A.hash[:8]} was chosen there at b=1.0 by s0, s1" in text
    assert monitor.violations[0].time_ms == 60


def test_acceptors_alone_can_make_both_majorities() -> None:
    # Five servers, no Accept seen: three Accepted messages make each majority.
    script = [env(f"s{i}", "s0", accepted(b(1, 0), BLOCK_A)) for i in (1, 2, 3)]
    script += [env(f"s{i}", "s4", accepted(b(2, 4), BLOCK_B)) for i in (1, 2, 3)]
    text = only(run(5, script), "one_block_per_slot")
    assert "completes a majority (s1, s2, s3)" in text


def test_a_new_leader_that_adopts_the_chosen_block_passes() -> None:
    # Paxos Made Simple: the new leader proposes the value of the highest-numbered
    # proposal among the promises, so the same block is chosen again at a higher ballot.
    monitor = run(3, [
        env("s0", "s1", accept(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
        env("s1", "s2", promise(b(1, 2))),
        env("s2", "s1", accept(b(1, 2), BLOCK_A)),
        env("s1", "s2", accepted(b(1, 2), BLOCK_A)),
    ])
    assert monitor.violations == [] and monitor.total == 0


def test_a_block_accepted_by_a_minority_may_be_replaced() -> None:
    # A at b=1.0 reached only s0 (and its Accept was resent and duplicated on the way):
    # it was never chosen, so a later leader may choose B in the same slot.
    first = env("s0", "s1", accept(b(1, 0), BLOCK_A))
    monitor = run(5, [
        first, first, env("s0", "s2", accept(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),  # duplicated: still one acceptor
        env("s4", "s2", accept(b(2, 4), BLOCK_B)),
        env("s2", "s4", accepted(b(2, 4), BLOCK_B)),
        env("s3", "s4", accepted(b(2, 4), BLOCK_B)),
    ])
    assert monitor.total == 0, monitor.violations


def test_slots_are_separate() -> None:
    block_1 = seal_block(1, BLOCK_A.hash, (), DIFFICULTY)
    other_1 = seal_block(1, BLOCK_B.hash, (), DIFFICULTY)
    monitor = run(3, [
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
        env("s2", "s0", accepted(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), block_1, slot=1)),
        env("s2", "s0", accepted(b(1, 0), block_1, slot=1)),
    ])
    assert monitor.total == 0
    monitor.observe(100, env("s0", "s1", accept(b(2, 0), other_1, slot=1)))
    monitor.observe(110, env("s1", "s0", accepted(b(2, 0), other_1, slot=1)))
    assert "slot 1" in only(monitor, "one_block_per_slot")


# --- promise_kept -----------------------------------------------------------------------


def test_an_acceptor_that_accepts_below_its_promise_is_named() -> None:
    # Paxos Made Simple: "An acceptor can accept a proposal numbered n iff it has not
    # responded to a prepare request having a number greater than n."
    monitor = run(3, [
        env("s1", "s2", promise(b(2, 2))),
        env("s0", "s1", accept(b(1, 0), BLOCK_A)),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
    ])
    text = only(monitor, "promise_kept")
    assert text.startswith(f"s1->s0 Accepted b=1.0 slot=0 hash={BLOCK_A.hash[:8]}: s1 accepted")
    assert "below ballot 2.2, which it answered at 10 ms (s1->s2 Promise b=2.2" in text


def test_an_acceptor_that_promises_below_its_promise_is_named() -> None:
    monitor = run(3, [env("s1", "s2", promise(b(2, 2))), env("s1", "s0", promise(b(1, 0)))])
    assert only(monitor, "promise_kept").startswith("s1->s0 Promise b=1.0")


def test_an_accepted_ballot_counts_as_a_promise() -> None:
    monitor = run(3, [
        env("s1", "s2", accepted(b(2, 2), BLOCK_A)),
        env("s1", "s0", promise(b(1, 0))),
    ])
    assert "which it answered at 10 ms (s1->s2 Accepted b=2.2" in only(monitor, "promise_kept")


def test_a_restarted_acceptor_that_kept_its_promise_passes() -> None:
    # s1 promises 2.2, crashes and restarts with the promise on disk: it refuses the old
    # leader (Reject carries its promise), answers again at 2.2 (resent and duplicated),
    # and goes on to a higher ballot. Heartbeat acks and client traffic are not answers.
    script = [
        env("s1", "s2", promise(b(2, 2))),
        env("s1", "s0", Reject(ballot=b(2, 2))),
        env("s1", "s2", promise(b(2, 2))),
        env("s1", "s2", accepted(b(2, 2), BLOCK_A)),
        env("s1", "s2", accepted(b(2, 2), BLOCK_A)),
        env("s1", "s2", HeartbeatAck(ballot=b(1, 0), commit_index=0)),
        env("c0", "s1", ClientRequest(client=0, seq=1, op="get", key="'k'", value=None)),
        env("s1", "s0", promise(b(3, 0))),
        env("s1", "s0", accepted(b(3, 0), BLOCK_A)),
    ]
    monitor = run(3, script)
    assert monitor.total == 0 and monitor.observed == len(script)


def test_a_restarted_acceptor_that_forgot_its_promise_is_named() -> None:
    # The same acceptor without its promise on disk accepts the old leader after restart.
    monitor = run(3, [
        env("s1", "s2", promise(b(2, 2))),
        env("s1", "s0", accepted(b(1, 0), BLOCK_A)),
    ])
    assert only(monitor, "promise_kept").startswith("s1->s0 Accepted b=1.0")


def test_promises_are_per_acceptor() -> None:
    monitor = run(3, [env("s1", "s2", promise(b(2, 2))), env("s2", "s0", promise(b(1, 0)))])
    assert monitor.total == 0


# --- one_leader_per_ballot --------------------------------------------------------------


@pytest.mark.parametrize("second", [
    Heartbeat(ballot=b(1, 0), commit_index=0),
    accept(b(1, 0), BLOCK_B),
    Prepare(ballot=b(1, 0), from_slot=0),
], ids=lambda m: type(m).__name__)
def test_two_sources_with_one_ballot_are_named(second: Message) -> None:
    monitor = run(3, [env("s0", "s1", Heartbeat(ballot=b(1, 0), commit_index=0)),
                      env("s2", "s1", second)])
    text = only(monitor, "one_leader_per_ballot")
    assert text.startswith(f"s2->s1 {type(second).__name__} b=1.0")
    assert "ballot 1.0 is already led by s0 (s0->s1 Heartbeat b=1.0 at 10 ms)" in text


def test_one_leader_repeating_itself_and_many_ballots_pass() -> None:
    monitor = run(3, [
        env("s0", "s1", Prepare(ballot=b(1, 0), from_slot=0)),
        env("s0", "s1", Heartbeat(ballot=b(1, 0), commit_index=0)),
        env("s0", "s2", Heartbeat(ballot=b(1, 0), commit_index=0)),
        env("s0", "s1", accept(b(1, 0), BLOCK_A)),
        env("s0", "s1", accept(b(1, 0), BLOCK_A)),
        env("s1", "s0", Prepare(ballot=b(1, 1), from_slot=0)),
        env("s1", "s0", Heartbeat(ballot=b(2, 1), commit_index=0)),
    ])
    assert monitor.total == 0


def test_each_copy_of_a_broadcast_that_breaks_a_rule_counts() -> None:
    # observe skips a broadcast's copies to other peers only while they break nothing.
    rogue = Heartbeat(ballot=b(1, 0), commit_index=0)
    monitor = run(3, [env("s0", "s1", Heartbeat(ballot=b(1, 0), commit_index=0)),
                      env("s2", "s0", rogue), env("s2", "s1", rogue)])
    assert monitor.total == 2 and monitor.observed == 3


def test_one_message_object_from_another_sender_is_checked() -> None:
    shared = Heartbeat(ballot=b(1, 0), commit_index=0)
    monitor = run(3, [env("s0", "s1", shared), env("s2", "s1", shared)])
    only(monitor, "one_leader_per_ballot")


def test_a_message_sent_again_after_others_is_checked_again() -> None:
    # The same Accepted object twice, with a higher promise between: the second copy
    # is below the promise.
    late = accepted(b(1, 0), BLOCK_A)
    monitor = run(3, [env("s1", "s0", late), env("s1", "s2", promise(b(2, 2))),
                      env("s1", "s0", late)])
    assert "s1 accepted below ballot 2.2" in only(monitor, "promise_kept")


# --- the report and the verdict ---------------------------------------------------------


def test_only_the_first_violations_are_kept_but_all_are_counted() -> None:
    monitor = InvariantMonitor(3, violations_max=3)
    monitor.observe(0, env("s1", "s2", promise(b(9, 2))))
    for round_ in range(1, 6):
        monitor.observe(round_, env("s1", "s0", promise(b(round_, 0))))
    assert monitor.total == 5 and len(monitor.violations) == 3
    check = monitor.check()
    assert check.name == "invariants" and check.verdict == "fail"
    assert check.details.splitlines()[0].startswith("promise_kept at 1 ms: s1->s0 Promise b=1.0")
    assert check.details.splitlines()[-1] == "... and 2 more"


def test_a_clean_run_passes_and_no_report_is_unknown() -> None:
    monitor = run(3, [env("s0", "s1", Heartbeat(ballot=b(1, 0), commit_index=0))])
    check = monitor.check()
    assert check.verdict == "pass" and "1 messages observed" in check.details
    assert all(name in check.details for name in INVARIANTS)
    assert invariants_check(None).verdict == "unknown"


def test_the_report_survives_json() -> None:
    monitor = run(3, [env("s1", "s2", promise(b(2, 2))), env("s1", "s0", promise(b(1, 0)))])
    report = monitor.report()
    assert MonitorReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
