"""Explains a linearizability failure in plain words: the failing key's ops, the longest
order of them a register allows, and one sentence for each op that cannot come next.

The check says which key fails and which get no order satisfies; a person wants to see
why. Porcupine draws the longest linearizable prefix; this gives that prefix with the
register's value after each step, and for each op that real time allows next but the
register does not, the reason with real times: the value it read was overwritten before
it began, was never written, or was written by a put that began after it had to be done.

The key is the one the linearizable check names (the smallest failing one, or when none
fails in the budget, the smallest undecided one). Its prefix comes from the plain Wing and
Gong search with Lowe's memo, without the check's prune: that search stops at the get
itself, where the pruned one stops at a put that would strand it, which says less. The
deepest point counts ops acknowledged ok, so puts that may never have happened (info,
unanswered) do not lengthen it. At that point every op real time allows next is a get
reading another value (a put would go deeper), so each blocked op gets a sentence.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from paxlab.check.linearizable import BUDGET_S_DEFAULT, _Search, search_keys
from paxlab.check.ops import Op

__all__ = ["ExplainedOp", "Explanation", "explain_linearizability"]

_EXPLAIN_S_MIN = 0.2
"""Seconds the explanation's own search may take even when the check's budget is spent."""
_EXPLAIN_S_MAX = 2.0
"""At most this long for the explanation's search of a key the check already failed: its
deepest prefix is found early, and proving it the longest is not needed for the verdict."""
_STALL_STEPS_PER_OP = 20
_STALL_STEPS = 100_000
"""A search of a key the check failed stops this many steps (per op, plus a constant)
after it last went deeper: the deepest point comes early, on the way down, and the rest
of an exhaustive search, which can take minutes on one busy key, only confirms it."""
_KINDS = frozenset(("invoke", "ok", "fail", "info"))
_FS = frozenset(("put", "get"))


@dataclass(frozen=True, slots=True)
class ExplainedOp:
    """One op of the failing key as the report shows it; "info" with end_ns None is an op
    that never got an answer (its client was killed)."""

    process: int
    seq: int
    f: str
    value: str | None  # put: the value written; get: the value an ok read, else None
    type: str  # "ok", "fail" or "info"
    invoke_ns: int
    end_ns: int | None

    def to_dict(self) -> dict:
        return {"process": self.process, "seq": self.seq, "f": self.f, "value": self.value,
                "type": self.type, "invoke_ns": self.invoke_ns, "end_ns": self.end_ns}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one key is not linearizable (or not decided): see docs/results-contract.md and
    the report's failure panel, which draws it."""

    key: str
    verdict: str  # "fail" or "unknown"
    window_ns: tuple[int, int]
    ops: tuple[ExplainedOp, ...]  # the key's ops up to the failure, by invoke time
    prefix: tuple[tuple[int, str | None], ...]  # (index in ops, register value after it)
    blocked: tuple[tuple[int, str], ...]  # (index in ops, why it cannot come next)
    summary: str
    gave_up: str | None  # why the search stopped, when the verdict is unknown

    def to_dict(self) -> dict:
        """The JSON-ready form (contract section 3)."""
        return {
            "key": self.key,
            "verdict": self.verdict,
            "window_ns": list(self.window_ns),
            "ops": [op.to_dict() for op in self.ops],
            "prefix": [{"op": i, "value_after": v} for i, v in self.prefix],
            "blocked": [{"op": i, "why": why} for i, why in self.blocked],
            "summary": self.summary,
            "gave_up": self.gave_up,
        }


