"""Faults by hand: `paxlab cluster crash|restart|pause|resume TARGET`, `power-cut`, the link faults,
`partition`, `isolate` and `heal`, with the lab's target words and meanings.

A target is a server id, ids like `0,2`, or a word: leader, random, minority, majority,
all (paxlab.scenario.targets resolves them exactly as in a lab run; for restart and
resume the words choose among the crashed or paused servers, and leader is refused).
Everything goes out as admin frames to every server concerned, so it works across
hosts; only restart starts a process and so needs the server to be local. Each fault
done is appended to data_dir/faults.jsonl, which `cluster check` puts in the summary.
"""

from __future__ import annotations

import difflib
import json
import random
import time
from typing import Any

from paxlab.cluster.control import Control, ControlError, Report, Unreachable, remote_command
from paxlab.cluster.procs import kill_server, running_server, wait_gone
from paxlab.scenario.targets import resolve_servers

__all__ = [
    "FAULTS_FILE",
    "WORDS",
    "heal",
    "isolate",
    "link_fault",
    "parse_groups",
    "parse_server",
    "parse_target",
    "partition",
    "power_cut",
    "process_fault",
]

FAULTS_FILE = "faults.jsonl"
WORDS = ("leader", "random", "minority", "majority", "all")


def parse_server(text: str, n: int, what: str = "server id") -> int:
    """One server id, in range; ControlError names the allowed range."""
    text = text.strip().removeprefix("s")
    if not text.isdigit() or int(text) >= n:
        raise ControlError(f"{what} {text!r} out of range: expected a server id from 0 to "
                           f"{n - 1} (the cluster file lists {n} servers)")
    return int(text)


def parse_target(text: str, n: int, *, leader_ok: bool = True,
                 words: tuple[str, ...] = WORDS) -> int | tuple[int, ...] | str:
    """`1`, `0,2` or a target word; a near miss gets a suggestion."""
    allowed = tuple(w for w in words if leader_ok or w != "leader")
    word = text.strip().lower()
    if word in allowed:
        return word
    if word == "leader":
        raise ControlError("target leader: not allowed here (a crashed or paused server "
                           "leads nothing); allowed: a server id or " + ", ".join(allowed))
    if word and all(part.strip().removeprefix("s").isdigit() for part in word.split(",")):
        ids = sorted({parse_server(part, n) for part in word.split(",")})
        return ids[0] if len(ids) == 1 else tuple(ids)
    near = difflib.get_close_matches(word, allowed, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    raise ControlError(f"target {text!r}: unknown{hint}; allowed: a server id from 0 to "
                       f"{n - 1}, ids like 0,2, or one of: {', '.join(allowed)}")


def parse_groups(text: str, n: int) -> list[list[int]]:
    """`0,1/2` -> [[0, 1], [2]]: groups split by '/', ids by ','; no id twice."""
    groups: list[list[int]] = []
    seen: set[int] = set()
    for part in text.split("/"):
        if not part.strip():
            raise ControlError(f"partition {text!r}: an empty group; write groups like 0,1/2")
        group = [parse_server(p, n) for p in part.split(",")]
        twice = sorted(seen.intersection(group)) or sorted(
            {s for s in group if group.count(s) > 1})
        if twice:
            raise ControlError(f"partition {text!r}: server {twice[0]} is in two groups")
        seen.update(group)
        groups.append(group)
    return groups


def _log(ctl: Control, entry: dict[str, Any]) -> None:
    """Append one applied fault to data_dir/faults.jsonl (`cluster check` reads it)."""
    path = ctl.cluster.data_dir / FAULTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"time_ns": time.time_ns(), **entry}, sort_keys=True) + "\n")


def _ballot(text: object) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return (-1,)


def _survey(ctl: Control) -> tuple[dict[int, dict[str, Any]], str | None]:
    """Who answers (id -> status) and who leads (the claimant with the highest ballot)."""
    replies = ctl.ask_all({"cmd": "status"})
    up = {sid: r for sid, r in replies.items() if isinstance(r, dict) and r.get("ok")}
    claims = sorted((_ballot(r.get("ballot")), sid) for sid, r in up.items()
                    if r.get("role") == "leader")
    return up, (f"s{claims[-1][1]}" if claims else None)


def _finish(ctl: Control, report: Report, action: str, detail: str, done: list[str],
            failed: dict[str, str], nodes: list[str] | None = None) -> Report:
    """Report and log a fault. `nodes`: the servers it hit, as the results contract's
    faults name them (default: the servers that applied it)."""
    for name, why in failed.items():
        report.say(f"{name}: {why}")
    report.ok = bool(done)
    report.data = {"action": action, "detail": detail, "servers": done, "failed": failed}
    if done:
        _log(ctl, {"action": action, "detail": detail, "servers": done, "failed": failed,
                   "nodes": done if nodes is None else nodes})
        report.lines.insert(0, detail)
    return report


