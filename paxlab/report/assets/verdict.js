/* verdict.js: panel 1, the verdict card: every check with its verdict and details, op
   counts, run facts, the "first problem at t = ..." link, what could not be read, and the
   config. Plain DOM, not canvas: it is text to read, search and copy. */

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
