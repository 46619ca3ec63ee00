/* perf.js: panel 3, throughput (ok/fail/info per time column) and p50/p95/p99 latency,
   faults shaded; above them a strip with, per fault, a bracket from its start to the first
   ok after it and one from its undo to its recovery (labels never overlap: each gets the
   room up to the next bracket in its row, shorter forms when that is small); the recovery
   table under the plot. Columns sit on the bucket grid (no false gaps). */

const PCT = [["p50_ms", "#1d4ed8", "p50"], ["p95_ms", "#ea8a0c", "p95"], ["p99_ms", "#d92d20", "p99"]];
function niceMax(x) {
  if (!(x > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
const REC_ROW = 15; // the recovery strip's two rows: first ok after a fault began, recovered after it ended
function tickMs(ms) { // an axis label: "10 ms", "1 s", "500 µs" (no "10.0 ms")
  const r = (v) => String(Number(v.toPrecision(3)));
  return ms >= 1000 ? r(ms / 1000) + " s" : ms >= 1 ? r(ms) + " ms" : r(ms * 1000) + " µs";
}
function recoveryMarks() { // [{fault, row, t0, t1, color, texts (longest first), kind}], by row then start
  const marks = [];
  for (const r of M.recovery) {
    const f = M.faults[num(r.fault, -1)]; if (!f) continue;
    const s = num(f.start_us, NaN), e = num(f.end_us, NaN), name = str(f.label) || str(f.action);
    if (isFinite(s) && isFinite(num(r.first_ok_us, NaN))) {
      const d = fmtDur(r.first_ok_us);
      marks.push({ fault: f, row: 0, t0: s, t1: s + r.first_ok_us, color: "#2f9e5b", kind: "first ok after the fault started",
        texts: ["first ok +" + d + " (" + name + ")", "first ok +" + d, "+" + d] });
    }
    if (isFinite(e) && isFinite(num(r.recover_us, NaN))) {
      const d = fmtDur(r.recover_us);
      marks.push({ fault: f, row: 1, t0: e, t1: e + r.recover_us, color: "#1d4ed8", kind: "recovered after the fault ended",
        texts: ["recovered +" + d + " (" + name + ")", "recovered +" + d, "+" + d] });
    }
  }
  return marks.sort((a, b) => a.row - b.row || a.t0 - b.t0 || a.t1 - b.t1);
}
const perfPanel = {
  cv: null, cols: null, marks: [],
  height() { return M.series.n ? 8 + (M.recovery.length ? 2 * REC_ROW + 4 : 0) + 96 + 18 + 110 + 8 : 40; },
  draw() {
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, s = M.series, n = s.n;
    const yR = 6, yT = 8 + (M.recovery.length ? 2 * REC_ROW + 4 : 0), hT = 96, yLt = yT + hT + 18, hL = 110;
    grid(c, 0, c.h);
    clipPlot(c, 0, c.h); faultBands(c, 0, c.h, 0.09); ctx.restore();
    const bus = s.bucket_us > 0 ? s.bucket_us : n > 1 ? num(s.t_us[1], 0) - num(s.t_us[0], 0) : 0;
    if (!n || !(bus > 0)) {
      gutterLabel(c, "throughput", c.h / 2);
      ctx.fillStyle = "#98a2b3"; ctx.fillText("no completed operations to plot", GUTTER + 8, c.h / 2);
      this.cols = null; return;
    }
    // one column per 2 px (or per bucket when buckets are wider): rates and worst latencies
    // columns hold a whole number of buckets and sit on the bucket grid, so no column
    // gets two buckets while its neighbour gets none (which would draw false gaps)
    const per = Math.max(1, Math.ceil(2 / (bus * c.x.k))), colUs = per * bus, colPx = colUs * c.x.k;
    const base = Math.floor((V.t0 - num(s.t_us[0], 0)) / colUs) * colUs + num(s.t_us[0], 0);
    const nc = Math.ceil((V.t1 - base) / colUs) + 1, colX = (j) => c.x(base + j * colUs);
    const col = { ok: new Float64Array(nc), fail: new Float64Array(nc), info: new Float64Array(nc), nb: new Float64Array(nc),
      p50_ms: new Float64Array(nc).fill(NaN), p95_ms: new Float64Array(nc).fill(NaN), p99_ms: new Float64Array(nc).fill(NaN), t: new Float64Array(nc) };
    const a = Math.max(0, lowerBound(s.t_us, V.t0 - bus)), b = Math.min(n, upperBound(s.t_us, V.t1) + 1);
    for (let i = a; i < b; i++) {
      const j = Math.floor((num(s.t_us[i], 0) - base) / colUs + 1e-9);
      if (j < 0 || j >= nc) continue;
      col.nb[j]++; col.t[j] = col.t[j] || num(s.t_us[i], 0);
      for (const t of TYPES) col[t][j] += num(s[t][i], 0);
      for (const p of PCT) { const v = s[p[0]][i]; if (typeof v === "number" && !(v <= col[p[0]][j])) col[p[0]][j] = v; }
    }
    let maxRate = 0, maxLat = 0, minLat = Infinity;
    for (let j = 0; j < nc; j++) {
      if (!col.nb[j]) continue;
      const secs = (col.nb[j] * bus) / 1e6;
      for (const t of TYPES) col[t][j] /= secs;
      maxRate = Math.max(maxRate, col.ok[j] + col.fail[j] + col.info[j]);
      if (col.p99_ms[j] > maxLat) maxLat = col.p99_ms[j];
      if (col.p95_ms[j] > maxLat) maxLat = col.p95_ms[j];
      if (col.p50_ms[j] > 0 && col.p50_ms[j] < minLat) minLat = col.p50_ms[j];
    }
    maxRate = niceMax(maxRate); maxLat = niceMax(maxLat);
    // latency on a log scale when spikes (a fault's timeouts) would flatten the rest
    const logLo = Math.pow(10, Math.floor(Math.log10(minLat))), logHi = Math.pow(10, Math.ceil(Math.log10(maxLat)));
    const useLog = isFinite(minLat) && maxLat / minLat > 12 && logHi > logLo;
    const yLat = useLog
      ? (v) => yLt + hL - ((Math.log10(Math.max(v, logLo)) - Math.log10(logLo)) / (Math.log10(logHi) - Math.log10(logLo))) * hL
      : (v) => yLt + hL - (v / maxLat) * hL;
    this.cols = { col, colX, colUs, nc, bus, base };
    gutterLabelAt(c, "throughput", yT + hT / 2, "ops/s", GUTTER - 40);
    ctx.fillStyle = "#98a2b3"; ctx.textAlign = "right";
    ctx.fillText(fmtInt(maxRate), GUTTER - 4, yT + 4); ctx.fillText("0", GUTTER - 4, yT + hT);
    if (useLog) {
      ctx.strokeStyle = "#eef1f5"; ctx.beginPath();
      for (let v = logLo; v <= logHi * 1.001; v *= 10) {
        const y = Math.round(yLat(v)) + 0.5;
        ctx.fillText(tickMs(v), GUTTER - 4, Math.min(yLt + hL - 4, Math.max(yLt + 4, y)));
        ctx.moveTo(GUTTER, y); ctx.lineTo(c.x.right, y);
      }
      ctx.stroke();
    } else { ctx.fillText(tickMs(maxLat), GUTTER - 4, yLt + 4); ctx.fillText("0", GUTTER - 4, yLt + hL); }
    ctx.textAlign = "left";
    gutterLabelAt(c, "latency", yLt + hL / 2, useLog ? "log scale" : "ms", GUTTER - 50);
    if (M.recovery.length) gutterLabelAt(c, "recovery", yR + REC_ROW, "first ok · recovered", GUTTER - 10);
    ctx.textAlign = "left";
    ctx.strokeStyle = "#d0d5dd"; ctx.beginPath();
    ctx.moveTo(GUTTER, yT + hT + 0.5); ctx.lineTo(c.x.right, yT + hT + 0.5);
    ctx.moveTo(GUTTER, yLt + hL + 0.5); ctx.lineTo(c.x.right, yLt + hL + 0.5); ctx.stroke();
    clipPlot(c, 0, c.h);
    const bw = Math.max(1, colPx - (colPx > 4 ? 1 : 0));
    for (let j = 0; j < nc; j++) {
      if (!col.nb[j]) continue;
      let y = yT + hT;
      for (const t of TYPES) {
        const hh = (col[t][j] / maxRate) * hT;
        if (hh <= 0) continue;
        ctx.fillStyle = TYPE_COLORS[t]; ctx.fillRect(colX(j), y - hh, bw, hh); y -= hh;
      }
    }
    for (const p of PCT) {
      ctx.strokeStyle = p[1]; ctx.lineWidth = 1.6; ctx.beginPath();
      let pen = false;
      for (let j = 0; j < nc; j++) {
        const v = col[p[0]][j];
        if (!(v >= 0)) { pen = false; continue; }
        const x = colX(j + 0.5), y = yLat(v);
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    // time to first ok and to recovery after each fault: brackets in their own strip
    this.marks = [];
    const marks = recoveryMarks();
    marks.forEach((m, k) => {
      const x0 = c.x(m.t0), x1 = Math.max(c.x(m.t1), x0 + 1), y = yR + m.row * REC_ROW + REC_ROW / 2;
      const next = marks[k + 1] && marks[k + 1].row === m.row ? c.x(marks[k + 1].t0) : c.x.right;
      if (x1 < GUTTER - 6 || x0 > c.x.right) return;
      ctx.strokeStyle = m.color; ctx.fillStyle = m.color; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x0 + 0.5, y - 4); ctx.lineTo(x0 + 0.5, y + 4); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(x1, y - 4.5); ctx.lineTo(x1 + 4.5, y); ctx.lineTo(x1, y + 4.5); ctx.lineTo(x1 - 4.5, y); ctx.fill();
      ctx.lineWidth = 1; ctx.fillStyle = "#344054";
      const room = Math.min(next, c.x.right) - x1 - 12, text = m.texts.find((t) => ctx.measureText(t).width <= room);
      const w = text ? label(ctx, text, x1 + 7, y, room) : 0;
      this.marks.push({ x0: x0 - 2, x1: x1 + 7 + w, y0: y - 7, y1: y + 7, m });
    });
    problemLine(c, 0, c.h);
    ctx.restore();
  },
  hit(x, y) {
    for (const k of this.marks) if (x >= k.x0 && x <= k.x1 && y >= k.y0 && y <= k.y1) {
      const m = k.m;
      return tip(m.texts[1], [["fault", faultText(m.fault)], ["meaning", m.kind], ["from", fmtS(m.t0, 6)], ["to", fmtS(m.t1, 6)]]);
    }
    if (!this.cols || x < GUTTER) return null;
    const { col, colUs, nc, bus, base } = this.cols, j = Math.floor((mapper(this.cv.clientWidth).t(x) - base) / colUs);
    if (j < 0 || j >= nc || !col.nb[j]) return null;
    return tip("From " + fmtS(col.t[j]) + " (" + (col.nb[j] > 1 ? col.nb[j] + " buckets of " : "one bucket of ") + fmtDur(bus) + ")", [
      ["ok", col.ok[j].toFixed(1) + " ops/s"], ["fail", col.fail[j].toFixed(1) + " ops/s"], ["info", col.info[j].toFixed(1) + " ops/s"],
      ["latency", "p50 " + fmtMs(col.p50_ms[j]) + " · p95 " + fmtMs(col.p95_ms[j]) + " · p99 " + fmtMs(col.p99_ms[j])]]);
  },
};
function renderRecovery() {
  const box = $("recovery");
  fill($("perf-legend"), ...TYPES.map((t) => h("span", null, h("span", { class: "sw", style: "background:" + TYPE_COLORS[t] }), t)),
    ...PCT.map((p) => h("span", null, h("span", { class: "sw", style: "height:3px;vertical-align:3px;background:" + p[1] }), p[2])),
    h("span", null, h("span", { class: "sw", style: "background:linear-gradient(90deg,#e5484d,#8e4ec6,#f76b15);opacity:.35" }), "faults, shaded in their ribbon colours"),
    M.recovery.length ? h("span", { text: "├◆ first ok after a fault began · recovered after it ended" }) : null);
  if (!M.faults.length) { fill(box); return; }
  fill(box, h("table", null, h("thead", null, h("tr", null, ["fault", "nodes", "from", "to", "first ok after it began", "recovered after it ended"].map((x, k) => h("th", { class: k > 1 ? "num" : null, text: x })))),
    h("tbody", null, M.faults.map((f, i) => {
      const r = M.recovery.find((x) => x.fault === i) || {};
      return h("tr", null, h("td", null, h("span", { class: "sw", style: "background:" + faultColor(f.action) }), str(f.label) || str(f.action)),
        h("td", { text: arr(f.nodes).map(nodeName).join(", ") || "–" }), h("td", { class: "num", text: fmtS(f.start_us) }),
        h("td", { class: "num", text: f.end_us == null ? "never healed" : fmtS(f.end_us) }),
        h("td", { class: "num", text: r.first_ok_us == null ? "–" : fmtDur(r.first_ok_us) }),
        h("td", { class: "num", text: r.recover_us == null ? "–" : fmtDur(r.recover_us) }));
    }))));
}
