/* Ward central station: live tiles fed by the server-sent-events stream (/stream/ward/<ward>).
   One EventSource per screen; every message is a few hundred bytes for one bed, applied to that bed's tile only. */
(function () {
  "use strict";

  var PRIORITY = { high: 0, medium: 1, low: 2 };
  var SPARK_MS = 120000;       // sparkline window: the last 2 minutes of heart rate
  var STALE_MS = 3000;         // ~3x the 1 s interval: grey the tile, show the data's age
  var SOUND_KEY = "pantau-ward-sound";
  var station = null;
  var audio = null;

  function q(tile, cls) { return tile.querySelector(cls); }

  function makeStation(grid) {
    var st = {
      ward: grid.getAttribute("data-ward"), grid: grid, text: JSON.parse(grid.getAttribute("data-text") || "{}"),
      beds: {}, alarms: {}, pauses: {}, offset: 0, lastBeep: 0,
      sound: window.localStorage.getItem(SOUND_KEY) === "on"
    };
    grid.querySelectorAll(".bed-tile").forEach(function (tile) {
      st.beds[tile.getAttribute("data-bed")] = {
        tile: tile, latest: {}, series: [],
        el: { hr: q(tile, ".v-hr"), spo2: q(tile, ".v-spo2"), rr: q(tile, ".v-rr"), temp: q(tile, ".v-temp"),
              nibp: q(tile, ".v-nibp"), nibpAge: q(tile, ".v-nibp-age"), news2: q(tile, ".tile-news2"), qsofa: q(tile, ".tile-qsofa"),
              alarm: q(tile, ".tile-alarm"), stale: q(tile, ".tile-stale-text"), spark: q(tile, ".tile-spark"),
              pauseLeft: q(tile, ".tile-pause-left") }
      };
    });
    st.source = new EventSource("/stream/ward/" + encodeURIComponent(st.ward));
    st.source.addEventListener("snapshot", function (e) { onSnapshot(st, JSON.parse(e.data)); });
    st.source.onmessage = function (e) { onMessage(st, JSON.parse(e.data)); };
    st.source.onopen = function () { setConnection(st, true); };
    st.source.onerror = function () { setConnection(st, false); };
    renderSoundButton(st);
    return st;
  }

  function now(st) { return Date.now() + st.offset; }

  function setConnection(st, ok) {
    var el = document.getElementById("ward-connection");
    if (!el) { return; }
    el.textContent = ok ? "" : st.text.ward_connection_lost;
    el.className = ok ? "small" : "small text-warning";
  }

  function onSnapshot(st, data) {
    st.offset = data.now - Date.now();
    st.alarms = data.alarms || {};
    st.pauses = data.pauses || {};
    Object.keys(st.beds).forEach(function (code) {
      var bed = st.beds[code];
      bed.latest = (data.beds || {})[code] || {};
      bed.series = ((data.series || {})[code] || []).map(function (p) { return [p[0], p[1]]; });
      render(st, code);
    });
    renderAlarms(st);
  }

  function onMessage(st, m) {
    var bed = st.beds[m.bed];
    if (!bed) { return; }
    if (m.t === "v") {
      var keep = bed.latest;
      var next = { online: keep.online, battery: keep.battery, news2: keep.news2, news2_complete: keep.news2_complete, qsofa: keep.qsofa,
                   news2_risk: keep.news2_risk, sbp: keep.sbp, dbp: keep.dbp, map: keep.map, nibp_ts: keep.nibp_ts };
      ["ts", "rx", "hr", "spo2", "rr", "temp", "sbp", "dbp", "map", "nibp_ts"].forEach(function (k) {
        if (m[k] !== undefined && m[k] !== null) { next[k] = String(m[k]); }
      });
      var stat = m.st || {};
      next.st_ecg = stat.ecg; next.st_spo2 = stat.spo2;
      if (m.news2 !== undefined) { next.news2 = m.news2 === null ? "" : String(m.news2); next.news2_risk = m.risk || ""; next.news2_complete = m.complete ? "1" : "0"; }
      bed.latest = next;
      if (m.hr !== undefined && m.hr !== null) { bed.series.push([Number(m.rx || m.ts), Number(m.hr)]); }
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
    }
  }

  function show(el, value, off) {
    el.textContent = off || value === undefined || value === "" ? "---" : value;
    el.classList.toggle("v-off", !!off || value === undefined || value === "");
  }

  function ageText(st, ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return s < 120 ? st.text.ago_s.replace("{n}", s) : st.text.ago_min.replace("{n}", Math.round(s / 60));
  }

  function render(st, code) {
    var bed = st.beds[code], v = bed.latest, el = bed.el;
    show(el.hr, v.hr, v.st_ecg === "off");
    show(el.spo2, v.spo2, v.st_spo2 === "off");
    show(el.rr, v.rr);
    show(el.temp, v.temp === undefined || v.temp === "" ? undefined : Number(v.temp).toFixed(1));
    show(el.nibp, v.sbp ? v.sbp + "/" + v.dbp + (v.map ? " (" + v.map + ")" : "") : undefined);
    el.hr.classList.toggle("v-noisy", v.st_ecg === "noisy");
    el.spo2.classList.toggle("v-noisy", v.st_spo2 === "noisy");
    var risk = v.news2_risk || "";
    el.news2.textContent = v.news2 === undefined || v.news2 === "" ? "" : "NEWS2 " + v.news2 + (v.news2_complete === "0" ? "*" : "");
    el.news2.title = v.news2_complete === "0" ? st.text.ward_news2_incomplete : "NEWS2";
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
    return a.value !== null && a.value !== undefined ? label + " " + a.value : label;
  }

  function drawSpark(st, bed) {
    var canvas = bed.el.spark;
    if (!canvas || !canvas.getContext) { return; }
    var cutoff = now(st) - SPARK_MS;
    while (bed.series.length && bed.series[0][0] < cutoff) { bed.series.shift(); }
    var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (bed.series.length < 2) { return; }
    var lo = 40, hi = 160;
    ctx.strokeStyle = "#3ddc84";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    bed.series.forEach(function (p, i) {
      var x = (p[0] - cutoff) / SPARK_MS * w;
      var y = h - (Math.min(hi, Math.max(lo, p[1])) - lo) / (hi - lo) * h;
      if (i === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    });
    ctx.stroke();
  }

  function tickBed(st, code) {
    var bed = st.beds[code], v = bed.latest, t = now(st);
    var rx = Number(v.rx || 0);
    var stale = !rx || t - rx > STALE_MS;
    var empty = bed.tile.classList.contains("bed-empty");
    bed.tile.classList.toggle("stale", stale && !empty);
    bed.el.stale.textContent = empty ? "" : !rx ? st.text.ward_no_data : stale ? st.text.ward_stale + " · " + ageText(st, t - rx) : "";
    bed.el.nibpAge.textContent = v.nibp_ts ? ageText(st, t - Number(v.nibp_ts)) : "";
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
    if (!all.length) {
      var none = document.createElement("li");
      none.className = "text-body-secondary small";
      none.textContent = st.text.ward_no_alarms;
      list.appendChild(none);
      return;
    }
    all.forEach(function (item) {
      var code = item[0], a = item[1];
      var li = document.createElement("li");
      li.className = "ward-alarm alarm-" + a.priority + (a.acked ? " alarm-acked" : "");
      li.setAttribute("data-bed", code);
      li.setAttribute("data-condition", a.condition);
      var title = document.createElement("div");
      title.className = "fw-semibold";
      title.textContent = code + " · " + alarmText(st, a);
      li.appendChild(title);
      if (!a.acked) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "btn btn-sm btn-light ward-ack";
        btn.textContent = st.text.ward_ack;
        li.appendChild(btn);
      } else {
        var by = document.createElement("small");
        by.textContent = "✓ " + (a.ack_by || "");
        li.appendChild(by);
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

  function beep(pattern) {
    if (!audio) { return; }
    var t0 = audio.currentTime;
    pattern.forEach(function (p) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = p[1];
      gain.gain.setValueAtTime(0.0001, t0 + p[0]);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + p[0] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + p[0] + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + p[0]);
      osc.stop(t0 + p[0] + 0.2);
    });
  }

  // IEC 60601-1-8-like bursts: high = 2 x 5 pulses, medium = 3 pulses.
  var HIGH = [[0, 880], [0.2, 880], [0.4, 880], [0.8, 880], [1.0, 880], [1.6, 880], [1.8, 880], [2.0, 880], [2.4, 880], [2.6, 880]];
  var MEDIUM = [[0, 660], [0.25, 660], [0.5, 660]];

  function everySecond(st) {
    Object.keys(st.beds).forEach(function (code) { tickBed(st, code); });
    var level = st.sound ? audible(st) : null;
    var t = Date.now();
    if (level === "high" && t - st.lastBeep >= 5000) { beep(HIGH); st.lastBeep = t; }
    if (level === "medium" && t - st.lastBeep >= 10000) { beep(MEDIUM); st.lastBeep = t; }
  }

  function renderSoundButton(st) {
    var button = document.getElementById("ward-sound");
    if (!button) { return; }
    button.querySelector("span").textContent = st.sound ? st.text.ward_sound_on : st.text.ward_sound_off;
    button.classList.toggle("active", st.sound);
    button.querySelector("i").className = "bi me-1 " + (st.sound ? "bi-volume-up-fill" : "bi-volume-mute");
  }

  function post(url, body) {
    return window.fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  document.addEventListener("click", function (event) {
    if (!station) { return; }
    var ack = event.target.closest(".ward-ack");
    if (ack) {
      var item = ack.closest(".ward-alarm");
      post("/api/beds/" + encodeURIComponent(item.getAttribute("data-bed")) + "/alarms/ack",
           { condition: item.getAttribute("data-condition") });
      ack.disabled = true;
      return;
    }
    var pause = event.target.closest(".tile-pause");
    if (pause) {
      post("/api/beds/" + encodeURIComponent(pause.closest(".bed-tile").getAttribute("data-bed")) + "/alarms/pause",
           { seconds: 120 });
      return;
    }
    if (event.target.closest("#ward-sound")) {
      station.sound = !station.sound;
      window.localStorage.setItem(SOUND_KEY, station.sound ? "on" : "off");
      if (station.sound && !audio) { audio = new (window.AudioContext || window.webkitAudioContext)(); }
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
    if (station && station.grid !== grid) { station.source.close(); station = null; }
    if (!station && grid) { station = makeStation(grid); }
  }, 250);
  window.setInterval(function () { if (station) { everySecond(station); } }, 1000);
  window.pantauWard = function () { return station; };  // for tests and the benchmark
})();
