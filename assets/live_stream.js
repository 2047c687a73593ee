/* One reconnecting server-sent-events client for every live screen: the ward station and the bed page (ward.js)
   and the queue TV boards (board.js). EventSource retries by itself only after a network error and gives up for
   good after any non-200 answer (a web restart's 502, a Redis hiccup's 503, the 401 of an ended session), so this
   client closes the source on ANY error and opens a new one after an exponential backoff with jitter (about 1 s,
   doubling, at most 5 s, so a screen is live again within seconds of its server coming back); every new connection starts with the server's fresh snapshot. After an error it asks
   /stream/session whether the session has ended: on 401 it stops retrying and reports "signed-out" (checking again
   now and then, so signing in elsewhere brings the screen back). The server also ends a stream at once when its
   session ends (a sign-out, a password change, a revoked TV: api/sse.py), so that check follows within seconds.
   On 429 (this account or address holds too many open streams) it reports "refused", shows the server's message
   and tries again only after REFUSED_RETRY_MS, never in a tight loop. The servers send a heartbeat event in quiet
   spells (api/sse.py), so a connection that stays silent for SILENT_MS is dead, even if no error says so.
   Every KEEP_SESSION_MS it asks the web app for KEEP_SESSION_URL, which writes the session cookie anew: the stream
   server only reads it, and a TV board that asks the web app nothing else would be signed out when its cookie
   passed its one-day lifetime (api/live.py keep_session).

   PantauLiveStream.open({url, events: {name: fn(event)}, onMessage: fn(event), onState: fn(client)}) returns the
   client: {state, attempt, retryAt, lastEventAt (the last event received), downSince (null while events arrive),
   message (the server's words for "signed-out" and "refused"), close()}; state is "connecting", "open",
   "checking" (asking /stream/session), "waiting" (a reconnect is scheduled at retryAt), "refused" or
   "signed-out". */
(function () {
  "use strict";

  var FIRST_RETRY_MS = 1000;
  var MAX_RETRY_MS = 5000;
  var SILENT_MS = 15000;          // ten missed heartbeats (api/sse.py sends one every 1.5 s)
  var SIGNED_OUT_CHECK_MS = 10000;
  var REFUSED_RETRY_MS = 30000;   // api/sse.py REFUSED_RETRY_SECONDS
  var SESSION_URL = "/stream/session";
  var KEEP_SESSION_URL = "/akun/sesi";
  var KEEP_SESSION_MS = 30 * 60 * 1000;
  var NOTICE_ID = "live-stream-notice";

  /* /stream/session as {status, message}: 200 signed in, 401 signed out, 429 too many streams (message: the
     server's JSON "error"), status 0 when the server does not answer. */
  function sessionStatus() {
    return window.fetch(SESSION_URL, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { return { status: r.status, message: body.error || "" }; },
                             function () { return { status: r.status, message: "" }; });
      }, function () { return { status: 0, message: "" }; });
  }

  /* The refusal, on whatever screen holds the stream (the ward station, a bed page, a TV board); null hides it. */
  function showNotice(text) {
    var el = document.getElementById(NOTICE_ID);
    if (!text) { if (el) { el.remove(); } return; }
    if (!el) {
      el = document.createElement("div");
      el.id = NOTICE_ID;
      el.className = "alert alert-warning shadow position-fixed bottom-0 start-50 translate-middle-x mb-3";
      el.style.zIndex = 2000;
      el.setAttribute("role", "alert");
      document.body.appendChild(el);
    }
    el.textContent = text;
  }

  function open(options) {
    var c = { state: "connecting", attempt: 0, retryAt: null, lastEventAt: Date.now(), startedAt: Date.now(),
              downSince: Date.now(), source: null, timer: null, watch: null, keep: null, closed: false, message: "" };

    function notify() {
      showNotice(c.state === "refused" ? c.message : null);
      if (options.onState) { options.onState(c); }
    }

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
      sessionStatus().then(function (answer) {
        if (c.closed) { return; }
        c.message = answer.message;
        if (answer.status === 401 || answer.status === 403) {
          signedOut();
        } else if (answer.status === 429) {
          refused();
        } else {
          schedule();
        }
      });
    }

    function refused() {
      c.state = "refused";
      c.retryAt = Date.now() + REFUSED_RETRY_MS;
      notify();
      c.timer = window.setTimeout(connect, REFUSED_RETRY_MS);
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
        sessionStatus().then(function (answer) {
          if (c.closed) { return; }
          if (answer.status === 200) { connect(); } else if (answer.status === 429) { refused(); } else { signedOut(); }
        });
      }, SIGNED_OUT_CHECK_MS);
    }

    c.watch = window.setInterval(function () {
      var silent = Date.now() - Math.max(c.lastEventAt, c.startedAt) > SILENT_MS;
      if (silent && (c.state === "open" || c.state === "connecting")) { failed(); }
    }, 1000);
    // A failed renewal changes nothing: the stream's own checks say when the session has really ended.
    c.keep = window.setInterval(function () {
      window.fetch(KEEP_SESSION_URL, { credentials: "same-origin", cache: "no-store",
                                       headers: { Accept: "application/json" } }).catch(function () {});
    }, KEEP_SESSION_MS);
    c.close = function () {
      c.closed = true;
      drop();
      window.clearInterval(c.watch);
      window.clearInterval(c.keep);
      showNotice(null);
    };
    connect();
    return c;
  }

  window.PantauLiveStream = { open: open };
})();
