"""assets/queue_voice.js in a real Chromium: chime, then the call twice, by speech voice or by clips, queued."""

from __future__ import annotations

import functools
import http.server
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from domain.announcement import call_announcement
from testkit.threaded_http import serving

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parent.parent / "assets"

BOARD_HTML = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Papan antrean</title></head>
<body><button id="sound-on" type="button">Aktifkan suara</button>
<script src="/assets/queue_voice.js?m=1"></script>
<script src="/board.js"></script></body></html>
"""
BOARD_JS = 'document.getElementById("sound-on").addEventListener("click", function () { PantauVoice.enable(); });\n'

# A speechSynthesis with the given voices (plain objects); `later` voices arrive with a voiceschanged event.
FAKE_SPEECH = """
(() => {
  const config = %s;
  let voices = config.voices;
  const listeners = [];
  window.__spoken = [];
  window.SpeechSynthesisUtterance = class {
    constructor(text) { this.text = text; this.lang = ""; this.rate = 1; this.voice = null; }
  };
  const fake = {
    getVoices: () => voices,
    speak(u) {
      window.__spoken.push({text: u.text, lang: u.lang, rate: u.rate, voice: u.voice && u.voice.name});
      setTimeout(() => config.error ? u.onerror({error: config.error}) : u.onend({}), 5);
    },
    cancel() {},
    addEventListener(type, fn) { if (type === "voiceschanged") listeners.push(fn); },
    removeEventListener(type, fn) { const i = listeners.indexOf(fn); if (i >= 0) listeners.splice(i, 1); },
  };
  Object.defineProperty(window, "speechSynthesis", {value: fake, configurable: true});
  if (config.later) {
    setTimeout(() => {
      voices = config.later;
      listeners.slice().forEach((fn) => fn(new Event("voiceschanged")));
    }, 200);
  }
})();
"""

# HTMLAudioElement.play records each clip and "ends" it at once; "rusak" throws, "tidak_ada" has no source,
# and window.__refuse makes every play() fail the way the autoplay policy does.
FAKE_PLAY = """
(() => {
  window.__played = [];
  window.__srcs = [];
  window.__refuse = false;
  HTMLAudioElement.prototype.play = function () {
    const el = this;
    const name = el.src.split("/").pop().replace(/\\.wav$/, "");
    window.__srcs.push(el.src);
    window.__played.push(name);
    if (window.__refuse) return Promise.reject(new DOMException("needs a gesture", "NotAllowedError"));
    if (name === "rusak") throw new Error("decoder exploded");
    if (name === "tidak_ada") return Promise.reject(new DOMException("no supported source", "NotSupportedError"));
    setTimeout(() => el.dispatchEvent(new Event("ended")), 0);
    return Promise.resolve();
  };
})();
"""

ID_VOICE = {"name": "Damayanti", "lang": "id-ID", "localService": True}
EN_VOICE = {"name": "Samantha", "lang": "en-US", "localService": True}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def board_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static server for a minimal board page and the repository's assets/ folder."""
    root = tmp_path_factory.mktemp("board")
    (root / "index.html").write_text(BOARD_HTML)
    (root / "board.js").write_text(BOARD_JS)
    (root / "assets").symlink_to(ASSETS, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=root)
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url


