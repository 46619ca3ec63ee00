/* filters.js: the message panel's controls (kinds, node, ballot, slot, key, follow) and
   the test hooks that drive them, paxlab.filter() and paxlab.follow() (contract section
   5). Following a slot or an op marks its messages and ops and fades the rest. */

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
