/* Pantau shell behaviour that needs no server round trip: clock and sign-in redirect (the theme: theme.js). */
(function () {
  "use strict";

  var formats = {};
  function formatter(tz, lang, withDate) {
    var key = tz + "|" + lang + "|" + withDate;
    if (!formats[key]) {
      var options = { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
      if (withDate) { options.weekday = "long"; options.day = "numeric"; options.month = "long"; options.year = "numeric"; }
      formats[key] = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "id-ID", options);
    }
    return formats[key];
  }
  function tick() {
    var now = new Date();
    document.querySelectorAll(".pantau-clock").forEach(function (el) {
      var tz = el.getAttribute("data-tz") || "Asia/Jakarta";
      var zone = tz === "Asia/Jakarta" ? " WIB" : tz === "Asia/Makassar" ? " WITA" : tz === "Asia/Jayapura" ? " WIT" : "";
      el.textContent = formatter(tz, el.getAttribute("data-lang"), el.hasAttribute("data-date")).format(now) + zone;
    });
  }
  window.setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  // A session that ended (idle timeout, sign-out elsewhere) answers Dash's requests with 401: go to sign-in.
  var originalFetch = window.fetch;
  window.fetch = function () {
    return originalFetch.apply(this, arguments).then(function (response) {
      if (response.status === 401 && response.url.indexOf("/_dash-") !== -1) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      }
      return response;
    });
  };
})();