def explain_linearizability(
    history: Sequence[dict], budget_s: float = BUDGET_S_DEFAULT
) -> Explanation | None:
    """The explanation of the key the linearizable check names, or None when every key is
    linearizable. Events that are not well-formed history events are left out rather than
    raising: an explanation is for a report, which must render whatever it was given."""
    keys = search_keys(_well_formed(history), budget_s)
    failed, undecided = keys.failed, keys.undecided
    for key in failed + undecided:
        ops = keys.by_key[key]
        now = time.perf_counter()
        deadline = max(keys.deadline, now + min(budget_s, _EXPLAIN_S_MIN))
        if key in failed:  # proven: its deepest prefix, not a proof, is what is needed
            deadline = min(deadline, now + _EXPLAIN_S_MAX)
            found = _Deepest(ops).run(deadline, _STALL_STEPS_PER_OP * len(ops) + _STALL_STEPS)
        else:
            found = _Deepest(ops).run(deadline)
        if found.result is True:
            continue  # undecided by the check, linearizable given the extra moments
        proven = key in failed or found.result is False
        return _explain(key, ops, found, proven, budget_s)
    return None


def _well_formed(history: Sequence[dict]) -> list[dict]:
    """The events the checks can read: dicts with a known type and f, int process and seq,
    a finite time, a str key and a str or null value."""
    kept = []
    for event in history:
        if not isinstance(event, dict):
            continue
        process, seq, t = event.get("process"), event.get("seq"), event.get("time")
        value = event.get("value")
        if (event.get("type") in _KINDS and event.get("f") in _FS
                and type(process) is int and type(seq) is int
                and type(t) in (int, float) and math.isfinite(t)
                and isinstance(event.get("key"), str)
                and (value is None or isinstance(value, str))):  # fmt: skip
            kept.append(event)
    return kept


class _Deepest:
    """The plain search (no prune, no zones) over one key, remembering the deepest point it
    reached: the path with the most ok ops linearized, the first found on a tie.

    It walks check.linearizable._Search's event list and memo (built by its constructor,
    which is the check's own reading of the ops) with a loop of its own, so the check's
    loop stays as fast as it is. The deepest path is kept as a copy that agrees with the
    current path up to `agree`: a new record copies only the tail that differs, so keeping
    it costs O(1) amortized per step."""

    def __init__(self, ops: Sequence[Op]) -> None:
        self.search = _Search(ops, prune=False, zones=False)
        self.best: list[tuple[int, int]] = []  # (searched op, value id after it)
        self.result: bool | None = None
        self.steps = 0

    def run(self, deadline: float, stall_steps: float = math.inf) -> _Deepest:
        """Search until decided, past the deadline, or stall_steps steps after the last
        deeper point (both looked at every 1,024 steps); result stays None unless decided."""
        s = self.search
        nxt, prv, op_at, call_at, return_at = s.next, s.prev, s.op_at, s.call_at, s.return_at
        is_put, vids, required, memo, end = s.is_put, s.vids, s.required, s.memo, s.end
        stack: list[tuple[int, int, int, int]] = []  # (op, and state, low, rest before)
        path: list[tuple[int, int]] = []
        best = self.best
        agree = done = best_done = 0  # done: ok ops on the path
        entry, state, low, rest, steps, record_step = nxt[0], 0, 0, 0, 0, 0
        while True:
            steps += 1
            if not steps & 1023 and (steps - record_step > stall_steps
                                     or time.perf_counter() > deadline):  # fmt: skip
                break
            if entry == end:
                self.result = True
                break
            i = op_at[entry]
            if entry == call_at[i]:
                v = vids[i]
                if not is_put[i] and v != state:
                    entry = nxt[entry]
                    continue
                if i == low:
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
                path.append((i, v))
                if required[i]:
                    done += 1
                    if done > best_done:
                        best[agree:] = path[agree:]
                        agree, best_done, record_step = len(path), done, steps
                low, rest, state = memo_key
                r = return_at[i]
                nxt[prv[entry]], prv[nxt[entry]] = nxt[entry], prv[entry]
                nxt[prv[r]], prv[nxt[r]] = nxt[r], prv[r]
                entry = nxt[0]
                continue
            if not required[i]:
                self.result = True
                break
            if not stack:
                self.result = False
                break
            i, state, low, rest = stack.pop()
            path.pop()
            done -= required[i]
            agree = min(agree, len(path))
            c, r = call_at[i], return_at[i]
            nxt[prv[r]] = prv[nxt[r]] = r
            nxt[prv[c]] = prv[nxt[c]] = c
            entry = nxt[c]
        self.steps = steps
        return self


