/* view.js: the one time view every time panel shares (V.t0..V.t1 in microseconds since
   the run start), its pixel mapper, the canvas helpers the time panels draw with (grid,
   gutter labels, fault bands, the first-problem line) and the axis strip in the top bar.
   Why shared: one real-time axis for all panels, so brushing one zooms all of them. */

const V = { t0: 0, t1: 1 };
const MIN_SPAN = 20;
function setView(t0, t1) {
  t0 = Number(t0); t1 = Number(t1);
  if (!isFinite(t0) || !isFinite(t1)) return;
  if (t1 < t0) { const x = t0; t0 = t1; t1 = x; }
  const full = D.t1 - D.t0;
  if (t1 - t0 < MIN_SPAN) { const c = (t0 + t1) / 2; t0 = c - MIN_SPAN / 2; t1 = c + MIN_SPAN / 2; }
  if (t1 - t0 > full) { t0 = D.t0; t1 = D.t1; }
  if (t0 < D.t0) { t1 += D.t0 - t0; t0 = D.t0; }
  if (t1 > D.t1) { t0 -= t1 - D.t1; t1 = D.t1; }
  V.t0 = Math.max(D.t0, t0); V.t1 = t1;
  P.view.t0_us = Math.round(V.t0); P.view.t1_us = Math.round(V.t1);
  renderTime();
}
const resetView = () => setView(D.t0, D.t1);
function plotW(w) { return Math.max(10, w - GUTTER - RPAD); }
function mapper(w) {
  const pw = plotW(w), k = pw / (V.t1 - V.t0);
  const x = (t) => GUTTER + (t - V.t0) * k;
  x.t = (px) => V.t0 + (px - GUTTER) / k;
  x.k = k; x.pw = pw; x.right = GUTTER + pw;
  return x;
}

function prepCanvas(cv, cssH) {
  const w = Math.max(200, cv.parentElement.clientWidth), dpr = window.devicePixelRatio || 1;
  const W = Math.round(w * dpr), H = Math.round(cssH * dpr);
  if (cv.width !== W || cv.height !== H) { cv.width = W; cv.height = H; }
  cv.style.height = cssH + "px";
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, cssH);
  ctx.font = FONT; ctx.textBaseline = "middle"; ctx.lineCap = "butt"; ctx.setLineDash([]);
  ctx.paxLabels = []; // what label() drew, for paxlab.labels(): tests check none overlap
  return { ctx, w, h: cssH, x: mapper(w) };
}

function ticks(t0, t1, px) {
  const raw = (t1 - t0) / Math.max(2, px / 110);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = 10 * p;
  for (const m of [1, 2, 5]) if (p * m >= raw) { step = p * m; break; }
  const list = [], first = Math.ceil(t0 / step);
  for (let i = first; i * step <= t1; i++) list.push(i * step);
  const dec = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / 1e6) - 1e-9)));
  return { step, list, label: (t) => (t / 1e6).toFixed(dec) + " s" };
}

