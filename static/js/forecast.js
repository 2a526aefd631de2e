// Forecast charts: one uPlot per category from GET /api/v1/forecasts?street=<id> (the URL is in
// #fc's data-src; no inline scripts: CSP script-src 'self'). Weekly history (demo history in
// grey, recorded weeks in blue), the forecast line and its 80% / 95% bands.
(function () {
  "use strict";
  var data = null;
  var plots = [];

  function ts(iso) { return Date.parse(iso + "T00:00:00+08:00") / 1000; }

  function seriesFor(c, weeks, demoUntil) {
    var n = weeks.length, m = c.forecast_weeks.length;
    var xs = [], demo = [], hist = [], mean = [], lo80 = [], hi80 = [], lo95 = [], hi95 = [];
    for (var i = 0; i < n; i++) {
      var isDemo = demoUntil && weeks[i] <= demoUntil;
      xs.push(ts(weeks[i]));
      demo.push(isDemo ? c.history[i] : null);
      hist.push(isDemo ? null : c.history[i]);
      var last = i === n - 1 && m > 0;
      mean.push(last ? c.history[i] : null);  // joins the forecast line to the last week
      lo80.push(null); hi80.push(null); lo95.push(null); hi95.push(null);
    }
    if (n && demoUntil && weeks[n - 1] > demoUntil) {
      // join the demo line to the first recorded week
      for (var j = 1; j < n; j++) {
        if (weeks[j] > demoUntil && weeks[j - 1] <= demoUntil) { demo[j] = c.history[j]; break; }
      }
    }
    for (var k = 0; k < m; k++) {
      xs.push(ts(c.forecast_weeks[k]));
      demo.push(null); hist.push(null);
      mean.push(c.forecast.mean[k]);
      lo80.push(c.forecast.lo80[k]); hi80.push(c.forecast.hi80[k]);
      lo95.push(c.forecast.lo95[k]); hi95.push(c.forecast.hi95[k]);
    }
    return [xs, demo, hist, hi95, lo95, hi80, lo80, mean];
  }

  function draw() {
    var root = document.getElementById("fc");
    if (!root || !data || typeof uPlot === "undefined") return;
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    var L = data.labels;
    data.categories.forEach(function (c) {
      var el = root.querySelector('.fc-chart[data-category="' + c.category + '"]');
      if (!el) return;
      el.textContent = "";
      var width = Math.max(el.clientWidth, 280);
      var opts = {
        width: width,
        height: 200,
        scales: { x: { time: true } },
        legend: { show: false },
        series: [
          {},
          { label: L.demo, stroke: "#9e9e9e", width: 1.5, spanGaps: false },
          { label: L.history, stroke: "#1f5f8b", width: 2, spanGaps: false },
          { label: L.band95, stroke: "rgba(178,106,0,0.25)", width: 1 },
          { label: "", stroke: "rgba(178,106,0,0.25)", width: 1 },
          { label: L.band80, stroke: "rgba(178,106,0,0.45)", width: 1 },
          { label: "", stroke: "rgba(178,106,0,0.45)", width: 1 },
          { label: L.forecast, stroke: "#b26a00", width: 2, dash: [6, 4] }
        ],
        bands: [
          { series: [3, 4], fill: "rgba(178,106,0,0.12)" },
          { series: [5, 6], fill: "rgba(178,106,0,0.22)" }
        ],
        axes: [{}, { size: 36 }]
      };
      plots.push(new uPlot(opts, seriesFor(c, data.weeks, data.demo_until), el));
    });
  }

  function load() {
    var root = document.getElementById("fc");
    if (!root || !root.getAttribute("data-src")) return;
    fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { data = d; draw(); } })
      .catch(function () { /* the tables below the charts still show the numbers */ });
  }

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(draw, 200);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