# ---- words -----------------------------------------------------------------------------


def _shown(value: str | None) -> str:
    return "not found" if value is None else value


def _seconds(*times_ns: float) -> list[str]:
    """Times in seconds with 2 decimals, or as many more (up to 6) as it takes to tell
    them apart, so 'done at 2.961 s, before this get began at 2.962 s' reads true."""
    for places in range(2, 7):
        shown = [f"{t / 1e9:.{places}f}" for t in times_ns]
        if len(set(shown)) == len(set(times_ns)):
            break
    return shown


class _Words:
    """Labels and sentences for one key's ops."""

    def __init__(self, key: str) -> None:
        self.key = key

    def op(self, op: Op) -> str:
        tag = {"info": ", info", "open": ", unanswered"}.get(op.outcome, "")
        who = f"(c{op.process} seq {op.seq}{tag})"
        if op.f == "put":
            return f"put {self.key}={_shown(op.value)} {who}"
        return f"get {self.key} -> {_shown(op.value)} {who}"


@dataclass(frozen=True, slots=True)
class _Why:
    """Why a get cannot come next: `says` ends the op's sentence, `short` the summary's."""

    says: str
    short: str


def _why(words: _Words, get: Op, state: str | None, path: list[Op], left: list[Op],
         first: Op, all_ops: Sequence[Op]) -> _Why:  # fmt: skip
    """Why `get` cannot come next after `path`, the register holding `state`; `left` are
    the searched ops not on the path, `first` the one of them that completes first.

    The reasons, strongest first: no put wrote the value; a put on the path overwrote it
    and was done before the get began; its put is still to come but began after an op
    that must come first had completed; or, from a search that stopped early, only the
    order found so far."""
    key, w = words.key, get.value
    value = f"the value is {state}" if state is not None else f"{key} has no value yet"
    read = f"read {_shown(w)}"
    puts = [op for op in path if op.f == "put"]
    if w is not None and not any(op.f == "put" and op.value == w for op in path + left):
        failed = [op for op in all_ops if op.f == "put" and op.value == w]
        says = f"no put wrote {w} to {key}"
        if failed:
            says += f"; {words.op(failed[0])} failed, so it never took effect"
        return _Why(says, f"{read}, which no put wrote")
    writers = [n for n, op in enumerate(puts) if op.value == w]
    since = writers[-1] if writers else -1  # -1: the register's initial "not found"
    after = puts[since + 1 :]
    old = f"{words.op(puts[since])} was overwritten by" if since >= 0 else "the key was set by"
    done = [op for op in after if op.outcome == "ok" and op.return_ns is not None
            and op.return_ns < get.invoke_ns]  # fmt: skip
    if done and (since >= 0 or w is None):
        q = after[-1] if after[-1] in done else min(done, key=lambda op: op.return_ns or 0)
        t_done, t_began = _seconds(q.return_ns or 0, get.invoke_ns)
        says = (f"{value}; {old} {words.op(q)}, done at {t_done} s, "
                f"before this get began at {t_began} s")  # fmt: skip
        if since >= 0:
            return _Why(says, f"{read}, which {words.op(q)} overwrote before the get began")
        return _Why(says, f"{read}, though {words.op(q)} had set the key before the get began")
    later = [op for op in left if op.f == "put" and op.value == w]
    if later:
        p = later[0]
        if first.return_ns is not None and p.invoke_ns > first.return_ns:
            t_began, t_done = _seconds(p.invoke_ns, first.return_ns)
            began = f"{value}; {words.op(p)} began at {t_began} s, after"
            if first is get:
                return _Why(f"{began} this get completed at {t_done} s",
                            f"{read}, which {words.op(p)} began only after the get completed")
            must = f"{words.op(first)}, which must come first,"
            return _Why(f"{began} {must} completed at {t_done} s",
                        f"{read}, whose put began only after {words.op(first)} completed")
        return _Why(f"{value}; {words.op(p)} has not taken effect yet in this order",
                    f"{read}, which the register does not hold there")
    return _Why(f"{value}; {old} {words.op(puts[-1])} earlier in this order",
                f"{read}, which this order had overwritten")


