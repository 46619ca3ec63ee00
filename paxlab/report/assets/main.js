/* main.js: the remaining window.paxlab hooks (setView, arrowsDrawn, opPoint,
   firstProblem), the panels named by the URL fragment, drawing everything, and init():
   parse the model, prepare, draw, then set paxlab.ready (also after an error, which is
   reported on the page and in paxlab.errors rather than leaving it blank). */

P.setView = function (t0, t1) { setView(t0, t1); };
// For tests: what a canvas last wrote through label(), as [x0, y0, x1, y1, text] in CSS
// pixels cut to its plot (none may overlap), and the message arrows as [x0, y0, x1, y1, row]
P.labels = function (id) {
  const cv = $(id), right = cv ? GUTTER + plotW(cv.clientWidth) : 0;
  return !cv ? [] : arr(cv.getContext("2d").paxLabels).map((b) => [Math.max(b[0], GUTTER), b[1], Math.min(b[2], right), b[3], b[4]])
    .filter((b) => b[2] > b[0]);
};
P.chainCell = function (k, height) { // the centre of a chain grid cell, in the canvas's CSS pixels
  const sh = chainsPanel.shown, cv = chainsPanel.cv;
  if (!sh || height < sh[0] || height > sh[1] || k < 0 || k >= M.chains.cells.length) return null;
  const cw = plotW(cv.clientWidth) / (sh[1] - sh[0] + 1);
  return { x: GUTTER + (height - sh[0] + 0.5) * cw, y: CH.top + k * CH.rowH + CH.rowH / 2 };
};
P.arrows = function () {
  const out = [], s = msgPanel.segs;
  for (let j = 0; j < msgPanel.nSeg; j++) out.push([s[4 * j], s[4 * j + 1], s[4 * j + 2], s[4 * j + 3], msgPanel.segId[j]]);
  return out;
};
P.arrowsDrawn = function () { return MSG.last.arrows; };
P.stats = function () { return Object.assign({}, MSG.last, { following: FOLLOW.spec }); };
P.opPoint = function (client, seq) {
  const i = D.opIndex.get(str(client) + ":" + str(seq));
  if (i === undefined) return null;
  const cv = opsPanel.cv, x = mapper(cv.clientWidth), g = opsPanel.geom(i, x);
  const a = Math.max(g.x0, GUTTER), b = Math.min(g.x1, x.right);
  if (b < a) return null;
  const r = cv.getBoundingClientRect();
  return { x: r.left + window.scrollX + (a + b) / 2, y: r.top + window.scrollY + g.y + g.h / 2 };
};
const ANCHORS = { verdict: "verdict", timeline: "panel-timeline", perf: "panel-perf", failure: "panel-failure",
  ops: "panel-ops", messages: "panel-messages", chains: "panel-chains" };
function scrollToPanel(name, flash) {
  let el = $(ANCHORS[name] || "");
  if (!el || el.hidden) el = name === "failure" ? $("panel-ops") : null;
  if (!el) return;
  // by hand: the sticky bar would cover the panel's head, and scrollIntoView does not
  // always move a page whose layout has just changed
  window.scrollTo(0, Math.max(0, el.getBoundingClientRect().top + window.scrollY - $("bar").offsetHeight - 8));
  if (flash) { el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash"); }
}
P.firstProblem = function () {
  const fp = M.verdict.first_problem;
  if (!fp) return;
  const t = num(fp.t_us, NaN), fv = fp.panel === "failure" ? failureView(false) : null;
  let a, b;
  if (fv) { a = fv[0]; b = fv[1]; } else if (isFinite(t)) {
    const span = Math.max((D.t1 - D.t0) / 12, 4000); a = t - span / 2; b = t + span / 2;
  }
  // a problem in the messages that names a slot ("slot=1718"): follow that slot, and
  // show all of its messages around the problem
  const named = fp.panel === "messages" ? /\bslot[= ](\d+)/.exec(str(fp.text)) : null;
  if (named) {
    P.follow({ slot: Number(named[1]) });
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < D.nMsg; i++) {
      if (!FOLLOW.msg || !FOLLOW.msg[i]) continue;
      lo = Math.min(lo, D.mSent[i]); hi = Math.max(hi, isFinite(D.mArrive[i]) ? D.mArrive[i] : D.mSent[i]);
    }
    if (hi >= lo && isFinite(t)) { const pad = Math.max((hi - lo) * 0.08, 2000); a = Math.min(lo, t) - pad; b = Math.max(hi, t) + pad; }
  }
  if (isFinite(t) && a != null) { a = Math.min(a, t - 500); b = Math.max(b, t + 500); }
  if (a != null) setView(a, b);
  scrollToPanel(fp.panel || "timeline", true);
};
function goHash() { const k = decodeURIComponent(location.hash.slice(1)); if (ANCHORS[k]) scrollToPanel(k, false); }
// Opened with a view in the URL (report.html#failure), the page puts that panel first,
// right under the bar, instead of scrolling to it: headless Chromium's --screenshot
// paints a scrolled page blank, and README's pictures are taken that way. The failure
// view also zooms to the failing key's window (to what went wrong, when that window is
// crowded: failureView). Later hash changes scroll as usual.
function openAtHash() {
  const k = decodeURIComponent(location.hash.slice(1)), el = $(ANCHORS[k] || "");
  if (!el || el.hidden || k === "verdict") return goHash();
  el.style.order = "-1";
  $("main").classList.add("reordered");
  const fv = k === "failure" ? failureView(false) : null;
  if (fv) setView(fv[0], fv[1]);
  window.scrollTo(0, 0);
}

