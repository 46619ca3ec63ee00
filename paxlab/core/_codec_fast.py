"""Hand-written JSON for the hot wire messages: the same bytes and checks, faster (private).

The generic codec (`paxlab.core.codec`) turns a message into a dict and hands it to
`json.dumps`, and on the way back walks a schema field by field; on a loaded cluster that
was about 30% of the servers' CPU (docs/performance.md, "The TCP cluster"). This module
does the same work for the messages every op sends (Accept, Accepted, Heartbeat,
HeartbeatAck, Reject, Prepare, ClientRequest, ClientReply, Redirect) without the detours.

Both directions are a shortcut with a way out, never a second definition of the format:

- `encode_message` returns the exact text `json.dumps(message_to_dict(m),
  separators=(",", ":"))` would: keys in schema order, strings through json's own escaper
  (ASCII only), ints as json writes them. Anything but exact ints, strs, bools and None
  where the schema expects them returns None, and the generic path writes it.
- `decode_message` takes the dict `json.loads` made of a frame's "msg" and builds the
  message only when every field is exactly what the generic decoder would accept; it
  builds it through the message's own constructor, so its checks still run. On any doubt
  (a missing or extra key, a wrong type, a constructor that refuses) it returns None, and
  the generic path decodes the same dict again: it alone words the RemoteError.

tests/core/test_codec_fast.py holds both equal to the generic path over generated
messages (odd strings and unicode included) and over broken frames.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from paxlab.core import messages as m
from paxlab.core.chain import Block, Txn
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot

__all__ = ["block_text", "decode_message", "encode_message"]


# --- encoding -------------------------------------------------------------------------


def _ballot_text(ballot: Any) -> str | None:
    if type(ballot) is not Ballot:
        return None
    r, p = ballot.round, ballot.replica
    if type(r) is not int or type(p) is not int:
        return None
    return f"[{r},{p}]"


def _opt_str_text(value: Any) -> str | None:
    """JSON of a `str | None` field; None (the Python value) when it is neither."""
    if value is None:
        return "null"
    if type(value) is str:
        return _quote(value)
    return None


def block_text(block: Any) -> str | None:
    """`json.dumps(block.to_dict(), separators=(",", ":"))`, or None for a block with a
    field this shortcut does not write. The wire and the record file both carry it."""
    if type(block) is not Block:
        return None
    height, prev, txns, nonce, digest = (block.height, block.prev, block.txns, block.nonce,
                                         block.hash)
    if (type(height) is not int or type(prev) is not str or type(nonce) is not str
            or type(digest) is not str or type(txns) is not tuple):
        return None
    parts = []
    for t in txns:
        if type(t) is not Txn:
            return None
        client, seq, op, key, value = t.client, t.seq, t.op, t.key, t.value
        if type(client) is not int or type(seq) is not int or type(op) is not str \
                or type(key) is not str:
            return None
        value_text = _opt_str_text(value)
        if value_text is None:
            return None
        parts.append(f'{{"client":{client},"seq":{seq},"op":{_quote(op)},'
                     f'"key":{_quote(key)},"value":{value_text}}}')
    return (f'{{"height":{height},"prev":{_quote(prev)},"txns":[{",".join(parts)}],'
            f'"nonce":{_quote(nonce)},"hash":{_quote(digest)}}}')


def _ints(a: Any, b: Any) -> bool:
    return type(a) is int and type(b) is int


def _encode_accept(msg: m.Accept) -> str | None:
    ballot, block = _ballot_text(msg.ballot), block_text(msg.block)
    slot, commit = msg.slot, msg.commit_index
    if ballot is None or block is None or not _ints(slot, commit):
        return None
    return (f'{{"type":"Accept","ballot":{ballot},"slot":{slot},"block":{block},'
            f'"commit_index":{commit}}}')


def _encode_accepted(msg: m.Accepted) -> str | None:
    ballot, slot, digest = _ballot_text(msg.ballot), msg.slot, msg.block_hash
    if ballot is None or type(slot) is not int or type(digest) is not str:
        return None
    return f'{{"type":"Accepted","ballot":{ballot},"slot":{slot},"block_hash":{_quote(digest)}}}'


def _encode_ballot_commit(name: str, msg: m.Heartbeat | m.HeartbeatAck) -> str | None:
    ballot, commit = _ballot_text(msg.ballot), msg.commit_index
    if ballot is None or type(commit) is not int:
        return None
    return f'{{"type":"{name}","ballot":{ballot},"commit_index":{commit}}}'


def _encode_heartbeat(msg: m.Heartbeat) -> str | None:
    return _encode_ballot_commit("Heartbeat", msg)


def _encode_heartbeat_ack(msg: m.HeartbeatAck) -> str | None:
    return _encode_ballot_commit("HeartbeatAck", msg)


def _encode_reject(msg: m.Reject) -> str | None:
    ballot = _ballot_text(msg.ballot)
    return None if ballot is None else f'{{"type":"Reject","ballot":{ballot}}}'


def _encode_prepare(msg: m.Prepare) -> str | None:
    ballot, from_slot = _ballot_text(msg.ballot), msg.from_slot
    if ballot is None or type(from_slot) is not int:
        return None
    return f'{{"type":"Prepare","ballot":{ballot},"from_slot":{from_slot}}}'


def _encode_request(msg: m.ClientRequest) -> str | None:
    client, seq, op, key, nominate = msg.client, msg.seq, msg.op, msg.key, msg.nominate
    value = _opt_str_text(msg.value)
    if value is None or not _ints(client, seq) or type(op) is not str or type(key) is not str:
        return None
    if nominate is True:
        flag = "true"
    elif nominate is False:
        flag = "false"
    else:
        return None
    return (f'{{"type":"ClientRequest","client":{client},"seq":{seq},"op":{_quote(op)},'
            f'"key":{_quote(key)},"value":{value},"nominate":{flag}}}')


def _encode_reply(msg: m.ClientReply) -> str | None:
    client, seq, outcome = msg.client, msg.seq, msg.outcome
    value, error = _opt_str_text(msg.value), _opt_str_text(msg.error)
    if value is None or error is None or not _ints(client, seq) or type(outcome) is not str:
        return None
    return (f'{{"type":"ClientReply","client":{client},"seq":{seq},"outcome":{_quote(outcome)},'
            f'"value":{value},"error":{error}}}')


def _encode_redirect(msg: m.Redirect) -> str | None:
    client, seq, hint = msg.client, msg.seq, msg.leader_hint
    if not _ints(client, seq):
        return None
    if hint is None:
        hint_text = "null"
    elif type(hint) is int:
        hint_text = str(hint)
    else:
        return None
    return f'{{"type":"Redirect","client":{client},"seq":{seq},"leader_hint":{hint_text}}}'


_ENCODERS: dict[type, Any] = {
    m.Accept: _encode_accept,
    m.Accepted: _encode_accepted,
    m.Heartbeat: _encode_heartbeat,
    m.HeartbeatAck: _encode_heartbeat_ack,
    m.Reject: _encode_reject,
    m.Prepare: _encode_prepare,
    m.ClientRequest: _encode_request,
    m.ClientReply: _encode_reply,
    m.Redirect: _encode_redirect,
}


def encode_message(message: m.Message) -> str | None:
    """The message's JSON text as the generic codec writes it, or None: not a hot
    message, or a field of a type this shortcut does not write (the generic path will)."""
    encoder = _ENCODERS.get(type(message))
    return None if encoder is None else encoder(message)  # type: ignore[no-any-return]


# --- decoding -------------------------------------------------------------------------
# Values come from json.loads, so an int is exactly an int and bools are not ints here.


class _Refused(Exception):
    """Not a shape this shortcut builds: the generic decoder takes the dict instead."""


def _ballot(value: Any) -> Ballot:
    if type(value) is not list or len(value) != 2:
        raise _Refused
    r, p = value
    if type(r) is not int or type(p) is not int:
        raise _Refused
    return Ballot(r, p)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Refused
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Refused
    return value


def _opt_str(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise _Refused
    return value


_BLOCK_KEYS = frozenset({"height", "prev", "txns", "nonce", "hash"})
_TXN_KEYS = frozenset({"client", "seq", "op", "key", "value"})


def _block(data: Any) -> Block:
    """As `Block.from_dict`, for a block it accepts; _Refused for anything else."""
    if type(data) is not dict or data.keys() != _BLOCK_KEYS:
        raise _Refused
    height, prev, txns, nonce, digest = (data["height"], data["prev"], data["txns"],
                                         data["nonce"], data["hash"])
    if (type(height) is not int or height < 0 or type(prev) is not str or len(prev) != 64
            or type(digest) is not str or len(digest) != 64 or type(nonce) is not str
            or type(txns) is not list):
        raise _Refused
    built = []
    for t in txns:
        if type(t) is not dict or t.keys() != _TXN_KEYS:
            raise _Refused
        built.append(Txn(client=t["client"], seq=t["seq"], op=t["op"], key=t["key"],
                         value=t["value"]))
    return Block(height=height, prev=prev, txns=tuple(built), nonce=nonce, hash=digest)


def _keys(data: dict[str, Any], keys: frozenset[str]) -> None:
    if data.keys() != keys:
        raise _Refused


def _fields(*names: str) -> frozenset[str]:
    return frozenset({"type", *names})


_ACCEPT = _fields("ballot", "slot", "block", "commit_index")
_ACCEPTED = _fields("ballot", "slot", "block_hash")
_BALLOT_COMMIT = _fields("ballot", "commit_index")
_REJECT = _fields("ballot")
_PREPARE = _fields("ballot", "from_slot")
_REQUEST = _fields("client", "seq", "op", "key", "value", "nominate")
_REPLY = _fields("client", "seq", "outcome", "value", "error")
_REDIRECT = _fields("client", "seq", "leader_hint")


def _decode_accept(d: dict[str, Any]) -> m.Message:
    _keys(d, _ACCEPT)
    return m.Accept(ballot=_ballot(d["ballot"]), slot=_int(d["slot"]), block=_block(d["block"]),
                    commit_index=_int(d["commit_index"]))


def _decode_accepted(d: dict[str, Any]) -> m.Message:
    _keys(d, _ACCEPTED)
    return m.Accepted(ballot=_ballot(d["ballot"]), slot=_int(d["slot"]),
                      block_hash=_str(d["block_hash"]))


def _decode_heartbeat(d: dict[str, Any]) -> m.Message:
    _keys(d, _BALLOT_COMMIT)
    return m.Heartbeat(ballot=_ballot(d["ballot"]), commit_index=_int(d["commit_index"]))


def _decode_heartbeat_ack(d: dict[str, Any]) -> m.Message:
    _keys(d, _BALLOT_COMMIT)
    return m.HeartbeatAck(ballot=_ballot(d["ballot"]), commit_index=_int(d["commit_index"]))


def _decode_reject(d: dict[str, Any]) -> m.Message:
    _keys(d, _REJECT)
    return m.Reject(ballot=_ballot(d["ballot"]))


def _decode_prepare(d: dict[str, Any]) -> m.Message:
    _keys(d, _PREPARE)
    return m.Prepare(ballot=_ballot(d["ballot"]), from_slot=_int(d["from_slot"]))


def _decode_request(d: dict[str, Any]) -> m.Message:
    _keys(d, _REQUEST)
    nominate = d["nominate"]
    if type(nominate) is not bool:
        raise _Refused
    return m.ClientRequest(client=_int(d["client"]), seq=_int(d["seq"]), op=_str(d["op"]),  # type: ignore[arg-type]
                           key=_str(d["key"]), value=_opt_str(d["value"]), nominate=nominate)


def _decode_reply(d: dict[str, Any]) -> m.Message:
    _keys(d, _REPLY)
    return m.ClientReply(client=_int(d["client"]), seq=_int(d["seq"]),
                         outcome=_str(d["outcome"]), value=_opt_str(d["value"]),
                         error=_opt_str(d["error"]))


def _decode_redirect(d: dict[str, Any]) -> m.Message:
    _keys(d, _REDIRECT)
    hint = d["leader_hint"]
    if hint is not None and type(hint) is not int:
        raise _Refused
    return m.Redirect(client=_int(d["client"]), seq=_int(d["seq"]), leader_hint=hint)


_DECODERS: dict[str, Any] = {
    "Accept": _decode_accept,
    "Accepted": _decode_accepted,
    "Heartbeat": _decode_heartbeat,
    "HeartbeatAck": _decode_heartbeat_ack,
    "Reject": _decode_reject,
    "Prepare": _decode_prepare,
    "ClientRequest": _decode_request,
    "ClientReply": _decode_reply,
    "Redirect": _decode_redirect,
}


def decode_message(data: Any) -> m.Message | None:
    """The message `message_from_dict(data)` would return, or None: not a hot message,
    or not one this shortcut is sure of (the generic decoder then accepts or refuses it)."""
    if type(data) is not dict:
        return None
    name = data.get("type")
    if type(name) is not str:
        return None
    decoder = _DECODERS.get(name)
    if decoder is None:
        return None
    try:
        return decoder(data)  # type: ignore[no-any-return]
    except (_Refused, RemoteError, TypeError, ValueError):
        return None