def _explain(key: str, ops: Sequence[Op], found: _Deepest, proven: bool,
             budget_s: float) -> Explanation:  # fmt: skip
    """The explanation from a search's deepest point. The window ends where the next op
    must complete: ops invoked later cannot come next, so they explain nothing."""
    searched = found.search.ops
    value_of = found.search.value_of
    path = [searched[i] for i, _v in found.best]
    on_path = {i for i, _v in found.best}
    left = [op for i, op in enumerate(searched) if i not in on_path]
    state = value_of[found.best[-1][1]] if found.best else None
    ends = [op for op in left if op.is_required and op.return_ns is not None]
    first = min(ends, key=lambda op: op.return_ns or 0) if ends else None  # by invoke on ties
    t_next = first.return_ns if first is not None and first.return_ns is not None else math.inf
    words = _Words(key)
    shown = [op for op in ops if op.invoke_ns <= t_next]
    at = {(op.process, op.seq): n for n, op in enumerate(shown)}
    causes: dict[int, _Why] = {}  # index in shown: why that op cannot come next
    for op in left:
        if op.invoke_ns <= t_next and op.f == "get" and op.value != state:
            assert first is not None
            causes[at[op.process, op.seq]] = _why(words, op, state, path, left, first, ops)
    blocked = [(n, f"{words.op(shown[n])} cannot come next: {why.says}")
               for n, why in causes.items()]  # fmt: skip
    pairs = zip(path, found.best, strict=True)
    prefix = tuple((at[op.process, op.seq], value_of[v]) for op, (_i, v) in pairs)
    ends_ok = [op.return_ns for op in shown if op.outcome in ("ok", "fail") and op.return_ns]
    start = shown[0].invoke_ns if shown else 0
    stop = max([start, *ends_ok, *([] if t_next == math.inf else [t_next])])
    cause = causes.get(at[first.process, first.seq]) if first is not None else None
    summary, gave_up = _summary(words, key, len(ops), len(path), state, first, cause,
                                proven, found, budget_s)  # fmt: skip
    return Explanation(
        key=key, verdict="fail" if proven else "unknown",
        window_ns=(int(start), int(stop)), ops=tuple(_explained(op) for op in shown),
        prefix=prefix, blocked=tuple(blocked), summary=summary, gave_up=gave_up,
    )  # fmt: skip


def _summary(words: _Words, key: str, n_ops: int, n_path: int, state: str | None,
             first: Op | None, cause: _Why | None, proven: bool, found: _Deepest,
             budget_s: float) -> tuple[str, str | None]:  # fmt: skip
    """One sentence: how far one order gets, and the op that must come next and cannot;
    and when undecided, why the search stopped."""
    leaves = f"leaving {state}" if state is not None else f"leaving {key} not found"
    if proven:
        head = f"Key {key} is not linearizable: after its longest linearizable prefix"
        head += " found" if found.result is None else ""
    else:
        head = (f"The search ran out of time on key {key}: after the longest linearizable "
                "prefix it found")  # fmt: skip
    head += f" ({n_path} of {n_ops} ops, {leaves}), "
    if first is not None and cause is not None:
        summary = f"{head}{words.op(first)} must come next but {cause.short}."
    else:
        summary = f"{head}the search could not yet tell what must come next."
    gave_up = None
    if not proven:
        gave_up = (f"out of time ({budget_s:g} s budget): key {key} ({n_ops} ops) was not "
                   "decided; this is the longest linearizable prefix the search found")  # fmt: skip
    return summary, gave_up


def _explained(op: Op) -> ExplainedOp:
    outcome = "info" if op.outcome == "open" else op.outcome
    end = None if op.return_ns is None or op.outcome == "open" else int(op.return_ns)
    return ExplainedOp(op.process, op.seq, op.f, op.value, outcome, int(op.invoke_ns), end)
