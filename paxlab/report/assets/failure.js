/* failure.js: panel 7, why the history is not linearizable: the sentence for each op that
   cannot come next, set apart at the top; the failing key's ops on the real time axis
   (prefix steps green and numbered with the register's value after each, blocked ops red);
   the longest linearizable prefix as a table. Only drawn when the model has a failure
   (contract section 3). A key with hundreds of ops in its window opens zoomed to what went
   wrong (the blocked ops, the ops their sentences name, the last prefix steps), since the
   whole window would be a smear; labels go by importance and never overlap. */

const FAIL = { rows: [], procs: [], rowH: 48, lanes: [], named: new Set() }; // a bar, then two rows for labels
const PREFIX_SHOWN = 12;
const FOCUS_OVER = 30; // more ops than this in the key's window: open on what went wrong
function failureOps() { return arr(M.failure && M.failure.ops).map(obj); }
function opLabel(o) {
  const key = str(M.failure.key);
  if (o.f === "put") return "put " + key + " = " + str(o.value);
  return "get " + key + (o.type === "ok" ? " → " + (o.value == null ? "not found" : str(o.value)) : "");
}
function opShortLabel(o) { // the canvas's form: the key is the panel's one key, so it goes
  if (o.f === "put") return "put " + str(o.value);
  return "get" + (o.type === "ok" ? " → " + (o.value == null ? "not found" : str(o.value)) : "");
}
function namedOps() { // indexes of the ops that the blocked sentences mention ("c0 seq 769", "put 'k'=769")
  const ops = failureOps(), named = new Set(), text = arr(M.failure.blocked).map((b) => str(obj(b).why)).join("\n");
  for (const m of text.matchAll(/\bc(\d+) seq (\d+)\b/g)) {
    const i = ops.findIndex((o) => str(o.process) === m[1] && str(o.seq) === m[2]);
    if (i >= 0) named.add(i);
  }
  ops.forEach((o, i) => {
    if (o.f !== "put" || o.value == null) return;
    const at = text.indexOf("=" + str(o.value));
    if (at >= 0 && !/[\w.]/.test(text.charAt(at + 1 + str(o.value).length))) named.add(i);
  });
  return named;
}
function failureView(whole) { // [t0, t1] to show: the key's window, or what went wrong when it is crowded
  const F = M.failure, win = F ? arr(F.window_us).map(Number) : [];
  if (!F || win.length !== 2 || !(win[1] >= win[0])) return null;
  const ops = failureOps();
  let a = win[0], b = win[1];
  if (!whole && ops.length > FOCUS_OVER) {
    const steps = arr(F.prefix).map((p) => num(obj(p).op, -1)), pick = new Map();
    steps.slice(-4).forEach((i) => pick.set(i, false));
    FAIL.named.forEach((i) => pick.set(i, true));
    arr(F.blocked).forEach((x) => pick.set(num(obj(x).op, -1), true));
    let lo = Infinity, hi = -Infinity;
    pick.forEach((whole, i) => { // prefix steps count by their start only: one may last for seconds
      const o = ops[i]; if (!o) return;
      const s = num(o.invoke_us, NaN), e = num(o.end_us, NaN);
      if (isFinite(s)) { lo = Math.min(lo, s); hi = Math.max(hi, s); }
      if (whole && isFinite(e)) hi = Math.max(hi, e);
    });
    if (hi >= lo) { a = lo; b = hi; }
  }
  const pad = Math.max((b - a) * 0.15, 1000);
  return [a - pad, b + 2.5 * pad]; // room on the right for the last labels
}
function renderFailureText() {
  const F = M.failure, panel = $("panel-failure");
  panel.hidden = !F; $("nav-failure").hidden = !F;
  if (!F) return;
  const ops = failureOps(), prefix = arr(F.prefix).map(obj), blocked = arr(F.blocked).map(obj);
  const win = arr(F.window_us), focus = failureView(false), whole = failureView(true), crowded = ops.length > FOCUS_OVER;
  const row = (i) => ops[num(i, -1)] || {};
  const who = (o) => clientName(o.process) + " #" + str(o.seq);
  const summary = str(F.summary), key = str(F.key);
  fill($("failure-head"),
    h("p", { class: "fsummary" }, badge(F.verdict || "fail"), " ",
      summary.indexOf("Key " + key) === 0 ? null : ["key ", h("code", { text: key }), ": "], summary),
    F.gave_up ? h("div", { class: "warn" }, h("b", { text: "The search gave up: " }), str(F.gave_up)) : null,
    blocked.length ? h("div", { class: "blocked-box", id: "failure-blocked" },
      h("h3", { text: blocked.length === 1 ? "The op that cannot come next" : "The " + blocked.length + " ops that cannot come next" }),
      blocked.map((b) => {
        const o = row(b.op);
        return h("div", { class: "blocked-item" }, h("div", { class: "bop" }, h("code", { text: who(o) }), " ", opLabel(o), " ", badge(o.type),
          h("span", { class: "when", text: "invoked " + fmtS(o.invoke_us, 6) + ", " + (o.end_us == null ? "never completed" : "completed " + fmtS(o.end_us, 6)) })),
        h("p", { class: "why", text: str(b.why) }));
      })) : h("p", { class: "empty", text: "No op is named as blocked." }),
    h("p", { class: "hint" }, "The key's ops (" + fmtInt(ops.length) + " here) on the run's real time axis: the steps of the longest linearizable prefix in green, numbered in order (⇒ the register's value after a step, when the op does not say it); in red the ops that cannot come next; outlined, the ops their sentences name; grey, the rest." +
      (crowded ? " Too many to read at once, so the view opens on what went wrong. " : " "),
      crowded && focus ? h("button", { type: "button", id: "failure-focus", onclick: () => setView(focus[0], focus[1]) }, "zoom to what went wrong") : null, " ",
      win.length === 2 && whole ? h("button", { type: "button", id: "failure-zoom", onclick: () => setView(whole[0], whole[1]) }, "zoom to the key's window (" + fmtS(win[0]) + " – " + fmtS(win[1]) + ")") : null));
  fill($("failure-body"),
    h("div", null, h("h3", { text: "Longest linearizable prefix: " + prefix.length + " step" + (prefix.length === 1 ? "" : "s") }),
      prefix.length > PREFIX_SHOWN ? h("p", { class: "hint" }, "The last " + PREFIX_SHOWN + " steps, just before the ops that cannot come next. ",
        h("button", { type: "button", id: "prefix-all", onclick: (e) => { e.target.parentElement.nextSibling.classList.add("all"); e.target.parentElement.remove(); } },
          "show all " + prefix.length)) : null,
      prefix.length ? h("table", { class: "prefix" }, h("thead", null, h("tr", null, [["#", "num"], ["op"], [""], ["outcome"], ["invoked", "num"], ["completed", "num"], ["value after"]].map((x) => h("th", { class: x[1], text: x[0] })))),
        h("tbody", null, prefix.map((p, k) => {
          const o = row(p.op);
          return h("tr", { class: k < prefix.length - PREFIX_SHOWN ? "early" : null }, h("td", { class: "num", text: k + 1 }), h("td", null, h("code", { text: who(o) })),
            h("td", { text: opLabel(o) }), h("td", null, badge(o.type)),
            h("td", { class: "num", text: fmtS(o.invoke_us, 6) }), h("td", { class: "num", text: o.end_us == null ? "never" : fmtS(o.end_us, 6) }),
            h("td", null, h("code", { text: p.value_after == null ? "(none)" : str(p.value_after) })));
        }))) : h("p", { class: "empty", text: "Not even the first op can be placed." })));
}
const failurePanel = {
  cv: null, hits: [],
  height() { return M.failure ? 12 + Math.max(1, FAIL.procs.length) * FAIL.rowH + 8 : 0; },
  prep() {
    if (!M.failure) return;
    const ops = failureOps(), step = new Map(), blocked = new Map();
    arr(M.failure.prefix).forEach((p, k) => step.set(num(obj(p).op, -1), { k: k + 1, after: obj(p).value_after }));
    arr(M.failure.blocked).forEach((b) => blocked.set(num(obj(b).op, -1), str(obj(b).why)));
    FAIL.named = namedOps();
    FAIL.procs = [...new Set(ops.map((o) => str(o.process)))].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
    FAIL.rows = ops.map((o, i) => ({ o, i, lane: FAIL.procs.indexOf(str(o.process)), step: step.get(i), why: blocked.get(i),
      rank: blocked.has(i) ? 0 : FAIL.named.has(i) ? 1 : step.has(i) ? 2 : 3 }));
    FAIL.lanes = FAIL.procs.map(() => []); // each lane's rows by invoke time
    FAIL.rows.forEach((r, j) => FAIL.lanes[r.lane].push(j));
    FAIL.lanes.forEach((l) => l.sort((p, q) => num(FAIL.rows[p].o.invoke_us, 0) - num(FAIL.rows[q].o.invoke_us, 0)));
    FAIL.lanes.forEach((l) => l.forEach((j, k) => { FAIL.rows[j].pos = k; }));
    // labels by importance: blocked, named, then the latest prefix steps, then the rest
    FAIL.order = FAIL.rows.map((r, j) => j).sort((p, q) => FAIL.rows[p].rank - FAIL.rows[q].rank ||
      (FAIL.rows[q].step ? FAIL.rows[q].step.k : 0) - (FAIL.rows[p].step ? FAIL.rows[p].step.k : 0) || p - q);
  },
  draw() {
    if (!M.failure) return;
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, hits = (this.hits = []);
    grid(c, 0, c.h);
    const win = arr(M.failure.window_us);
    FAIL.procs.forEach((p, k) => gutterLabel(c, clientName(isNaN(Number(p)) ? p : Number(p)), 12 + k * FAIL.rowH + FAIL.rowH / 2));
    clipPlot(c, 0, c.h);
    if (win.length === 2) { ctx.fillStyle = "rgba(217,45,32,0.07)"; ctx.fillRect(c.x(win[0]), 0, c.x(win[1]) - c.x(win[0]), c.h); }
    const xs = FAIL.rows.map((r) => c.x(num(r.o.invoke_us, D.t0))), bh = 13, geo = [];
    FAIL.rows.forEach((r, j) => { // bars: the rest first, so prefix steps and blocked ops stay on top
      const o = r.o, y = 12 + r.lane * FAIL.rowH + 3;
      const x0 = xs[j], x1 = Math.max(x0 + 3, c.x(o.end_us == null ? D.t1 : o.end_us));
      geo[j] = { x0, x1, y };
    });
    for (let rank = 3; rank >= 0; rank--) FAIL.rows.forEach((r, j) => {
      if (r.rank !== rank) return;
      const g = geo[j], o = r.o;
      if (g.x1 < GUTTER || g.x0 > c.x.right) return;
      const col = r.why != null ? "#d92d20" : r.step ? "#2f9e5b" : "#98a2b3";
      ctx.fillStyle = col; ctx.globalAlpha = r.why != null || r.step ? 0.9 : 0.5;
      if (o.end_us == null) ctx.globalAlpha *= 0.5;
      ctx.fillRect(g.x0, g.y, g.x1 - g.x0, bh); ctx.globalAlpha = 1;
      if (r.why != null || rank === 1) { ctx.strokeStyle = r.why != null ? "#7a271a" : "#1d2330"; ctx.lineWidth = 1.5; ctx.strokeRect(g.x0, g.y, g.x1 - g.x0, bh); ctx.lineWidth = 1; }
    });
    // labels under the bars, most important first; one that would overlap a placed one
    // tries its shorter forms, then gives up (the tooltip still has it)
    const placed = FAIL.procs.map(() => []);
    for (const j of FAIL.order) {
      const r = FAIL.rows[j], g = geo[j], o = r.o;
      if (g.x1 < GUTTER || g.x0 > c.x.right) continue;
      const lx = Math.max(g.x0, GUTTER + 2), lane = FAIL.lanes[r.lane], at = r.pos;
      let next = c.x.right; // an unimportant op's label stops where the next op of its client starts
      if (r.rank >= 2) for (let k = at + 1; k < lane.length; k++) if (xs[lane[k]] > g.x0 + 1) { next = Math.min(next, xs[lane[k]]); break; }
      // the value after a step is said only when the op does not say it already
      const after = r.step ? (str(r.step.after) === str(o.value) && o.type === "ok" ? "" : "  ⇒ " + (r.step.after == null ? "(none)" : str(r.step.after)))
        : r.why != null ? "  cannot come next" : "";
      const head = r.step ? r.step.k + ". " : r.why != null ? "✗ " : "";
      // a bare step number is noise when hundreds share the row: only the ops that matter get one
      const forms = [...new Set([head + opShortLabel(o) + after, head + opShortLabel(o), r.rank <= 1 ? head.trim() : ""])].filter((t) => t);
      ctx.fillStyle = r.why != null ? "#b42318" : r.step ? "#1d2330" : "#667085"; ctx.font = (r.rank <= 2 ? "600 " : "") + FONT;
      const free = (sub, a, b) => placed[r.lane].every((p) => p[2] !== sub || b + 4 <= p[0] || a >= p[1] + 4);
      // the first label row stops at the next op of the client; the second, offset, may run on
      let sub = -1;
      const text = forms.find((t) => {
        const w = ctx.measureText(t).width;
        sub = lx + w <= Math.min(next, c.x.right) - 4 && free(0, lx, lx + w) ? 0 : lx + w <= c.x.right - 4 && free(1, lx, lx + w) ? 1 : -1;
        return sub >= 0;
      });
      const w = text ? label(ctx, text, lx, g.y + bh + 8 + sub * 13, c.x.right - lx - 4) : 0;
      if (w) placed[r.lane].push([lx, lx + w, sub]);
      ctx.font = FONT;
      hits.push({ x0: g.x0, x1: Math.max(g.x1, lx + w), y0: g.y, y1: g.y + bh + 29, r });
    }
    problemLine(c, 0, c.h);
    ctx.restore();
  },
  hit(x, y) {
    let best = null, bestRank = 9;
    for (const k of this.hits) {
      if (x < k.x0 - 2 || x > k.x1 + 2 || y < k.y0 || y > k.y1) continue;
      if (k.r.rank < bestRank) { best = k; bestRank = k.r.rank; }
    }
    if (!best) return null;
    const o = best.r.o;
    return tip(opLabel(o), [["client", clientName(o.process)], ["seq", str(o.seq)], ["outcome", str(o.type)],
      ["invoked", fmtS(o.invoke_us, 6)], ["completed", o.end_us == null ? "never" : fmtS(o.end_us, 6)],
      best.r.step ? ["prefix step", best.r.step.k + ", value after: " + (best.r.step.after == null ? "(none)" : str(best.r.step.after))] : null,
      best.r.why != null ? ["cannot come next", best.r.why] : null,
      best.r.rank === 1 ? ["named", "the sentence on the blocked op names it"] : null]);
  },
};
