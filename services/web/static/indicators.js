// Draws the dashboard's charts with Chart.js (vendored, served by the gateway) from the specs
// the page carries; every chart's numbers are also in the table beside it.
(function () {
  "use strict";
  var palette = ["#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573"];
  function draw() {
    var holder = document.getElementById("chart-specs");
    if (!holder || typeof window.Chart === "undefined") { return; }
    var specs = JSON.parse(holder.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = specs[canvas.getAttribute("data-chart")];
      if (!spec) { return; }
      new window.Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return { label: s.name, data: s.values, backgroundColor: palette[i % palette.length],
                     borderColor: palette[i % palette.length], spanGaps: false };
          })
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: spec.unit } } }
        }
      });
      canvas.setAttribute("data-drawn", "true");
    });
    document.body.setAttribute("data-charts-drawn", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