// ---------------------------------------------------------------- drawing everything
const PANEL_NAMES = ["axis", "timeline", "perf", "failure", "ops", "messages", "chains"];
P.drawMs = {}; // how long each panel took to draw last time (for the budget measurements)
function renderTime() {
  [...TIME, chainsPanel].forEach((p, k) => {
    const t = performance.now();
    safe(PANEL_NAMES[k] + " panel", () => p.draw());
    P.drawMs[PANEL_NAMES[k]] = Math.round((performance.now() - t) * 10) / 10;
  });
}
const renderAll = renderTime;
let resizeQueued = false;
window.addEventListener("resize", () => {
  if (resizeQueued) return;
  resizeQueued = true;
  requestAnimationFrame(() => { resizeQueued = false; renderAll(); });
});
window.addEventListener("hashchange", goHash);
window.addEventListener("scroll", () => { if (!pinned && !TT().hidden) TT().hidden = true; }, { passive: true });

function init() {
  const t = performance.now();
  let raw = {};
  try { raw = JSON.parse($("paxlab-model").textContent); } catch (e) { P.errors.push("the embedded model is not valid JSON: " + e.message); }
  P.model = raw;
  M = normalise(raw);
  P.drawMs.parse = Math.round((performance.now() - t) * 10) / 10;
  prepare(); prepChains(); layoutFaults(); failurePanel.prep(); opsPanel.layout();
  P.drawMs.prepare = Math.round((performance.now() - t) * 10) / 10 - P.drawMs.parse;
  V.t0 = D.t0; V.t1 = D.t1; P.view.t0_us = Math.round(D.t0); P.view.t1_us = Math.round(D.t1);
  $("run-name").textContent = M.run.name + (M.run.driver ? " · " + M.run.driver : "") + (M.run.mutant ? " · mutant " + M.run.mutant : "");
  safe("verdict", renderVerdict); safe("recovery", renderRecovery); safe("failure", renderFailureText);
  safe("chains", renderChainsText); safe("controls", buildControls);
  axisPanel.cv = $("axis-canvas"); timelinePanel.cv = $("timeline-canvas"); perfPanel.cv = $("perf-canvas");
  failurePanel.cv = $("failure-canvas"); opsPanel.cv = $("ops-canvas"); msgPanel.cv = $("msg-canvas"); chainsPanel.cv = $("chains-canvas");
  TIME.forEach(wireTime); wirePlain(chainsPanel);
  $("zoom-reset").addEventListener("click", resetView);
  $("zoom-out").addEventListener("click", () => { const c = (V.t0 + V.t1) / 2, s = V.t1 - V.t0; setView(c - s, c + s); });
  $("zoom-left").addEventListener("click", () => { const s = V.t1 - V.t0; setView(V.t0 - s / 2, V.t1 - s / 2); });
  $("zoom-right").addEventListener("click", () => { const s = V.t1 - V.t0; setView(V.t0 + s / 2, V.t1 + s / 2); });
  computeMask();
  document.documentElement.style.setProperty("--bar-h", $("bar").offsetHeight + "px");
  renderAll();
}
function start() {
  try { init(); } catch (e) {
    P.errors.push("the report could not be drawn: " + (e && e.stack ? e.stack : String(e)));
    const v = $("verdict");
    if (v) v.prepend(h("div", { class: "warn err", text: "This page hit an error while drawing: " + (e && e.message) }));
  } finally {
    P.ready = true; P.readyMs = performance.now();
    document.documentElement.setAttribute("data-ready", "1");
    safe("hash", openAtHash);
  }
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
