/* Queue TV board (/papan/<board>): filled from the server-sent-events stream /stream/queue/<board>, reconnected by
   live_stream.js after any failure; "not live" shows after OFFLINE_AFTER_MS without any event (not even a heartbeat).
   Once the stream reports its session ended (a revoked TV: live_stream.js "signed-out") the board is emptied and
   says so in the same banner until it is signed in again.
   "snapshot" = the whole board (on connect), "update" = the parts that changed, "announce" = a call to say aloud
   (window.PantauVoice, assets/queue_voice.js). Inert on every other page (Dash loads all assets everywhere). */
(function () {
  "use strict";

  var FLASH_MS = 3200;          // the new number blinks three times
  var OFFLINE_AFTER_MS = 10000; // no event, not even a heartbeat, for this long: the board says it is not live
  var DOCTOR_PAGE_MS = 10000;   // more doctors than fit page through, this long each
  var WAITING_ONE_COLUMN = 5;   // more service points than this: two columns
  var board = null;

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function byId(id) { return document.getElementById(id); }

  function attach(root) {
    var b = {
      root: root, name: root.getAttribute("data-board"), text: JSON.parse(root.getAttribute("data-text") || "{}"),
      data: null, lastId: "", lastCall: null, doctorPage: 0, doctorPages: 1, doctorTurned: Date.now(),
      flashTimer: null, runningText: null
    };
    // Reconnects with backoff after any failure (live_stream.js); a new stream names the last call this board
    // showed, as EventSource's own reconnect does with Last-Event-ID: calls made meanwhile are still said.
    b.stream = window.PantauLiveStream.open({
      url: function () { return "/stream/queue/" + encodeURIComponent(b.name) + (b.lastId ? "?last=" + b.lastId : ""); },
      events: {
        snapshot: function (e) {
          b.data = JSON.parse(e.data);
          b.lastId = e.lastEventId;
          render(b);
        },
        update: function (e) {
          if (!b.data) { return; }
          b.lastId = e.lastEventId;
          var changed = JSON.parse(e.data);
          Object.keys(changed).forEach(function (key) { b.data[key] = changed[key]; });
          render(b);
        },
        announce: function (e) {
          var call = JSON.parse(e.data);
          if (window.PantauVoice) { window.PantauVoice.announce({ text: call.text, clips: call.clips }); }
        }
      }
    });
    return b;
  }

  function detach(b) {
    window.clearTimeout(b.flashTimer);
    b.stream.close();
  }

  function render(b) {
    var d = b.data;
    renderNow(b, (d.calls || [])[0]);
    renderList(byId("board-recent"), (d.calls || []).slice(1, 6), function (call) {
      var row = make("li", "board-row");
      row.appendChild(make("span", "board-recent-number", call.label));
      row.appendChild(make("span", "board-recent-destination", call.destination));
      row.appendChild(make("span", "board-recent-name", call.name));
      return row;
    });
    var waiting = byId("board-waiting");
    waiting.classList.toggle("board-two-columns", (d.waiting || []).length > WAITING_ONE_COLUMN);
    renderList(waiting, d.waiting || [], function (line) {
      var row = make("li", "board-row");
      row.appendChild(make("span", "board-waiting-name", line.name));
      row.appendChild(make("span", "board-waiting-count", String(line.count)));
      return row;
    });
    renderDoctors(b);
    renderRunningText(b, d.running_text || b.text.board_running_default);
  }

  function renderNow(b, call) {
    var key = call ? call.label + "@" + call.at : "";
    byId("board-now-number").textContent = call ? call.label : "—";
    byId("board-now-destination").textContent = call ? call.destination : b.text.board_no_calls;
    byId("board-now-name").textContent = call ? call.name : "";
    byId("board-now").classList.toggle("board-idle", !call);
    if (b.lastCall !== null && call && key !== b.lastCall) { flash(b); }
    b.lastCall = key;
  }

  function flash(b) {
    var panel = byId("board-now");
    panel.classList.remove("board-flash");
    void panel.offsetWidth; // restart the animation when calls follow each other closely
    panel.classList.add("board-flash");
    window.clearTimeout(b.flashTimer);
    b.flashTimer = window.setTimeout(function () { panel.classList.remove("board-flash"); }, FLASH_MS);
  }

  function renderList(list, items, row, empty) {
    if (!list) { return; }
    list.textContent = "";
    items.forEach(function (item) { list.appendChild(row(item)); });
    if (!items.length && empty) { list.appendChild(make("li", "board-row board-empty", empty)); }
  }

  function doctorRow(b) {
    return function (doc) {
      var row = make("li", "board-row board-doctor");
      var who = make("span", "board-doctor-who");
      who.appendChild(make("span", "board-doctor-name", doc.doctor));
      who.appendChild(make("span", "board-doctor-where", doc.poli + " · " + doc.hours + (doc.reason ? " · " + doc.reason : "")));
      row.appendChild(who);
      row.appendChild(make("span", "board-status board-status-" + doc.status, b.text["board_status_" + doc.status] || doc.status));
      return row;
    };
  }

  function showDoctorPage(text) {
    var page = byId("board-doctors-page");
    if (page) { page.textContent = text; }
  }

  /* As many doctors as the panel holds; the rest on further pages, turned by everySecond. */
  function renderDoctors(b) {
    var list = byId("board-doctors");
    if (!list) { return; }
    var all = b.data.doctors || [];
    renderList(list, all, doctorRow(b), b.text.board_no_doctors);
    var fit = 0;
    Array.prototype.forEach.call(list.children, function (row) {
      if (row.offsetTop + row.offsetHeight <= list.clientHeight) { fit += 1; }
    });
    var per = Math.max(1, fit);
    b.doctorPages = Math.ceil(all.length / per) || 1;
    b.doctorPage = b.doctorPage % b.doctorPages;
    if (b.doctorPages > 1) { renderList(list, all.slice(b.doctorPage * per, (b.doctorPage + 1) * per), doctorRow(b)); }
    showDoctorPage(b.doctorPages > 1 ? (b.doctorPage + 1) + "/" + b.doctorPages : "");
  }

  function renderRunningText(b, text) {
    if (text === b.runningText) { return; } // leave the marquee running
    b.runningText = text;
    var span = byId("board-running-text");
    span.textContent = text;
    span.style.setProperty("--board-marquee-seconds", Math.max(15, Math.round(text.length * 0.22)) + "s");
  }

  /* Signed out: no name, number or doctor may stay on a screen nobody is signed in to. */
  function blank(b) {
    b.data = null;
    ["board-recent", "board-waiting", "board-doctors"].forEach(function (id) { renderList(byId(id), []); });
    showDoctorPage("");
    renderNow(b, null);
    byId("board-now-destination").textContent = "";  // not "no calls yet": the board does not know
    b.lastCall = null;  // the first call shown after signing in again does not flash as new
  }

  function everySecond(b) {
    var signedOut = b.stream.state === "signed-out";
    if (signedOut && b.data) { blank(b); }
    b.root.classList.toggle("board-signed-out", signedOut);
    b.root.classList.toggle("board-offline", signedOut || Date.now() - b.stream.lastEventAt > OFFLINE_AFTER_MS);
    var banner = byId("board-offline");
    var say = signedOut ? b.text.sess_board_signed_out : b.text.board_connection_lost;
    if (banner && say && banner.textContent !== say) { banner.textContent = say; }
    var button = byId("board-sound");
    if (button) { button.hidden = !window.PantauVoice || window.PantauVoice.enabled(); }
    if (b.data && b.doctorPages > 1 && Date.now() - b.doctorTurned >= DOCTOR_PAGE_MS) {
      b.doctorPage += 1;
      b.doctorTurned = Date.now();
      renderDoctors(b);
    }
  }

  document.addEventListener("click", function (event) {
    if (!board || !event.target.closest("#board-sound") || !window.PantauVoice) { return; }
    window.PantauVoice.enable().then(function () { everySecond(board); });
  });

  // Dash renders pages in the browser: attach to the board when it appears, detach when the page changes.
  window.setInterval(function () {
    var root = byId("queue-board");
    if (board && board.root !== root) { detach(board); board = null; }
    if (!board && root && window.PantauLiveStream) { board = attach(root); everySecond(board); }
  }, 250);
  window.setInterval(function () { if (board) { everySecond(board); } }, 1000);
  window.pantauBoard = function () { return board; }; // for tests and the benchmark
})();
