/* paxlab report: draws the run model embedded in this page (contract section 4) and
   exposes window.paxlab for tests (section 5). Vanilla JS, no libraries, nothing fetched.
   Dense panels draw on canvas so 100,000 messages open in well under 2 s. Every time panel
   shares one view (t0..t1 in microseconds since the run start): drag zooms all, double-click
   shows the whole run. */
(function () {
  "use strict";

  const P = (window.paxlab = {
    ready: false, errors: [], model: null, view: { t0_us: 0, t1_us: 1 }, readyMs: null,
  });
  window.onerror = function (msg, src, line, col) {
    P.errors.push(String(msg) + (line ? " (report.js line " + line + ":" + col + ")" : ""));
  };
  window.addEventListener("unhandledrejection", function (e) {
    P.errors.push("unhandled rejection: " + String(e.reason));
  });

  // ---------------------------------------------------------------- constants and helpers
  const GUTTER = 118, RPAD = 14, FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  const KIND_COLORS = {
    Prepare: "#7c3aed", Promise: "#b18cf5", Accept: "#1d4ed8", Accepted: "#5ea1f7",
    Reject: "#dc2626", Heartbeat: "#9aa4b2", HeartbeatAck: "#c3cad5", CatchUp: "#a16207",
    ClientRequest: "#16a34a", ClientReply: "#0d9488", Redirect: "#ea8a0c",
  };
  const KIND_GROUPS = [
    ["Prepare/Promise", ["Prepare", "Promise"]], ["Accept/Accepted", ["Accept", "Accepted"]],
    ["Reject", ["Reject"]], ["client", ["ClientRequest", "ClientReply", "Redirect"]],
    ["catch-up", ["CatchUp"]], ["heartbeats", ["Heartbeat", "HeartbeatAck"]],
  ];
  const TYPE_COLORS = { ok: "#2f9e5b", fail: "#d64545", info: "#e0a11b" };
  const NODE_COLORS = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2",
    "#65a30d", "#e11d48", "#4f46e5", "#b45309"];
  const FAULT_COLORS = {
    crash: "#e5484d", kill: "#e5484d", restart: "#30a46c", pause: "#f5a524", resume: "#30a46c",
    partition: "#8e4ec6", isolate: "#8e4ec6", fail_link: "#f76b15", drop: "#f76b15",
    duplicate: "#f76b15", slow: "#0091ff", delay: "#0091ff", heal: "#30a46c",
    set_network: "#0091ff", clock: "#0d74ce",
  };
  const TYPES = ["ok", "fail", "info"];

  const $ = (id) => document.getElementById(id);
  function h(tag, attrs) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v == null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (let i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function fill(e) { e.replaceChildren(); for (let i = 1; i < arguments.length; i++) add(e, arguments[i]); }
  function add(e, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) kid.forEach((k) => add(e, k));
    else e.append(kid instanceof Node ? kid : String(kid));
  }
  const obj = (x) => (x && typeof x === "object" && !Array.isArray(x) ? x : {});
  const arr = (x) => (Array.isArray(x) ? x : []);
  const num = (x, d) => (typeof x === "number" && isFinite(x) ? x : d);
  const str = (x) => (x == null ? "" : String(x));
  const fmtInt = (n) => (n == null || !isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));
  const fmtS = (us, d) => (us == null || !isFinite(us) ? "–" : (us / 1e6).toFixed(d == null ? 3 : d) + " s");
  function fmtDur(us) {
    if (us == null || !isFinite(us)) return "–";
    const a = Math.abs(us);
    if (a < 1000) return Math.round(us) + " µs";
    if (a < 1e6) return (us / 1000).toFixed(a < 1e4 ? 2 : a < 1e5 ? 1 : 0) + " ms";
    return (us / 1e6).toFixed(a < 1e7 ? 2 : 1) + " s";
  }
  function fmtMs(ms) { return ms == null || !isFinite(ms) ? "–" : fmtDur(ms * 1000); }
  function lowerBound(a, x, lo, hi) {
    lo = lo || 0; hi = hi == null ? a.length : hi;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < x) lo = m + 1; else hi = m; }
    return lo;
  }
  function upperBound(a, x) {
    let lo = 0, hi = a.length;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] <= x) lo = m + 1; else hi = m; }
    return lo;
  }
  function hashColor(s) {
    let x = 0;
    for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) >>> 0;
    const hue = 35 + (x % 280); // keeps clear of red, which marks divergence
    return "hsl(" + hue + "," + (30 + ((x >>> 9) % 22)) + "%," + (62 + ((x >>> 17) % 16)) + "%)";
  }
  const nodeColor = (i) => NODE_COLORS[((i % NODE_COLORS.length) + NODE_COLORS.length) % NODE_COLORS.length];
  const kindColor = (name) => KIND_COLORS[name] || "#64748b";
  const faultColor = (a) => FAULT_COLORS[a] || "#64748b";
  function safe(name, fn) {
    try { return fn(); } catch (e) {
      P.errors.push(name + ": " + (e && e.message ? e.message : String(e)));
      return undefined;
    }
  }

  // ---------------------------------------------------------------- the model, normalised
  let M = null; // the model with every field present
  const D = {}; // derived tables: typed arrays and indexes
  const notes = []; // what the page itself could not use (shown with `unread`)

  function columns(x, names, what) {
    const o = obj(x), out = {};
    let n = Infinity, longest = 0;
    for (const k of names) { out[k] = arr(o[k]); n = Math.min(n, out[k].length); longest = Math.max(longest, out[k].length); }
    out.n = isFinite(n) ? n : 0;
    if (longest !== out.n) notes.push(what + ": columns of unequal length; the page uses the first " + out.n + " rows");
    return out;
  }

  function normalise(m) {
    m = obj(m);
    const run = obj(m.run), v = obj(m.verdict);
    return {
      run: {
        name: str(run.name), driver: run.driver, config: run.config, seed: run.seed, mutant: run.mutant,
        servers: run.servers, clients: run.clients, difficulty: run.difficulty, partial: !!run.partial,
        start_us: num(run.start_us, 0), end_us: num(run.end_us, 0), config_text: run.config_text,
      },
      unread: arr(m.unread).map(str),
      verdict: {
        overall: str(v.overall), passed: v.passed === true, checks: arr(v.checks).map(obj),
        errors: arr(v.errors).map(str), ops: obj(v.ops), throughput_ops_s: v.throughput_ops_s,
        latency_ms: v.latency_ms ? obj(v.latency_ms) : null,
        first_problem: v.first_problem ? obj(v.first_problem) : null,
      },
      nodes: arr(m.nodes).map(str),
      faults: arr(m.faults).map(obj), down: arr(m.down).map(obj), leaders: arr(m.leaders).map(obj),
      commits: columns(m.commits, ["t_us", "height"], "commits"),
      series: Object.assign(columns(m.series, ["t_us", "ok", "fail", "info", "p50_ms", "p95_ms", "p99_ms"], "series"),
        { bucket_us: num(obj(m.series).bucket_us, 0) }),
      recovery: arr(m.recovery).map(obj),
      keys: arr(m.keys).map(str),
      ops: columns(m.ops, ["client", "seq", "f", "key", "value", "invoke_us", "end_us", "type", "server", "height"], "ops"),
      messages: Object.assign(columns(m.messages, ["id", "src", "dst", "kind", "ballot", "slot", "op", "sent_us",
        "arrive_us", "fate", "copy"], "messages"), {
        count: num(obj(m.messages).count, 0), kinds: arr(obj(m.messages).kinds).map(str),
        fates: arr(obj(m.messages).fates).map(str), ballots: arr(obj(m.messages).ballots).map(str),
      }),
      quorums: columns(m.quorums, ["t_us", "node", "height", "ballot"], "quorums"),
      chains: Object.assign({}, obj(m.chains), {
        servers: arr(obj(m.chains).servers), length: arr(obj(m.chains).length),
        hashes: arr(obj(m.chains).hashes).map(str), cells: arr(obj(m.chains).cells).map(arr),
        diverge_at: obj(m.chains).diverge_at,
      }),
      kv_diff: arr(m.kv_diff).map(obj),
      failure: m.failure ? obj(m.failure) : null,
    };
  }

  function nodeName(i) { return i >= 0 && i < M.nodes.length ? M.nodes[i] : i < 0 ? "–" : "node " + i; }
  function clientName(c) { return typeof c === "number" ? "c" + c : str(c); }
  function keyName(k) { return k >= 0 && k < M.keys.length ? M.keys[k] : "?"; }
  function f64(a, n, bad) { // numbers; null, -1 (for times) and junk become NaN
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) { const x = a[i]; out[i] = typeof x === "number" && isFinite(x) && !(bad && x < 0) ? x : NaN; }
    return out;
  }
  function i32(a, n) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) { const x = a[i]; out[i] = typeof x === "number" && isFinite(x) ? x : -1; }
    return out;
  }

  function prepare() {
    const o = M.ops, n = o.n;
    D.nOps = n;
    D.opInvoke = f64(o.invoke_us, n, false); D.opEnd = f64(o.end_us, n, true);
    D.opType = new Uint8Array(n); D.opKey = i32(o.key, n); D.opServer = i32(o.server, n); D.opHeight = i32(o.height, n);
    D.opIndex = new Map(); D.clients = [];
    const byClient = new Map();
    for (let i = 0; i < n; i++) {
      const t = TYPES.indexOf(o.type[i]); D.opType[i] = t < 0 ? 2 : t;
      if (!isFinite(D.opInvoke[i])) D.opInvoke[i] = isFinite(D.opEnd[i]) ? D.opEnd[i] : 0;
      const c = o.client[i];
      D.opIndex.set(str(c) + ":" + str(o.seq[i]), i);
      if (!byClient.has(str(c))) { byClient.set(str(c), []); D.clients.push(c); }
      byClient.get(str(c)).push(i);
    }
    D.clients.sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : str(a) < str(b) ? -1 : 1));
    D.opRow = new Uint8Array(n); D.opLane = new Int32Array(n); D.lanes = [];
    for (const c of D.clients) {
      const rows = byClient.get(str(c)).sort((a, b) => D.opInvoke[a] - D.opInvoke[b]);
      for (const i of rows) D.opLane[i] = D.lanes.length;
      const ends = [];
      for (const i of rows) { // interval partitioning: a client's concurrent ops get sub-rows
        let r = ends.findIndex((e) => e <= D.opInvoke[i]);
        if (r < 0) { r = Math.min(ends.length, 3); if (r === ends.length) ends.push(0); }
        ends[r] = Math.max(ends[r], isFinite(D.opEnd[i]) ? D.opEnd[i] : Infinity);
        D.opRow[i] = r;
      }
      D.lanes.push({ client: c, rows: rows, sub: Math.max(1, ends.length) });
    }
    // messages
    const g = M.messages, k = g.n;
    D.nMsg = k;
    D.mSrc = i32(g.src, k); D.mDst = i32(g.dst, k); D.mKind = i32(g.kind, k); D.mBallot = i32(g.ballot, k);
    D.mSlot = i32(g.slot, k); D.mOp = i32(g.op, k); D.mFate = i32(g.fate, k); D.mCopy = i32(g.copy, k);
    D.mSent = f64(g.sent_us, k, false); D.mArrive = f64(g.arrive_us, k, true);
    D.kindCount = new Array(g.kinds.length).fill(0);
    D.isHeartbeat = g.kinds.map((x) => /^Heartbeat/.test(x));
    let sorted = true, maxSpan = 0, maxArrive = -Infinity;
    const lats = [];
    for (let i = 0; i < k; i++) {
      if (!isFinite(D.mSent[i])) D.mSent[i] = 0;
      if (i && D.mSent[i] < D.mSent[i - 1]) sorted = false;
      if (D.mKind[i] >= 0 && D.mKind[i] < D.kindCount.length) D.kindCount[D.mKind[i]]++;
      const span = D.mArrive[i] - D.mSent[i];
      if (span > maxSpan) maxSpan = span;
      if (D.mArrive[i] > maxArrive) maxArrive = D.mArrive[i];
      if (span >= 0 && (i & 7) === 0) lats.push(span);
    }
    lats.sort((a, b) => a - b);
    D.typicalLat = lats.length ? Math.max(1, lats[lats.length >> 1]) : 1000;
    D.order = new Uint32Array(k);
    for (let i = 0; i < k; i++) D.order[i] = i;
    if (!sorted) D.order.sort((a, b) => D.mSent[a] - D.mSent[b] || a - b);
    D.sentSorted = new Float64Array(k);
    for (let i = 0; i < k; i++) D.sentSorted[i] = D.mSent[D.order[i]];
    D.maxSpan = Math.max(maxSpan, D.typicalLat * 3);
    D.fateName = (i) => g.fates[D.mFate[i]] || "?";
    D.mLost = new Uint8Array(k); // no arrival, or an arrival at a down node: not delivered
    const lostFate = g.fates.map((f) => f === "down" || f === "lost");
    for (let i = 0; i < k; i++) D.mLost[i] = !isFinite(D.mArrive[i]) || lostFate[D.mFate[i]] ? 1 : 0;
    D.mask = new Uint8Array(k).fill(1);
    D.cand = new Int32Array(k);
    // time range of the whole run
    let end = M.run.end_us;
    const bump = (t) => { if (typeof t === "number" && isFinite(t) && t > end) end = t; };
    for (let i = 0; i < n; i++) { bump(D.opInvoke[i]); bump(D.opEnd[i]); }
    if (k) { bump(D.sentSorted[k - 1]); bump(maxArrive); }
    M.faults.forEach((f) => { bump(f.start_us); bump(f.end_us); });
    M.leaders.forEach((l) => bump(l.start_us));
    if (M.commits.n) bump(M.commits.t_us[M.commits.n - 1]);
    D.t0 = M.run.start_us; D.t1 = end > D.t0 ? end : D.t0 + 1e6;
    D.commitT = f64(M.commits.t_us, M.commits.n, false);
    D.quorumT = f64(M.quorums.t_us, M.quorums.n, false);
    D.failKey = M.failure ? M.keys.indexOf(str(M.failure.key)) : -1;
  }

  // ---------------------------------------------------------------- the shared view
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
  function label(ctx, text, x, y, maxW) { // text clipped to maxW pixels, "…" when cut
    if (maxW < 14) return;
    if (ctx.measureText(text).width > maxW) {
      let lo = 0, hi = text.length;
      while (lo < hi) { const m = (lo + hi + 1) >> 1; if (ctx.measureText(text.slice(0, m) + "…").width <= maxW) lo = m; else hi = m - 1; }
      if (lo === 0) return;
      text = text.slice(0, lo) + "…";
    }
    ctx.fillText(text, x, y);
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

  // ---------------------------------------------------------------- 1. the verdict card
  function badge(verdict, big) {
    const v = str(verdict).toLowerCase();
    return h("span", { class: "badge " + v + (big ? " big" : ""), text: v || "?" });
  }
  function detailsText(text) { // a long explanation folds away behind its first line
    const first = text.split("\n")[0];
    if (text.length <= 240 && first === text) return text;
    const head = first.length > 200 ? first.slice(0, 200) + "…" : first;
    return h("details", { class: "more" }, h("summary", { text: head }), h("pre", { text }));
  }
  function renderVerdict() {
    const v = M.verdict, run = M.run, card = $("verdict");
    const state = v.passed ? "pass" : /^NO CHECKS/.test(v.overall) || !v.checks.length ? "none" : "fail";
    card.className = "card " + state;
    card.replaceChildren();
    card.append(h("div", { class: "verdict-head" },
      h("span", { class: "badge big " + (state === "none" ? "" : state), text: state === "pass" ? "pass" : state === "fail" ? "fail" : "no verdict" }),
      h("h1", { text: v.overall || (state === "pass" ? "ALL CHECKS PASS" : "No verdict recorded") })));
    const fp = v.first_problem;
    if (fp) {
      card.append(h("p", { class: "first-problem" }, h("a", {
        id: "first-problem", href: "#" + (fp.panel || "verdict"),
        onclick: (e) => { e.preventDefault(); P.firstProblem(); },
      }, "First problem at t = " + fmtS(fp.t_us) + (fp.text ? ": " + fp.text : "") + "  →")));
    }
    const checks = v.checks.length ? h("table", null,
      h("thead", null, h("tr", null, h("th", { text: "check" }), h("th", { text: "verdict" }), h("th", { text: "details" }))),
      h("tbody", null, v.checks.map((c) => h("tr", null, h("td", null, h("code", { text: str(c.name) })),
        h("td", null, badge(c.verdict)), h("td", { class: "details" }, detailsText(str(c.details)))))))
      : h("p", { class: "empty", text: "No checks were run." });
    const kinds = Object.keys(v.ops).sort();
    const total = { ok: 0, fail: 0, info: 0 };
    const counts = kinds.length ? h("table", null,
      h("thead", null, h("tr", null, h("th", { text: "ops" }), TYPES.map((t) => h("th", { class: "num" }, h("span", { class: "sw", style: "background:" + TYPE_COLORS[t] }), t)))),
      h("tbody", null, kinds.map((f) => h("tr", null, h("td", { text: f }), TYPES.map((t) => {
        const n = num(obj(v.ops[f])[t], 0); total[t] += n;
        return h("td", { class: "num", text: fmtInt(n) });
      }))), h("tr", null, h("th", { text: "all" }), TYPES.map((t) => h("th", { class: "num", text: fmtInt(total[t]) })))))
      : h("p", { class: "empty", text: "No operations were recorded." });
    const lat = v.latency_ms;
    const facts = [
      ["run", run.name || "–"], ["driver", str(run.driver) || "–"], ["config", str(run.config) || "–"],
      ["seed", run.seed == null ? "–" : str(run.seed)], ["mutant", run.mutant == null ? "none" : str(run.mutant)],
      ["cluster", (run.servers == null ? "?" : run.servers) + " servers, " + (run.clients == null ? "?" : run.clients) + " clients" +
        (run.difficulty == null ? "" : ", difficulty " + run.difficulty)],
      ["duration", (run.end_us > run.start_us ? fmtS(run.end_us - run.start_us, 2) : "–") + (run.partial ? " (partial: interrupted)" : "")],
      ["throughput", v.throughput_ops_s == null ? "–" : v.throughput_ops_s + " ops/s"],
      ["latency", lat ? "p50 " + fmtMs(lat.p50) + " · p95 " + fmtMs(lat.p95) + " · p99 " + fmtMs(lat.p99) + " · max " + fmtMs(lat.max) : "–"],
      ["messages", fmtInt(M.messages.count || D.nMsg)],
    ];
    card.append(h("div", { class: "vgrid" }, h("div", null, checks), h("div", null, counts),
      h("dl", { class: "facts" }, facts.map((f) => [h("dt", { text: f[0] }), h("dd", { text: f[1] })]))));
    if (v.errors.length) card.append(h("div", { class: "warn err" }, h("b", { text: "Errors that fail the run" }), h("ul", null, v.errors.map((e) => h("li", { text: e })))));
    const unread = M.unread.concat(notes);
    if (unread.length || run.partial) {
      card.append(h("div", { class: "warn", id: "unread" },
        h("b", { text: run.partial ? "Partial run: it was interrupted, so this page shows what was written before it stopped." : "" }),
        unread.length ? [h("div", { text: "Could not be read (" + unread.length + "); the rest of the page shows everything else:" }),
          h("ul", null, unread.map((u) => h("li", null, h("code", { text: u }))))] : null));
    }
    if (run.config_text) card.append(h("details", { class: "config" }, h("summary", { text: "config.yaml" }), h("pre", { text: str(run.config_text) })));
  }

  // ---------------------------------------------------------------- 2. faults, leaders, commits
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
      // fault ribbon
      M.faults.forEach((f, i) => {
        const s = num(f.start_us, NaN); if (!isFinite(s)) return;
        const open = f.end_us == null, e = num(f.end_us, D.t1), y = yF + TL.rows[i] * TL.rowH + 1, bh = TL.rowH - 3;
        const x0 = c.x(s), x1 = c.x(e), col = faultColor(f.action), text = faultText(f);
        if (x1 - x0 < 3) { // an instant: a flag
          ctx.fillStyle = col; ctx.fillRect(Math.round(x0) - 1, y, 2, bh);
          ctx.beginPath(); ctx.moveTo(x0 + 1, y); ctx.lineTo(x0 + 8, y + 4); ctx.lineTo(x0 + 1, y + 8); ctx.fill();
          ctx.fillStyle = "#344054"; label(ctx, text, x0 + 10, y + bh / 2, 150);
          hits.push({ x0: x0 - 3, x1: x0 + 10 + Math.min(150, ctx.measureText(text).width), y0: y, y1: y + bh, fault: i });
          return;
        }
        ctx.globalAlpha = 0.2; ctx.fillStyle = col; ctx.fillRect(x0, y, x1 - x0, bh); ctx.globalAlpha = 1;
        ctx.fillStyle = col; ctx.fillRect(x0, y, 3, bh);
        if (open) { ctx.setLineDash([3, 3]); ctx.strokeStyle = col; ctx.strokeRect(x0 + 0.5, y + 0.5, x1 - x0 - 1, bh - 1); ctx.setLineDash([]); }
        ctx.fillStyle = "#1d2330";
        const lx = Math.max(x0, GUTTER) + 7;
        label(ctx, text + (open ? " (never healed)" : ""), lx, y + bh / 2, Math.min(x1, c.x.right) - lx - 4);
        hits.push({ x0, x1, y0: y, y1: y + bh, fault: i });
      });
      if (!M.faults.length) { ctx.fillStyle = "#98a2b3"; ctx.fillText("no faults in this run", GUTTER + 8, yF + TL.rowH / 2); }
      // leader lane
      ctx.fillStyle = hatch(ctx, "#d0d5dd");
      for (const g of leaderGaps()) {
        const x0 = c.x(g[0]), x1 = c.x(g[1]);
        ctx.fillStyle = hatch(ctx, "#d0d5dd"); ctx.fillRect(x0, yL + 2, x1 - x0, TL.leaderH - 4);
        ctx.fillStyle = "#667085"; label(ctx, "no leader " + fmtDur(g[1] - g[0]), Math.max(x0, GUTTER) + 6, yL + TL.leaderH / 2, Math.min(x1, c.x.right) - Math.max(x0, GUTTER) - 10);
        hits.push({ x0, x1, y0: yL, y1: yL + TL.leaderH, gap: g });
      }
      M.leaders.forEach((l, i) => {
        const x0 = c.x(num(l.start_us, D.t0)), x1 = c.x(num(l.end_us, D.t1));
        ctx.fillStyle = nodeColor(num(l.node, 0)); ctx.globalAlpha = 0.88;
        ctx.fillRect(x0, yL + 2, Math.max(1, x1 - x0 - 1), TL.leaderH - 4); ctx.globalAlpha = 1;
        ctx.fillStyle = "#fff"; ctx.font = "600 " + FONT;
        const lx = Math.max(x0, GUTTER) + 6;
        label(ctx, nodeName(l.node) + "  ballot " + str(l.ballot), lx, yL + TL.leaderH / 2, Math.min(x1, c.x.right) - lx - 4);
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
        ctx.fillStyle = "#0f766e"; ctx.textAlign = "right";
        ctx.fillText("height " + fmtInt(H[b]), c.x.right - 4, yC + 7); ctx.textAlign = "left";
        ctx.fillStyle = "#667085"; ctx.fillText(fmtInt(b - a) + " commits in view", GUTTER + 6, yC + 7);
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

  // ---------------------------------------------------------------- 3. throughput and latency
  const PCT = [["p50_ms", "#1d4ed8", "p50"], ["p95_ms", "#ea8a0c", "p95"], ["p99_ms", "#d92d20", "p99"]];
  function niceMax(x) {
    if (!(x > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
    return 10 * p;
  }
  const perfPanel = {
    cv: null, cols: null, marks: [],
    height() { return M.series.n ? 8 + 96 + 18 + 110 + 8 : 40; },
    draw() {
      const c = prepCanvas(this.cv, this.height()), ctx = c.ctx, s = M.series, n = s.n;
      const yT = 8, hT = 96, yLt = yT + hT + 18, hL = 110;
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
          ctx.fillText(fmtMs(v), GUTTER - 4, Math.min(yLt + hL - 4, Math.max(yLt + 4, y)));
          ctx.moveTo(GUTTER, y); ctx.lineTo(c.x.right, y);
        }
        ctx.stroke();
      } else { ctx.fillText(fmtMs(maxLat), GUTTER - 4, yLt + 4); ctx.fillText("0", GUTTER - 4, yLt + hL); }
      ctx.textAlign = "left";
      gutterLabelAt(c, "latency", yLt + hL / 2, useLog ? "log scale" : "ms", GUTTER - 50);
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
      // time to first ok and to recovery after each fault
      this.marks = [];
      const rowsRight = [-Infinity, -Infinity, -Infinity, -Infinity]; // labels stack instead of overlapping
      for (const r of M.recovery) {
        const f = M.faults[num(r.fault, -1)]; if (!f) continue;
        const marks = [[num(f.start_us, NaN) + num(r.first_ok_us, NaN), "#2f9e5b", "first ok +" + fmtDur(r.first_ok_us)],
          [num(f.end_us, NaN) + num(r.recover_us, NaN), "#1d4ed8", "recovered +" + fmtDur(r.recover_us)]];
        marks.forEach((m, k) => {
          if (!isFinite(m[0])) return;
          const x = c.x(m[0]), text = m[2] + " (" + faultText(f) + ")";
          let row = rowsRight.findIndex((right) => right < x - 6);
          if (row < 0) row = k;
          const y = yT + 10 + row * 14;
          rowsRight[row] = x + 8 + Math.min(220, ctx.measureText(text).width);
          ctx.fillStyle = m[1]; ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 5, y); ctx.lineTo(x, y + 5); ctx.lineTo(x - 5, y); ctx.fill();
          ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x + 6, y - 7, Math.min(220, ctx.measureText(text).width) + 4, 14);
          ctx.fillStyle = "#344054"; label(ctx, text, x + 8, y, 220);
          this.marks.push({ x, y, text: m[2], fault: f, kind: k ? "recovered after the fault ended" : "first ok after the fault started" });
        });
      }
      problemLine(c, 0, c.h);
      ctx.restore();
    },
    hit(x, y) {
      for (const m of this.marks) if (Math.abs(x - m.x) < 7 && Math.abs(y - m.y) < 7)
        return tip(m.text, [["fault", faultText(m.fault)], ["meaning", m.kind]]);
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
      h("span", null, h("span", { class: "sw", style: "background:#e5484d;opacity:.3" }), "fault"));
    if (!M.faults.length) { fill(box); return; }
    fill(box, h("table", null, h("thead", null, h("tr", null, ["fault", "nodes", "from", "to", "first ok after it began", "recovered after it ended"].map((x) => h("th", { text: x })))),
      h("tbody", null, M.faults.map((f, i) => {
        const r = M.recovery.find((x) => x.fault === i) || {};
        return h("tr", null, h("td", null, h("span", { class: "sw", style: "background:" + faultColor(f.action) }), str(f.label) || str(f.action)),
          h("td", { text: arr(f.nodes).map(nodeName).join(", ") || "–" }), h("td", { class: "num", text: fmtS(f.start_us) }),
          h("td", { class: "num", text: f.end_us == null ? "never healed" : fmtS(f.end_us) }),
          h("td", { class: "num", text: r.first_ok_us == null ? "–" : fmtDur(r.first_ok_us) }),
          h("td", { class: "num", text: r.recover_us == null ? "–" : fmtDur(r.recover_us) }));
      }))));
  }

  // ---------------------------------------------------------------- 7. the failure view
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

  // ---------------------------------------------------------------- 4. client operations
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

  // ---------------------------------------------------------------- 5. the Paxos message diagram
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
      if (!arrived) { y1 = y0 + (y1 - y0) * 0.55; x1 = Math.max(x1, x0 + 8); }
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
        if (!g.latN[a]) y1 = y0 + (y1 - y0) * 0.55;
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

  // ---------------------------------------------------------------- 6. chains and the KV diff
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

  // ---------------------------------------------------------------- tooltip
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

  // ---------------------------------------------------------------- message filters and follow
  function select(id, all, options, onchange) {
    return h("select", { id, onchange }, h("option", { value: "", text: all }), options.map((o) => h("option", { value: o[0], text: o[1] })));
  }
  function parseSlots(text) {
    text = text.trim();
    if (!text) return null;
    let m = /^(\d+)$/.exec(text);
    if (m) return new Set([Number(m[1])]);
    m = /^(\d+)\s*(?:-|–|\.\.)\s*(\d+)$/.exec(text);
    if (m) return { lo: Math.min(+m[1], +m[2]), hi: Math.max(+m[1], +m[2]) };
    return undefined;
  }
  function parseFollow(text) {
    text = text.trim();
    let m = /^(?:slot\s*)?(\d+)$/i.exec(text);
    if (m) return { slot: Number(m[1]) };
    m = /^c?(\d+)\s*[#:/ ]\s*(\d+)$/i.exec(text);
    if (m) return { op: [Number(m[1]), Number(m[2])] };
    return undefined;
  }
  function buildControls() {
    const kinds = M.messages.kinds, box = $("msg-controls");
    FILTER.kinds = new Set(kinds.map((k, i) => i).filter((i) => !D.isHeartbeat[i]));
    const order = [];
    for (const g of KIND_GROUPS) for (const k of g[1]) if (kinds.indexOf(k) >= 0) order.push(kinds.indexOf(k));
    kinds.forEach((k, i) => { if (order.indexOf(i) < 0) order.push(i); });
    fill(box, 
      h("span", { class: "group" }, h("span", { class: "glabel", text: "kinds" }), order.map((i) => h("label", {
        title: D.isHeartbeat[i] ? "heartbeats are collapsed into ticks until you tick this" : "show or hide " + kinds[i] + " messages",
      }, h("input", { type: "checkbox", "data-kind": kinds[i], checked: FILTER.kinds.has(i), onchange: (e) => {
        if (e.target.checked) FILTER.kinds.add(i); else FILTER.kinds.delete(i);
        renderMessages();
      } }), h("span", { class: "sw", style: "background:" + kindColor(kinds[i]) }), kinds[i], " ",
      h("span", { class: "kind-count", text: fmtInt(D.kindCount[i]) }))), kinds.length ? null : h("span", { class: "empty", text: "none recorded" })),
      h("span", { class: "group" }, h("span", { class: "glabel", text: "only" }),
        select("f-node", "all nodes", M.nodes.map((n, i) => [i, n]), (e) => { FILTER.nodes = e.target.value === "" ? null : new Set([+e.target.value]); applyFilters(); }),
        select("f-ballot", "all ballots", M.messages.ballots.map((b, i) => [i, "ballot " + b]), (e) => { FILTER.ballots = e.target.value === "" ? null : new Set([+e.target.value]); applyFilters(); }),
        h("input", { type: "text", id: "f-slot", placeholder: "slot: 7 or 5-9", onchange: (e) => {
          const s = parseSlots(e.target.value);
          e.target.style.borderColor = s === undefined ? "#d92d20" : "";
          if (s !== undefined) { FILTER.slots = s; applyFilters(); }
        } }),
        select("f-key", "all keys", M.keys.map((k, i) => [i, k]), (e) => { FILTER.keys = e.target.value === "" ? null : new Set([+e.target.value]); applyFilters(); })),
      h("span", { class: "group" }, h("span", { class: "glabel", text: "follow" }),
        h("input", { type: "text", id: "follow-input", placeholder: "slot 7 or c1#5", title: "a slot number, or a client op as client#seq", onkeydown: (e) => { if (e.key === "Enter") followFromInput(); } }),
        h("button", { type: "button", id: "follow-go", onclick: followFromInput }, "follow"),
        h("button", { type: "button", id: "follow-stop", hidden: true, onclick: () => P.follow(null) }, "stop following")));
    fill($("msg-legend"), 
      h("span", { text: "▼ slot chosen" }), h("span", { text: "◆ majority reached at the leader" }), h("span", { text: "✕ dropped (violet: link cut)" }),
      h("span", { text: "⊘ lost at a down node" }), h("span", { text: "dashed: duplicate copy, held or in flight" }), h("span", { text: "▨ node down" }));
    fill($("ops-legend"), ...TYPES.map((t) => h("span", null, h("span", { class: "sw", style: "background:" + TYPE_COLORS[t] }), t)),
      h("span", null, h("span", { class: "sw", style: "background:#e0a11b;opacity:.45" }), "never completed"),
      M.failure ? h("span", null, h("span", { class: "sw", style: "background:#fff;border:1px solid #7a271a" }), "the failing key's ops") : null,
      h("span", { text: "hover for details, click to pin" }));
  }
  function followFromInput() {
    const input = $("follow-input"), spec = parseFollow(input.value);
    input.style.borderColor = spec === undefined && input.value.trim() ? "#d92d20" : "";
    P.follow(spec || null);
  }
  function syncControls() {
    document.querySelectorAll("input[data-kind]").forEach((el) => { el.checked = FILTER.kinds.has(M.messages.kinds.indexOf(el.getAttribute("data-kind"))); });
    const one = (s) => (s && s.size === 1 ? String([...s][0]) : "");
    $("f-node").value = one(FILTER.nodes); $("f-ballot").value = one(FILTER.ballots); $("f-key").value = one(FILTER.keys);
    const sl = FILTER.slots;
    $("f-slot").value = !sl ? "" : sl instanceof Set ? [...sl].join(",") : sl.lo + "-" + sl.hi;
  }
  function applyFilters() { computeMask(); renderMessages(); }
  function renderMessages() { safe("messages panel", () => msgPanel.draw()); }

  P.filter = function (spec) {
    spec = obj(spec);
    const idx = (list, names) => new Set(arr(names).map((n) => (typeof n === "number" ? n : list.indexOf(str(n)))).filter((i) => i >= 0));
    if ("kinds" in spec) FILTER.kinds = spec.kinds == null ? new Set(M.messages.kinds.map((k, i) => i)) : idx(M.messages.kinds, spec.kinds);
    if ("nodes" in spec) FILTER.nodes = spec.nodes == null ? null : idx(M.nodes, spec.nodes);
    if ("ballots" in spec) FILTER.ballots = spec.ballots == null ? null : idx(M.messages.ballots, spec.ballots);
    if ("slots" in spec) FILTER.slots = spec.slots == null ? null : new Set(arr(spec.slots).map(Number));
    if ("keys" in spec) FILTER.keys = spec.keys == null ? null : idx(M.keys, spec.keys);
    syncControls(); applyFilters();
  };
  P.follow = function (spec) {
    FOLLOW.spec = FOLLOW.msg = FOLLOW.op = FOLLOW.slot = null;
    const nM = D.nMsg, nO = D.nOps, kinds = M.messages.kinds;
    const blind = kinds.map((k) => SLOT_BLIND.test(k));
    if (spec && spec.slot != null && isFinite(Number(spec.slot))) {
      const s = Number(spec.slot), om = new Uint8Array(nO), mm = new Uint8Array(nM);
      for (let i = 0; i < nO; i++) if (D.opHeight[i] === s) om[i] = 1;
      for (let i = 0; i < nM; i++) {
        const op = D.mOp[i];
        if ((D.mSlot[i] === s && !blind[D.mKind[i]]) || (op >= 0 && op < nO && om[op])) mm[i] = 1;
      }
      Object.assign(FOLLOW, { spec: { slot: s }, msg: mm, op: om, slot: s });
    } else if (spec && Array.isArray(spec.op) && spec.op.length === 2) {
      const row = D.opIndex.get(str(spec.op[0]) + ":" + str(spec.op[1]));
      if (row !== undefined) {
        const om = new Uint8Array(nO), mm = new Uint8Array(nM), hgt = D.opHeight[row];
        om[row] = 1;
        for (let i = 0; i < nM; i++) if (D.mOp[i] === row || (hgt >= 0 && D.mSlot[i] === hgt && !blind[D.mKind[i]])) mm[i] = 1;
        Object.assign(FOLLOW, { spec: { op: [spec.op[0], spec.op[1]] }, msg: mm, op: om, slot: hgt >= 0 ? hgt : null });
      }
    }
    const input = $("follow-input");
    if (input && FOLLOW.spec && document.activeElement !== input) input.value = FOLLOW.spec.slot != null ? String(FOLLOW.spec.slot) : clientName(FOLLOW.spec.op[0]) + "#" + FOLLOW.spec.op[1];
    if (input && !FOLLOW.spec) input.value = "";
    const stop = $("follow-stop");
    if (stop) stop.hidden = !FOLLOW.spec;
    renderAll();
  };
  P.setView = function (t0, t1) { setView(t0, t1); };
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
    const t = num(fp.t_us, NaN), win = M.failure ? arr(M.failure.window_us).map(Number) : [];
    let a, b;
    if (fp.panel === "failure" && win.length === 2 && win[1] >= win[0]) {
      const pad = Math.max((win[1] - win[0]) * 0.15, 1000); a = win[0] - pad; b = win[1] + 2.5 * pad; // room for labels
    } else if (isFinite(t)) {
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
  // view also zooms to the failing key's window. Later hash changes scroll as usual.
  function openAtHash() {
    const k = decodeURIComponent(location.hash.slice(1)), el = $(ANCHORS[k] || "");
    if (!el || el.hidden || k === "verdict") return goHash();
    el.style.order = "-1";
    $("main").classList.add("reordered");
    const win = M.failure ? arr(M.failure.window_us).map(Number) : [];
    if (k === "failure" && win.length === 2 && win[1] >= win[0]) {
      const pad = Math.max((win[1] - win[0]) * 0.15, 1000);
      setView(win[0] - pad, win[1] + 2.5 * pad);
    }
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
})();