def process_fault(ctl: Control, action: str, target_text: str, *, pause_ms: int | None = None,
                  wait_s: float = 10.0) -> Report:
    """crash, restart, pause or resume the servers a target names."""
    n = len(ctl.ids)
    target = parse_target(target_text, n, leader_ok=action in ("crash", "pause"))
    up, leader = _survey(ctl)
    local = set(ctl.local_ids())
    running = {sid for sid in local if sid not in up and running_server(ctl.cluster, sid)}
    if action in ("crash", "pause"):
        pool = [sid for sid in ctl.ids if sid in up or (action == "crash" and sid in running)]
        if action == "pause":
            pool = [sid for sid in pool if not up[sid].get("paused")]
    elif action == "resume":
        pool = [sid for sid in up if up[sid].get("paused")]
    else:
        pool = [sid for sid in ctl.ids if sid not in up and sid not in running]
    names = [f"s{sid}" for sid in ctl.ids]
    chosen = resolve_servers(target, names, [f"s{sid}" for sid in pool], leader,
                             random.Random())
    report = Report()
    shown = target if not isinstance(target, tuple) else ",".join(map(str, target))
    if not chosen:
        report.ok = False
        why = {"crash": "running", "pause": "running and not paused", "resume": "paused",
               "restart": "down"}[action]
        report.say(f"{action} {shown}: no server to apply it to (none {why}"
                   + (", and no leader known" if target == "leader" and leader is None else "")
                   + ")")
        report.data = {"action": action, "detail": "", "servers": [], "failed": {}}
        return report
    act = {"crash": _crash, "restart": _restart, "pause": _pause, "resume": _resume}[action]
    done, failed = [], {}
    for name in chosen:
        sid = int(name[1:])
        why = act(ctl, sid, sid in local, pause_ms=pause_ms, wait_s=wait_s)
        if why is None:
            done.append(name)
        else:
            failed[name] = why
    detail = f"{action} {shown} ({', '.join(chosen)})"
    return _finish(ctl, report, action, detail, done, failed)


def power_cut(ctl: Control, wait_s: float = 3.0) -> Report:
    """SIGKILL every local server at the same instant: a power cut of this machine. No
    admin round trip first (that would stagger the deaths); with `cluster.storage:
    process_buffer` each loses what it had not synced. Logged as a crash of all, so the
    report's fault ribbon shows it like one; `cluster restart all` brings them back."""
    procs = [proc for sid in ctl.local_ids() if (proc := running_server(ctl.cluster, sid))]
    report = Report()
    if not procs:
        report.ok = False
        report.say("power-cut: no local server running")
        report.data = {"action": "crash", "detail": "", "servers": [], "failed": {}}
        return report
    for proc in procs:  # first every kill, then the waits: they die together
        kill_server(proc)
    done, failed = [], {}
    for proc in procs:
        name = f"s{proc.id}"
        if wait_gone(proc.pid, wait_s):
            done.append(name)
        else:
            failed[name] = f"pid {proc.pid} still alive {wait_s:g} s after SIGKILL"
    remote = [f"s{sid}" for sid in ctl.ids if sid not in set(ctl.local_ids())]
    if remote:
        report.say(f"not local, left running: {', '.join(remote)}")
    detail = f"power_cut all ({', '.join(f's{p.id}' for p in procs)})"
    return _finish(ctl, report, "crash", detail, done, failed)


def _crash(ctl: Control, sid: int, local: bool, **_: Any) -> str | None:
    proc = running_server(ctl.cluster, sid) if local else None
    try:
        reply = ctl.ask(sid, {"cmd": "crash"})
        if not reply.get("ok"):
            raise Unreachable(reply.get("error", "refused"))
    except Unreachable as exc:
        if proc is None:
            return f"not crashed: {exc}"
        kill_server(proc)  # SIGKILL from here: it does not answer, but it is ours
    if proc is not None and not wait_gone(proc.pid, 3.0):
        return f"pid {proc.pid} still alive 3 s after the crash"
    return None


def _restart(ctl: Control, sid: int, local: bool, *, wait_s: float, **_: Any) -> str | None:
    if not local:
        return (f"on {ctl.cluster.servers[sid].address.host}: not local; run there: "
                f"{remote_command(ctl.cluster, sid)}")
    proc = ctl.start(ctl.cluster, sid)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited at start (code {proc.returncode}); see {ctl.cluster.server_dir(sid)}"
        try:
            if ctl.ask(sid, {"cmd": "status"}, 0.5).get("ok"):
                return None
        except Unreachable:
            time.sleep(0.05)
    return f"started (pid {proc.pid}) but not answering after {wait_s:g} s"


