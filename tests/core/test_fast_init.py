"""fast_init must give the very __init__ `dataclass` generates, only cheaper."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field

import pytest

import paxlab.core
from paxlab.core._fast_init import fast_init


def _twins(**options: object) -> tuple[type, type]:
    """The same frozen, slotted class twice: as `dataclass` made it, and with fast_init."""

    def make() -> type:
        @dataclass(frozen=True, slots=True, **options)  # type: ignore[call-overload]
        class Sample:
            a: int
            b: str = "b"
            c: int = field(default=-1, init=False, compare=False)
            d: tuple[int, ...] = ()
            seen: list[str] = field(default=None, init=False, compare=False, repr=False)  # type: ignore[assignment]

            def __post_init__(self) -> None:
                if self.a < 0:
                    raise ValueError("a < 0")
                object.__setattr__(self, "seen", ["post_init"])

        return Sample

    return make(), fast_init(make())


@pytest.mark.parametrize("kw_only", [False, True])
def test_same_signature_and_objects(kw_only: bool) -> None:
    plain, fast = _twins(kw_only=kw_only)
    assert inspect.signature(fast) == inspect.signature(plain)
    for kwargs in ({"a": 1}, {"a": 2, "b": "x"}, {"a": 3, "d": (1, 2)}):
        one, two = plain(**kwargs), fast(**kwargs)
        assert dataclasses.astuple(one) == dataclasses.astuple(two)
        assert two.c == -1 and two.seen == ["post_init"]
    with pytest.raises(ValueError, match="a < 0"):
        fast(a=-1)
    with pytest.raises(TypeError):
        fast(a=1, c=5)  # init=False stays out of the signature
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast(a=1).a = 2  # type: ignore[misc]
    if not kw_only:
        assert dataclasses.astuple(fast(4, "y")) == dataclasses.astuple(plain(4, "y"))
    else:
        with pytest.raises(TypeError):
            fast(4)


def test_refuses_what_it_cannot_speed_up() -> None:
    @dataclass(slots=True)
    class Unfrozen:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    for cls in (Unfrozen, NoSlots, Factory):
        with pytest.raises(TypeError):
            fast_init(cls)


def _fast_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(paxlab.core.__path__, "paxlab.core."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            init = getattr(value, "__init__", None)
            if (isinstance(value, type) and value.__module__ == module.__name__
                    and getattr(init, "__code__", None) is not None
                    and init.__code__.co_filename == "<string>"
                    and dataclasses.is_dataclass(value)
                    and "_set_0" in init.__globals__):
                found.append(value)
    return found


def test_the_core_messages_use_it_and_keep_their_parameters() -> None:
    classes = _fast_classes()
    names = {cls.__name__ for cls in classes}
    assert {"Envelope", "Accept", "Accepted", "Block", "Txn", "Ballot",
            "AcceptedRecord"} <= names
    for cls in classes:
        parameters = inspect.signature(cls).parameters
        expected = [f for f in dataclasses.fields(cls) if f.init]
        assert [p for p in parameters] == [f.name for f in expected], cls
        for f in expected:
            kind = parameters[f.name].kind
            assert (kind is inspect.Parameter.KEYWORD_ONLY) == f.kw_only, (cls, f.name)
