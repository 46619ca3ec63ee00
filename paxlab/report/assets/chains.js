/* chains.js: panel 6, the chain grid (server x height, each block coloured by its hash,
   red where a server differs from the majority) over the heights chosen in the time
   view, and the table of keys whose value differs between the servers' stores. */

const CH = { rowH: 24, top: 26, maj: null, div: null, len: 0, colors: [] };
function prepChains() {
  const C = M.chains, rows = C.cells;
  CH.len = rows.reduce((m, r) => Math.max(m, r.length), 0);
  CH.maj = new Int32Array(CH.len).fill(-1); CH.div = new Uint8Array(CH.len);
  for (let hgt = 0; hgt < CH.len; hgt++) {
    const count = new Map();
    let best = -1, bestN = 0, seen = 0;
    for (const r of rows) {
      if (hgt >= r.length) continue;
      seen++;
      const v = r[hgt], n = (count.get(v) || 0) + 1;
      count.set(v, n);
      if (n > bestN) { bestN = n; best = v; }
    }
    CH.maj[hgt] = best;
    CH.div[hgt] = count.size > 1 || (seen < rows.length && C.diverge_at != null && hgt >= C.diverge_at) ? 1 : 0;
  }
  CH.colors = C.hashes.map(hashColor);
}
function chainServer(k) { return nodeName(num(M.chains.servers[k], k)); }
const chainsPanel = {
  cv: null,
  height() { return CH.top + Math.max(1, M.chains.cells.length) * CH.rowH + 8; },
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
      ctx.fillText(fmtInt(hgt), px + 2, 8); ctx.beginPath(); ctx.moveTo(px, 12); ctx.lineTo(px, c.h); ctx.stroke();
    }
    gutterLabel(c, "height", 8, null, "#667085");
    $("chains-range").textContent = span < CH.len ? "showing heights " + fmtInt(a) + "–" + fmtInt(b) + " of " + fmtInt(CH.len) + ", the ones chosen in the time view" : "";
    const bad = (r, hgt) => CH.div[hgt] && r[hgt] !== CH.maj[hgt];
    rows.forEach((r, k) => {
      const y = CH.top + k * CH.rowH, n = Math.min(r.length, b + 1);
      gutterLabel(c, chainServer(k) + " · " + fmtInt(num(M.chains.length[k], r.length)), y + CH.rowH / 2);
      if (cw >= 1) {
        const gap = cw > 5 ? 1 : 0;
        for (let hgt = a; hgt < n; hgt++) {
          ctx.fillStyle = bad(r, hgt) ? "#d92d20" : CH.colors[r[hgt]] || "#ccc";
          ctx.fillRect(GUTTER + (hgt - a) * cw, y + 2, cw - gap, CH.rowH - 6);
        }
      } else {
        for (let px = 0; px < pw; px++) {
          const h0 = a + Math.floor(px / cw), h1 = Math.min(n, a + Math.floor((px + 1) / cw));
          if (h0 >= n) break;
          let red = false;
          for (let hgt = h0; hgt < h1 && !red; hgt++) red = bad(r, hgt);
          ctx.fillStyle = red ? "#d92d20" : CH.colors[r[h0]] || "#ccc";
          ctx.fillRect(GUTTER + px, y + 2, 1, CH.rowH - 6);
        }
      }
      if (r.length <= b) { ctx.fillStyle = "#98a2b3"; label(ctx, "ends at height " + fmtInt(r.length - 1), GUTTER + Math.max(0, r.length - a) * cw + 6, y + CH.rowH / 2, 200); }
    });
    ctx.fillStyle = "#d92d20";
    for (let hgt = a; hgt <= b; hgt++) if (CH.div[hgt]) ctx.fillRect(GUTTER + (hgt - a) * cw, CH.top - 5, Math.max(1, cw), 3);
    if (FOLLOW.slot != null && FOLLOW.slot >= a && FOLLOW.slot <= b) {
      ctx.strokeStyle = "#111827"; ctx.lineWidth = 2;
      ctx.strokeRect(GUTTER + (FOLLOW.slot - a) * cw - 1, CH.top, Math.max(2, cw) + 2, rows.length * CH.rowH); ctx.lineWidth = 1;
    }
  },
  find(px, py) {
    const k = Math.floor((py - CH.top) / CH.rowH), rows = M.chains.cells;
    if (k < 0 || k >= rows.length || px < GUTTER || !CH.len || !this.shown) return null;
    const [a, b] = this.shown, hgt = a + Math.floor(((px - GUTTER) / plotW(this.cv.clientWidth)) * (b - a + 1));
    if (hgt < a || hgt > b || hgt >= rows[k].length) return null;
    return { k, hgt };
  },
  tipOf(f) {
    if (!f) return null;
    const r = M.chains.cells[f.k], v = r[f.hgt], hashes = M.chains.hashes, differs = CH.div[f.hgt] && v !== CH.maj[f.hgt];
    const agree = M.chains.cells.map((q, j) => (q[f.hgt] === v ? chainServer(j) : null)).filter(Boolean);
    const ci = M.commits.height.indexOf(f.hgt);
    return tip(chainServer(f.k) + " · height " + fmtInt(f.hgt), [["hash", str(hashes[v])],
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
