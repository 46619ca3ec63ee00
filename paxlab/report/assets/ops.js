/* ops.js: panel 4, client operations: one lane per client, each op a bar from invoke to
   completion coloured ok/fail/info (concurrent ops of a client get sub-rows), with the
   tooltip that names client, seq, f, key, value, outcome, server and height. Bars are
   batched into one path per colour, so 10,000 ops draw in a few milliseconds. */

const OPS = { subH: 12, pad: 5, h: 40, pinned: -1 };
function opEndT(i) { return isFinite(D.opEnd[i]) ? D.opEnd[i] : D.t1; }
function opText(i) {
  const o = M.ops, key = keyName(D.opKey[i]), v = o.value[i];
  if (o.f[i] === "put") return "put " + key + " = " + (v == null ? "?" : str(v));
  if (o.f[i] === "get") return "get " + key + (o.type[i] === "ok" ? " → " + (v == null ? "not found" : str(v)) : "");
  return str(o.f[i]) + " " + key + (v == null ? "" : " " + str(v));
}
function opShort(i) { return clientName(M.ops.client[i]) + " #" + str(M.ops.seq[i]); }
function opTip(i) {
  const o = M.ops, done = isFinite(D.opEnd[i]);
  return tip(opText(i), [
    ["client", clientName(o.client[i]) + " (process " + str(o.client[i]) + ")"], ["seq", str(o.seq[i])],
    ["f", str(o.f[i])], ["key", keyName(D.opKey[i])], ["value", o.value[i] == null ? "null" : str(o.value[i])],
    ["outcome", str(o.type[i]) + (o.type[i] === "info" ? " (unknown: it may or may not have taken effect)" : o.type[i] === "fail" ? " (certainly not applied)" : "")],
    ["invoked", fmtS(D.opInvoke[i], 6)],
    ["completed", done ? fmtS(D.opEnd[i], 6) + " (" + fmtDur(D.opEnd[i] - D.opInvoke[i]) + ")" : "never (still open when the run ended)"],
    ["server", D.opServer[i] >= 0 ? nodeName(D.opServer[i]) + " answered" : "no server answered"],
    ["height", D.opHeight[i] >= 0 ? "block " + fmtInt(D.opHeight[i]) : "not in any block"],
  ], [["follow it in the messages", () => P.follow({ op: [o.client[i], o.seq[i]] })],
    D.opHeight[i] >= 0 ? ["follow its slot " + D.opHeight[i], () => P.follow({ slot: D.opHeight[i] })] : null,
    ["zoom to it", () => zoomAround(D.opInvoke[i], opEndT(i))]]);
}
function zoomAround(a, b) { const pad = Math.max((b - a) * 1.5, 2000); setView(a - pad, b + pad); }
const opsPanel = {
  cv: null,
  layout() {
    let y = 6;
    for (const l of D.lanes) { l.y = y; l.h = l.sub * OPS.subH + 2 * OPS.pad; y += l.h; }
    OPS.h = Math.max(40, y + 6);
  },
  height() { return OPS.h; },
  geom(i, x) { // a bar's rectangle in canvas pixels
    const l = D.lanes[D.opLane[i]];
    const x0 = x(D.opInvoke[i]), x1 = x(opEndT(i));
    return { x0, x1: Math.max(x1, x0 + 1.5), y: l.y + OPS.pad + D.opRow[i] * OPS.subH, h: OPS.subH - 3 };
  },
  draw() {
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, x = c.x;
    grid(c, 0, c.h);
    D.lanes.forEach((l, k) => {
      if (k % 2) { ctx.fillStyle = "#fafbfc"; ctx.fillRect(0, l.y, c.w, l.h); }
      gutterLabel(c, clientName(l.client), l.y + l.h / 2, fmtInt(l.rows.length) + " ops");
    });
    if (!D.lanes.length) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no client operations were recorded", GUTTER + 8, 20); return; }
    clipPlot(c, 0, c.h);
    faultBands(c, 0, c.h, 0.06);
    const win = M.failure ? arr(M.failure.window_us) : [];
    if (win.length === 2) { ctx.fillStyle = "rgba(217,45,32,0.08)"; ctx.fillRect(x(win[0]), 0, x(win[1]) - x(win[0]), c.h); }
    const paths = [new Path2D(), new Path2D(), new Path2D()], open = [new Path2D(), new Path2D(), new Path2D()];
    const right = x.right, fol = FOLLOW.op, marked = [];
    for (let i = 0; i < D.nOps; i++) {
      const x0 = x(D.opInvoke[i]);
      if (x0 > right) continue;
      const x1 = x(opEndT(i));
      if (x1 < GUTTER) continue;
      const l = D.lanes[D.opLane[i]], y = l.y + OPS.pad + D.opRow[i] * OPS.subH;
      (isFinite(D.opEnd[i]) ? paths : open)[D.opType[i]].rect(x0, y, Math.max(1.5, x1 - x0), OPS.subH - 3);
      if ((fol && fol[i]) || (D.failKey >= 0 && D.opKey[i] === D.failKey && win.length === 2)) marked.push(i);
    }
    ctx.globalAlpha = fol ? 0.16 : 1;
    for (let t = 0; t < 3; t++) { ctx.fillStyle = TYPE_COLORS[TYPES[t]]; ctx.fill(paths[t]); }
    ctx.globalAlpha = fol ? 0.08 : 0.45;
    for (let t = 0; t < 3; t++) { ctx.fillStyle = TYPE_COLORS[TYPES[t]]; ctx.fill(open[t]); }
    ctx.globalAlpha = 1;
    for (const i of marked) {
      const g = this.geom(i, x);
      if (fol && fol[i]) { ctx.fillStyle = TYPE_COLORS[TYPES[D.opType[i]]]; ctx.fillRect(g.x0, g.y, g.x1 - g.x0, g.h); }
      ctx.strokeStyle = fol && fol[i] ? "#111827" : "#7a271a"; ctx.lineWidth = fol && fol[i] ? 1.5 : 1;
      ctx.strokeRect(g.x0 - 0.5, g.y - 0.5, g.x1 - g.x0 + 1, g.h + 1);
    }
    if (OPS.pinned >= 0) {
      const g = this.geom(OPS.pinned, x);
      ctx.strokeStyle = "#111827"; ctx.lineWidth = 2; ctx.strokeRect(g.x0 - 1, g.y - 1, g.x1 - g.x0 + 2, g.h + 2);
    }
    ctx.lineWidth = 1;
    problemLine(c, 0, c.h);
    ctx.restore();
  },
  find(px, py) {
    const x = mapper(this.cv.clientWidth);
    const l = D.lanes.find((q) => py >= q.y && py < q.y + q.h);
    if (!l || px < GUTTER) return -1;
    const sub = Math.floor((py - l.y - OPS.pad) / OPS.subH);
    let best = -1, bestD = 5;
    for (const i of l.rows) {
      if (D.opRow[i] !== sub) continue;
      const g = this.geom(i, x);
      const d = px < g.x0 ? g.x0 - px : px > g.x1 ? px - g.x1 : 0;
      if (d < bestD || (d === 0 && bestD === 0 && Math.abs(px - (g.x0 + g.x1) / 2) < Math.abs(px - (this.geom(best, x).x0 + this.geom(best, x).x1) / 2))) { best = i; bestD = d; }
    }
    return best;
  },
  hit(px, py) { const i = this.find(px, py); return i < 0 ? null : opTip(i); },
  click(px, py, e) {
    const i = this.find(px, py);
    if (i < 0) return false;
    OPS.pinned = i; pinTip(opTip(i), e.clientX, e.clientY); this.draw();
    return true;
  },
};
