/* interact.js: the tooltip (hover shows, click pins with actions) and the mouse on the
   panels: drag to brush-zoom every time panel, Ctrl + wheel zooms at the pointer, Shift +
   wheel pans, double-click shows the whole run; a crosshair follows the pointer in all. */

const TT = () => $("tooltip");
let pinned = false, hoverPanel = null;
function tip(title, rows, actions) { return { title, rows: (rows || []).filter(Boolean), actions: (actions || []).filter(Boolean) }; }
function fillTip(t, isPinned) {
  const el = TT();
  fill(el, h("div", { class: "tt-title", text: t.title }),
    t.rows.map((r) => h("div", { class: "tt-row" }, h("span", { class: "tt-k", text: r[0] + ": " }), str(r[1]))),
    isPinned && t.actions.length ? h("div", { class: "tt-actions" }, t.actions.map((a) => h("button", {
      type: "button", onclick: (e) => { e.stopPropagation(); unpin(); a[1](); },
    }, a[0]))) : null,
    h("div", { class: "tt-hint", text: isPinned ? "Esc or click elsewhere to close" : t.actions.length ? "click to pin and act on it" : "" }));
}
function placeTip(cx, cy) {
  const el = TT();
  el.hidden = false;
  const w = el.offsetWidth, hh = el.offsetHeight, W = window.innerWidth, H = window.innerHeight;
  el.style.left = Math.max(4, cx + 16 + w > W ? cx - w - 12 : cx + 16) + "px";
  el.style.top = Math.max(4, cy + 16 + hh > H ? cy - hh - 12 : cy + 16) + "px";
}
function showTip(t, cx, cy) { if (pinned) return; fillTip(t, false); placeTip(cx, cy); }
function hideTip() { if (!pinned) TT().hidden = true; }
function pinTip(t, cx, cy) { pinned = true; TT().classList.add("pinned"); fillTip(t, true); placeTip(cx, cy); }
function unpin() {
  const had = OPS.pinned >= 0;
  pinned = false; TT().classList.remove("pinned"); TT().hidden = true; OPS.pinned = -1;
  if (had) safe("ops", () => opsPanel.draw());
}

// ---------------------------------------------------------------- brushing, hovering, clicking
const TIME = [axisPanel, timelinePanel, perfPanel, failurePanel, opsPanel, msgPanel];
let DRAG = null;
function overlays(panel) {
  const box = panel.cv.parentElement;
  if (!panel.brush) {
    panel.brush = h("div", { class: "brush", hidden: true }); panel.xhair = h("div", { class: "xhair", hidden: true });
    box.append(panel.brush, panel.xhair);
  }
  return panel;
}
function localX(panel, e) { return e.clientX - panel.cv.getBoundingClientRect().left; }
function setXhair(px) {
  for (const p of TIME) {
    if (!p.xhair) continue;
    const right = GUTTER + plotW(p.cv.clientWidth);
    p.xhair.hidden = px == null || px < GUTTER || px > right || p.cv.parentElement.offsetParent === null;
    if (!p.xhair.hidden) p.xhair.style.left = px + "px";
  }
}
function setBrush(a, b) {
  for (const p of TIME) {
    if (!p.brush) continue;
    p.brush.hidden = a == null;
    if (a != null) { p.brush.style.left = Math.min(a, b) + "px"; p.brush.style.width = Math.abs(b - a) + "px"; }
  }
}
function wireTime(panel) {
  overlays(panel);
  const cv = panel.cv;
  cv.addEventListener("mousedown", (e) => {
    if (e.button !== 0) return;
    const x = localX(panel, e);
    if (x < GUTTER) return;
    e.preventDefault();
    DRAG = { panel, x0: x, x1: x, cx: e.clientX, cy: e.clientY, moved: false };
  });
  cv.addEventListener("mousemove", (e) => {
    if (DRAG) return;
    const r = cv.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    setXhair(x); hoverPanel = panel;
    const t = safe("hover", () => panel.hit(x, y));
    if (t) showTip(t, e.clientX, e.clientY); else hideTip();
  });
  cv.addEventListener("mouseleave", () => { if (!DRAG) { setXhair(null); hideTip(); } });
  cv.addEventListener("dblclick", (e) => { e.preventDefault(); unpin(); resetView(); });
  cv.addEventListener("wheel", (e) => { // Ctrl/Cmd + wheel zooms at the pointer, Shift + wheel pans
    if (!(e.ctrlKey || e.metaKey || e.shiftKey)) return; // a plain wheel scrolls the page
    e.preventDefault();
    const x = mapper(cv.clientWidth), t = x.t(Math.max(GUTTER, Math.min(x.right, localX(panel, e)))), span = V.t1 - V.t0;
    const d = e.deltaY || e.deltaX;
    if (e.shiftKey) { const dt = Math.sign(d) * span * 0.15; setView(V.t0 + dt, V.t1 + dt); return; }
    const f = d > 0 ? 1.25 : 0.8;
    setView(t - (t - V.t0) * f, t + (V.t1 - t) * f);
  }, { passive: false });
}
function wirePlain(panel) {
  const cv = panel.cv;
  cv.addEventListener("mousemove", (e) => {
    const r = cv.getBoundingClientRect(), t = safe("hover", () => panel.hit(e.clientX - r.left, e.clientY - r.top));
    if (t) showTip(t, e.clientX, e.clientY); else hideTip();
  });
  cv.addEventListener("mouseleave", hideTip);
  cv.addEventListener("click", (e) => {
    const r = cv.getBoundingClientRect();
    if (!safe("click", () => panel.click(e.clientX - r.left, e.clientY - r.top, e))) unpin();
  });
}
document.addEventListener("mousemove", (e) => {
  if (!DRAG) return;
  const p = DRAG.panel, right = GUTTER + plotW(p.cv.clientWidth);
  DRAG.x1 = Math.max(GUTTER, Math.min(right, localX(p, e)));
  if (Math.abs(DRAG.x1 - DRAG.x0) >= 4) DRAG.moved = true;
  if (DRAG.moved) { setBrush(DRAG.x0, DRAG.x1); setXhair(null); hideTip(); }
});
document.addEventListener("mouseup", (e) => {
  if (!DRAG) return;
  const d = DRAG;
  DRAG = null; setBrush(null);
  if (d.moved) {
    const x = mapper(d.panel.cv.clientWidth);
    unpin(); setView(x.t(Math.min(d.x0, d.x1)), x.t(Math.max(d.x0, d.x1)));
  } else if (d.panel.click) {
    const r = d.panel.cv.getBoundingClientRect();
    if (!safe("click", () => d.panel.click(d.cx - r.left, d.cy - r.top, e))) unpin();
  } else unpin();
});
document.addEventListener("mousedown", (e) => { if (pinned && !TT().contains(e.target)) unpin(); }, true);
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  if (pinned) unpin(); else if (FOLLOW.spec) P.follow(null);
});
