"""`paxlab cluster status`: one table for the whole cluster and a one-line verdict.

Every server is asked for its admin `status` at once; the table shows what each says
(up, role, ballot, commit height, head hash, links, reconnects, auth failures) and the
verdict says what a person wants first: is there a leader, how many are up, do the
chains agree. It reads the servers' word only: `paxlab cluster check` is the proof.
"""

from __future__ import annotations

from typing import Any

from paxlab.cluster.control import Control, Report
from paxlab.cluster.procs import running_server

__all__ = ["cluster_status", "render_table", "verdict"]

_COLUMNS = ("id", "address", "up", "role", "leader", "ballot", "commit", "head", "links",
            "reconn", "auth_fail", "flags")


def verdict(rows: list[dict[str, Any]], n: int) -> tuple[bool, str]:
    """(all well, the verdict line) from the status rows of all `n` servers."""
    up = [r for r in rows if r["up"]]
    majority = n // 2 + 1
    if len(up) < majority:
        return False, (f"NO LEADER: {len(up)} of {n} reachable, a majority ({majority}) "
                       "is needed")
    by_height: dict[int, set[str | None]] = {}
    for row in up:
        by_height.setdefault(row["commit"], set()).add(row["head"])
    split = sorted(h for h, heads in by_height.items() if len(heads) > 1)
    if split:
        names = ", ".join(r["id"] for r in up if r["commit"] == split[0])
        return False, f"DIVERGED: servers {names} have different blocks at commit {split[0]}"
    claims = [r for r in up if r["role"] == "leader"]
    followers: dict[str, int] = {}
    for row in up:
        if row["leader"]:
            followers[row["leader"]] = followers.get(row["leader"], 0) + 1
    leader = next((name for name, count in sorted(followers.items()) if count >= majority
                   and any(c["id"] == name for c in claims)), None)
    top = max(r["commit"] for r in up)
    low = min(r["commit"] for r in up)
    behind = ", ".join(f"{r['id']} at {r['commit'] - 1}" for r in up if r["commit"] < top)
    chains = ("chains empty" if top == 0 else f"chains agree up to height {top - 1}"
              if low == top else f"chains at height {top - 1}, catching up: {behind}")
    count = f"{len(up)}/{n} up"
    down = [r["id"] for r in rows if not r["up"]]
    if down:
        count += f" ({', '.join(down)} down)"
    if leader is None:
        who = f", {', '.join(c['id'] for c in claims)} claims to lead" if claims else ""
        return False, f"NO LEADER: {count}, electing{who}; {chains}"
    others = [c["id"] for c in claims if c["id"] != leader]
    extra = f" ({', '.join(others)} still thinks it leads)" if others else ""
    return True, f"OK: leader {leader}{extra}, {count}, {chains}"


def _row(ctl: Control, sid: int, reply: dict[str, Any] | str) -> dict[str, Any]:
    entry = ctl.cluster.servers[sid]
    row: dict[str, Any] = {"id": f"s{sid}", "address": str(entry.address)}
    if isinstance(reply, dict) and reply.get("ok"):
        row.update(up=True, role=reply.get("role"), leader=reply.get("leader"),
                   ballot=reply.get("ballot"), commit=int(reply.get("commit") or 0),
                   head=reply.get("head"), links=reply.get("links") or {},
                   reconnects=reply.get("reconnects", 0),
                   auth_failures=reply.get("auth_failures", 0), pid=reply.get("pid"),
                   paused=bool(reply.get("paused")), slow=bool(reply.get("slow")),
                   trace=bool(reply.get("trace")), queue=reply.get("queue", 0))
        return row
    why = reply.get("error", "refused") if isinstance(reply, dict) else reply
    row.update(up=False, error=why)
    if sid in ctl.local_ids() and "secret" not in str(why):  # a refusal says more
        proc = running_server(ctl.cluster, sid)
        row["pid"] = proc.pid if proc else None
        row["error"] = (f"process {proc.pid} runs but does not answer: {why}" if proc
                        else "not running")
    return row


def cluster_status(ctl: Control) -> Report:
    """Ask every server; the report's data is {"servers": rows, "verdict", "ok"}."""
    replies = ctl.ask_all({"cmd": "status"})
    rows = [_row(ctl, sid, replies[sid]) for sid in ctl.ids]
    ok, line = verdict(rows, len(ctl.ids))
    # Every server failed to prove the admin key: this host's secret is not theirs.
    key_refused = all(not r["up"] and "did not prove" in str(r.get("error")) for r in rows)
    report = Report(ok=ok, data={"cluster": ctl.cluster.name, "file": str(ctl.cluster.path),
                                 "servers": rows, "verdict": line, "ok": ok,
                                 "key_refused": key_refused})
    report.lines.extend(render_table(rows))
    report.say("")
    report.say(line)
    return report


def _cells(row: dict[str, Any]) -> list[str]:
    if not row["up"]:
        return [row["id"], row["address"], "no", "-", "-", "-", "-", "-", "-", "-", "-",
                row.get("error", "")]
    links = " ".join(f"{peer}:{state}" for peer, state in sorted(row["links"].items()))
    flags = " ".join(name for name in ("paused", "slow", "trace") if row.get(name))
    head = (row["head"] or "-")[:8]
    return [row["id"], row["address"], "yes", str(row["role"]), str(row["leader"] or "-"),
            str(row["ballot"] or "-"), str(row["commit"]), head, links or "-",
            str(row["reconnects"]), str(row["auth_failures"]), flags]


def render_table(rows: list[dict[str, Any]]) -> list[str]:
    """The status rows as aligned text, one line per server under a header."""
    table = [list(_COLUMNS)] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS) - 1)]
    return [("  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True))
             + "  " + line[-1]).rstrip() for line in table]
