/* timeline.js: panel 2, faults, leaders and commits on the time axis: one labelled bar
   per fault naming the nodes hit (greedy rows so bars never hide each other), who led
   with which ballot and the gaps with no leader, and the chain height over time. */

const TL = { rows: [], rowH: 20, leaderH: 26, commitH: 46 };
function layoutFaults() { // greedy rows in time, so bars never hide each other
  const ends = [];
  TL.rows = M.faults.map(() => 0);
  M.faults.map((f, i) => i).sort((a, b) => num(M.faults[a].start_us, 0) - num(M.faults[b].start_us, 0)).forEach((i) => {
    const f = M.faults[i], s = num(f.start_us, 0);
    const e = Math.max(num(f.end_us, D.t1), s + (D.t1 - D.t0) * 0.06);
    let r = ends.findIndex((x) => x <= s);
    if (r < 0) { r = Math.min(ends.length, 5); if (r === ends.length) ends.push(0); }
    ends[r] = Math.max(ends[r], e); TL.rows[i] = r;
  });
  TL.nRows = Math.max(1, ends.length);
}
function faultText(f) {
  const names = arr(f.nodes).map(nodeName);
  let t = str(f.label) || str(f.action);
  const missing = names.filter((n) => t.indexOf(n) < 0);
  if (missing.length) t += " → " + names.join(", ");
  return t;
}
function leaderGaps() {
  const ls = M.leaders.slice().sort((a, b) => num(a.start_us, 0) - num(b.start_us, 0));
  const gaps = [];
  let t = D.t0;
  for (const l of ls) {
    const s = num(l.start_us, t);
    if (s > t) gaps.push([t, s]);
    t = Math.max(t, num(l.end_us, D.t1));
  }
  if (t < D.t1 && ls.length) gaps.push([t, D.t1]);
  if (!ls.length && M.nodes.length) gaps.push([D.t0, D.t1]);
  return gaps;
}
const timelinePanel = {
  cv: null, hits: [],
  height() { return 8 + TL.nRows * TL.rowH + 6 + TL.leaderH + 8 + TL.commitH + 6; },
  draw() {
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, hits = (this.hits = []);
    const yF = 8, yL = yF + TL.nRows * TL.rowH + 6, yC = yL + TL.leaderH + 8;
    grid(c, 0, c.h);
    gutterLabel(c, "faults", yF + (TL.nRows * TL.rowH) / 2, M.faults.length ? fmtInt(M.faults.length) + " applied" : "none");
    gutterLabel(c, "leader", yL + TL.leaderH / 2, M.leaders.length ? "ballot" : "unknown");
    gutterLabel(c, "commits", yC + TL.commitH / 2, M.commits.n ? "chain height" : "none");
    clipPlot(c, 0, c.h);
    // fault ribbon: a label may run past its bar's end, up to the next bar in its row
    const nextStart = M.faults.map((f, i) => {
      let next = Infinity;
      M.faults.forEach((g, j) => {
        const sj = num(g.start_us, NaN), si = num(f.start_us, NaN);
        if (j !== i && TL.rows[j] === TL.rows[i] && (sj > si || (sj === si && j > i)) && sj < next) next = sj;
      });
      return isFinite(next) ? c.x(next) : c.x.right;
    });
    M.faults.forEach((f, i) => {
      const s = num(f.start_us, NaN); if (!isFinite(s)) return;
      const open = f.end_us == null, e = num(f.end_us, D.t1), y = yF + TL.rows[i] * TL.rowH + 1, bh = TL.rowH - 3;
      const x0 = c.x(s), x1 = c.x(e), col = faultColor(f.action), text = faultText(f);
      if (x1 - x0 < 3) { // an instant: a flag
        ctx.fillStyle = col; ctx.fillRect(Math.round(x0) - 1, y, 2, bh);
        ctx.beginPath(); ctx.moveTo(x0 + 1, y); ctx.lineTo(x0 + 8, y + 4); ctx.lineTo(x0 + 1, y + 8); ctx.fill();
        ctx.fillStyle = "#344054";
        const w = label(ctx, text, x0 + 10, y + bh / 2, Math.min(nextStart[i], c.x.right) - x0 - 14);
        hits.push({ x0: x0 - 3, x1: x0 + 10 + w, y0: y, y1: y + bh, fault: i });
        return;
      }
      ctx.globalAlpha = 0.2; ctx.fillStyle = col; ctx.fillRect(x0, y, x1 - x0, bh); ctx.globalAlpha = 1;
      ctx.fillStyle = col; ctx.fillRect(x0, y, 3, bh);
      if (open) { ctx.setLineDash([3, 3]); ctx.strokeStyle = col; ctx.strokeRect(x0 + 0.5, y + 0.5, x1 - x0 - 1, bh - 1); ctx.setLineDash([]); }
      ctx.fillStyle = "#1d2330";
      const lx = Math.max(x0, GUTTER) + 7; // (no label for a bar out of view: it would seem to be in it)
      const w = x1 < GUTTER + 12 ? 0 : label(ctx, text + (open ? " (never healed)" : ""), lx, y + bh / 2, Math.min(Math.max(x1, nextStart[i]), c.x.right) - lx - 6);
      hits.push({ x0, x1: Math.max(x1, lx + w), y0: y, y1: y + bh, fault: i });
    });
    if (!M.faults.length) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no faults in this run", GUTTER + 8, yF + TL.rowH / 2); }
    // leader lane
    ctx.fillStyle = hatch(ctx, "#d0d5dd");
    for (const g of leaderGaps()) {
      const x0 = c.x(g[0]), x1 = c.x(g[1]);
      ctx.fillStyle = hatch(ctx, "#d0d5dd"); ctx.fillRect(x0, yL + 2, x1 - x0, TL.leaderH - 4);
      ctx.fillStyle = "#667085";
      labelFirst(ctx, ["no leader " + fmtDur(g[1] - g[0]), "no leader", "none"], Math.max(x0, GUTTER) + 6, yL + TL.leaderH / 2, Math.min(x1, c.x.right) - Math.max(x0, GUTTER) - 10);
      hits.push({ x0, x1, y0: yL, y1: yL + TL.leaderH, gap: g });
    }
    M.leaders.forEach((l, i) => {
      const x0 = c.x(num(l.start_us, D.t0)), x1 = c.x(num(l.end_us, D.t1));
      ctx.fillStyle = nodeColor(num(l.node, 0)); ctx.globalAlpha = 0.88;
      ctx.fillRect(x0, yL + 2, Math.max(1, x1 - x0 - 1), TL.leaderH - 4); ctx.globalAlpha = 1;
      ctx.fillStyle = "#fff"; ctx.font = "600 " + FONT;
      const lx = Math.max(x0, GUTTER) + 6;
      labelFirst(ctx, [nodeName(l.node) + "  ballot " + str(l.ballot), nodeName(l.node) + " " + str(l.ballot), nodeName(l.node)], lx, yL + TL.leaderH / 2, Math.min(x1, c.x.right) - lx - 4);
      ctx.font = FONT;
      hits.push({ x0, x1, y0: yL, y1: yL + TL.leaderH, leader: i });
    });
    if (!M.leaders.length) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no leader information", GUTTER + 8, yL + TL.leaderH / 2); }
    // commit lane: the chain's height over time, scaled to the heights in view
    const n = M.commits.n, T = D.commitT, H = M.commits.height;
    if (n) {
      const a = Math.max(0, lowerBound(T, V.t0) - 1), b = Math.min(n - 1, upperBound(T, V.t1));
      const h0 = num(H[a], 0), h1 = Math.max(num(H[b], 0), h0 + 1);
      const y = (hh) => yC + TL.commitH - 4 - ((hh - h0) / (h1 - h0)) * (TL.commitH - 10);
      ctx.strokeStyle = "#0f766e"; ctx.lineWidth = 1.5; ctx.beginPath();
      ctx.moveTo(GUTTER, y(num(H[a], 0)));
      let lastX = -1;
      for (let i = a; i <= b; i++) {
        const x = c.x(T[i]);
        if (x - lastX < 0.5 && i !== b) continue;
        ctx.lineTo(x, y(num(H[i > a ? i - 1 : a], 0))); ctx.lineTo(x, y(num(H[i], 0))); lastX = x;
      }
      ctx.lineTo(c.x.right, y(num(H[b], 0))); ctx.stroke(); ctx.lineWidth = 1;
      if (b - a < c.x.pw / 4) {
        ctx.fillStyle = "#0f766e";
        for (let i = a; i <= b; i++) ctx.fillRect(Math.round(c.x(T[i])), yC + TL.commitH - 4, 1, 4);
      }
      // the counts are of the commits inside the view, and the height is the last one's
      const first = lowerBound(T, V.t0), last = upperBound(T, V.t1) - 1;
      ctx.fillStyle = "#0f766e"; ctx.textAlign = "right";
      if (last >= 0) ctx.fillText("height " + fmtInt(H[last]), c.x.right - 4, yC + 7);
      ctx.textAlign = "left"; ctx.fillStyle = "#667085";
      label(ctx, fmtInt(Math.max(0, last - first + 1)) + " commits in view", GUTTER + 6, yC + 7, c.x.pw / 2);
      hits.push({ x0: GUTTER, x1: c.x.right, y0: yC, y1: yC + TL.commitH, commits: true });
    } else { ctx.fillStyle = "#98a2b3"; ctx.fillText("no commits recorded", GUTTER + 8, yC + TL.commitH / 2); }
    problemLine(c, 0, c.h);
    ctx.restore();
  },
  hit(x, y) {
    for (const k of this.hits.slice().reverse()) {
      if (x < k.x0 || x > k.x1 || y < k.y0 || y > k.y1) continue;
      if (k.fault != null) {
        const f = M.faults[k.fault], rec = M.recovery.find((r) => r.fault === k.fault);
        return tip(faultText(f), [["action", str(f.action)], ["nodes", arr(f.nodes).map(nodeName).join(", ") || "none"],
          ["from", fmtS(f.start_us, 6)], ["to", f.end_us == null ? "never healed" : fmtS(f.end_us, 6) + " (" + fmtDur(f.end_us - f.start_us) + ")"],
          rec ? ["first ok", rec.first_ok_us == null ? "none" : fmtDur(rec.first_ok_us) + " after it started"] : null,
          rec ? ["recovered", rec.recover_us == null ? "not seen" : fmtDur(rec.recover_us) + " after it ended"] : null]);
      }
      if (k.leader != null) {
        const l = M.leaders[k.leader];
        return tip(nodeName(l.node) + " leads", [["ballot", str(l.ballot)], ["from", fmtS(l.start_us, 6)],
          ["to", fmtS(l.end_us, 6)], ["for", fmtDur(num(l.end_us, D.t1) - num(l.start_us, 0))]]);
      }
      if (k.gap) return tip("No leader", [["from", fmtS(k.gap[0], 6)], ["to", fmtS(k.gap[1], 6)], ["for", fmtDur(k.gap[1] - k.gap[0])]]);
      if (k.commits) {
        const t = mapper(this.cv.clientWidth).t(x), i = upperBound(D.commitT, t) - 1;
        if (i < 0) return tip("No block chosen yet", [["at", fmtS(t)]]);
        return tip("Chain height " + fmtInt(M.commits.height[i]), [["chosen at", fmtS(D.commitT[i], 6)], ["commits so far", fmtInt(i + 1)]]);
      }
    }
    return null;
  },
};
