/* paxlab report: draws the run model embedded in this page (contract section 4) and
   exposes window.paxlab for tests (section 5). Vanilla JS, no libraries, nothing fetched.
   Dense panels draw on canvas so 100,000 messages open in well under 2 s. Every time panel
   shares one view (t0..t1 in microseconds since the run start): drag zooms all, double-click
   shows the whole run.

   This file is the frame of the page's one script: page.py puts the parts (core.js,
   view.js, ... main.js, in the order of page.SCRIPT_PARTS) where the parts marker stands,
   so they share this function's scope as one script; each part says its job on top. */
(function () {
  "use strict";

  const P = (window.paxlab = {
    ready: false, errors: [], model: null, view: { t0_us: 0, t1_us: 1 }, readyMs: null,
  });
  // where each part starts in the page (document lines, which is what errors report)
  const PART_LINES = /*{{part-lines}}*/[];
  function where(line) {
    let at = null;
    for (const p of PART_LINES) if (p[1] <= line) at = p;
    return at ? at[0] + " line " + (line - at[1] + 1) : "page line " + line;
  }
  window.onerror = function (msg, src, line, col) {
    P.errors.push(String(msg) + (line ? " (" + where(line) + ":" + col + ")" : ""));
  };
  window.addEventListener("unhandledrejection", function (e) {
    P.errors.push("unhandled rejection: " + String(e.reason));
  });

/*{{parts}}*/
})();
