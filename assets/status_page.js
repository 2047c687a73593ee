/* The patient's status page (/antrean/status/…): its facts are fetched again every few seconds and swapped in place
   (no page reload, so a screen reader keeps its place and a new state is announced once); the patient can pause it
   (WCAG 2.2.2), and a failed update says so instead of leaving old facts that look current. Dash loads this file on
   every page too; without the status page it does nothing. */
(function () {
  "use strict";

  function stateText(root) {
    var parts = [];
    ["#status-state", "#status-call"].forEach(function (selector) {
      var element = root.querySelector(selector);
      if (element) { parts.push(element.textContent.trim()); }
    });
    return parts.join(" ");
  }

  function init() {
    var live = document.getElementById("status-live");
    if (!live) { return; }
    var seconds = Number(live.getAttribute("data-refresh")) || 30;
    var toggle = document.getElementById("status-refresh-toggle");
    var note = document.getElementById("status-refresh-note");
    var pausedNote = document.getElementById("status-refresh-paused");
    var failed = document.getElementById("status-refresh-failed");
    var announce = document.getElementById("status-announce");
    var timer = null;
    var paused = false;
    var busy = false;

    function schedule() { timer = window.setTimeout(update, seconds * 1000); }

    function update() {
      timer = null;
      busy = true;
      window.fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("status-live");
          if (!fresh) { throw new Error("no status in the answer"); }
          var before = stateText(live);
          live.innerHTML = fresh.innerHTML;
          var after = stateText(live);
          if (after !== before) { announce.textContent = after; }
          failed.hidden = true;
        })
        .catch(function () { failed.hidden = false; })
        .then(function () {
          busy = false;
          if (!paused) { schedule(); }
        });
    }

    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = toggle.getAttribute(paused ? "data-resume" : "data-pause");
      note.hidden = paused;
      pausedNote.hidden = !paused;
      if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
      if (!paused && !busy) { update(); }  // resumed: bring the facts up to date now
    });
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
