/* The ward station's sound and its technical-alarm overlays (used by ward.js; inert on its own).

   Sound: one AudioContext for the page, made as soon as sound is switched on (a setting kept in localStorage). A
   browser may keep it suspended until someone clicks the page: blocked() says so, and the overlays and the sound
   button then ask for that click, which resume() answers.
   Overlays (IEC 60601-1-8 technical alarms, distinct from the patients' physiological alarms): "monitoring
   interrupted" is a full-width banner above the grid naming the beds and since when no data has arrived;
   "signed out" covers the whole screen, since a screen whose session ended is not monitoring anyone. */
(function () {
  "use strict";

  var SOUND_KEY = "pantau-ward-sound";
  var audio = null;

  // Physiological alarms: IEC 60601-1-8-like bursts, high = 2 x 5 pulses, medium = 3 pulses.
  var HIGH = [[0, 880], [0.2, 880], [0.4, 880], [0.8, 880], [1.0, 880], [1.6, 880], [1.8, 880], [2.0, 880], [2.4, 880], [2.6, 880]];
  var MEDIUM = [[0, 660], [0.25, 660], [0.5, 660]];
  // Technical alarm (no data, signed out): a low falling pair, unlike any patient alarm.
  var TECHNICAL = [[0, 523], [0.35, 392], [0.9, 523], [1.25, 392]];

  function soundOn() { return window.localStorage.getItem(SOUND_KEY) === "on"; }

  function ensureAudio() {
    if (!audio && soundOn()) { audio = new (window.AudioContext || window.webkitAudioContext)(); }
    return audio;
  }

  /* Sound is on but the browser has not let the page play it yet (no click since the page opened). */
  function blocked() { return soundOn() && (!ensureAudio() || audio.state !== "running"); }

  /* Called from a click: the gesture browsers want before a page may make a sound. */
  function resume() {
    if (ensureAudio() && audio.state !== "running") { audio.resume().catch(function () { return null; }); }
  }

  function setSound(on) {
    window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    if (on) { resume(); }
  }

  function play(pattern) {
    if (!soundOn() || !ensureAudio()) { return; }
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

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* view: null (no technical alarm), or {kind: "interrupted" | "signed-out", title, lines: [text], signIn: label}.
     The banner goes right above ``grid``'s layout (the navigation stays usable); "signed out" covers everything.
     It is rebuilt only when what it says changes, so its buttons stay clickable. */
  function showTechnical(text, view, grid) {
    var node = document.getElementById("ward-technical-alarm");
    var soundAsk = view && (!soundOn() || blocked());
    var key = view ? JSON.stringify([view, soundAsk]) : "";
    if (!view) { if (node) { node.remove(); } return; }
    if (node && node.getAttribute("data-key") === key) { return; }
    if (!node) {
      node = make("div");
      node.id = "ward-technical-alarm";
      node.setAttribute("role", "alert");
      var layout = grid.closest(".ward-layout") || grid;
      layout.parentNode.insertBefore(node, layout);
    }
    node.setAttribute("data-key", key);
    node.className = "ward-technical ward-technical-" + view.kind;
    node.textContent = "";
    var box = node.appendChild(make("div", "ward-technical-box"));
    box.appendChild(make("div", "ward-technical-title", view.title));
    view.lines.forEach(function (line) { box.appendChild(make("div", "ward-technical-line", line)); });
    var actions = box.appendChild(make("div", "ward-technical-actions"));
    if (view.signIn) {
      var link = actions.appendChild(make("a", "btn btn-light btn-lg ward-sign-in", view.signIn));
      link.href = "/login?next=" + encodeURIComponent(window.location.pathname);
    }
    if (soundAsk) {
      actions.appendChild(make("button", "btn btn-warning btn-lg ward-sound-enable", text.ward_sound_enable)).type = "button";
    }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest(".ward-sound-enable")) { setSound(true); }
    if (soundOn() && document.getElementById("ward-grid")) { resume(); }  // the gesture a blocked AudioContext waits for
  });

  window.PantauWardAlerts = {
    HIGH: HIGH, MEDIUM: MEDIUM, TECHNICAL: TECHNICAL,
    soundOn: soundOn, setSound: setSound, blocked: blocked, play: play, showTechnical: showTechnical
  };
})();
