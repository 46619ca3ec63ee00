/* messages.js: panel 5, the Paxos message diagram: a lifeline per node, each message an
   arrow from send to arrival coloured by kind, crosses for drops and cuts, marks for
   copies lost at down nodes, hatched down intervals, chosen slots and majorities. When
   the view holds more arrows than pixels can show, it aggregates them and says so with
   counts (no silent cap). FILTER and FOLLOW, the state that filters.js edits, live here. */

const MSG = { chosenH: 24, laneH: 30, binPx: 6, last: { arrows: 0, aggregated: false, inView: 0, collapsed: 0, filtered: 0, followed: 0, faded: 0 } };
const FILTER = { kinds: new Set(), nodes: null, ballots: null, slots: null, keys: null };
const FOLLOW = { spec: null, msg: null, op: null, slot: null };
const SLOT_BLIND = /^(Heartbeat|HeartbeatAck|Prepare|Promise)$/; // their slot field means something else
function laneY(n) { return MSG.chosenH + n * MSG.laneH + MSG.laneH / 2; }
function slotPasses(s) {
  const f = FILTER.slots;
  if (!f) return true;
  if (s < 0) return false;
  return f instanceof Set ? f.has(s) : s >= f.lo && s <= f.hi;
}
function computeMask() {
  const n = D.nMsg, m = D.mask;
  for (let i = 0; i < n; i++) {
    m[i] = (!FILTER.nodes || FILTER.nodes.has(D.mSrc[i]) || FILTER.nodes.has(D.mDst[i])) &&
      (!FILTER.ballots || FILTER.ballots.has(D.mBallot[i])) && slotPasses(D.mSlot[i]) &&
      (!FILTER.keys || (D.mOp[i] >= 0 && D.mOp[i] < D.nOps && FILTER.keys.has(D.opKey[D.mOp[i]]))) ? 1 : 0;
  }
}
function msgEnd(i) { // where an arrow ends: its arrival, or a stub for a copy that never arrived
  const a = D.mArrive[i];
  if (isFinite(a)) return a;
  return D.fateName(i) === "in flight" ? D.t1 : D.mSent[i] + D.typicalLat;
}
function stubY(y0, y1) { // a copy that never arrived stops between two lifelines, never on one
  const lanes = Math.round(Math.abs(y1 - y0) / MSG.laneH); // (its cross would seem to be that node's)
  if (!lanes) return y0 + (y1 - y0) * 0.55;
  return y0 + Math.sign(y1 - y0) * (Math.max(1, Math.round(lanes * 0.55)) - 0.5) * MSG.laneH;
}
function kindName(i) { return M.messages.kinds[D.mKind[i]] || "?"; }
function cross(ctx, x, y, r) { ctx.beginPath(); ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r); ctx.stroke(); }
function arrowHead(ctx, x0, y0, x1, y1, r) {
  const a = Math.atan2(y1 - y0, x1 - x0);
  ctx.beginPath(); ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - r * Math.cos(a - 0.45), y1 - r * Math.sin(a - 0.45));
  ctx.lineTo(x1 - r * Math.cos(a + 0.45), y1 - r * Math.sin(a + 0.45)); ctx.closePath(); ctx.fill();
}
const msgPanel = {
  cv: null, segs: new Float32Array(0), segId: new Int32Array(0), nSeg: 0, agg: null, marks: [],
  height() { return MSG.chosenH + Math.max(1, M.nodes.length) * MSG.laneH + 8; },
  addSeg(x0, y0, x1, y1, id) {
    if (this.nSeg * 4 >= this.segs.length) {
      const s = new Float32Array(Math.max(1024, this.segs.length * 2)), d = new Int32Array(s.length / 4);
      s.set(this.segs); d.set(this.segId); this.segs = s; this.segId = d;
    }
    this.segs.set([x0, y0, x1, y1], this.nSeg * 4); this.segId[this.nSeg++] = id;
  },
  drawOne(ctx, x, i, alpha, width) {
    const s = D.mSrc[i], d = D.mDst[i];
    if (s < 0 || d < 0 || s >= M.nodes.length || d >= M.nodes.length) return false;
    const off = D.mCopy[i] > 0 ? 3 : 0, fate = D.fateName(i), col = kindColor(kindName(i));
    const x0 = x(D.mSent[i]), y0 = laneY(s) + off;
    const arrived = isFinite(D.mArrive[i]);
    let x1 = x(msgEnd(i)), y1 = laneY(d) + off;
    if (!arrived) { y1 = stubY(y0, y1); x1 = Math.max(x1, x0 + 8); }
    ctx.globalAlpha = alpha; ctx.strokeStyle = col; ctx.fillStyle = col; ctx.lineWidth = width;
    if (fate === "held" || fate === "in flight" || off) ctx.setLineDash(fate === "in flight" ? [2, 3] : [4, 3]);
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke(); ctx.setLineDash([]);
    if (arrived && (fate === "down" || fate === "lost")) { // lost at the door of a down node
      ctx.strokeStyle = "#7a271a"; ctx.lineWidth = 1.3; ctx.beginPath(); ctx.arc(x1, y1, 3.5, 0, 6.2832); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(x1 - 2.5, y1 + 2.5); ctx.lineTo(x1 + 2.5, y1 - 2.5); ctx.stroke();
    } else if (!arrived && fate !== "in flight") {
      ctx.strokeStyle = fate === "cut" ? "#8e4ec6" : "#d92d20"; ctx.lineWidth = 1.8; cross(ctx, x1, y1, 3.2);
    } else if (Math.hypot(x1 - x0, y1 - y0) > 9) arrowHead(ctx, x0, y0, x1, y1, 6);
    ctx.lineWidth = 1; ctx.globalAlpha = 1;
    this.addSeg(x0, y0, x1, y1, i);
    return true;
  },
  draw() {
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, x = c.x, nN = M.nodes.length;
    this.nSeg = 0; this.agg = null; this.marks = [];
    const last = (MSG.last = { arrows: 0, aggregated: false, inView: 0, collapsed: 0, filtered: 0, followed: 0, faded: 0, groups: 0, binUs: 0 });
    grid(c, 0, c.h);
    ctx.fillStyle = "#f6f8fb"; ctx.fillRect(GUTTER, 0, x.pw, MSG.chosenH - 2);
    gutterLabel(c, "chosen", MSG.chosenH / 2 - 1, null, "#0f766e");
    M.nodes.forEach((name, k) => {
      const top = MSG.chosenH + k * MSG.laneH;
      if (k % 2) { ctx.fillStyle = "#fafbfc"; ctx.fillRect(0, top, c.w, MSG.laneH); }
      const server = /^s/.test(name);
      if (k && server !== /^s/.test(M.nodes[k - 1])) { ctx.fillStyle = "#d0d5dd"; ctx.fillRect(0, top, c.w, 1); }
      gutterLabel(c, name, top + MSG.laneH / 2, server ? "server" : /^c/.test(name) ? "client" : "", server ? "#1d2330" : "#475467");
    });
    if (!nN) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no nodes known", GUTTER + 8, MSG.chosenH + 14); }
    clipPlot(c, 0, c.h);
    // down intervals, leaders' lifelines, lifelines
    for (const dn of M.down) {
      const k = num(dn.node, -1); if (k < 0 || k >= nN) continue;
      const x0 = x(num(dn.start_us, D.t0)), x1 = x(num(dn.end_us, D.t1)), top = MSG.chosenH + k * MSG.laneH + 3;
      ctx.fillStyle = hatch(ctx, dn.kind === "pause" ? "#f5c26b" : "#f1a7a3"); ctx.fillRect(x0, top, x1 - x0, MSG.laneH - 6);
      ctx.fillStyle = "#7a271a"; label(ctx, dn.kind === "pause" ? "paused" : "down", Math.max(x0, GUTTER) + 4, top + 7, x1 - Math.max(x0, GUTTER) - 6);
      this.marks.push({ x0, x1, y0: top, y1: top + MSG.laneH - 6, down: dn });
    }
    M.nodes.forEach((name, k) => {
      ctx.strokeStyle = /^s/.test(name) ? "#b8c0cc" : "#d5dae2"; ctx.beginPath();
      ctx.moveTo(GUTTER, laneY(k) + 0.5); ctx.lineTo(x.right, laneY(k) + 0.5); ctx.stroke();
    });
    for (const l of M.leaders) {
      const k = num(l.node, -1); if (k < 0 || k >= nN) continue;
      ctx.fillStyle = nodeColor(k); ctx.globalAlpha = 0.35;
      ctx.fillRect(x(num(l.start_us, D.t0)), laneY(k) - 2, x(num(l.end_us, D.t1)) - x(num(l.start_us, D.t0)), 5); ctx.globalAlpha = 1;
    }
    // which messages are in view, and how each is drawn
    const lo = lowerBound(D.sentSorted, V.t0 - D.maxSpan), hi = upperBound(D.sentSorted, V.t1);
    const cand = D.cand, ticks = new Path2D(), shown = FILTER.kinds;
    let nc = 0;
    for (let k = lo; k < hi; k++) {
      const i = D.order[k];
      if (msgEnd(i) < V.t0) continue;
      if (!D.mask[i]) { last.filtered++; continue; }
      const kind = D.mKind[i];
      if (!shown.has(kind)) {
        if (D.isHeartbeat[kind]) {
          last.collapsed++;
          const s = D.mSrc[i];
          if (s >= 0 && s < nN) ticks.rect(Math.round(x(D.mSent[i])), laneY(s) - 4, 1, 8);
        } else last.filtered++;
        continue;
      }
      cand[nc++] = i;
    }
    last.inView = nc;
    ctx.fillStyle = "#aab2bf"; ctx.fill(ticks);
    const aggMax = Math.max(1500, Math.round(x.pw * 2.5)), fol = FOLLOW.msg;
    if (nc > aggMax) this.drawAggregated(ctx, x, nc, fol);
    else {
      for (let j = 0; j < nc; j++) {
        const i = cand[j];
        if (fol && fol[i]) continue;
        if (this.drawOne(ctx, x, i, fol ? 0.1 : 0.85, 1)) { last.arrows++; if (fol) last.faded++; }
      }
    }
    if (fol) for (let j = 0; j < nc; j++) {
      const i = cand[j];
      if (fol[i] && this.drawOne(ctx, x, i, 1, 2)) { last.arrows++; last.followed++; }
    }
    this.drawMarkers(ctx, x);
    problemLine(c, 0, c.h);
    ctx.restore();
    this.note();
  },
  drawAggregated(ctx, x, nc, fol) {
    // one group per (pixel column, sender, receiver, kind); each drawn as one line whose
    // darkness and width grow with its count. Lines are batched into a few paths by
    // kind and weight, since thousands of separate strokes would cost more than the rest.
    const last = MSG.last, nN = M.nodes.length, nK = Math.max(1, M.messages.kinds.length), bin = MSG.binPx;
    const nBins = Math.ceil(x.pw / bin) + 2, space = nBins * nN * nN * nK;
    const table = space <= 8e6 ? new Int32Array(space).fill(-1) : null, map = table ? null : new Map();
    const g = { src: new Int32Array(nc), dst: new Int32Array(nc), kind: new Int32Array(nc), bin: new Int32Array(nc),
      count: new Int32Array(nc), lat: new Float64Array(nc), latN: new Int32Array(nc), bad: new Int32Array(nc),
      t0: new Float64Array(nc), t1: new Float64Array(nc) };
    let n = 0;
    for (let j = 0; j < nc; j++) {
      const i = D.cand[j];
      if (fol && fol[i]) continue;
      const s = D.mSrc[i], d = D.mDst[i], kd = D.mKind[i];
      if (s < 0 || d < 0 || s >= nN || d >= nN || kd < 0) continue;
      const b = Math.max(-1, Math.min(nBins - 2, Math.floor((x(D.mSent[i]) - GUTTER) / bin)));
      const key = (((b + 1) * nN + s) * nN + d) * nK + kd;
      let a = table ? table[key] : map.has(key) ? map.get(key) : -1;
      if (a < 0) {
        a = n++;
        if (table) table[key] = a; else map.set(key, a);
        g.src[a] = s; g.dst[a] = d; g.kind[a] = kd; g.bin[a] = b; g.t0[a] = g.t1[a] = D.mSent[i];
      }
      g.count[a]++;
      const t = D.mSent[i];
      if (t < g.t0[a]) g.t0[a] = t;
      if (t > g.t1[a]) g.t1[a] = t;
      if (D.mLost[i]) g.bad[a]++; else { g.lat[a] += D.mArrive[i] - t; g.latN[a]++; }
    }
    let maxCount = 1;
    for (let a = 0; a < n; a++) if (g.count[a] > maxCount) maxCount = g.count[a];
    const LEVELS = 6, paths = new Map(), crosses = new Path2D(), logMax = Math.log(1 + maxCount);
    for (let a = 0; a < n; a++) {
      const x0 = GUTTER + (g.bin[a] + 0.5) * bin, y0 = laneY(g.src[a]);
      const lat = g.latN[a] ? g.lat[a] / g.latN[a] : D.typicalLat;
      const x1 = x0 + lat * x.k;
      let y1 = laneY(g.dst[a]);
      if (!g.latN[a]) y1 = stubY(y0, y1);
      const level = Math.min(LEVELS - 1, Math.floor((Math.log(1 + g.count[a]) / logMax) * LEVELS));
      const pk = g.kind[a] * LEVELS + level;
      let path = paths.get(pk);
      if (!path) { path = new Path2D(); paths.set(pk, path); }
      path.moveTo(x0, y0); path.lineTo(x1, y1);
      if (g.bad[a]) { const r = 2.5 + Math.min(2.5, g.bad[a] / 4); crosses.moveTo(x1 - r, y1 - r); crosses.lineTo(x1 + r, y1 + r); crosses.moveTo(x1 - r, y1 + r); crosses.lineTo(x1 + r, y1 - r); }
      this.addSeg(x0, y0, x1, y1, -(a + 1));
    }
    for (const [pk, path] of [...paths.entries()].sort((p, q) => p[0] % LEVELS - q[0] % LEVELS)) {
      const w = ((pk % LEVELS) + 1) / LEVELS;
      ctx.strokeStyle = kindColor(M.messages.kinds[Math.floor(pk / LEVELS)] || "?");
      ctx.globalAlpha = fol ? 0.06 : 0.12 + 0.6 * w; ctx.lineWidth = 0.8 + 2.2 * w;
      ctx.stroke(path);
    }
    ctx.globalAlpha = fol ? 0.1 : 0.9; ctx.strokeStyle = "#d92d20"; ctx.lineWidth = 1.4; ctx.stroke(crosses);
    ctx.globalAlpha = 1; ctx.lineWidth = 1;
    this.agg = g;
    last.aggregated = true; last.groups = n; last.arrows += n; last.binUs = bin / x.k;
    if (fol) last.faded = n;
  },
  drawMarkers(ctx, x) {
    // when they are dense, markers go into one path each (thousands of fills are slow)
    // and carry no labels or hover targets: zoom in for those
    const fs = FOLLOW.slot;
    const T = D.commitT, H = M.commits.height; // chosen slots on the top strip
    const a = lowerBound(T, V.t0), b = upperBound(T, V.t1), many = b - a > x.pw / 14;
    const dense = new Path2D(), lit = [];
    let lastRight = -Infinity;
    for (let i = a; i < b; i++) {
      const cx = x(T[i]);
      if (fs != null && H[i] === fs) { lit.push(i); continue; }
      if (many) { dense.rect(Math.round(cx), 4, 1, MSG.chosenH - 10); continue; }
      dense.moveTo(cx - 4, 4); dense.lineTo(cx + 4, 4); dense.lineTo(cx, 11); dense.closePath();
      const w = ctx.measureText(String(H[i])).width, room = i + 1 < b ? x(T[i + 1]) - 5 - cx : Infinity;
      ctx.fillStyle = "#0f766e"; ctx.globalAlpha = fs != null ? 0.3 : 1;
      if (cx - 4 > lastRight && room > w + 6) { ctx.fillText(String(H[i]), cx + 5, 9); lastRight = cx + 5 + w; }
      this.marks.push({ x0: cx - 5, x1: cx + 5, y0: 0, y1: MSG.chosenH, chosen: i });
    }
    ctx.fillStyle = "#0f766e"; ctx.globalAlpha = fs != null ? 0.3 : 1; ctx.fill(dense); ctx.globalAlpha = 1;
    for (const i of lit) {
      const cx = x(T[i]);
      ctx.fillStyle = "#b42318"; ctx.beginPath(); ctx.moveTo(cx - 5, 3); ctx.lineTo(cx + 5, 3); ctx.lineTo(cx, 12); ctx.fill();
      ctx.fillText(String(H[i]), cx + 6, 9);
      this.marks.push({ x0: cx - 5, x1: cx + 5, y0: 0, y1: MSG.chosenH, chosen: i });
    }
    // where the leader heard a majority
    const Q = M.quorums, QT = D.quorumT, qa = lowerBound(QT, V.t0), qb = upperBound(QT, V.t1), qmany = qb - qa > x.pw / 14;
    const diamonds = new Path2D(), qlit = [], qRight = new Map();
    const diamond = (p, cx, cy, r) => { p.moveTo(cx, cy - r); p.lineTo(cx + r, cy); p.lineTo(cx, cy + r); p.lineTo(cx - r, cy); p.closePath(); };
    ctx.fillStyle = "#0b2e6e";
    for (let i = qa; i < qb; i++) {
      const k = num(Q.node[i], -1);
      if (k < 0 || k >= M.nodes.length) continue;
      if (fs != null && Q.height[i] === fs) { qlit.push(i); continue; }
      const cx = x(QT[i]), cy = laneY(k);
      if (qmany) { ctx.globalAlpha = fs != null ? 0.25 : 1; ctx.fillRect(cx - 1.5, cy - 1.5, 3, 3); continue; } // cheap when dense
      diamond(diamonds, cx, cy, 3.6);
      const text = "q" + Q.height[i], qw = ctx.measureText(text).width, qroom = i + 1 < qb ? x(QT[i + 1]) - 5 - cx : Infinity;
      if (cx - 4 > (qRight.has(k) ? qRight.get(k) : -Infinity) && qroom > qw + 6) {
        ctx.globalAlpha = fs != null ? 0.25 : 1; ctx.fillText(text, cx + 5, cy - 8); qRight.set(k, cx + 5 + qw);
      }
      this.marks.push({ x0: cx - 5, x1: cx + 5, y0: cy - 5, y1: cy + 5, quorum: i });
    }
    ctx.globalAlpha = fs != null ? 0.25 : 1; ctx.fill(diamonds); ctx.globalAlpha = 1;
    for (const i of qlit) {
      const cx = x(QT[i]), cy = laneY(num(Q.node[i], 0)), p = new Path2D();
      diamond(p, cx, cy, 5.5); ctx.fillStyle = "#b42318"; ctx.fill(p);
      ctx.fillStyle = "#0b2e6e"; ctx.fillText("q" + Q.height[i], cx + 6, cy - 8);
      this.marks.push({ x0: cx - 5, x1: cx + 5, y0: cy - 5, y1: cy + 5, quorum: i });
    }
  },
  note() {
    const el = $("aggregation-note"), L = MSG.last, total = D.nMsg;
    el.className = "note" + (L.aggregated ? " agg" : "");
    let text;
    if (!total) text = "No messages were recorded for this run" + (M.unread.some((u) => /messages/.test(u)) ? " (messages.jsonl could not be read; see the verdict card)." : ".");
    else if (L.aggregated) {
      text = "Too dense to draw one by one: the " + fmtInt(L.inView) + " messages in view are drawn as " + fmtInt(L.groups) +
        " aggregated arrows, one per sender, receiver and kind in each " + MSG.binPx + " px column (about " + fmtDur(L.binUs) +
        "); darker, thicker lines carry more messages; a red cross marks groups with lost copies. Drag to zoom in below " +
        fmtInt(Math.max(1500, Math.round(plotW(this.cv.clientWidth) * 2.5))) + " messages to see each one.";
    } else text = "Drawing each of the " + fmtInt(L.inView) + " messages in view, out of " + fmtInt(total) + " recorded.";
    if (total) {
      if (L.collapsed) text += " " + fmtInt(L.collapsed) + " heartbeats are collapsed into ticks on the sender's lifeline (tick Heartbeat to draw them).";
      if (L.filtered) text += " " + fmtInt(L.filtered) + " hidden by the filters.";
      if (FOLLOW.spec) text += " Following " + followText() + ": " + fmtInt(L.followed) + " messages highlighted, the rest faded.";
    }
    el.textContent = text;
  },
  find(px, py) {
    for (const m of this.marks) if (m.chosen != null || m.quorum != null) if (px >= m.x0 && px <= m.x1 && py >= m.y0 && py <= m.y1) return { mark: m };
    let best = -1, bestD = 5.5;
    const s = this.segs;
    for (let j = this.nSeg - 1; j >= 0; j--) {
      const x0 = s[4 * j], y0 = s[4 * j + 1], x1 = s[4 * j + 2], y1 = s[4 * j + 3];
      const dx = x1 - x0, dy = y1 - y0, L2 = dx * dx + dy * dy;
      const t = L2 ? Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / L2)) : 0;
      const d = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
      if (d < bestD) { bestD = d; best = j; }
    }
    if (best >= 0) return { id: this.segId[best] };
    for (const m of this.marks) if (m.down && px >= m.x0 && px <= m.x1 && py >= m.y0 && py <= m.y1) return { mark: m };
    return null;
  },
  tipFor(f) {
    if (!f) return null;
    if (f.mark) {
      const m = f.mark;
      if (m.chosen != null) {
        const hh = M.commits.height[m.chosen];
        return tip("Slot " + hh + " chosen", [["at", fmtS(D.commitT[m.chosen], 6)]], [["follow slot " + hh, () => P.follow({ slot: hh })]]);
      }
      if (m.quorum != null) {
        const Q = M.quorums, i = m.quorum;
        return tip(nodeName(Q.node[i]) + " heard a majority", [["slot", str(Q.height[i])], ["ballot", M.messages.ballots[Q.ballot[i]] || "?"],
          ["at", fmtS(D.quorumT[i], 6)]], [["follow slot " + Q.height[i], () => P.follow({ slot: Q.height[i] })]]);
      }
      const dn = m.down;
      return tip(nodeName(dn.node) + (dn.kind === "pause" ? " paused" : " down"), [["from", fmtS(dn.start_us, 6)], ["to", fmtS(dn.end_us, 6)],
        ["for", fmtDur(num(dn.end_us, D.t1) - num(dn.start_us, 0))]]);
    }
    if (f.id < 0) {
      const g = this.agg, a = -f.id - 1;
      return tip(fmtInt(g.count[a]) + " " + (M.messages.kinds[g.kind[a]] || "?") + " messages " + nodeName(g.src[a]) + " → " + nodeName(g.dst[a]), [
        ["sent", fmtS(g.t0[a], 4) + " – " + fmtS(g.t1[a], 4)], ["arrived", fmtInt(g.latN[a]) + (g.latN[a] ? ", on average after " + fmtDur(g.lat[a] / g.latN[a]) : "")],
        ["not delivered", fmtInt(g.bad[a])]], [["zoom in here", () => setView(g.t0[a] - (g.t1[a] - g.t0[a]) * 4 - 5000, g.t1[a] + (g.t1[a] - g.t0[a]) * 4 + 5000)]]);
    }
    const i = f.id, op = D.mOp[i], fate = D.fateName(i), arrived = isFinite(D.mArrive[i]);
    const slot = D.mSlot[i], kn = kindName(i);
    return tip(kn + " " + nodeName(D.mSrc[i]) + " → " + nodeName(D.mDst[i]), [
      ["id", str(M.messages.id[i])], ["ballot", D.mBallot[i] >= 0 ? M.messages.ballots[D.mBallot[i]] : "–"],
      ["slot", slot >= 0 ? String(slot) + (SLOT_BLIND.test(kn) ? (/^Heartbeat/.test(kn) ? " (commit index)" : " (from slot)") : "") : "–"],
      ["op", op >= 0 && op < D.nOps ? opShort(op) + ": " + opText(op) : "–"],
      ["sent", fmtS(D.mSent[i], 6)],
      ["arrived", arrived ? fmtS(D.mArrive[i], 6) + " (+" + fmtDur(D.mArrive[i] - D.mSent[i]) + ")" : "never"],
      ["fate", fate + (fate === "down" ? ": lost, the target was down" : fate === "cut" ? ": the link was cut" : fate === "dropped" ? ": the network dropped it" : "") +
        (D.mCopy[i] > 0 ? " (second copy of a duplicate)" : "")],
    ], [slot >= 0 && !SLOT_BLIND.test(kn) ? ["follow slot " + slot, () => P.follow({ slot })] : null,
      op >= 0 && op < D.nOps ? ["follow op " + opShort(op), () => P.follow({ op: [M.ops.client[op], M.ops.seq[op]] })] : null,
      FOLLOW.spec ? ["stop following", () => P.follow(null)] : null]);
  },
  hit(px, py) { return this.tipFor(this.find(px, py)); },
  click(px, py, e) { const t = this.tipFor(this.find(px, py)); if (!t) return false; pinTip(t, e.clientX, e.clientY); return true; },
};
function followText() {
  const s = FOLLOW.spec;
  if (!s) return "";
  if (s.slot != null) return "slot " + s.slot;
  return "op " + clientName(s.op[0]) + " #" + s.op[1];
}