def open_board(page, url: str, voices: list[dict], *, later=None, error=None, fake_play: bool = True) -> list[str]:
    """Load the board with a fake speechSynthesis (and fake audio playback); returns the page's JS errors."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(FAKE_SPEECH % json.dumps({"voices": voices, "later": later, "error": error}))
    if fake_play:
        page.add_init_script(FAKE_PLAY)
    page.goto(f"{url}/")
    return errors


def announce(page, *messages: dict) -> None:
    """Queue every message at once and wait until the last has been said."""
    page.evaluate("messages => Promise.all(messages.map((m) => PantauVoice.announce(m)))", list(messages))


POLI_ANAK = asdict(call_announcement("A", 12, "Poli Anak"))


def test_loading_does_nothing(page, board_url):
    wav_requests: list[str] = []
    page.on("request", lambda request: wav_requests.append(request.url) if request.url.endswith(".wav") else None)
    errors = open_board(page, board_url, [])
    page.wait_for_load_state("networkidle")  # every request the page makes on its own has been made
    assert page.evaluate("Object.keys(PantauVoice).sort()") == ["announce", "enable", "enabled", "setMuted"]
    assert wav_requests == [] and page.evaluate("window.__played") == [] and errors == []


def test_without_indonesian_voice_clips_follow_chime_twice(page, board_url):
    errors = open_board(page, board_url, [EN_VOICE])
    announce(page, POLI_ANAK)
    clips = ["nomor_antrean", "huruf_a", "dua", "belas", "silakan_menuju", "poli", "anak"]
    assert list(POLI_ANAK["clips"]) == clips
    assert page.evaluate("window.__played") == ["chime", *clips, *clips]
    assert all(src.startswith(f"{board_url}/assets/sounds/id/") for src in page.evaluate("window.__srcs"))
    assert page.evaluate("window.__spoken") == [] and errors == []


def test_calls_are_queued_never_overlapping(page, board_url):
    open_board(page, board_url, [])
    second = asdict(call_announcement("B", 3, "Farmasi"))
    announce(page, POLI_ANAK, second)
    first_clips, second_clips = POLI_ANAK["clips"], second["clips"]
    assert page.evaluate("window.__played") == [
        "chime",
        *first_clips,
        *first_clips,
        "chime",
        *second_clips,
        *second_clips,
    ]


def test_indonesian_voice_says_text_twice(page, board_url):
    errors = open_board(page, board_url, [EN_VOICE, ID_VOICE])
    announce(page, POLI_ANAK)
    spoken = page.evaluate("window.__spoken")
    said = {"text": "Nomor antrean A dua belas, silakan menuju Poli Anak", "lang": "id-ID", "voice": "Damayanti"}
    assert [{k: u[k] for k in said} for u in spoken] == [said, said]
    assert all(0.8 <= u["rate"] <= 1.0 for u in spoken)
    assert page.evaluate("window.__played") == ["chime"] and errors == []


def test_voice_listed_after_voiceschanged_is_used(page, board_url):
    open_board(page, board_url, [], later=[EN_VOICE, {"name": "Indonesia", "lang": "id_ID", "localService": True}])
    announce(page, POLI_ANAK)
    assert [u["voice"] for u in page.evaluate("window.__spoken")] == ["Indonesia", "Indonesia"]
    assert page.evaluate("window.__played") == ["chime"]


def test_failing_voice_falls_back_to_clips(page, board_url):
    open_board(page, board_url, [ID_VOICE], error="network")  # a network voice on an offline board
    announce(page, POLI_ANAK)
    clips = POLI_ANAK["clips"]
    assert len(page.evaluate("window.__spoken")) == 2
    assert page.evaluate("window.__played") == ["chime", *clips, *clips]


def test_broken_and_missing_clips_are_skipped(page, board_url):
    errors = open_board(page, board_url, [])
    clips = ["nomor_antrean", "rusak", "tidak_ada", "dua", "../../index", "belas"]
    announce(page, {"text": "", "clips": clips}, {"clips": ["anak"]}, {})
    valid = ["nomor_antrean", "rusak", "tidak_ada", "dua", "belas"]
    assert page.evaluate("window.__played") == ["chime", *valid, *valid, "chime", "anak", "anak", "chime"]
    assert errors == []


def test_enable_remembers_and_mute_silences(page, board_url):
    open_board(page, board_url, [])
    assert page.evaluate("PantauVoice.enabled()") is False
    page.click("#sound-on")
    page.wait_for_function("window.__played.length === 1")
    assert page.evaluate("window.__played") == ["chime"]
    assert page.evaluate("[PantauVoice.enabled(), localStorage.getItem('pantau-voice-enabled')]") == [True, "1"]
    page.reload()
    assert page.evaluate("PantauVoice.enabled()") is True  # the board needs no button after a reload

    page.evaluate("PantauVoice.setMuted(true)")
    announce(page, POLI_ANAK)
    assert page.evaluate("window.__played") == []
    page.evaluate("PantauVoice.setMuted(false)")
    page.evaluate("window.__refuse = true")  # the browser starts refusing sound: the button is needed again
    announce(page, {"clips": ["dua"]})
    assert page.evaluate("window.__played") == ["chime", "dua", "dua"]
    assert page.evaluate("PantauVoice.enabled()") is False


def test_real_clips_play_to_their_end(page, board_url):
    """No fakes for audio: the shipped WAVs load, decode and end in Chromium (a stuck clip would time out)."""
    open_board(page, board_url, [], fake_play=False)
    page.evaluate(
        """() => {
          window.__ended = [];
          const play = HTMLMediaElement.prototype.play;
          HTMLAudioElement.prototype.play = function () {
            const el = this;
            el.addEventListener("ended", () => window.__ended.push(el.src.split("/").pop()), {once: true});
            return play.call(el);
          };
        }"""
    )
    page.click("#sound-on")  # a real user gesture, as on the board
    page.wait_for_function("window.__ended.length === 1")
    announce(page, {"text": "A dua", "clips": ["huruf_a", "dua"]})
    # Every clip played to its "ended" event: one that hung would have been given up by its timeout without one.
    assert page.evaluate("window.__ended") == [
        "chime.wav",
        "chime.wav",
        "huruf_a.wav",
        "dua.wav",
        "huruf_a.wav",
        "dua.wav",
    ]
