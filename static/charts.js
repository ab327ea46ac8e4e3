// Draws the daily charts with the vendored uPlot: each [data-chart] element reads its numbers from
// the JSON script next to it (the same numbers as the table and the CSV under it). Vertical marks
// are optimization changes. A page may load uPlot with itself (the overview); otherwise uPlot
// (22 KB compressed) is fetched only when a chart comes near the screen, from the versioned URLs
// the element names, so a page whose chart sits below the fold (a template's page) keeps the
// library out of its first load and within the 60 KB budget. The table under each chart is what
// screen readers get; the chart itself is aria-hidden.
(function () {
  "use strict";

  // Line colours per theme, each readable on Pico's background of that theme; lines differ by
  // dash too, so colour is never the only difference.
  var palettes = {
    light: ["#3056b8", "#1e7a45", "#8a6100", "#b3261e"],
    dark: ["#8fb0ff", "#5fd18b", "#e0b64a", "#ff8a80"]
  };
  var dashes = [[], [6, 3], [2, 3], [10, 4]];
  var H = 280;
  var loading = null;

  function theme() {
    var t = document.documentElement.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function css(name, dflt) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || dflt;
  }

  // lib loads uPlot's stylesheet and script once per page; a failed load may be tried again.
  function lib(el) {
    if (window.uPlot) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (ok, fail) {
        var l = document.createElement("link");
        l.rel = "stylesheet";
        l.href = el.getAttribute("data-chart-css");
        document.head.appendChild(l);
        var s = document.createElement("script");
        s.src = el.getAttribute("data-chart-lib");
        s.onload = ok;
        s.onerror = function () { loading = null; fail(new Error("chart library did not load")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function width(el) { return Math.max(280, el.clientWidth); }

  // options builds uPlot's options in the current theme's colours.
  function options(el, d) {
    var pal = palettes[theme()] || palettes.light;
    var fg = css("--pico-color", "#333"), grid = css("--pico-muted-border-color", "#ddd");
    // Numbers and day ticks in the page's language (1.234 / 1,234; "9 nov" / "Nov 9"); the
    // legend's day is the ISO date the table shows.
    var lang = document.documentElement.lang || undefined;
    var nf = new Intl.NumberFormat(lang);
    var df = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
    var num = function (u, v) { return v == null ? "--" : nf.format(v); };
    var series = [{ label: d.xLabel, value: "{YYYY}-{MM}-{DD}" }];
    d.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: pal[i % pal.length], dash: dashes[i % dashes.length], width: 2, value: num });
    });
    var marks = d.marks || [];
    return {
      width: width(el),
      height: H,
      // Days are UTC midnights: shown in UTC, or a viewer west of Greenwich sees the day before.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      series: series,
      axes: [
        {
          stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
          values: function (u, splits) { return splits.map(function (ts) { return df.format(new Date(ts * 1e3)); }); }
        },
        {
          stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
          values: function (u, splits) { return splits.map(function (v) { return nf.format(v); }); },
          // Wide enough for the longest tick label ("120,000"), so large counts are not cut.
          size: function (u, values) {
            var n = 0;
            (values || []).forEach(function (v) { n = Math.max(n, String(v).length); });
            return Math.max(40, n * 8 + 18);
          }
        }
      ],
      hooks: {
        draw: [function (u) {
          var x = u.ctx, r = window.devicePixelRatio || 1;
          x.save();
          x.strokeStyle = fg;
          x.fillStyle = fg;
          x.setLineDash([4 * r, 4 * r]);
          x.lineWidth = r;
          x.font = 11 * r + "px sans-serif";
          var drawn = 0;
          marks.forEach(function (m) {
            if (m.x < d.x[0] || m.x > d.x[d.x.length - 1]) return;
            drawn++;
            var px = Math.round(u.valToPos(m.x, "x", true)) + 0.5;
            x.beginPath();
            x.moveTo(px, u.bbox.top);
            x.lineTo(px, u.bbox.top + u.bbox.height);
            x.stroke();
            // A label that would run past the plot's right edge goes on the line's left.
            var right = px + 4 * r + x.measureText(m.label).width > u.bbox.left + u.bbox.width;
            x.textAlign = right ? "right" : "left";
            x.fillText(m.label, right ? px - 4 * r : px + 4 * r, u.bbox.top + 12 * r);
          });
          x.restore();
          // How many marks are on the canvas, for a check that cannot read the pixels.
          el.setAttribute("data-marks-drawn", String(drawn));
        }]
      }
    };
  }

  function draw(el) {
    var src = document.getElementById(el.getAttribute("data-chart") + "-data");
    if (!src) return;
    var d = JSON.parse(src.textContent);
    var data = [d.x].concat(d.series.map(function (s) { return s.values; }));
    lib(el).then(function () {
      el.innerHTML = "";
      var plot = new uPlot(options(el, d), data, el);
      var t;
      window.addEventListener("resize", function () {
        clearTimeout(t);
        t = setTimeout(function () { plot.setSize({ width: width(el), height: H }); }, 150);
      });
      // Axes, grid and lines take the theme's colours: a switch to dark or light draws again.
      var redraw = function () {
        plot.destroy();
        plot = new uPlot(options(el, d), data, el);
      };
      new MutationObserver(redraw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
      if (window.matchMedia) matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
    }, function () {
      el.textContent = d.failed;
    });
  }

  function init() {
    var charts = document.querySelectorAll("[data-chart]");
    // A page that loaded uPlot with itself wants its charts now; otherwise each waits for view.
    if (window.uPlot || !("IntersectionObserver" in window)) {
      charts.forEach(draw);
      return;
    }
    // Start a little before the chart scrolls into view, so it is drawn by the time it is seen.
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        io.unobserve(e.target);
        draw(e.target);
      });
    }, { rootMargin: "200px 0px" });
    charts.forEach(function (el) { io.observe(el); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
