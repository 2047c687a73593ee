/* Pantau shell behaviour that needs no server round trip: clock, sign-in redirect, the notice of a failed request
   and the busy mark of a pressed button (the theme: theme.js). */
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

  // A failed Dash request would leave its page silent, as if nothing happened: a server error, a refusal (403, 429)
  // or no answer at all shows a notice with the reason (the server's, in the user's language, with the reference the
  // admin finds in the log) and what it means: after a click (a save) the change may not be saved, and the fields
  // keep what was typed (Dash changes nothing on a failure); after a load or a refresh, what the page shows may be
  // out of date. The notice goes when each output that failed has updated since, or when it is closed. A session
  // that ended (idle timeout, sign-out elsewhere) answers 401: go to sign-in.
  var failures = {};  // what failed and has not worked since: a callback's output, or a page script's action
  var ACTIONS = /\.(n_clicks|n_submit|contents)$/;  // a button pressed, Enter in a field, a file dropped

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
    close.addEventListener("click", function () { failures = {}; box.hidden = true; });
    box.appendChild(text);
    box.appendChild(close);
    document.body.appendChild(box);
    return box;
  }
  // Lines of the notice: the reason in bold, then what it means, then the reference for the admin.
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
  // Which output a Dash request updates, whether a person's action started it, and the buttons pressed for it.
  function describe(url, init) {
    try {
      var body = JSON.parse(init.body), changed = body.changedPropIds || [];
      return {
        output: body.output || url,
        action: changed.some(function (id) { return ACTIONS.test(id); }),
        buttons: pressedButtons(changed)
      };
    } catch (e) {
      return { output: url, action: false, buttons: [] };
    }
  }
  // Something failed (``key``: what, so that its later success clears it): the lines are the reason (the server's
  // {"error", "reference"}, or none when it did not answer) then ``meaning``.
  function report(key, reason, meaning) {
    failures[key] = true;
    var words = texts();
    var reference = reason && reason.reference && words.reference
      ? words.reference.replace("{reference}", reason.reference) : "";
    show([reason && reason.error ? reason.error : words.offline, meaning, reference]);
  }
  function clear(key) {
    if (!failures[key]) { return; }
    delete failures[key];
    if (Object.keys(failures).length === 0) { notice().hidden = true; }
  }
  // The reason a failed response gives: Pantau answers a data request's error with {"error", "reference"}; a proxy's
  // page has neither (then: none, as for no answer).
  function reasonOf(response) {
    return response.clone().json().then(function (body) { return body && body.error ? body : null; },
                                        function () { return null; });
  }
  // For the pages' own scripts (the ward station's alarm buttons).
  window.PantauNotice = { report: report, clear: clear, reasonOf: reasonOf };

  function failed(request, reason) {
    var words = texts();
    report(request.output, reason, request.action ? words.notSaved : words.notUpdated);
  }

  // A button whose callback is in flight shows that it is working and takes no second press until the answer (a
  // slow save pressed twice would be sent twice): counted, since one press can start several callbacks.
  function pressedButtons(changed) {
    var buttons = [];
    changed.forEach(function (prop) {
      if (!/\.n_clicks$/.test(prop)) { return; }
      var el = document.getElementById(prop.slice(0, -".n_clicks".length));
      if (el && (el.tagName === "BUTTON" || el.classList.contains("btn"))) { buttons.push(el); }
    });
    return buttons;
  }
  function busy(buttons, on) {
    buttons.forEach(function (el) {
      var count = (Number(el.dataset.pantauBusy) || 0) + (on ? 1 : -1);
      el.dataset.pantauBusy = String(Math.max(count, 0));
      el.classList.toggle("pantau-busy", count > 0);
      if (count > 0) { el.setAttribute("aria-busy", "true"); } else { el.removeAttribute("aria-busy"); }
    });
  }

  var originalFetch = window.fetch;
  window.fetch = function (resource, init) {
    var url = String(resource && resource.url ? resource.url : resource);
    if (url.indexOf("/_dash-") === -1) { return originalFetch.apply(this, arguments); }
    var request = describe(url, init || {}), buttons = request.buttons;
    busy(buttons, true);
    return originalFetch.apply(this, arguments).then(function (response) {
      busy(buttons, false);
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      } else if (response.ok) {
        clear(request.output);
      } else {
        reasonOf(response).then(function (reason) { failed(request, reason); });
      }
      return response;
    }, function (error) {
      busy(buttons, false);
      failed(request, null);
      throw error;
    });
  };
})();
