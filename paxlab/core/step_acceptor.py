"""What every role handles: Boot, PreVote, Prepare, Accept, Heartbeat and CatchUp (the
acceptor and learner side of Multi-Paxos).

These run after the ballot gate in `replica.py`: a stale ballot never gets here, and
the replica already promised the message's ballot and follows its leader. The acceptor
follows the chain rule (acceptor.py); commits arrive with the leader's commit index.
"""

from __future__ import annotations

from paxlab.core.chain import verify_block
from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Accept,
    Accepted,
    Boot,
    CatchUp,
    Heartbeat,
    HeartbeatAck,
    InstallSnapshot,
    Prepare,
    PreVote,
    PreVoteReply,
    Promise,
)
from paxlab.core.output import AcceptedRecord
from paxlab.core.replica_base import ReplicaBase

__all__ = ["AcceptorSteps"]


class AcceptorSteps(ReplicaBase):
    """Handlers every role runs alike, as acceptor and learner."""

    def handle_boot(self, _sender: int, _m: Boot) -> None:
        self.last_leader_contact_ms = self.now_ms
        self._arm_election_timer()

    # --- pre-vote -----------------------------------------------------------------------

    def handle_pre_vote(self, sender: int, m: PreVote) -> None:
        """Grant only if we heard no live leader within the minimum election timeout
        (leader stickiness) and the sender holds at least our decided prefix. Nothing
        changes here: no promise, no round learned, no timer (Raft thesis 9.6)."""
        granted = not self.hears_live_leader() and m.commit_index >= self.commit_index
        self._send(sender, PreVoteReply(ballot=m.ballot, granted=granted,
                                        max_round=self.max_round_seen))

    def hears_live_leader(self) -> bool:
        """We lead, or our leader spoke within election_timeout_ms_min."""
        if self.leader is not None:
            return True
        quiet_ms = self.now_ms - self.last_leader_contact_ms
        return self.leader_id is not None and quiet_ms < self.params.election_timeout_ms_min

    # --- phase 1 ------------------------------------------------------------------------

    def handle_prepare(self, sender: int, m: Prepare) -> None:
        """Promise (the gate raised the promise): report what we accepted and decided
        from `from_slot` on, so the candidate can adopt it."""
        if m.from_slot < self.learner.base and sender != self.id:
            # The blocks it lacks were compacted away: our state, then the Promise (the
            # candidate asks again from its new commit index).
            self._send(sender, InstallSnapshot(snapshot=self.snapshot_now()))
        decided = self.learner.blocks_from(m.from_slot, self.params.catchup_blocks_max)
        self._send(
            sender,
            Promise(
                ballot=m.ballot,
                from_slot=m.from_slot,
                commit_index=self.commit_index,
                accepted=self.acceptor.entries_from(m.from_slot),
                decided=decided,
            ),
        )

    # --- phase 2 ------------------------------------------------------------------------

    def handle_accept(self, sender: int, m: Accept) -> None:
        self._learn_commit(m.ballot, m.commit_index)
        self._accept_run(sender, m)

    def _accept_run(self, sender: int, first: Accept) -> None:
        """Accept `first` and every parked successor it unblocks."""
        accept: Accept | None = first
        while accept is not None:
            accept = self._maybe_accept(sender, accept)

    def _retry_parked(self) -> None:
        """After the chain grew by other means (catch-up, commits), an Accept parked for
        the new tip may link now: without this it would wait for the leader to resend."""
        waiting = self.acceptor.parked.get(self.commit_index)
        if waiting is not None and waiting.ballot == self.acceptor.promised:
            del self.acceptor.parked[self.commit_index]
            self._accept_run(waiting.ballot.replica, waiting)

    def _maybe_accept(self, sender: int, m: Accept) -> Accept | None:
        """Accept `m` if it links; return a parked successor that may now link too."""
        if m.slot < self.commit_index:
            held = self.learner.block_at(m.slot)  # None: compacted away, nothing to confirm
            if held is not None and held.hash == m.block.hash:
                self._send(sender, Accepted(ballot=m.ballot, slot=m.slot, block_hash=m.block.hash))
            return None
        # No verify here: the replica's checks verified m (and every Accept it parked).
        if not self.acceptor.links(m, self.learner):
            self.acceptor.park(m, self.commit_index)
            return None
        entry = self.acceptor.accept(m)
        self._fx.to_persist.append(AcceptedRecord(slot=m.slot, ballot=m.ballot, block=m.block))
        self._send(sender, Accepted(ballot=entry.ballot, slot=m.slot, block_hash=m.block.hash))
        return self.acceptor.unpark(m.slot + 1, m.ballot) if self.acceptor.parked else None

    # --- commits, heartbeats, catch-up --------------------------------------------------

    def _learn_commit(self, ballot: Ballot, commit_index: int) -> None:
        """The leader of `ballot` says slots below `commit_index` are chosen. A block we
        accepted at that same ballot is the one it chose; for the rest we need catch-up."""
        learner = self.learner
        chain, base = learner.chain, learner.base  # base + len(chain) is the commit index
        before = base + len(chain)
        if before >= commit_index:
            return
        accepted = self.acceptor.accepted
        while base + len(chain) < commit_index:
            entry = accepted.get(base + len(chain))
            if entry is None or entry.ballot != ballot:
                break
            self._learn_decided(entry.block)
        if base + len(chain) > before:
            self._retry_parked()

    def handle_heartbeat(self, sender: int, m: Heartbeat) -> None:
        self._learn_commit(m.ballot, m.commit_index)
        self._send(sender, HeartbeatAck(ballot=m.ballot, commit_index=self.commit_index))

    def handle_catch_up(self, _sender: int, m: CatchUp) -> None:
        """Decided blocks from the leader (never run by a leader: its chain grows only
        by its own commits)."""
        before = self.commit_index
        for block in m.blocks:
            if block.height >= self.commit_index:
                verify_block(block, self.params.difficulty)
            # Blocks we already hold are compared: a different one is a conflict the
            # learner refuses loudly (RemoteError, logged), never silently skipped.
            self._learn_decided(block)
        if self.commit_index > before:
            self._retry_parked()

    def handle_install_snapshot(self, sender: int, m: InstallSnapshot) -> None:
        """A peer's state above our commit index (the blocks we lack were compacted
        away): install it, compact behind it, and go on from there. One at or below our
        commit index tells us nothing new and is dropped."""
        snapshot = m.snapshot
        if snapshot.height <= self.commit_index:
            return
        self._trace(f"installing {snapshot.describe()} from s{sender}")
        for applied in self.learner.install(snapshot):
            self._fx.committed.append(applied.block)  # the compaction's live records hold it
        self.acceptor.forget_below(self.commit_index)
        self._compact(snapshot, ())
        self._retry_parked()
        candidate = self.candidate
        if candidate is not None:
            # Phase 1 ran from a slot we now hold: ask again from the new commit index.
            candidate.from_slot = self.commit_index
            candidate.promises.clear()
            self._broadcast(Prepare(ballot=candidate.ballot, from_slot=self.commit_index))
