/* One reconnecting server-sent-events client for every live screen: the ward station and the bed page (ward.js)
   and the queue TV boards (board.js). EventSource retries by itself only after a network error and gives up for
   good after any non-200 answer (a web restart's 502, a Redis hiccup's 503, the 401 of an ended session), so this
   client closes the source on ANY error and opens a new one after an exponential backoff with jitter (about 1 s,
   doubling, at most 5 s, so a screen is live again within seconds of its server coming back); every new connection starts with the server's fresh snapshot. After an error it asks
   /stream/session whether the session has ended: on 401 it stops retrying and reports "signed-out" (checking again
   now and then, so signing in elsewhere brings the screen back). The servers send a heartbeat event in quiet
   spells (api/sse.py), so a connection that stays silent for SILENT_MS is dead, even if no error says so.

   PantauLiveStream.open({url, events: {name: fn(event)}, onMessage: fn(event), onState: fn(client)}) returns the
   client: {state, attempt, retryAt, lastEventAt (the last event received), downSince (null while events arrive),
   close()}; state is "connecting", "open", "checking" (asking
   /stream/session), "waiting" (a reconnect is scheduled at retryAt) or "signed-out". */
(function () {
  "use strict";

  var FIRST_RETRY_MS = 1000;
  var MAX_RETRY_MS = 5000;
  var SILENT_MS = 15000;          // three missed heartbeats (api/sse.py sends one every 5 s)
  var SIGNED_OUT_CHECK_MS = 10000;
  var SESSION_URL = "/stream/session";

  /* The HTTP status of /stream/session: 200 signed in, 401 signed out, 0 when the server does not answer. */
  function sessionStatus() {
    return window.fetch(SESSION_URL, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { return r.status; }, function () { return 0; });
  }

  function open(options) {
    var c = { state: "connecting", attempt: 0, retryAt: null, lastEventAt: Date.now(), startedAt: Date.now(),
              downSince: Date.now(), source: null, timer: null, watch: null, closed: false };

    function notify() { if (options.onState) { options.onState(c); } }

    function alive() {
      c.lastEventAt = Date.now();
      c.attempt = 0;  // the server is answering: the next failure starts again from the shortest wait
      c.downSince = null;
      if (c.state !== "open") { c.state = "open"; notify(); }
    }

    function drop() {
      if (c.source) { c.source.close(); c.source = null; }
      window.clearTimeout(c.timer);
      c.timer = null;
    }

    function connect() {
      drop();
      c.state = "connecting";
      c.retryAt = null;
      c.startedAt = Date.now();  // a connection that hangs without answering counts as silent from now
      notify();
      var source = new EventSource(typeof options.url === "function" ? options.url() : options.url);
      c.source = source;
      Object.keys(options.events || {}).forEach(function (name) {
        source.addEventListener(name, function (e) { if (c.source === source) { alive(); options.events[name](e); } });
      });
      source.addEventListener("heartbeat", function () { if (c.source === source) { alive(); } });
      source.onmessage = function (e) {
        if (c.source !== source) { return; }
        alive();
        if (options.onMessage) { options.onMessage(e); }
      };
      source.onerror = function () { if (c.source === source) { failed(); } };
    }

    function failed() {
      drop();
      if (c.downSince === null) { c.downSince = Date.now(); }
      c.state = "checking";
      notify();
      sessionStatus().then(function (status) {
        if (c.closed) { return; }
        if (status === 401 || status === 403) { signedOut(); } else { schedule(); }
      });
    }

    function schedule() {
      var base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, c.attempt));
      var delay = base / 2 + Math.random() * base / 2;  // jitter: screens cut off together do not return together
      c.attempt += 1;
      c.state = "waiting";
      c.retryAt = Date.now() + delay;
      notify();
      c.timer = window.setTimeout(connect, delay);
    }

    function signedOut() {
      c.state = "signed-out";
      c.retryAt = null;
      notify();
      c.timer = window.setTimeout(function () {
        sessionStatus().then(function (status) {
          if (c.closed) { return; }
          if (status === 200) { connect(); } else { signedOut(); }
        });
      }, SIGNED_OUT_CHECK_MS);
    }

    c.watch = window.setInterval(function () {
      var silent = Date.now() - Math.max(c.lastEventAt, c.startedAt) > SILENT_MS;
      if (silent && (c.state === "open" || c.state === "connecting")) { failed(); }
    }, 1000);
    c.close = function () {
      c.closed = true;
      drop();
      window.clearInterval(c.watch);
    };
    connect();
    return c;
  }

  window.PantauLiveStream = { open: open };
})();