function grid(c, top, bottom) {
  const tk = ticks(V.t0, V.t1, c.x.pw);
  c.ctx.strokeStyle = "#eef1f5"; c.ctx.lineWidth = 1; c.ctx.beginPath();
  for (const t of tk.list) { const x = Math.round(c.x(t)) + 0.5; c.ctx.moveTo(x, top); c.ctx.lineTo(x, bottom); }
  c.ctx.stroke();
}
function clipPlot(c, top, bottom) {
  c.ctx.save(); c.ctx.beginPath(); c.ctx.rect(GUTTER, top, c.x.pw, bottom - top); c.ctx.clip();
}
function gutterLabel(c, text, y, sub, color) {
  const ctx = c.ctx;
  ctx.fillStyle = color || "#344054"; ctx.textAlign = "right"; ctx.font = "600 " + FONT;
  ctx.fillText(text, GUTTER - 10, sub ? y - 6 : y);
  ctx.font = FONT;
  if (sub) { ctx.fillStyle = "#8a94a6"; ctx.fillText(sub, GUTTER - 10, y + 7); }
  ctx.textAlign = "left";
}
function gutterLabelAt(c, text, y, sub, right) { // a gutter label that leaves room for axis ticks
  const ctx = c.ctx;
  ctx.textAlign = "right"; ctx.fillStyle = "#344054"; ctx.font = "600 " + FONT; ctx.fillText(text, right, y - 6);
  ctx.font = FONT; ctx.fillStyle = "#8a94a6"; ctx.fillText(sub, right, y + 7); ctx.textAlign = "left";
}
function label(ctx, text, x, y, maxW) { // text clipped to maxW pixels, "…" when cut; its width, or 0
  if (maxW < 14) return 0;
  let w = ctx.measureText(text).width;
  if (w > maxW) {
    let lo = 0, hi = text.length;
    while (lo < hi) { const m = (lo + hi + 1) >> 1; if (ctx.measureText(text.slice(0, m) + "…").width <= maxW) lo = m; else hi = m - 1; }
    if (lo < Math.min(3, text.length - 1)) return 0; // "n…" says nothing: leave it to the tooltip
    text = text.slice(0, lo) + "…"; w = ctx.measureText(text).width;
  }
  ctx.fillText(text, x, y);
  if (ctx.paxLabels) ctx.paxLabels.push([x, y - 6, x + w, y + 6, text]);
  return w;
}
function labelFirst(ctx, forms, x, y, maxW) { // the first of forms (longest first) that fits whole; its width, or 0
  const text = forms.find((t) => t && ctx.measureText(t).width <= maxW);
  return text ? label(ctx, text, x, y, maxW) : 0;
}
function hatch(ctx, color) {
  const c = document.createElement("canvas"); c.width = c.height = 8;
  const g = c.getContext("2d"); g.strokeStyle = color; g.lineWidth = 1.6; g.beginPath();
  g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
  return ctx.createPattern(c, "repeat");
}
function faultBands(c, top, bottom, alpha) {
  const ctx = c.ctx;
  for (const f of M.faults) {
    const s = num(f.start_us, NaN); if (!isFinite(s)) continue;
    const e = num(f.end_us, D.t1);
    if (e <= s) continue;
    ctx.globalAlpha = alpha; ctx.fillStyle = faultColor(f.action);
    ctx.fillRect(c.x(s), top, Math.max(1, c.x(e) - c.x(s)), bottom - top);
  }
  ctx.globalAlpha = 1;
}
function problemLine(c, top, bottom) {
  const fp = M.verdict.first_problem;
  if (!fp || !isFinite(fp.t_us)) return;
  const x = Math.round(c.x(fp.t_us)) + 0.5;
  if (x < GUTTER || x > c.x.right) return;
  const ctx = c.ctx;
  ctx.strokeStyle = "#d92d20"; ctx.lineWidth = 1.2; ctx.setLineDash([4, 3]);
  ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke(); ctx.setLineDash([]);
}

// ---------------------------------------------------------------- the shared time axis
const axisPanel = {
  cv: null,
  height() { return 24; },
  draw() {
    const c = prepCanvas(this.cv, 24), ctx = c.ctx, tk = ticks(V.t0, V.t1, c.x.pw);
    ctx.fillStyle = "#667085"; ctx.strokeStyle = "#98a2b3";
    ctx.textAlign = "right"; ctx.fillText("time since start", GUTTER - 10, 12); ctx.textAlign = "center";
    ctx.beginPath(); ctx.moveTo(GUTTER, 20.5); ctx.lineTo(c.x.right, 20.5);
    for (const t of tk.list) {
      const x = Math.round(c.x(t)) + 0.5;
      ctx.moveTo(x, 16); ctx.lineTo(x, 21);
      if (x > GUTTER + 16 && x < c.x.right - 16) ctx.fillText(tk.label(t), x, 9);
    }
    ctx.stroke(); ctx.textAlign = "left";
    const fp = M.verdict.first_problem;
    if (fp && isFinite(fp.t_us)) {
      const x = c.x(fp.t_us);
      if (x >= GUTTER && x <= c.x.right) { ctx.fillStyle = "#d92d20"; ctx.beginPath(); ctx.moveTo(x - 5, 14); ctx.lineTo(x + 5, 14); ctx.lineTo(x, 21); ctx.fill(); }
    }
    const full = V.t0 <= D.t0 && V.t1 >= D.t1;
    $("view-text").textContent = full ? "whole run: " + fmtS(D.t1 - D.t0, 2)
      : fmtS(V.t0, 4) + " – " + fmtS(V.t1, 4) + "  (" + fmtDur(V.t1 - V.t0) + " of " + fmtS(D.t1 - D.t0, 2) + ")";
  },
  hit() { return null; },
};
