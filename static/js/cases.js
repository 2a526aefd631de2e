// Petition cases: flag a group visit (Art. 20) as the number of people is typed. No inline JS.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("[data-group-limit]");
    var flag = document.getElementById("group-flag");
    if (!input || !flag) return;
    var limit = parseInt(input.getAttribute("data-group-limit"), 10);
    input.addEventListener("input", function () {
      flag.hidden = !(parseInt(input.value, 10) > limit);
    });
  });
})();
