"""Effects.freeze must build exactly the Output the constructor would, for every field,
and the Output must stay frozen."""

from __future__ import annotations

import dataclasses

import pytest

from paxlab.core.ids import Ballot
from paxlab.core.messages import Envelope, HeartbeatTimeout
from paxlab.core.output import EMPTY_OUTPUT, Effects, Output, PromisedRecord, TimerCommand


def test_freeze_builds_the_output_the_constructor_would() -> None:
    fx = Effects()
    fx.to_persist.append(PromisedRecord(ballot=Ballot(1, 0)))
    fx.to_send.append(Envelope(source="s0", target="s1", message=HeartbeatTimeout()))
    fx.timers.append(TimerCommand(key="heartbeat", at_ms=5, message=HeartbeatTimeout()))
    fx.trace.append("hello")
    frozen = fx.freeze()
    expected = Output(**{f.name: _frozen(getattr(fx, f.name)) for f in dataclasses.fields(Output)})
    assert frozen == expected and hash(frozen) == hash(expected)
    # Every field is set (a field added to Output but not to freeze would fail here).
    for f in dataclasses.fields(Output):
        assert getattr(frozen, f.name) == getattr(expected, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.trace = ()  # type: ignore[misc]


def test_freeze_copies_so_later_effects_do_not_leak_in() -> None:
    fx = Effects()
    frozen = fx.freeze()
    fx.trace.append("later")
    assert frozen == Output()


def test_an_empty_step_shares_one_empty_output() -> None:
    assert Effects().freeze() is Effects().freeze() == Output()
    assert Output() == EMPTY_OUTPUT


def _frozen(value: object) -> object:
    """How freeze carries a field: lists become tuples, the one compaction stays itself."""
    return tuple(value) if isinstance(value, list) else value


def test_effects_collects_every_output_field() -> None:
    assert set(Effects.__slots__) == {f.name for f in dataclasses.fields(Output)}
    for name in Effects.__slots__:
        fx = Effects()
        if name == "compaction":
            fx.compaction = "x"  # type: ignore[assignment]
            assert fx.freeze().compaction == "x"
            continue
        getattr(fx, name).append("x")
        assert getattr(fx.freeze(), name) == ("x",), name
