/* Pantau's colour theme, "dark" (the default) or "light", kept in this browser (localStorage "pantau-theme") and
   shown as Bootstrap's data-bs-theme on <html>. The server-rendered pages (auth/templates) load this file in
   <head>, so they never paint in the wrong theme; Dash loads it with its assets, and the navbar's toggle switches
   it through the clientside callback below, whose store tells the chart callbacks (components/shell.py). */
(function () {
  "use strict";

  var KEY = "pantau-theme";

  function stored() {
    try {
      return window.localStorage.getItem(KEY) === "light" ? "light" : "dark";
    } catch (e) {  // storage refused (a locked-down kiosk profile): the default theme
      return "dark";
    }
  }

  function show(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    return theme;
  }

  show(stored());

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pantau_theme = {
    /* The theme shown: the stored one on load, the other one after each click of the toggle. */
    shown: function (clicks) {
      if (!clicks) { return show(stored()); }
      var next = document.documentElement.getAttribute("data-bs-theme") === "light" ? "dark" : "light";
      try { window.localStorage.setItem(KEY, next); } catch (e) { /* shown for this page only */ }
      return show(next);
    }
  };
})();
