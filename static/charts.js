// Draws the daily charts with the vendored uPlot: each [data-chart] element reads its numbers
// from the JSON script next to it (the same numbers as the table and the CSV under it).
// Vertical marks are optimization changes. Loaded only on pages that have a chart.
(function () {
  "use strict";

  var palette = ["#5470c6", "#2e9e5b", "#b8860b", "#c0392b"];
  var dashes = [[], [6, 3], [2, 3], [10, 4]]; // lines differ by dash too, not by colour alone

  function textColor() {
    return getComputedStyle(document.documentElement).getPropertyValue("--pico-color").trim() || "#333";
  }

  function draw(el) {
    var src = document.getElementById(el.getAttribute("data-chart") + "-data");
    if (!src || typeof uPlot === "undefined") return;
    var d = JSON.parse(src.textContent);
    var data = [d.x];
    var series = [{}];
    d.series.forEach(function (s, i) {
      data.push(s.values);
      series.push({ label: s.label, stroke: palette[i % palette.length], dash: dashes[i % dashes.length], width: 2 });
    });
    var marks = d.marks || [];
    var fg = textColor();
    var opts = {
      width: Math.max(280, el.clientWidth),
      height: 280,
      series: series,
      axes: [{ stroke: fg }, { stroke: fg }],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = fg;
          ctx.fillStyle = fg;
          ctx.setLineDash([4, 4]);
          ctx.font = 11 * devicePixelRatio + "px sans-serif";
          marks.forEach(function (m) {
            var x = Math.round(u.valToPos(m.x, "x", true));
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(m.label, x + 4, u.bbox.top + 12 * devicePixelRatio);
          });
          ctx.restore();
        }]
      }
    };
    el.innerHTML = "";
    var plot = new uPlot(opts, data, el);
    var t;
    window.addEventListener("resize", function () {
      clearTimeout(t);
      t = setTimeout(function () { plot.setSize({ width: Math.max(280, el.clientWidth), height: 280 }); }, 150);
    });
  }

  function init() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
