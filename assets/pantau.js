/* Pantau shell behaviour that needs no server round trip: clock, sign-in redirect and the notice of a failed
   request (the theme: theme.js). */
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

  // A failed Dash request would leave its form silent, as if nothing happened: a server error, a refusal (403, 429)
  // or no answer at all shows a notice that the change may not be saved, with the server's reason and the reference
  // the admin finds in the log. The fields keep what was typed (Dash changes nothing on a failure). The notice goes
  // when each output that failed has updated since, or when it is closed. A session that ended (idle timeout,
  // sign-out elsewhere) answers 401: go to sign-in.
  var failedOutputs = {};

  function texts() {
    var el = document.getElementById("shell-request-failed-texts");
    return el ? el.dataset : {};
  }
  function notice() {
    var box = document.getElementById("pantau-request-failed");
    if (box) { return box; }
    box = document.createElement("div");
    box.id = "pantau-request-failed";
    box.className = "alert alert-danger pantau-request-failed shadow";
    box.setAttribute("role", "alert");
    box.hidden = true;
    var text = document.createElement("span");
    text.className = "pantau-request-failed-text";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close ms-3";
    close.setAttribute("aria-label", texts().close || "×");
    close.addEventListener("click", function () { failedOutputs = {}; box.hidden = true; });
    box.appendChild(text);
    box.appendChild(close);
    document.body.appendChild(box);
    return box;
  }
  // Lines of the notice: the reason in bold, then what to do, then the reference for the admin.
  function show(lines) {
    var text = notice().querySelector(".pantau-request-failed-text");
    text.replaceChildren();
    lines.forEach(function (line, index) {
      if (!line) { return; }
      var el = document.createElement(index === 0 ? "strong" : "span");
      el.className = "d-block";
      el.textContent = line;
      text.appendChild(el);
    });
    notice().hidden = false;
  }
  function outputOf(init) {
    try { return JSON.parse(init.body).output || ""; } catch (e) { return ""; }
  }
  function failed(output, reason) {
    failedOutputs[output] = true;
    var words = texts();
    if (!reason) { show([words.offline]); return; }
    var reference = reason.reference && words.reference ? words.reference.replace("{reference}", reason.reference) : "";
    show([reason.error, words.notSaved, reference]);
  }
  function succeeded(output) {
    if (!failedOutputs[output]) { return; }
    delete failedOutputs[output];
    if (Object.keys(failedOutputs).length === 0) { notice().hidden = true; }
  }

  var originalFetch = window.fetch;
  window.fetch = function (resource, init) {
    var url = String(resource && resource.url ? resource.url : resource);
    if (url.indexOf("/_dash-") === -1) { return originalFetch.apply(this, arguments); }
    var output = init && init.body ? outputOf(init) : url;
    return originalFetch.apply(this, arguments).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      } else if (response.ok) {
        succeeded(output);
      } else {
        // Pantau answers a data request's error with {"error", "reference"}; a proxy's page has neither.
        response.clone().json().then(function (body) {
          failed(output, body && body.error ? body : null);
        }, function () { failed(output, null); });
      }
      return response;
    }, function (error) {
      failed(output, null);
      throw error;
    });
  };
})();
