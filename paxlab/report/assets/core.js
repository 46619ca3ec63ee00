/* core.js: the model, decoded. Constants (colours, kinds), DOM and number helpers, and
   normalise() + prepare(), which turn the embedded JSON model (contract section 4) into
   M (every field present, whatever was missing or junk) and D (typed arrays and indexes).
   Why first: every panel reads M and D and formats with these helpers, so a model with a
   missing table still draws, and 100,000 messages are scanned as typed arrays, not objects. */

const GUTTER = 118, RPAD = 14, FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const KIND_COLORS = {
  PreVote: "#d8b4fe", PreVoteReply: "#e9d5ff", InstallSnapshot: "#713f12",
  Prepare: "#7c3aed", Promise: "#b18cf5", Accept: "#1d4ed8", Accepted: "#5ea1f7",
  Reject: "#dc2626", Heartbeat: "#9aa4b2", HeartbeatAck: "#c3cad5", CatchUp: "#a16207",
  ClientRequest: "#16a34a", ClientReply: "#0d9488", Redirect: "#ea8a0c",
};
const KIND_GROUPS = [
  ["pre-vote", ["PreVote", "PreVoteReply"]], ["Prepare/Promise", ["Prepare", "Promise"]], ["Accept/Accepted", ["Accept", "Accepted"]],
  ["Reject", ["Reject"]], ["client", ["ClientRequest", "ClientReply", "Redirect"]],
  ["catch-up", ["CatchUp", "InstallSnapshot"]], ["heartbeats", ["Heartbeat", "HeartbeatAck"]],
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
      servers: arr(obj(m.chains).servers), length: arr(obj(m.chains).length), start: arr(obj(m.chains).start),
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
