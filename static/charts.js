// Draws the daily line charts on a canvas: each [data-chart] element reads its numbers from the
// JSON script next to it (the same numbers as the table and the CSV under it). Vertical marks are
// optimization changes. Our own few lines instead of a chart library keep a chart page's first
// load within the 60 KB budget; the table under each chart is what screen readers get.
(function () {
  "use strict";

  var palette = ["#5470c6", "#2e9e5b", "#b8860b", "#c0392b"];
  var dashes = [[], [6, 3], [2, 3], [10, 4]]; // lines differ by dash too, not by colour alone
  var H = 280, L = 56, R = 12, T = 16, B = 28;

  function css(name, dflt) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || dflt;
  }

  // step is a round tick step (1, 2 or 5 times a power of ten) giving about n ticks up to max.
  function step(max, n) {
    var raw = max / n, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  function legend(el, d) {
    var ul = document.createElement("ul");
    ul.className = "chart-legend";
    d.series.forEach(function (s, i) {
      var li = document.createElement("li"), c = document.createElement("canvas");
      c.width = 28; c.height = 10;
      var x = c.getContext("2d");
      x.strokeStyle = palette[i % palette.length]; x.lineWidth = 2; x.setLineDash(dashes[i % dashes.length]);
      x.beginPath(); x.moveTo(0, 5); x.lineTo(28, 5); x.stroke();
      li.appendChild(c);
      li.appendChild(document.createTextNode(" " + s.label));
      ul.appendChild(li);
    });
    el.appendChild(ul);
  }

  function paint(cv, d) {
    var W = Math.max(280, cv.parentNode.clientWidth), r = window.devicePixelRatio || 1;
    cv.width = W * r; cv.height = H * r; cv.style.width = W + "px"; cv.style.height = H + "px";
    var x = cv.getContext("2d"), fg = css("--pico-color", "#333"), grid = css("--pico-muted-border-color", "#ddd");
    x.scale(r, r);
    x.font = "11px sans-serif";
    var n = d.x.length, max = 0;
    d.series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    var st = step(max || 1, 4), top = Math.ceil((max || 1) / st) * st;
    var pw = W - L - R, ph = H - T - B;
    var px = function (i) { return L + (n > 1 ? i * pw / (n - 1) : pw / 2); };
    var py = function (v) { return T + ph - v * ph / top; };
    x.fillStyle = fg; x.strokeStyle = grid; x.lineWidth = 1;
    x.textAlign = "right"; x.textBaseline = "middle";
    for (var v = 0; v <= top + st / 2; v += st) {
      var y = Math.round(py(v)) + 0.5;
      x.beginPath(); x.moveTo(L, y); x.lineTo(W - R, y); x.stroke();
      x.fillText(v >= 1e6 ? v / 1e6 + "M" : v >= 1e3 ? v / 1e3 + "k" : String(v), L - 6, y);
    }
    x.textAlign = "center"; x.textBaseline = "top";
    var every = Math.max(1, Math.ceil(n / Math.floor(pw / 64)));
    for (var i = 0; i < n; i += every) {
      var t = new Date(d.x[i] * 1000);
      x.fillText((t.getUTCMonth() + 1) + "/" + t.getUTCDate(), px(i), H - B + 8);
    }
    d.series.forEach(function (s, k) {
      x.strokeStyle = palette[k % palette.length]; x.lineWidth = 2; x.setLineDash(dashes[k % dashes.length]);
      x.beginPath();
      s.values.forEach(function (v, i) { if (i) x.lineTo(px(i), py(v)); else x.moveTo(px(i), py(v)); });
      x.stroke();
    });
    x.strokeStyle = fg; x.setLineDash([4, 4]); x.lineWidth = 1; x.textAlign = "left";
    (d.marks || []).forEach(function (m) {
      var i = (m.x - d.x[0]) / 86400;
      if (i < 0 || i > n - 1) return;
      var mx = Math.round(px(i)) + 0.5;
      x.beginPath(); x.moveTo(mx, T); x.lineTo(mx, T + ph); x.stroke();
      x.fillText(m.label, mx + 4, T);
    });
  }

  function draw(el) {
    var src = document.getElementById(el.getAttribute("data-chart") + "-data");
    if (!src) return;
    var d = JSON.parse(src.textContent), cv = document.createElement("canvas");
    el.innerHTML = "";
    el.appendChild(cv);
    legend(el, d);
    paint(cv, d);
    var t;
    window.addEventListener("resize", function () {
      clearTimeout(t);
      t = setTimeout(function () { paint(cv, d); }, 150);
    });
    // The axes take the theme's colours: a switch to dark or light draws the chart again.
    new MutationObserver(function () { paint(cv, d); }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    if (window.matchMedia) matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () { paint(cv, d); });
  }

  function init() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