def _pause(ctl: Control, sid: int, _local: bool, *, pause_ms: int | None,
           **_: Any) -> str | None:
    return _simple(ctl, sid, {"cmd": "pause", "ms": pause_ms})


def _resume(ctl: Control, sid: int, _local: bool, **_: Any) -> str | None:
    return _simple(ctl, sid, {"cmd": "resume"})


def _simple(ctl: Control, sid: int, request: dict[str, Any]) -> str | None:
    try:
        reply = ctl.ask(sid, request)
    except Unreachable as exc:
        return f"not reachable: {exc}"
    return None if reply.get("ok") else f"refused: {reply.get('error')}"


def _net(ctl: Control, command: dict[str, Any], ids: list[int], detail: str,
         nodes: list[str]) -> Report:
    """Send one net fault to the servers concerned; a server that is down has no links
    to change, so it is reported but is not a failure while another one applied it."""
    replies = ctl.ask_all({"cmd": "fault", "net": command}, ids)
    done = [f"s{sid}" for sid, r in replies.items() if isinstance(r, dict) and r.get("ok")]
    failed = {f"s{sid}": (f"refused: {r.get('error')}" if isinstance(r, dict)
                          else f"not reachable: {r}")
              for sid, r in replies.items() if not (isinstance(r, dict) and r.get("ok"))}
    return _finish(ctl, Report(), command["cmd"], detail, done, failed, nodes)


def _cut_off(groups: list[list[int]], ids: list[int]) -> list[str]:
    """The servers a partition cuts off, as the lab records them: those outside a group
    that holds a majority; every server when no group does."""
    grouped = {sid for group in groups for sid in group}
    rest = [sid for sid in ids if sid not in grouped]
    majority = [set(g) for g in [*groups, rest] if len(g) > len(ids) // 2]
    return [f"s{sid}" for sid in ids if not majority or sid not in majority[0]]


def link_fault(ctl: Control, action: str, a_text: str, b_text: str,
               one_way: bool = False) -> Report:
    """fail-link A B (both ways, or A->B only with one_way) or fix-link A B."""
    n = len(ctl.ids)
    a, b = parse_server(a_text, n), parse_server(b_text, n)
    if a == b:
        raise ControlError(f"{action} {a} {b}: a link joins two different servers")
    if one_way:
        if action != "fail-link":
            raise ControlError("--one-way goes with fail-link; fix-link A B fixes both ways")
        command = {"cmd": "fail_link_one_way", "source": f"s{a}", "target": f"s{b}"}
        return _net(ctl, command, [a, b], f"fail_link_one_way {a}->{b}", [f"s{a}", f"s{b}"])
    name = "fail_link" if action == "fail-link" else "fix_link"
    return _net(ctl, {"cmd": name, "a": f"s{a}", "b": f"s{b}"}, [a, b],
                f"{name} {min(a, b)}-{max(a, b)}", [f"s{min(a, b)}", f"s{max(a, b)}"])


def partition(ctl: Control, groups_text: str) -> Report:
    """Servers talk only within their group; those in no group form one more group."""
    groups = parse_groups(groups_text, len(ctl.ids))
    names = [[f"s{sid}" for sid in group] for group in groups]
    detail = "partition " + " | ".join("[" + ", ".join(map(str, g)) + "]" for g in groups)
    return _net(ctl, {"cmd": "partition", "groups": names}, ctl.ids, detail,
                _cut_off(groups, ctl.ids))


def isolate(ctl: Control, target_text: str) -> Report:
    """Cut one server (an id, leader or random) off from all the others."""
    target = parse_target(target_text, len(ctl.ids), words=("leader", "random"))
    if isinstance(target, tuple):
        raise ControlError(f"isolate {target_text}: one server only (an id, leader or random)")
    _, leader = _survey(ctl)
    names = [f"s{sid}" for sid in ctl.ids]
    chosen = resolve_servers(target, names, names, leader, random.Random())
    if not chosen:
        report = Report(ok=False, data={"action": "isolate", "detail": "", "servers": [],
                                        "failed": {}})
        report.say("isolate leader: no leader known; see `paxlab cluster status`")
        return report
    return _net(ctl, {"cmd": "isolate", "server": chosen[0]}, ctl.ids,
                f"isolate {target} ({chosen[0]})" if target in ("leader", "random")
                else f"isolate {target}", [chosen[0]])


def heal(ctl: Control) -> Report:
    """Remove every cut link, partition and isolation, on every server."""
    return _net(ctl, {"cmd": "heal"}, ctl.ids, "heal", [])
