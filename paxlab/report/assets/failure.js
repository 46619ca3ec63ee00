/* failure.js: panel 7, why the history is not linearizable: the failing key's ops on the
   real time axis, the longest linearizable prefix (green, numbered, value after each step),
   the ops that cannot come next (red) and one sentence each saying why. Only drawn when
   the model has a failure (contract section 3). */

const FAIL = { rows: [], procs: [], rowH: 38 };
const PREFIX_SHOWN = 12;
function failureOps() { return arr(M.failure && M.failure.ops).map(obj); }
function opLabel(o) {
  const key = str(M.failure.key);
  if (o.f === "put") return "put " + key + " = " + str(o.value);
  return "get " + key + (o.type === "ok" ? " → " + (o.value == null ? "not found" : str(o.value)) : "");
}
function renderFailureText() {
  const F = M.failure, panel = $("panel-failure");
  panel.hidden = !F; $("nav-failure").hidden = !F;
  if (!F) return;
  const ops = failureOps(), prefix = arr(F.prefix).map(obj), blocked = arr(F.blocked).map(obj);
  const win = arr(F.window_us);
  fill($("failure-head"), 
    h("p", { class: "fsummary" }, badge(F.verdict || "fail"), "  key ", h("code", { text: str(F.key) }), ": ", str(F.summary)),
    F.gave_up ? h("div", { class: "warn" }, h("b", { text: "The search gave up: " }), str(F.gave_up)) : null,
    h("p", { class: "hint" }, "The key's ops on the run's real time axis: the steps of the longest linearizable prefix in green, numbered in order with the register's value after each; in red the ops that cannot come next. ",
      win.length === 2 ? h("button", { type: "button", id: "failure-zoom", onclick: () => setView(win[0] - (win[1] - win[0]) * 0.15, win[1] + (win[1] - win[0]) * 0.15) }, "zoom to the key's window (" + fmtS(win[0]) + " – " + fmtS(win[1]) + ")") : null));
  const row = (i) => ops[num(i, -1)] || {};
  const who = (o) => clientName(o.process) + " #" + str(o.seq);
  fill($("failure-body"), 
    h("div", null, h("h3", { text: "Longest linearizable prefix: " + prefix.length + " step" + (prefix.length === 1 ? "" : "s") }),
      prefix.length > PREFIX_SHOWN ? h("p", { class: "hint" }, "The last " + PREFIX_SHOWN + " steps, just before the ops that cannot come next. ",
        h("button", { type: "button", id: "prefix-all", onclick: (e) => { e.target.parentElement.nextSibling.classList.add("all"); e.target.parentElement.remove(); } },
          "show all " + prefix.length)) : null,
      prefix.length ? h("table", { class: "prefix" }, h("thead", null, h("tr", null, ["#", "op", "", "invoked", "completed", "value after"].map((x) => h("th", { text: x })))),
        h("tbody", null, prefix.map((p, k) => {
          const o = row(p.op);
          return h("tr", { class: k < prefix.length - PREFIX_SHOWN ? "early" : null }, h("td", { class: "num", text: k + 1 }), h("td", null, h("code", { text: who(o) })), h("td", null, opLabel(o), " ", badge(o.type)),
            h("td", { class: "num", text: fmtS(o.invoke_us, 6) }), h("td", { class: "num", text: o.end_us == null ? "never" : fmtS(o.end_us, 6) }),
            h("td", null, h("code", { text: p.value_after == null ? "(none)" : str(p.value_after) })));
        }))) : h("p", { class: "empty", text: "Not even the first op can be placed." })),
    h("div", null, h("h3", { text: "Cannot come next: " + blocked.length }),
      blocked.length ? h("table", null, h("tbody", null, blocked.map((b) => {
        const o = row(b.op);
        return h("tr", { class: "blocked" }, h("td", null, h("code", { text: who(o) }), h("div", { text: opLabel(o) })), h("td", { class: "why", text: str(b.why) }));
      }))) : h("p", { class: "empty", text: "No op is named as blocked." })));
}
const failurePanel = {
  cv: null, hits: [],
  height() { return M.failure ? 12 + Math.max(1, FAIL.procs.length) * FAIL.rowH + 8 : 0; },
  prep() {
    if (!M.failure) return;
    const ops = failureOps(), step = new Map(), blocked = new Map();
    arr(M.failure.prefix).forEach((p, k) => step.set(num(obj(p).op, -1), { k: k + 1, after: obj(p).value_after }));
    arr(M.failure.blocked).forEach((b) => blocked.set(num(obj(b).op, -1), str(obj(b).why)));
    FAIL.procs = [...new Set(ops.map((o) => str(o.process)))].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
    FAIL.rows = ops.map((o, i) => ({ o, i, lane: FAIL.procs.indexOf(str(o.process)), step: step.get(i), why: blocked.get(i) }));
  },
  draw() {
    if (!M.failure) return;
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, hits = (this.hits = []);
    grid(c, 0, c.h);
    const win = arr(M.failure.window_us);
    FAIL.procs.forEach((p, k) => gutterLabel(c, clientName(isNaN(Number(p)) ? p : Number(p)), 12 + k * FAIL.rowH + FAIL.rowH / 2));
    clipPlot(c, 0, c.h);
    if (win.length === 2) { ctx.fillStyle = "rgba(217,45,32,0.07)"; ctx.fillRect(c.x(win[0]), 0, c.x(win[1]) - c.x(win[0]), c.h); }
    const xs = FAIL.rows.map((r) => c.x(num(r.o.invoke_us, D.t0)));
    FAIL.rows.forEach((r, j) => {
      const o = r.o, y = 12 + r.lane * FAIL.rowH + 3, bh = 13;
      const x0 = xs[j], x1 = Math.max(x0 + 3, c.x(o.end_us == null ? D.t1 : o.end_us));
      const col = r.why != null ? "#d92d20" : r.step ? "#2f9e5b" : "#98a2b3";
      ctx.fillStyle = col; ctx.globalAlpha = r.why != null || r.step ? 0.9 : 0.5;
      if (o.end_us == null) ctx.globalAlpha *= 0.5;
      ctx.fillRect(x0, y, x1 - x0, bh); ctx.globalAlpha = 1;
      if (r.why != null) { ctx.strokeStyle = "#7a271a"; ctx.lineWidth = 1.5; ctx.strokeRect(x0, y, x1 - x0, bh); ctx.lineWidth = 1; }
      // the label goes under the bar, up to the next op of the same client
      let next = c.x.right;
      FAIL.rows.forEach((q, k) => { if (q.lane === r.lane && xs[k] > x0 + 1 && xs[k] < next) next = xs[k]; });
      const text = (r.step ? r.step.k + ". " : r.why != null ? "✗ " : "") + opLabel(o) +
        (r.step ? "  ⇒ " + (r.step.after == null ? "(none)" : str(r.step.after)) : r.why != null ? "  cannot come next" : "");
      ctx.fillStyle = r.why != null ? "#b42318" : r.step ? "#1d2330" : "#667085"; ctx.font = (r.why != null || r.step ? "600 " : "") + FONT;
      const lx = Math.max(x0, GUTTER + 2);
      label(ctx, text, lx, y + bh + 9, next - lx - 6);
      ctx.font = FONT;
      hits.push({ x0, x1: Math.max(x1, lx + Math.min(next - lx - 6, ctx.measureText(text).width)), y0: y, y1: y + bh + 16, r });
    });
    problemLine(c, 0, c.h);
    ctx.restore();
  },
  hit(x, y) {
    for (const k of this.hits) {
      if (x < k.x0 - 2 || x > k.x1 + 2 || y < k.y0 || y > k.y1) continue;
      const o = k.r.o;
      return tip(opLabel(o), [["client", clientName(o.process)], ["seq", str(o.seq)], ["outcome", str(o.type)],
        ["invoked", fmtS(o.invoke_us, 6)], ["completed", o.end_us == null ? "never" : fmtS(o.end_us, 6)],
        k.r.step ? ["prefix step", k.r.step.k + ", value after: " + (k.r.step.after == null ? "(none)" : str(k.r.step.after))] : null,
        k.r.why != null ? ["cannot come next", k.r.why] : null]);
    }
    return null;
  },
};
