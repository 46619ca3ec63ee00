"""Client requests at a server: lead them into the log, queue them, or redirect.

A leader answers a (client, seq) it already applied with the saved result and ignores a
retry of one that is queued or in flight, so a request is proposed at most once.
"""

from __future__ import annotations

from paxlab.core.messages import ClientReply, ClientRequest, Message, Redirect
from paxlab.core.replica_base import ReplicaBase, Role

__all__ = ["ClientRequestMixin"]


class ClientRequestMixin(ReplicaBase):
    # --- clients ------------------------------------------------------------------------

    def handle_client_request(self, client: int, m: Message) -> None:
        assert isinstance(m, ClientRequest)
        if self.role is Role.LEADER:
            self._lead_request(m)
        elif self.role is Role.CANDIDATE:
            self.queue.push(m)
        elif m.nominate and self._leader_is_suspect():
            self._trace(f"nominated by c{client}")
            self.become_candidate()
            self.queue.push(m)
        else:
            self._reply_client(
                client, Redirect(client=m.client, seq=m.seq, leader_hint=self.leader_id)
            )

    def _leader_is_suspect(self) -> bool:
        quiet_ms = self.now_ms - self.last_leader_contact_ms
        return quiet_ms >= 2 * self.params.heartbeat_interval_ms

    def _lead_request(self, m: ClientRequest) -> None:
        leader = self.leader
        assert leader is not None
        saved = self.learner.kv.result_of(m.client, m.seq)
        if saved is not None:
            value = m.value if m.op == "put" else saved.value
            self._reply_client(
                m.client, ClientReply(client=m.client, seq=m.seq, outcome="ok", value=value)
            )
            return
        rid = (m.client, m.seq)
        if rid in leader.in_flight or rid in self.queue:
            return  # answered when its block commits
        if not self.queue.push(m):
            self._trace(f"queue full; dropped c{m.client}#{m.seq}")
            return
        self.maybe_propose()

