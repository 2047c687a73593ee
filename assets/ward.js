/* Ward central station (and the bed page's one tile): live tiles fed by the server-sent-events stream
   /stream/ward/<ward> through the reconnecting client (live_stream.js); every message is a few hundred bytes for one
   bed, applied to that bed's tile only. A watchdog raises the technical alarm "monitoring interrupted" when no vital
   signs have arrived for INTERRUPTED_MS, whatever the cause, and a session that has ended blanks the screen under
   "signed out" (sound and overlays: ward_alerts.js). */
(function () {
  "use strict";

  var PRIORITY = { high: 0, medium: 1, low: 2 };
  var SPARK_MS = 120000;        // sparkline window: the last 2 minutes of heart rate
  var STALE_MS = 3000;          // ~3x the 1 s interval: grey the tile, show the data's age
  var INTERRUPTED_MS = 10000;   // no vital signs this long: the technical alarm covers the screen
  var DOWN_MS = 3000;           // a reconnect shorter than this (the stream's periodic end) is not shown
  var TECHNICAL_EVERY_MS = 3000;
  var station = null;
  var alerts = function () { return window.PantauWardAlerts; };

  function q(tile, cls) { return tile.querySelector(cls); }

  function makeStation(grid) {
    var st = {
      ward: grid.getAttribute("data-ward"), grid: grid, text: JSON.parse(grid.getAttribute("data-text") || "{}"),
      beds: {}, alarms: {}, pauses: {}, offset: 0, lastBeep: 0, tz: undefined, canAct: false,
      lastVitalsAt: Date.now(), stream: null
    };
    grid.querySelectorAll(".bed-tile").forEach(function (tile) {
      st.beds[tile.getAttribute("data-bed")] = {
        tile: tile, latest: {}, series: [], seenAt: 0, since: stayStart(tile), carried: carriedCuff(tile),
        monitored: !tile.classList.contains("bed-empty") && !!tile.getAttribute("data-device"),
        el: { hr: q(tile, ".v-hr"), spo2: q(tile, ".v-spo2"), rr: q(tile, ".v-rr"), temp: q(tile, ".v-temp"),
              nibp: q(tile, ".v-nibp"), nibpAge: q(tile, ".v-nibp-age"), news2: q(tile, ".tile-news2"), qsofa: q(tile, ".tile-qsofa"),
              alarm: q(tile, ".tile-alarm"), stale: q(tile, ".tile-stale-text"), spark: q(tile, ".tile-spark"),
              pauseLeft: q(tile, ".tile-pause-left"), limits: q(tile, ".tile-limits"),
              scale: q(tile, ".tile-spo2-scale") }
      };
    });
    st.stream = window.PantauLiveStream.open({
      url: "/stream/ward/" + encodeURIComponent(st.ward),
      events: { snapshot: function (e) { onSnapshot(st, JSON.parse(e.data)); } },
      onMessage: function (e) { onMessage(st, JSON.parse(e.data)); },
      onState: function () { if (st.stream) { everySecond(st); } }  // not yet during open() itself
    });
    renderSoundButton(st);
    return st;
  }

  function now(st) { return Date.now() + st.offset; }

  /* Not receiving: the stream has been away for longer than a routine reconnect. */
  function streamDown(st) {
    return st.stream.downSince !== null && Date.now() - st.stream.downSince > DOWN_MS;
  }

  function renderConnection(st) {
    var el = document.getElementById("ward-connection");
    if (!el) { return; }
    var c = st.stream, text = "";
    if (c.state === "waiting") {
      text = st.text.ward_connection_lost.replace("{n}", Math.max(1, Math.ceil((c.retryAt - Date.now()) / 1000)));
    } else if (c.state !== "signed-out" && streamDown(st)) {
      text = st.text.ward_connecting;
    }
    el.textContent = text;
    el.className = text ? "small text-warning" : "small";
  }

  function onSnapshot(st, data) {
    st.offset = data.now - Date.now();
    st.alarms = data.alarms || {};
    st.pauses = data.pauses || {};
    st.tz = data.tz;
    st.canAct = !!data.can_act;
    var custom = data.custom_limits || [], scale2 = data.spo2_scale_2 || [], tiles = data.tiles || {};
    Object.keys(st.beds).forEach(function (code) {
      var bed = st.beds[code];
      // A tile drawn with another patient or monitor than the server has now (a "b" message lost while the stream
      // was away, or never sent): the station reloads, as that message would have made it.
      if (tiles[code] !== undefined && tiles[code] !== bed.tile.getAttribute("data-tile")) {
        reloadForAdmission(st);
      }
      bed.latest = (data.beds || {})[code] || {};
      bed.series = ((data.series || {})[code] || []).map(function (p) { return [p[0], p[1]]; });
      bed.seenAt = Number(bed.latest.rx || 0) - st.offset;  // when its newest sample arrived, on this clock
      st.lastVitalsAt = Math.max(st.lastVitalsAt, bed.seenAt);
      setLimitsMarker(bed, custom.indexOf(code) >= 0);
      setScaleMarker(bed, scale2.indexOf(code) >= 0);
      render(st, code);
    });
    renderAlarms(st);
  }

  function setLimitsMarker(bed, custom) {
    bed.tile.classList.toggle("limits-custom", custom);
    if (bed.el.limits) { bed.el.limits.classList.toggle("d-none", !custom); }
  }

  // The patient's NEWS2 is scored on SpO2 Scale 2 (target 88–92 %), a doctor's choice on the bed page.
  function setScaleMarker(bed, scale2) {
    if (bed.el.scale) { bed.el.scale.classList.toggle("d-none", !scale2); }
  }

  // A bed's samples go by its monitor's pairing with the bed, then by sample time: a monitor paired later is newer
  // whatever its clock says (it may be behind the previous monitor's).
  function notOlder(pairing, ts, keptPairing, keptTs) {
    var p = Number(pairing || 0), q = Number(keptPairing || 0);
    return p !== q ? p > q : Number(ts) >= Number(keptTs || 0);
  }

  function onMessage(st, m) {
    var bed = st.beds[m.bed];
    if (!bed) { return; }
    if (m.t === "v") {
      var keep = bed.latest;
      var next = { online: keep.online, battery: keep.battery, news2: keep.news2, news2_complete: keep.news2_complete, qsofa: keep.qsofa,
                   news2_risk: keep.news2_risk, sbp: keep.sbp, dbp: keep.dbp, map: keep.map, nibp_ts: keep.nibp_ts,
                   nibp_pairing: keep.nibp_pairing };
      // With several consumers a tick may also be older than the values shown: its vital signs are not put back.
      var current = notOlder(m.p, m.ts, keep.pairing, keep.ts);
      if (current) {
        ["ts", "rx", "hr", "spo2", "rr", "temp"].forEach(function (k) {
          if (m[k] !== undefined && m[k] !== null) { next[k] = String(m[k]); }
        });
        next.pairing = m.p === undefined || m.p === null ? undefined : String(m.p);
        var stat = m.st || {};
        next.st_ecg = stat.ecg; next.st_spo2 = stat.spo2;
      } else {
        ["pairing", "ts", "rx", "hr", "spo2", "rr", "temp", "st_ecg", "st_spo2"].forEach(function (k) { next[k] = keep[k]; });
      }
      // A tick carries its consumer's newest cuff reading. With several consumers one may still carry an older
      // reading than the screen shows: only a newer one replaces it, and whole (a part the cuff missed is gone).
      if (m.nibp_ts !== undefined && m.nibp_ts !== null && notOlder(m.nibp_pairing, m.nibp_ts, keep.nibp_pairing, keep.nibp_ts)) {
        ["sbp", "dbp", "map", "nibp_pairing", "nibp_ts"].forEach(function (k) {
          next[k] = m[k] === undefined || m[k] === null ? undefined : String(m[k]);
        });
      }
      if (m.news2 !== undefined) { next.news2 = m.news2 === null ? "" : String(m.news2); next.news2_risk = m.risk || ""; next.news2_complete = m.complete ? "1" : "0"; }
      bed.latest = next;
      bed.seenAt = st.lastVitalsAt = Date.now();
      if (current && m.hr !== undefined && m.hr !== null) { bed.series.push([Number(m.rx || m.ts), Number(m.hr)]); }
      render(st, m.bed);
    } else if (m.t === "n") {
      bed.latest.qsofa = m.qsofa === true ? "1" : m.qsofa === false ? "0" : "";
      bed.latest.news2 = m.news2 === null ? "" : String(m.news2);
      bed.latest.news2_risk = m.risk || "";
      bed.latest.news2_complete = m.complete ? "1" : "0";
      render(st, m.bed);
    } else if (m.t === "a") {
      st.alarms[m.bed] = m.alarms || [];
      render(st, m.bed);
      renderAlarms(st);
    } else if (m.t === "s") {
      bed.latest.online = m.online ? "1" : "0";
      if (m.battery !== undefined) { bed.latest.battery = String(m.battery); }
      render(st, m.bed);
    } else if (m.t === "p") {
      st.pauses[m.bed] = m.until;
      render(st, m.bed);
    } else if (m.t === "l") {
      setLimitsMarker(bed, !!m.custom);
    } else if (m.t === "sc") {
      setScaleMarker(bed, !!m.scale2);
    } else if (m.t === "b") {
      if (m.stay !== undefined && m.stay === bed.tile.getAttribute("data-stay")) { remark(st, bed, m); } else { reloadForAdmission(st); }
    }
  }

  // The same stay, only its monitor or the bed's state changed (data.adt_notify): the tile is re-marked in place, so
  // an observation half typed on a bed page stays. A monitor just paired gets the grace a newly drawn page gives it.
  function remark(st, bed, m) {
    var was = bed.monitored, t = Date.now();
    bed.tile.setAttribute("data-tile", m.tile);
    bed.tile.setAttribute("data-device", m.device || "");
    bed.monitored = !bed.tile.classList.contains("bed-empty") && !!m.device;
    if (bed.monitored && !was) {
      var others = Object.keys(st.beds).some(function (code) { return st.beds[code] !== bed && st.beds[code].monitored; });
      bed.seenAt = t;
      if (!others) { st.lastVitalsAt = t; }
    }
  }

  // A bed's patient changed (admitted, transferred, discharged, her record corrected), or a message without the
  // tile's state: the tiles' headers come from the server, so the station reloads once, after a short pause that
  // gathers the beds of one transfer.
  function reloadForAdmission(st) {
    if (st.reloadPending) { return; }
    st.reloadPending = true;
    window.setTimeout(function () { window.location.reload(); }, 1500);
  }

  function stayStart(tile) {
    var since = tile.getAttribute("data-since");
    return since ? Number(since) : null;
  }

  // The cuff reading the patient brought from the bed she was transferred from ({sbp, dbp, map, at}; or null).
  function carriedCuff(tile) {
    var cuff = tile.getAttribute("data-cuff");
    return cuff ? JSON.parse(cuff) : null;
  }

  // When the cuff measured, on the server's clock: a monitor's clock may be minutes off (the contract takes up to 5),
  // so a reading of the monitor that sent the newest sample is moved by that sample's receipt minus its own time.
  // Otherwise a monitor running ahead would show a reading minutes old as just taken.
  function cuffAt(v) {
    var at = Number(v.nibp_ts);
    var sameMonitor = Number(v.nibp_pairing || 0) === Number(v.pairing || 0);
    return sameMonitor && v.rx && v.ts ? at + Number(v.rx) - Number(v.ts) : at;
  }

  // The patient's newest cuff reading ({sbp, dbp, map, at}, `at` on the server's clock): the bed's own, or the one
  // she brought from the bed she left, whichever is newer. A reading taken on this bed before her stay began is the
  // previous occupant's: it is never shown on her tile (its monitor and the consumers still hold it until the cuff
  // measures again), nor on an empty bed.
  function ownCuff(bed) {
    var v = bed.latest;
    var here = bed.since !== null && v.nibp_ts ? { sbp: v.sbp, dbp: v.dbp, map: v.map, at: cuffAt(v) } : null;
    if (here && here.at < bed.since) { here = null; }
    return bed.carried && (!here || bed.carried.at > here.at) ? bed.carried : here || {};
  }

  function show(el, value, off) {
    el.textContent = off || value === undefined || value === "" ? "---" : value;
    el.classList.toggle("v-off", !!off || value === undefined || value === "");
  }

  function ageText(st, ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return s < 120 ? st.text.ago_s.replace("{n}", s) : st.text.ago_min.replace("{n}", Math.round(s / 60));
  }

  // A tile's values are its patient's: those received since her stay began. An empty bed shows only values still
  // arriving (a monitor left on), so neither a new patient's tile nor a bed just left shows the last patient's.
  function isOwn(st, bed) {
    var rx = Number(bed.latest.rx || 0);
    return bed.since !== null ? rx >= bed.since : rx > 0 && now(st) - rx <= STALE_MS;
  }

  function render(st, code) {
    var bed = st.beds[code], el = bed.el;
    bed.shown = isOwn(st, bed);
    var v = bed.shown ? bed.latest : {};
    show(el.hr, v.hr, v.st_ecg === "off");
    show(el.spo2, v.spo2, v.st_spo2 === "off");
    show(el.rr, v.rr);
    show(el.temp, v.temp === undefined || v.temp === "" ? undefined : Number(v.temp).toFixed(1));
    var cuff = ownCuff(bed);
    show(el.nibp, cuff.sbp ? cuff.sbp + "/" + (cuff.dbp || "--") + (cuff.map ? " (" + cuff.map + ")" : "") : undefined);
    el.hr.classList.toggle("v-noisy", v.st_ecg === "noisy");
    el.spo2.classList.toggle("v-noisy", v.st_spo2 === "noisy");
    var risk = v.news2_risk || "";
    if (risk === "not_applicable") {  // a patient under 16: NEWS2 does not score them
      el.news2.textContent = st.text.news2_not_applicable;
      el.news2.title = st.text.news2_not_applicable_why;
    } else {
      el.news2.textContent = v.news2 === undefined || v.news2 === "" ? "" : "NEWS2 " + v.news2 + (v.news2_complete === "0" ? "*" : "");
      el.news2.title = v.news2_complete === "0" ? st.text.ward_news2_incomplete : "NEWS2";
    }
    el.news2.className = "tile-news2 badge news2-" + (risk || (v.news2_complete === "0" ? "incomplete" : "none"));
    el.qsofa.textContent = v.qsofa === "1" ? "qSOFA ≥ 2" : "";
    el.qsofa.className = "tile-qsofa badge" + (v.qsofa === "1" ? " bg-danger" : " d-none");
    var alarms = st.alarms[code] || [];
    var top = alarms[0];
    el.alarm.textContent = top ? alarmText(st, top) : "";
    el.alarm.className = "tile-alarm" + (top ? " alarm-" + top.priority + (top.acked ? " alarm-acked" : "") : "");
    bed.tile.classList.toggle("has-alarm", !!top);
    drawSpark(st, bed);
    tickBed(st, code);
  }

  function alarmText(st, a) {
    var label = (st.text.alarms || {})[a.condition] || a.message || a.condition;
    var measured = a.kind === "physiological" && a.value !== null && a.value !== undefined;
    return measured ? label + " " + a.value : label;  // a technical alarm's value (seconds silent) means nothing here
  }

  function drawSpark(st, bed) {
    var canvas = bed.el.spark;
    if (!canvas || !canvas.getContext) { return; }
    var cutoff = now(st) - SPARK_MS;
    while (bed.series.length && bed.series[0][0] < cutoff) { bed.series.shift(); }
    var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    var from = bed.since !== null ? bed.since : cutoff;  // the trend of this stay only
    var points = bed.shown ? bed.series.filter(function (p) { return p[0] >= from; }) : [];
    if (points.length < 2) { return; }
    var lo = 40, hi = 160;
    ctx.strokeStyle = window.getComputedStyle(bed.el.hr).color;  // the HR numeric's colour, set per theme by CSS
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach(function (p, i) {
      var x = (p[0] - cutoff) / SPARK_MS * w;
      var y = h - (Math.min(hi, Math.max(lo, p[1])) - lo) / (hi - lo) * h;
      if (i === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    });
    ctx.stroke();
  }

  function tickBed(st, code) {
    var bed = st.beds[code], t = now(st);
    if (isOwn(st, bed) !== bed.shown) { render(st, code); return; }  // an empty bed's monitor has gone quiet
    var rx = bed.shown ? Number(bed.latest.rx) : 0;
    var stale = !rx || t - rx > STALE_MS;
    var empty = bed.tile.classList.contains("bed-empty");
    bed.tile.classList.toggle("stale", stale && !empty);
    bed.el.stale.textContent = empty ? "" : !rx ? st.text.ward_no_data : stale ? st.text.ward_stale + " · " + ageText(st, t - rx) : "";
    var cuff = ownCuff(bed);
    bed.el.nibpAge.textContent = cuff.at ? ageText(st, t - cuff.at) : "";
    var until = st.pauses[code] || 0;
    bed.el.pauseLeft.textContent = until > t ? st.text.ward_paused + " " + Math.ceil((until - t) / 1000) + " s" : "";
    bed.tile.classList.toggle("paused", until > t);
  }

  function renderAlarms(st) {
    var list = document.getElementById("ward-alarm-list");
    if (!list) { return; }
    var all = [];
    Object.keys(st.alarms).forEach(function (code) {
      if (!st.beds[code]) { return; }  // a bed page lists only its own bed's alarms
      (st.alarms[code] || []).forEach(function (a) { all.push([code, a]); });
    });
    all.sort(function (x, y) {
      return (PRIORITY[x[1].priority] - PRIORITY[y[1].priority]) || (x[1].since - y[1].since);
    });
    list.textContent = "";
    if (st.unknown || !all.length) {  // with no data arriving, "no active alarms" would be a claim we cannot make
      var note = document.createElement("li");
      note.className = st.unknown ? "ward-alarms-unknown fw-semibold text-warning small" : "text-body-secondary small";
      note.textContent = st.unknown ? st.text.ward_alarms_unknown : st.text.ward_no_alarms;
      list.appendChild(note);
    }
    all.forEach(function (item) {
      var code = item[0], a = item[1];
      var li = document.createElement("li");
      li.className = "ward-alarm alarm-" + a.priority + (a.acked ? " alarm-acked" : "") + (st.unknown ? " alarm-unknown" : "");
      li.setAttribute("data-bed", code);
      li.setAttribute("data-condition", a.condition);
      var title = document.createElement("div");
      title.className = "fw-semibold";
      title.textContent = code + " · " + alarmText(st, a);
      li.appendChild(title);
      if (a.acked) {
        var by = document.createElement("small");
        by.className = "ward-ack-by";
        by.textContent = "✓ " + (a.ack_by || "");
        li.appendChild(by);
      } else if (st.canAct) {  // a display's station only watches (api/alarms.py refuses it too)
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "btn btn-sm btn-light ward-ack";
        btn.textContent = st.text.ward_ack;
        li.appendChild(btn);
      }
      list.appendChild(li);
    });
  }

  function audible(st) {
    var t = now(st), level = null;
    Object.keys(st.alarms).forEach(function (code) {
      if (!st.beds[code] || (st.pauses[code] || 0) > t) { return; }
      (st.alarms[code] || []).forEach(function (a) {
        if (a.acked) { return; }
        if (a.priority === "high") { level = "high"; } else if (a.priority === "medium" && level !== "high") { level = "medium"; }
      });
    });
    return level;
  }

  function siteTime(st, ms) {
    var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    try {
      return new Date(ms).toLocaleTimeString(document.documentElement.lang || undefined, Object.assign({ timeZone: st.tz }, options));
    } catch (e) {  // an unknown time zone name: the browser's own
      return new Date(ms).toLocaleTimeString(undefined, options);
    }
  }

  /* The technical alarm to show, if any: signed out, or no vital signs for INTERRUPTED_MS (any cause). */
  function technical(st) {
    var t = Date.now();
    if (st.stream.state === "signed-out") {
      return { kind: "signed-out", title: st.text.ward_signed_out_title, lines: [st.text.ward_signed_out_detail],
               signIn: st.text.ward_sign_in };
    }
    var monitored = Object.keys(st.beds).filter(function (code) { return st.beds[code].monitored; });
    var quiet = monitored.length ? t - st.lastVitalsAt : (st.stream.state === "open" ? 0 : t - st.stream.lastEventAt);
    if (quiet <= INTERRUPTED_MS) { return null; }
    var since = monitored.length ? st.lastVitalsAt : st.stream.lastEventAt;
    var affected = monitored.filter(function (code) { return t - st.beds[code].seenAt > INTERRUPTED_MS; });
    var lines = [st.text.ward_interrupted_detail.replace("{time}", siteTime(st, since)).replace("{ago}", ageText(st, t - since))];
    if (affected.length) { lines.push(st.text.ward_interrupted_beds.replace("{beds}", affected.join(", "))); }
    return { kind: "interrupted", title: st.text.ward_interrupted_title, lines: lines };
  }

  /* Signed out: nothing on screen may look like a live value. */
  function blank(st) {
    st.alarms = {};
    Object.keys(st.beds).forEach(function (code) {
      st.beds[code].latest = {};
      st.beds[code].series = [];
      render(st, code);
    });
  }

  function everySecond(st) {
    var view = technical(st), A = alerts();
    var signedOut = st.stream.state === "signed-out";
    if (signedOut && !st.blanked) { blank(st); }
    st.blanked = signedOut;  // the snapshot after signing in again fills the tiles
    Object.keys(st.beds).forEach(function (code) { tickBed(st, code); });
    var unknown = !!view || streamDown(st);
    if (unknown !== st.unknown) { st.unknown = unknown; renderAlarms(st); }
    st.technical = view ? view.kind : null;  // for tests and the fault bench
    st.grid.classList.toggle("monitoring-interrupted", !!view);
    A.showTechnical(st.text, view, st.grid);
    renderConnection(st);
    renderSoundButton(st);
    var t = Date.now(), level = view ? "technical" : audible(st);
    if (level === "technical" && t - st.lastBeep >= TECHNICAL_EVERY_MS) { A.play(A.TECHNICAL); st.lastBeep = t; }
    if (level === "high" && t - st.lastBeep >= 5000) { A.play(A.HIGH); st.lastBeep = t; }
    if (level === "medium" && t - st.lastBeep >= 10000) { A.play(A.MEDIUM); st.lastBeep = t; }
  }

  function renderSoundButton(st) {
    var button = document.getElementById("ward-sound"), A = alerts();
    if (!button) { return; }
    var on = A.soundOn(), blocked = A.blocked();
    button.querySelector("span").textContent = blocked ? st.text.ward_sound_enable : on ? st.text.ward_sound_on : st.text.ward_sound_off;
    button.classList.toggle("active", on && !blocked);
    button.classList.toggle("btn-warning", blocked);
    button.querySelector("i").className = "bi me-1 " + (on ? "bi-volume-up-fill" : "bi-volume-mute");
  }

  function post(url, body) {
    return window.fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  // An alarm action that fails is said so, with the reason (pantau.js's notice), and its button works again: a nurse
  // must never believe an alarm acknowledged or a bed's sound paused when it was not.
  function act(button, path, body, meaning) {
    var key = "ward:" + path, notice = window.PantauNotice;
    button.disabled = true;
    function failed(reason) {
      button.disabled = false;
      notice.report(key, reason, meaning);
    }
    post(path, body).then(function (response) {
      if (response.ok) { notice.clear(key); } else { notice.reasonOf(response).then(failed); }
    }, function () { failed(null); });
  }

  document.addEventListener("click", function (event) {
    if (!station) { return; }
    var ack = event.target.closest(".ward-ack");
    if (ack) {
      var item = ack.closest(".ward-alarm");
      act(ack, "/api/beds/" + encodeURIComponent(item.getAttribute("data-bed")) + "/alarms/ack",
          { condition: item.getAttribute("data-condition") }, station.text.ward_ack_failed);
      return;
    }
    var pause = event.target.closest(".tile-pause");
    if (pause) {
      act(pause, "/api/beds/" + encodeURIComponent(pause.closest(".bed-tile").getAttribute("data-bed")) +
          "/alarms/pause", { seconds: 120 }, station.text.ward_pause_failed);
      return;
    }
    if (event.target.closest("#ward-sound")) {
      var A = alerts();
      A.setSound(A.blocked() || !A.soundOn());  // a blocked sound is switched on by this click, not off
      renderSoundButton(station);
      return;
    }
    if (event.target.closest("#ward-kiosk")) {
      document.body.classList.toggle("kiosk");
      if (document.body.classList.contains("kiosk") && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () { return null; });
      } else if (document.fullscreenElement) {
        document.exitFullscreen();
      }
    }
  });

  // Dash renders pages in the browser: attach to the grid when it appears, detach when the page changes.
  window.setInterval(function () {
    var grid = document.getElementById("ward-grid");
    if (station && station.grid !== grid) {
      station.stream.close();
      alerts().showTechnical(station.text, null, station.grid);
      station = null;
    }
    if (!station && grid && window.PantauLiveStream && window.PantauWardAlerts) { station = makeStation(grid); }
  }, 250);
  window.setInterval(function () { if (station) { everySecond(station); } }, 1000);
  window.pantauWard = function () { return station; };  // for tests and the benchmark
})();
