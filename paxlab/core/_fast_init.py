"""A cheaper `__init__` for the frozen, slotted dataclasses every step creates (private).

The one speed mechanism kept in the core, outside the protocol's logic: it changes how
an object is built, never what it holds. Measured in one run of `paxlab bench-sim
--seeds 1-30` beside the commit before the redesign (2ce9bde), taking it out cost 7.4%
of seed CPU (ratio to the in-run baseline 11.0x -> 11.9x), over the 5% bar; numbers
and method in docs/performance.md.

A frozen dataclass's generated `__init__` sets each field with `object.__setattr__(self,
name, value)`, the generic path. Each slot's own descriptor sets it directly, and the
object stays exactly as frozen: only `__init__` is replaced.

`fast_init` writes the new `__init__` from the dataclass's own fields, so the signature
(positional and keyword-only parameters, defaults, `init=False` fields) and the
`__post_init__` call are those `dataclass` generated; tests/core/test_fast_init.py
compares both. Fields with a default factory are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["fast_init"]

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an `__init__` that fills its slots directly.

    Stack it above `@dataclass(frozen=True, slots=True, ...)`. Refuses anything else:
    a class without slots has no slot descriptors, and an unfrozen one gains nothing."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"fast_init needs a frozen, slotted dataclass, not {cls.__name__}")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for index, f in enumerate(fields):
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} has a default factory")
        setter = f"_set_{index}"
        namespace[setter] = getattr(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{index}"] = f.default
        if not f.init:  # not a parameter: the field starts at its default, if it has one
            if f.default is not dataclasses.MISSING:
                body.append(f"{setter}(self, _default_{index})")
            continue
        parameter = f.name
        if f.default is not dataclasses.MISSING:
            parameter += f"=_default_{index}"
        body.append(f"{setter}(self, {f.name})")
        (keyword if f.kw_only else positional).append(parameter)
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + "".join(f"    {line}\n"
                                                       for line in body or ["pass"])
    exec(source, namespace)  # our own text, built from the class's fields, as dataclass does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[misc]
    return cls
