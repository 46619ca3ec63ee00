"""Checks that the history is linearizable against one register per key, within a time budget.

The search is Wing and Gong's with Lowe's memo of (linearized set, register value), as
Porcupine runs it: walk the ops' call and return events in time order, linearize a
pending op when the register allows it, and backtrack when an op returns before it could
be linearized. Linearizability is compositional (Herlihy and Wing), so each key is checked
alone, smallest first. Two shortcuts keep it fast, and tests hold them to the plain
search's verdicts: a prune that never strands a get (see _Search) finds a linearization
quickly under many concurrent clients, and when a key's puts write distinct values,
check.zones proves most violations in O(n log n) where the search would try every order.

A put that ended "info" or never ended may take effect at any time after its invoke, or
never; such gets constrain nothing; "fail" ops never happened. A search that runs out of
time says unknown, never pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from paxlab.check.history import HistoryIndex
from paxlab.check.ops import Op, history_ops
from paxlab.check.verdict import CheckResult, fail, passed, plain_table, unknown
from paxlab.check.zones import Conflict, find_conflict

__all__ = ["BUDGET_S_DEFAULT", "KeySearches", "check_linearizable", "search_key", "search_keys"]

BUDGET_S_DEFAULT = 10.0
"""Seconds the whole check may search, over all keys, before it answers unknown."""

_TABLE_ROWS_MAX = 30
_VALUES_SHOWN_MAX = 8
_EXPLAIN_S_MAX = 1.0


@dataclass
class _Stuck:
    """Where the search got furthest: the latest return it could not pass, its op, and,
    when that op is a get, every value the register held there (None: no put wrote it)."""

    position: int = -1
    op: Op | None = None
    values: set[str | None] | None = None


class _Search:
    """Porcupine's search over one key's ops, resumable, so keys can share one budget.

    Events (call, return) sit in a doubly linked list in time order, calls before returns
    at equal times so ops that touch count as concurrent. Linearizing an op lifts both of
    its events out of the list; backtracking puts them back (dancing links). An op that
    need not happen (an info or open put) returns at +infinity: reaching such a return
    means every required op is linearized, and the rest may never take effect.

    With prune on, a put may not move the register off a value v while a required get of v
    is still to be linearized and no put of v is left: that get could never be satisfied.
    This cuts whole subtrees that plain memoization explores once per subset of hidden
    puts (exponential in the number of concurrent clients). The verdict is the same with
    it off, which the explanation uses: it then fails at the get itself.

    Ops are numbered by invoke time, so the linearized set is nearly always "every op below
    low, and a few above": it is kept as (low, rest), rest a bitset from op low on, so a
    memo entry takes a few machine words rather than one bit per op of the key.
    """

    def __init__(self, ops: Sequence[Op], prune: bool = True, zones: bool = True) -> None:
        # Locals rather than attributes in the loops below: one search per key per run.
        # Op.is_searched and Op.is_required, inline: a property call per op cost more than
        # its test (a test holds them together).
        searched = self.ops = [op for op in ops if op.outcome != "fail"
                               and (op.f == "put" or op.outcome == "ok")]  # fmt: skip
        required = self.required = [op.outcome == "ok" for op in searched]
        self.prune = prune
        n = len(searched)
        events = [(op.invoke_ns, 0, i) for i, op in enumerate(searched)]
        events += [(op.return_ns if required[i] else math.inf, 1, i)
                   for i, op in enumerate(searched)]  # fmt: skip
        events.sort()
        self.end = 2 * n + 1  # positions: 0 head, 1..2n events, 2n+1 tail
        self.next = [*range(1, 2 * n + 2), self.end]
        self.prev = [0, *range(0, 2 * n + 1)]
        op_at = self.op_at = [-1] * (2 * n + 2)
        call_at = self.call_at = [0] * n
        return_at = self.return_at = [0] * n
        for position, (_t, is_return, i) in enumerate(events, start=1):
            op_at[position] = i
            (return_at if is_return else call_at)[i] = position
        ids: dict[str | None, int] = {None: 0}  # values as small ints; 0 is "not found"
        vids = self.vids = [ids.setdefault(op.value, len(ids)) for op in searched]
        self.value_of = list(ids)
        is_put = self.is_put = [op.f == "put" for op in searched]
        # by value: required gets, and puts, not yet linearized
        reads_left = self.reads_left = [0] * len(ids)
        writes_left = self.writes_left = [0] * len(ids)
        for v, put in zip(vids, is_put, strict=True):
            (writes_left if put else reads_left)[v] += 1
        self.entry = self.next[0]
        self.state = 0  # the register, as a value id
        self.low = 0  # Invariant: every op below low is linearized, and op low is not
        self.rest = 0  # bit k: op low + k is linearized
        self.stack: list[tuple[int, int, int, int]] = []  # (op, and state, low, rest before)
        self.memo: set[tuple[int, int, int]] = set()  # (low, rest, state) tried
        self.steps = 0
        self.result: bool | None = None
        self.stuck = _Stuck()
        self.conflict: Conflict | None = None
        phantom = [i for i, v in enumerate(vids) if v and not writes_left[v]]
        if phantom:  # no put wrote it: no search needed
            self.result = False
            self.stuck = _Stuck(self.return_at[phantom[0]], self.ops[phantom[0]], None)
        elif zones:  # a quick proof, when values are unique, spares an exhaustive search
            self.conflict = find_conflict(self.ops)
            self.result = False if self.conflict else None

    def run(self, deadline: float, steps_max: float = math.inf) -> bool | None:
        """Search until decided (True: linearizable) or until perf_counter() > deadline
        or steps_max steps are taken, both looked at every 1,024 steps (None; call again
        to go on where it stopped)."""
        if self.result is not None:
            return self.result
        nxt, prv, op_at, call_at, return_at = (
            self.next, self.prev, self.op_at, self.call_at, self.return_at
        )  # fmt: skip
        is_put, vids, stack, memo = self.is_put, self.vids, self.stack, self.memo
        reads_left, writes_left, prune = self.reads_left, self.writes_left, self.prune
        entry, state, low, rest, end = self.entry, self.state, self.low, self.rest, self.end
        steps, required = self.steps, self.required
        while True:
            steps += 1
            if not steps & 1023 and (steps >= steps_max or time.perf_counter() > deadline):
                self.entry, self.state, self.low, self.rest, self.steps = (
                    entry, state, low, rest, steps
                )  # fmt: skip
                return None
            if entry == end:
                break
            i = op_at[entry]
            if entry == call_at[i]:
                v = vids[i]
                if is_put[i]:
                    if prune and v != state and reads_left[state] and not writes_left[state]:
                        entry = nxt[entry]  # it would strand a get of the current value
                        continue
                elif v != state:
                    entry = nxt[entry]
                    continue
                if i == low:  # drop the run of linearized ops that now starts at low
                    grown = rest | 1
                    shift = (~grown & (grown + 1)).bit_length() - 1
                    memo_key = (low + shift, grown >> shift, v)
                else:
                    memo_key = (low, rest | 1 << (i - low), v)
                if memo_key in memo:
                    entry = nxt[entry]
                    continue
                memo.add(memo_key)
                stack.append((i, state, low, rest))
                (writes_left if is_put[i] else reads_left)[v] -= 1
                low, rest, state = memo_key
                r = return_at[i]  # lift the call, then the return
                nxt[prv[entry]], prv[nxt[entry]] = nxt[entry], prv[entry]
                nxt[prv[r]], prv[nxt[r]] = nxt[r], prv[r]
                entry = nxt[0]
                continue
            if not required[i]:
                break
            self._note_stuck(entry, i, state)
            if not stack:
                self.steps, self.result = steps, False
                return False
            i, state, low, rest = stack.pop()
            (writes_left if is_put[i] else reads_left)[vids[i]] += 1
            c, r = call_at[i], return_at[i]  # put back the return, then the call
            nxt[prv[r]] = prv[nxt[r]] = r
            nxt[prv[c]] = prv[nxt[c]] = c
            entry = nxt[c]
        self.steps, self.result = steps, True
        return True

    def _note_stuck(self, position: int, i: int, state: int) -> None:
        """Remember the furthest return that forced a backtrack, and for a get that read
        another value, the register values it met there."""
        stuck = self.stuck
        if position > stuck.position:
            stuck.position, stuck.op, stuck.values = position, self.ops[i], set()
        if position == stuck.position and not self.is_put[i] and self.vids[i] != state:
            assert stuck.values is not None
            stuck.values.add(self.value_of[state])


_QUICK_STEPS_PER_OP = 4


def _new_search(ops: Sequence[Op], deadline: float) -> _Search:
    """One key's search, tried first without the zones, which only ever prove a violation:
    most keys linearize in about one step per op, and then there is none to find, and the
    zones (as dear as the search itself) are skipped. A key not found linearizable within
    a few steps per op (or by the deadline) gets a fresh search with zones, so its verdict,
    explanation and step count are what they were; a decided quick search counted the
    same steps as the search after the zones would have."""
    quick = _Search(ops, zones=False)
    if quick.run(deadline, _QUICK_STEPS_PER_OP * len(ops)) is True:
        return quick
    return _Search(ops)


def search_key(
    ops: Sequence[Op], budget_s: float = BUDGET_S_DEFAULT, prune: bool = True, zones: bool = True
) -> bool | None:
    """One key's ops as one register: True linearizable, False not, None out of time.
    prune=False and zones=False run the plain search, for tests that neither shortcut
    changes a verdict."""
    return _Search(ops, prune, zones).run(time.perf_counter() + budget_s)


def _keys(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f}"


def _shown(value: str | None) -> str:
    return "not found" if value is None else value


def _answered(op: Op) -> str:
    if op.outcome == "ok" and op.return_ns is not None:
        return _ms(op.return_ns)
    return "never" if op.outcome == "open" else op.outcome


def _why(search: _Search, ops: Sequence[Op]) -> str:
    """One line on the op the search could not get past, from a finished search."""
    op, values = search.stuck.op, search.stuck.values
    if search.conflict:
        return search.conflict.why
    if op is None:
        return "why: no order of these ops satisfies every get"
    who = f"{op.f} by process {op.process} seq {op.seq}"
    if values is None:
        if any(o.f == "put" and o.value == op.value for o in ops):
            return f"why: the {who} read {op.value}, written only by a put that ended fail"
        return f"why: the {who} read {op.value}, which no put to this key wrote"
    if op.f == "get" and values:
        held = sorted(values, key=lambda v: (v is not None, v or ""))
        shown = ", ".join(_shown(v) for v in held[:_VALUES_SHOWN_MAX])
        if len(held) > _VALUES_SHOWN_MAX:
            shown += f" and {len(held) - _VALUES_SHOWN_MAX} more"
        return (
            f"why: the {who} read {_shown(op.value)}, but no order of the ops before it "
            f"leaves that in the register; it could only hold: {shown}"
        )
    return f"why: no order of the ops before the answer to the {who} satisfies every get"


def _explained(ops: Sequence[Op], search: _Search, deadline: float) -> _Search:
    """The pruned search fails at a put that would strand a get, and the zones at two
    stretches of time; the plain search fails at the get itself, which reads best. Use it
    if it decides in time."""
    if search.conflict is None and search.stuck.values is None:
        return search  # a read of a value never written says it all
    plain = _Search(ops, prune=False, zones=False)
    now = time.perf_counter()
    if plain.run(now + min(_EXPLAIN_S_MAX, max(0.0, deadline - now))) is False:
        return plain
    return search


def _ops_table(ops: Sequence[Op], culprit: Op | None) -> str:
    """The key's ops by invoke time, at most _TABLE_ROWS_MAX of them around the culprit."""
    at = next((n for n, op in enumerate(ops) if op is culprit), 0)
    start = max(0, min(at - 2 * _TABLE_ROWS_MAX // 3, len(ops) - _TABLE_ROWS_MAX))
    shown = ops[start : start + _TABLE_ROWS_MAX]
    rows = [
        (op.process, op.f, _shown(op.value) if op.f == "put" or op.outcome == "ok" else "",
         _ms(op.invoke_ns), _answered(op), "<- here" if op is culprit else "")
        for op in shown
    ]  # fmt: skip
    table = plain_table(rows, ("process", "op", "value", "invoked ms", "answered ms", ""))
    lines = [f"... {start} earlier ops"] if start else []
    lines.append(table)
    after = len(ops) - start - len(shown)
    if after:
        lines.append(f"... {after} later ops")
    return "\n".join(lines)


@dataclass
class KeySearches:
    """Every key's search once the budget is spent or all are decided: what the check
    reports from, and what check.explain starts from so it names the same key."""

    by_key: dict[str, list[Op]]  # each key's ops, by invoke time
    order: list[str]  # keys smallest first (fewest ops, then name): the order searched
    searches: dict[str, _Search]
    deadline: float  # perf_counter() time the budget ends

    @property
    def failed(self) -> list[str]:
        return [key for key in self.order if self.searches[key].result is False]

    @property
    def undecided(self) -> list[str]:
        return [key for key in self.order if self.searches[key].result is None]


def search_keys(
    history: Sequence[dict], budget_s: float = BUDGET_S_DEFAULT,
    index: HistoryIndex | None = None,
) -> KeySearches:
    """Searches every key of the history, smallest first, within budget_s seconds over
    all keys: first a fair share of the time each, then the undecided ones with what is
    left."""
    deadline = time.perf_counter() + budget_s
    ops = history_ops(history, index)
    by_key: dict[str, list[Op]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    order = sorted(by_key, key=lambda k: (len(by_key[k]), k))
    searches = {key: _new_search(by_key[key], deadline) for key in order}
    for left in range(len(order), 0, -1):  # first round: each key a fair share of the time
        key = order[len(order) - left]
        now = time.perf_counter()
        searches[key].run(now + max(0.0, deadline - now) / left)
    for key in order:  # then the undecided ones, with whatever time is left
        searches[key].run(deadline)
    return KeySearches(by_key, order, searches, deadline)


def check_linearizable(
    history: Sequence[dict], budget_s: float = BUDGET_S_DEFAULT,
    index: HistoryIndex | None = None,
) -> CheckResult:
    """linearizable: every key's ops as a register (initially not found). Fails naming the
    smallest failing key with its ops; unknown, naming the keys left undecided, when
    budget_s seconds (over all keys) run out first. `index` is index_history of the
    history when the caller has it (check_records)."""
    name = "linearizable"
    keys = search_keys(history, budget_s, index)
    by_key, order, searches, deadline = keys.by_key, keys.order, keys.searches, keys.deadline
    failed, undecided = keys.failed, keys.undecided
    if failed:
        key = failed[0]
        search = _explained(by_key[key], searches[key], deadline)
        head = f"key {key} ({len(by_key[key])} ops) is not linearizable"
        if failed[1:]:
            head += f"; {_keys(len(failed) - 1, 'more key fails', 'more keys fail')}: "
            head += ", ".join(failed[1:6]) + (" ..." if len(failed) > 6 else "")
        if undecided:
            head += f"; {_keys(len(undecided), 'key', 'keys')} undecided in the time budget"
        culprit = search.conflict.op if search.conflict else search.stuck.op
        table = _ops_table(by_key[key], culprit)
        return fail(name, [f"{head}\n{_why(search, by_key[key])}\n{table}"])
    if undecided:
        names = ", ".join(f"{k} ({len(by_key[k])} ops)" for k in undecided[:5])
        more = f" and {len(undecided) - 5} more" if len(undecided) > 5 else ""
        return unknown(
            name,
            f"out of time ({budget_s:g} s budget): could not decide "
            f"{'key' if len(undecided) == 1 else 'keys'} {names}{more}; "
            f"{_keys(len(order) - len(undecided), 'other key is', 'other keys are')} linearizable",
        )
    searched = sum(len(s.ops) for s in searches.values())  # each key's searched ops
    optional = sum(s.required.count(False) for s in searches.values())
    steps = sum(s.steps for s in searches.values())
    return passed(
        name,
        f"{_keys(len(order), 'key', 'keys')}, {searched} ops "
        f"({optional} info or unanswered puts) linearizable as registers; {steps} search steps",
    )
