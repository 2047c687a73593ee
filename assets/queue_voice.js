/* Queue TV boards: the voice call, e.g. "Nomor antrean A dua belas, silakan menuju Poli Anak".
 *
 * window.PantauVoice.announce({text, clips}) queues a call (calls never overlap) and returns a promise that
 * resolves when it has been said: the chime, then the call twice. An Indonesian speechSynthesis voice says
 * `text` when the browser has one; otherwise (or when that voice fails, e.g. a network voice while offline)
 * the recorded clips named in `clips` play from sounds/id/ next to this script. enable() is called from the
 * board's "Aktifkan suara" click: browsers keep a page silent until a user gesture. Loading this file does
 * nothing else (Dash loads every script in assets/ on every page); nothing here ever throws into the page.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "pantau-voice-enabled";
  var CLIP_NAME = /^[a-z0-9_]+$/;
  var ID_LANG = /^(id|in)([-_]|$)/i; // "in" is the old ISO code for Indonesian that some Android builds report
  var WORD_GAP_MS = 60;
  var AFTER_CHIME_MS = 250;
  var REPEAT_PAUSE_MS = 800;
  var VOICE_WAIT_MS = 1000; // Chrome fills getVoices() asynchronously, after page load
  var CLIP_TIMEOUT_MS = 8000; // a clip that neither ends nor fails (stalled download) is given up

  var script = document.currentScript;
  var soundsUrl = (function () {
    try {
      return new URL("sounds/id/", script && script.src ? script.src : window.location.origin + "/assets/").href;
    } catch (err) {
      return "/assets/sounds/id/";
    }
  })();

  var muted = false;
  var blocked = false; // the autoplay policy refused to play since the last enable()
  var voicesWaited = false;
  var audioCache = {};
  var queue = Promise.resolve();
  var stopCurrent = null; // ends the clip or utterance now sounding (setMuted(true))
  var utterance = null; // Chrome drops the events of an utterance that nothing references any more

  function warn(err) {
    try { window.console.warn("PantauVoice:", err); } catch (ignored) { /* no console */ }
  }

  function delay(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, muted ? 0 : ms); });
  }

  function audioFor(name) {
    if (!audioCache[name]) {
      var audio = new window.Audio();
      audio.preload = "auto";
      audio.src = soundsUrl + name + ".wav";
      audioCache[name] = audio;
    }
    return audioCache[name];
  }

  /* Play one clip to its end; a missing clip, a decoding error or a refused play() just resolves. */
  function play(name) {
    return new Promise(function (resolve) {
      if (muted || !CLIP_NAME.test(name)) { resolve(); return; }
      var audio = null;
      var timer = null;
      function done() {
        window.clearTimeout(timer);
        if (audio) {
          audio.removeEventListener("ended", done);
          audio.removeEventListener("error", done);
        }
        if (stopCurrent === stop) { stopCurrent = null; }
        resolve();
      }
      function stop() {
        try { audio.pause(); } catch (ignored) { /* already gone */ }
        done();
      }
      try {
        audio = audioFor(name);
        audio.addEventListener("ended", done);
        audio.addEventListener("error", done);
        timer = window.setTimeout(stop, CLIP_TIMEOUT_MS);
        stopCurrent = stop;
        audio.currentTime = 0;
        var started = audio.play();
        if (started && typeof started.then === "function") {
          started.then(function () { blocked = false; }, function (err) {
            if (err && err.name === "NotAllowedError") { blocked = true; }
            done();
          });
        }
      } catch (err) {
        warn(err);
        done();
      }
    });
  }

  function playAll(clips) {
    return clips.reduce(function (previous, name, index) {
      return previous.then(function () { return index ? delay(WORD_GAP_MS) : null; }).then(function () {
        return play(name);
      });
    }, Promise.resolve());
  }

  function pickVoice() {
    var best = null;
    try {
      var voices = window.speechSynthesis.getVoices() || [];
      for (var i = 0; i < voices.length; i++) {
        // prefer a voice on the device: a network voice fails when the board is offline
        if (ID_LANG.test(voices[i].lang || "") && (!best || (voices[i].localService && !best.localService))) {
          best = voices[i];
        }
      }
    } catch (err) {
      warn(err);
    }
    return best;
  }

  /* The Indonesian voice, or null; the first time, waits briefly for the browser to list its voices. */
  function findVoice() {
    var synth = window.speechSynthesis;
    if (!synth || !window.SpeechSynthesisUtterance) { return Promise.resolve(null); }
    var voice = pickVoice();
    if (voice || voicesWaited) { return Promise.resolve(voice); }
    return new Promise(function (resolve) {
      function settle() {
        window.clearTimeout(timer);
        voicesWaited = true;
        try { synth.removeEventListener("voiceschanged", settle); } catch (ignored) { /* fake or old engine */ }
        resolve(pickVoice());
      }
      var timer = window.setTimeout(settle, VOICE_WAIT_MS);
      try { synth.addEventListener("voiceschanged", settle); } catch (ignored) { /* wait for the timer */ }
    });
  }

  /* Say `text` once; resolves true when it was said (or stopped on purpose), false when the voice failed. */
  function speak(text, voice) {
    return new Promise(function (resolve) {
      if (muted) { resolve(true); return; }
      var synth = window.speechSynthesis;
      var timer = null;
      function done(ok) {
        window.clearTimeout(timer);
        if (stopCurrent === stop) { stopCurrent = null; }
        resolve(ok);
      }
      function stop() {
        try { synth.cancel(); } catch (ignored) { /* nothing to cancel */ }
        done(true);
      }
      try {
        utterance = new window.SpeechSynthesisUtterance(text);
        utterance.lang = "id-ID";
        utterance.rate = 0.9;
        try { utterance.voice = voice; } catch (ignored) { /* lang alone still selects an Indonesian voice */ }
        utterance.onend = function () { done(true); };
        utterance.onerror = function (event) {
          var error = event && event.error;
          if (error === "not-allowed") { blocked = true; }
          done(error === "interrupted" || error === "canceled");
        };
        // Chrome sometimes never fires onend: give up after far longer than the call takes
        timer = window.setTimeout(function () {
          try { synth.cancel(); } catch (ignored) { /* nothing to cancel */ }
          done(false);
        }, 3000 + text.length * 150);
        stopCurrent = stop;
        synth.speak(utterance);
      } catch (err) {
        warn(err);
        done(false);
      }
    });
  }

  function sayOnce(text, clips, voice) {
    if (!voice || !text) { return playAll(clips); }
    return speak(text, voice).then(function (said) { return said ? null : playAll(clips); });
  }

  function run(message) {
    var text = typeof message.text === "string" ? message.text : "";
    var clips = (Array.isArray(message.clips) ? message.clips : []).filter(function (name) {
      return typeof name === "string" && CLIP_NAME.test(name);
    });
    if (muted) { return null; }
    var voice = text ? findVoice() : Promise.resolve(null);
    clips.forEach(audioFor); // start downloading while the chime plays
    return play("chime").then(function () { return voice; }).then(function (chosen) {
      return delay(AFTER_CHIME_MS).then(function () { return sayOnce(text, clips, chosen); })
        .then(function () { return delay(REPEAT_PAUSE_MS); })
        .then(function () { return muted ? null : sayOnce(text, clips, chosen); });
    });
  }

  function announce(message) {
    queue = queue.then(function () { return run(message || {}); }).then(null, warn);
    return queue;
  }

  function storedEnabled() {
    try { return window.localStorage.getItem(STORAGE_KEY) === "1"; } catch (err) { return false; }
  }

  /* True when the user turned the sound on here and the browser has not refused to play since; where the
   * browser can tell (navigator.getAutoplayPolicy), also that it allows sound now. */
  function enabled() {
    if (blocked || !storedEnabled()) { return false; }
    try {
      if (typeof navigator.getAutoplayPolicy === "function") {
        return navigator.getAutoplayPolicy("mediaelement") === "allowed";
      }
    } catch (err) {
      warn(err);
    }
    return true;
  }

  /* Call from a click handler: the gesture lets the page play sound, confirmed by the chime (unless muted).
   * Resolves to enabled() once the chime started (or failed). */
  function enable() {
    blocked = false;
    try { window.localStorage.setItem(STORAGE_KEY, "1"); } catch (err) { warn(err); }
    try {
      if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
        var silent = new window.SpeechSynthesisUtterance(""); // some engines also need a gesture to speak
        silent.volume = 0;
        window.speechSynthesis.speak(silent);
      }
    } catch (err) {
      warn(err);
    }
    return new Promise(function (resolve) {
      var finished = false;
      function answer() {
        if (!finished) { finished = true; resolve(enabled()); }
      }
      if (muted) { answer(); return; }
      try {
        var audio = audioFor("chime");
        audio.currentTime = 0;
        var started = audio.play();
        if (started && typeof started.then === "function") {
          started.then(answer, function (err) {
            if (err && err.name === "NotAllowedError") { blocked = true; }
            answer();
          });
        } else {
          answer();
        }
      } catch (err) {
        warn(err);
        answer();
      }
    });
  }

  function setMuted(value) {
    muted = Boolean(value);
    if (muted && stopCurrent) { stopCurrent(); }
  }

  window.PantauVoice = { announce: announce, enabled: enabled, enable: enable, setMuted: setMuted };
})();
