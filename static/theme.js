// Applies the chosen light/dark theme before first paint (no flash of the wrong theme).
(function () {
  try {
    var t = localStorage.getItem("mmc-theme");
    if (t === "light" || t === "dark") document.documentElement.setAttribute("data-theme", t);
  } catch (e) {}
})();
