/* chains.js: panel 6, the chain grid (server x height, each block coloured by its hash,
   red where a server differs from the majority) over the heights chosen in the time
   view; when the chains differ, a close-up of the heights around the first difference
   with each block's hash written in its cell (at a whole-run scale one height is less
   than a pixel); and the table of keys whose value differs between the servers' stores.
   Rows are indexed by height: row k's cell i is height start[k] + i (a server that
   installed a snapshot holds nothing below it), so read cells through chainAt. */

const CH = { rowH: 24, top: 26, maj: null, div: null, len: 0, colors: [], close: null, CLOSE: 16, start: [] };
function chainStart(k) { return CH.start[k]; }
function chainEnd(k) { return chainStart(k) + M.chains.cells[k].length; } // one past its tip
function chainHolds(k, hgt) { return hgt >= chainStart(k) && hgt < chainEnd(k); }
function chainAt(k, hgt) { return chainHolds(k, hgt) ? M.chains.cells[k][hgt - chainStart(k)] : -2; } // -2: not held, -1: unread
function prepChains() {
  const C = M.chains, rows = C.cells;
  CH.start = rows.map((r, k) => Math.max(0, Math.floor(num(arr(C.start)[k], 0)))); // older models have none: 0
  CH.len = rows.reduce((m, r, k) => Math.max(m, chainEnd(k)), 0);
  CH.maj = new Int32Array(CH.len).fill(-1); CH.div = new Uint8Array(CH.len);
  for (let hgt = 0; hgt < CH.len; hgt++) {
    const count = new Map();
    let best = -1, bestN = 0, seen = 0;
    for (let k = 0; k < rows.length; k++) {
      if (!chainHolds(k, hgt)) continue;
      seen++;
      const v = chainAt(k, hgt), n = (count.get(v) || 0) + 1;
      count.set(v, n);
      if (n > bestN) { bestN = n; best = v; }
    }
    CH.maj[hgt] = best;
    CH.div[hgt] = count.size > 1 ? 1 : 0; // a chain that merely ends is not red: it says where it ends
  }
  CH.colors = C.hashes.map(hashColor);
  const d = num(C.diverge_at, -1);
  if (d >= 0 && d < CH.len) { // the close-up: heights a..b around the first difference
    const n = Math.min(CH.len, CH.CLOSE), a = Math.max(0, Math.min(d - 5, CH.len - n));
    CH.close = { a, b: a + n - 1, d, top: CH.top + Math.max(1, rows.length) * CH.rowH + 18 };
  }
}
function chainBad(k, hgt) { return CH.div[hgt] && chainHolds(k, hgt) && chainAt(k, hgt) !== CH.maj[hgt]; }
function chainServer(k) { return nodeName(num(M.chains.servers[k], k)); }
const chainsPanel = {
  cv: null,
  height() {
    const grid = CH.top + Math.max(1, M.chains.cells.length) * CH.rowH + 8;
    return CH.close ? CH.close.top + 30 + M.chains.cells.length * CH.rowH + 8 : grid;
  },
  range() { // the heights chosen in the time view (all of them for the whole run)
    const T = D.commitT, H = M.commits.height, n = T.length;
    if (!n || (V.t0 <= D.t0 && V.t1 >= D.t1)) return [0, CH.len - 1];
    const lo = lowerBound(T, V.t0), hi = upperBound(T, V.t1) - 1;
    let a = lo < n ? num(H[lo], 0) : CH.len - 1, b = hi >= 0 ? num(H[hi], 0) : 0;
    if (b < a) b = a;
    a = Math.max(0, Math.min(a, CH.len - 1)); b = Math.max(a, Math.min(b, CH.len - 1));
    return [a, b];
  },
  draw() {
    const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, rows = M.chains.cells, pw = c.x.pw;
    if (!rows.length || !CH.len) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no chains were read", GUTTER + 8, CH.top + 10); return; }
    const [a, b] = (this.shown = this.range()), span = b - a + 1, cw = pw / span;
    const raw = span / Math.max(2, pw / 90), p10 = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
    let step = Math.max(1, [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= raw) || 10 * p10);
    if (cw * step < 24) step *= 2;
    ctx.fillStyle = "#667085"; ctx.strokeStyle = "#eef1f5";
    for (let hgt = Math.ceil(a / step) * step; hgt <= b; hgt += step) {
      const px = Math.round(GUTTER + (hgt - a) * cw) + 0.5;
      ctx.fillText(fmtInt(hgt), px + 2, 8); ctx.beginPath(); ctx.moveTo(px, 12); ctx.lineTo(px, CH.top + rows.length * CH.rowH); ctx.stroke();
    }
    gutterLabel(c, "height", 8, null, "#667085");
    $("chains-range").textContent = span < CH.len ? "showing heights " + fmtInt(a) + "–" + fmtInt(b) + " of " + fmtInt(CH.len) + ", the ones chosen in the time view" : "";
    const bad = chainBad;
    rows.forEach((r, k) => {
      const y = CH.top + k * CH.rowH, s = chainStart(k), end = chainEnd(k), n = Math.min(end, b + 1), from = Math.max(a, s);
      gutterLabel(c, chainServer(k) + " · " + fmtInt(num(M.chains.length[k], r.length)), y + CH.rowH / 2);
      if (cw >= 1) {
        const gap = cw > 5 ? 1 : 0;
        for (let hgt = from; hgt < n; hgt++) {
          ctx.fillStyle = bad(k, hgt) ? "#d92d20" : CH.colors[chainAt(k, hgt)] || "#ccc";
          ctx.fillRect(GUTTER + (hgt - a) * cw, y + 2, cw - gap, CH.rowH - 6);
        }
      } else {
        for (let px = Math.max(0, Math.floor((from - a) * cw)); px < pw; px++) {
          const h0 = Math.max(from, a + Math.floor(px / cw)), h1 = Math.min(n, a + Math.floor((px + 1) / cw));
          if (h0 >= n) break;
          let red = false;
          for (let hgt = h0; hgt < h1 && !red; hgt++) red = bad(k, hgt);
          ctx.fillStyle = red ? "#d92d20" : CH.colors[chainAt(k, h0)] || "#ccc";
          ctx.fillRect(GUTTER + px, y + 2, 1, CH.rowH - 6);
        }
      }
      ctx.fillStyle = "#d92d20"; // a differing block stays visible however many heights share a pixel
      if (cw < 3) for (let hgt = from; hgt < n; hgt++) if (bad(k, hgt)) ctx.fillRect(GUTTER + (hgt - a + 0.5) * cw - 1.5, y + 2, 3, CH.rowH - 6);
      if (s > a && s <= b + 1) { // the heights below a snapshot: never held by this server
        ctx.fillStyle = "#98a2b3"; label(ctx, "from a snapshot at height " + fmtInt(s), GUTTER + 6, y + CH.rowH / 2, Math.max(0, (s - a) * cw - 12));
      }
      if (end <= b) { ctx.fillStyle = "#98a2b3"; label(ctx, "ends at height " + fmtInt(end - 1), GUTTER + Math.max(0, end - a) * cw + 6, y + CH.rowH / 2, 200); }
    });
    ctx.fillStyle = "#d92d20";
    for (let hgt = a; hgt <= b; hgt++) if (CH.div[hgt]) ctx.fillRect(GUTTER + (hgt - a + 0.5) * cw - Math.max(1.5, cw / 2), CH.top - 5, Math.max(3, cw), 3);
    const d = CH.close ? CH.close.d : -1;
    if (d >= a && d <= b) {
      const px = GUTTER + (d - a + 0.5) * cw;
      ctx.beginPath(); ctx.moveTo(px - 5, CH.top - 13); ctx.lineTo(px + 5, CH.top - 13); ctx.lineTo(px, CH.top - 5); ctx.fill();
    }
    if (CH.close) this.drawClose(c);
    if (FOLLOW.slot != null && FOLLOW.slot >= a && FOLLOW.slot <= b) {
      ctx.strokeStyle = "#111827"; ctx.lineWidth = 2;
      ctx.strokeRect(GUTTER + (FOLLOW.slot - a) * cw - 1, CH.top, Math.max(2, cw) + 2, rows.length * CH.rowH); ctx.lineWidth = 1;
    }
  },
  drawClose(c) {
    const ctx = c.ctx, rows = M.chains.cells, { a, b, d, top } = CH.close, cw = c.x.pw / (b - a + 1), y0 = top + 30;
    ctx.strokeStyle = "#e3e7ee"; ctx.beginPath(); ctx.moveTo(8, top - 8.5); ctx.lineTo(c.w - 8, top - 8.5); ctx.stroke();
    gutterLabel(c, "close-up", top + 6, null, "#b42318");
    ctx.fillStyle = "#b42318"; ctx.font = "600 " + FONT;
    label(ctx, "Heights " + fmtInt(a) + "–" + fmtInt(b) + " around the first difference, at height " + fmtInt(d) + ": each cell is the block's hash; red, a block the majority does not have", GUTTER, top + 6, c.x.pw);
    ctx.font = FONT;
    for (let hgt = a; hgt <= b; hgt++) {
      ctx.fillStyle = hgt === d ? "#b42318" : "#667085"; ctx.textAlign = "center";
      ctx.fillText(fmtInt(hgt), GUTTER + (hgt - a + 0.5) * cw, top + 22);
    }
    ctx.textAlign = "left";
    ctx.font = "11px ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
    rows.forEach((r, k) => {
      const y = y0 + k * CH.rowH;
      gutterLabel(c, chainServer(k), y + CH.rowH / 2);
      ctx.font = "11px ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
      for (let hgt = a; hgt <= b; hgt++) {
        const x = GUTTER + (hgt - a) * cw, v = chainAt(k, hgt);
        if (!chainHolds(k, hgt)) { ctx.fillStyle = "#f2f4f7"; ctx.fillRect(x, y + 2, cw - 2, CH.rowH - 6); continue; }
        const red = chainBad(k, hgt), hash = v >= 0 ? str(M.chains.hashes[v]) : "unread";
        ctx.fillStyle = red ? "#d92d20" : CH.colors[v] || "#ccc"; ctx.fillRect(x, y + 2, cw - 2, CH.rowH - 6);
        ctx.fillStyle = red ? "#fff" : "#1d2330"; ctx.textAlign = "center";
        const t = ctx.measureText(hash).width <= cw - 6 ? hash : hash.slice(0, Math.max(0, Math.floor((cw - 6) / 7)));
        if (t) ctx.fillText(t, x + (cw - 2) / 2, y + CH.rowH / 2 - 1);
        ctx.textAlign = "left";
      }
    });
    ctx.font = FONT;
  },
  find(px, py) {
    const cl = CH.close, rows = M.chains.cells;
    if (cl && py >= cl.top + 30 && px >= GUTTER) { // the close-up
      const k = Math.floor((py - cl.top - 30) / CH.rowH), hgt = cl.a + Math.floor(((px - GUTTER) / plotW(this.cv.clientWidth)) * (cl.b - cl.a + 1));
      return k >= 0 && k < rows.length && hgt >= cl.a && hgt <= cl.b && chainHolds(k, hgt) ? { k, hgt } : null;
    }
    const k = Math.floor((py - CH.top) / CH.rowH);
    if (k < 0 || k >= rows.length || px < GUTTER || !CH.len || !this.shown) return null;
    const [a, b] = this.shown, hgt = a + Math.floor(((px - GUTTER) / plotW(this.cv.clientWidth)) * (b - a + 1));
    if (hgt < a || hgt > b || !chainHolds(k, hgt)) return null;
    return { k, hgt };
  },
  tipOf(f) {
    if (!f) return null;
    const v = chainAt(f.k, f.hgt), hashes = M.chains.hashes, differs = chainBad(f.k, f.hgt);
    const agree = M.chains.cells.map((q, j) => (chainAt(j, f.hgt) === v ? chainServer(j) : null)).filter(Boolean);
    const ci = M.commits.height.indexOf(f.hgt);
    const s = chainStart(f.k);
    return tip(chainServer(f.k) + " · height " + fmtInt(f.hgt), [["hash", str(hashes[v])],
      s > 0 ? ["holds", "heights " + fmtInt(s) + "–" + fmtInt(chainEnd(f.k) - 1) + ": it installed a snapshot at " + fmtInt(s)] : null,
      ["same block on", agree.join(", ")], differs ? ["differs", "the majority has " + str(hashes[CH.maj[f.hgt]])] : null,
      ci >= 0 ? ["chosen at", fmtS(D.commitT[ci], 6)] : null],
    [["follow slot " + f.hgt, () => P.follow({ slot: f.hgt })], ci >= 0 ? ["zoom to when it was chosen", () => zoomAround(D.commitT[ci], D.commitT[ci])] : null]);
  },
  hit(px, py) { return this.tipOf(this.find(px, py)); },
  click(px, py, e) { const t = this.tipOf(this.find(px, py)); if (!t) return false; pinTip(t, e.clientX, e.clientY); return true; },
};
function renderChainsText() {
  const C = M.chains, hint = $("chains-hint");
  hint.textContent = C.cells.length ? "server × height (the heights chosen in the time view), coloured by block hash: same colour, same block; red where a server differs from the majority" +
    (C.diverge_at != null ? " · the chains diverge at height " + C.diverge_at : " · all chains agree") : "";
  const box = $("kv-diff"), servers = C.servers.map((s, k) => chainServer(k));
  if (!M.kv_diff.length) { fill(box, h("p", { class: "empty", text: "Key-value stores: no key differs between the servers." })); return; }
  const names = servers.length ? servers : [...new Set(M.kv_diff.flatMap((d) => Object.keys(obj(d.values))))].sort();
  fill(box, h("h3", { text: "Keys whose value differs between servers (" + M.kv_diff.length + ")" }), h("table", null,
    h("thead", null, h("tr", null, h("th", { text: "key" }), names.map((n) => h("th", { text: n })))),
    h("tbody", null, M.kv_diff.map((d) => {
      const vals = obj(d.values), count = new Map();
      names.forEach((n) => count.set(str(vals[n]), (count.get(str(vals[n])) || 0) + 1));
      const maj = [...count.entries()].sort((a, b) => b[1] - a[1])[0][0];
      return h("tr", null, h("td", null, h("code", { text: str(d.key) })), names.map((n) =>
        h("td", { class: str(vals[n]) !== maj ? "diff" : "", text: vals[n] == null ? "(missing)" : str(vals[n]) })));
    }))));
}
