// Field forms: after htmx swaps a refused form back in, move focus to the first marked field,
// so the worker on a phone sees what to correct. (No inline scripts: CSP.)
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    if (!target || !target.querySelector) return;
    var root = target.isConnected ? target : document;
    var bad = root.querySelector("[aria-invalid='true']") || document.querySelector("form.record-form [aria-invalid='true']");
    var saved = document.querySelector(".saved .alert.ok");
    var el = bad || saved;
    if (el) {
      el.scrollIntoView({ block: "center" });
      if (bad && bad.focus) bad.focus();
    }
  });
})();
