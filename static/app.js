// Small behaviours the server-rendered pages share: theme switch, toasts, relative times and
// countdowns. Everything else is htmx.
(function () {
  "use strict";

  function currentTheme() {
    var t = document.documentElement.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("mmc-theme", next); } catch (e) {}
      return;
    }
    var close = ev.target.closest("[data-toast-close]");
    if (close) {
      var toast = close.closest("[data-toast]");
      if (toast) toast.remove();
    }
  });

  // Success and info toasts leave by themselves; errors stay until dismissed.
  function armToasts(root) {
    root.querySelectorAll("[data-toast]:not([data-armed])").forEach(function (t) {
      t.setAttribute("data-armed", "1");
      if (!t.classList.contains("toast-error")) {
        setTimeout(function () { t.remove(); }, 6000);
      }
    });
  }

  // The page's language (the user's choice, else the browser's) decides the words and formats.
  var lang = document.documentElement.lang || undefined;
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  var dtf = window.Intl ? new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }) : null;

  function relative(ms) {
    var s = Math.round(ms / 1000), a = Math.abs(s);
    if (!rtf) return "";
    if (a < 60) return rtf.format(s, "second");
    if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
    if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
    return rtf.format(Math.round(s / 86400), "day");
  }

  // <time datetime="RFC3339" data-relative> shows "3 days ago" with the local time as its title.
  // [data-countdown="RFC3339"] shows the minutes left and, when the time passes, the text in
  // data-done (and asks htmx to refresh the closest [data-refresh-on-done] region, if any).
  function tick(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[data-relative]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) return;
      el.textContent = relative(t - now);
      if (dtf && !el.title) el.title = dtf.format(new Date(t));
    });
    (root || document).querySelectorAll("[data-countdown]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(t)) return;
      var left = t - now;
      if (left <= 0) {
        if (!el.hasAttribute("data-finished")) {
          el.setAttribute("data-finished", "1");
          el.textContent = el.getAttribute("data-done") || "";
          var region = el.closest("[data-refresh-on-done]");
          if (region && window.htmx) htmx.trigger(region, "countdown-done");
        }
        return;
      }
      var min = Math.ceil(left / 60000);
      var fmt = el.getAttribute("data-format") || "ready in about {n} min";
      el.textContent = fmt.replace("{n}", String(min));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    armToasts(document);
    tick(document);
    setInterval(function () { tick(document); }, 1000);
  });
  document.addEventListener("htmx:afterSettle", function (ev) {
    armToasts(document);
    tick(ev.target);
  });

  // Header dropdowns (the phone menu, the user menu) are plain <details>: close them when the
  // person clicks elsewhere or presses Escape, as menus do; focus goes back to the summary.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    var d = ev.target.closest && ev.target.closest("details.dropdown[open]");
    if (!d) return;
    d.removeAttribute("open");
    var summary = d.querySelector("summary");
    if (summary) summary.focus();
  });

  // <select data-submit-on-change> submits its form as soon as a choice is made (the WABA
  // chooser of the optimization pages); without JavaScript a <noscript> button does it.
  document.addEventListener("change", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-submit-on-change]");
    if (!el || !el.form) return;
    if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
  });

  // <input type="checkbox" data-select-all="<name>"> ticks or clears every checkbox of that
  // name in its form (the matrix's templates); the boxes ticked by hand keep it in step.
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest && ev.target.closest("[data-select-all]");
    var form = ev.target.form;
    if (!form) return;
    if (all) {
      form.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]').forEach(function (b) {
        b.checked = all.checked;
      });
      return;
    }
    var head = form.querySelector('[data-select-all="' + ev.target.name + '"]');
    if (!head) return;
    var boxes = form.querySelectorAll('input[type="checkbox"][name="' + ev.target.name + '"]');
    var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    head.checked = ticked === boxes.length;
    head.indeterminate = ticked > 0 && ticked < boxes.length;
  });

  // [data-copy="<id>"] copies the text of that element (the test send's curl command).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn || !navigator.clipboard) return;
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) return;
    navigator.clipboard.writeText(el.value || el.textContent).then(function () {
      btn.textContent = "Copied";
    });
  });
})();
