// Leaders' dashboard: draws the 30-day chart from the JSON in #dash-chart's data-chart attribute
// with the vendored uPlot (no inline scripts: CSP script-src 'self').
(function () {
  "use strict";
  var plot = null;

  function draw() {
    var el = document.getElementById("dash-chart");
    if (!el || typeof uPlot === "undefined") return;
    var d;
    try { d = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    var xs = d.days.map(function (s) { return Date.parse(s + "T12:00:00+08:00") / 1000; });
    var width = Math.max(el.clientWidth, 280);
    if (plot) { plot.destroy(); plot = null; }
    el.textContent = "";
    plot = new uPlot({
      width: width,
      height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: d.labels.visits, stroke: "#1f5f8b", width: 2 },
        { label: d.labels.calls, stroke: "#2e7d32", width: 2 },
        { label: d.labels.mediations, stroke: "#b26a00", width: 2 }
      ],
      axes: [{}, { size: 40 }]
    }, [xs, d.visits, d.calls, d.mediations], el);
  }

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(draw, 200);
  });
  document.addEventListener("DOMContentLoaded", draw);
  if (document.readyState !== "loading") draw();
})();
