// The dashboard's own script (no build step). Charts: an element with class "chart" and id X is
// drawn with uPlot from the JSON in <script type="application/json" id="X-data">:
// {"labels": [...], "series": [{"label": ..., "values": [...]}, ...], "unit": ..., "x": ...} (one value
// per label, null for none; "unit" names the y axis, hours by default; "x" the labels, Day by default).
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#7a4d00", "#1d6b2f", "#a4161a", "#5b2a86", "#00607a", "#8a3b00", "#3d5a00",
                 "#7a1f5c", "#404a57"];

  function draw(element) {
    var source = document.getElementById(element.id + "-data");
    if (!source || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var xs = data.labels.map(function (_, i) { return i; });
    var options = {
      width: Math.max(320, Math.min(element.clientWidth || 900, 1100)),
      height: 220,
      series: [{ label: data.x || "Day", value: function (_, i) { return i == null ? "" : data.labels[i]; } }].concat(
        data.series.map(function (s, i) {
          return { label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2,
                   points: { show: true, size: 7, fill: COLOURS[i % COLOURS.length] } };
        })),
      axes: [{ values: function (_, ticks) { return ticks.map(function (t) { return data.labels[t] || ""; }); },
               splits: function () { return xs; } },
             { label: data.unit || "hours" }],
      scales: { x: { time: false, range: [-0.5, xs.length - 0.5] } }
    };
    element.textContent = "";
    var chart = new uPlot(options, [xs].concat(data.series.map(function (s) { return s.values; })), element);
    element.setAttribute("data-drawn", String(data.series.length));
    return chart;
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".chart[id]"), draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
