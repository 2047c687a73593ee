"""Regenerate the offline voice clips of the queue boards: ``assets/sounds/id/<clip>.wav`` and ``chime.wav``.

Developer tool, not used at run time: the committed WAVs are what ships. The vocabulary is
``domain.announcement.CLIP_TEXT`` (clip name → words); each entry is spoken by espeak-ng's Indonesian voice
("id"), resampled to 16 kHz mono 16-bit PCM, trimmed of leading and trailing silence and normalised to the same
loudness. The chime is synthesised with numpy. Output is deterministic, so an unchanged vocabulary rewrites
identical files. Needs the ``espeak-ng`` program (Debian: ``apt-get install espeak-ng``).

Usage: ``.venv/bin/python tools/voice_clips.py [--out assets/sounds/id] [--speed 165] [--prune]``
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from domain.announcement import CLIP_TEXT

RATE = 16_000
VOICE = "id"
OUT_DIR = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "id"
FRAME = RATE // 100  # 10 ms analysis frames for silence trimming and loudness
SILENCE_DB = -40.0  # frames this far below the loudest frame count as silence
PAD_S = 0.01  # kept either side of the speech so consonants are not clipped
SPEECH_RMS_DB = -18.0  # loudness of the voiced frames, dBFS
PEAK = 0.89  # about -1 dBFS


def speak(espeak: str, text: str, speed: int) -> np.ndarray:
    """The ``espeak`` program's Indonesian voice saying ``text``, as float samples in -1..1 at ``RATE``."""
    command = [espeak, "-v", VOICE, "-s", str(speed), "--stdout", text]
    wav = subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603 - our own vocabulary
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        raw = reader.readframes(reader.getnframes())
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    return resample(samples, rate, RATE)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling in the frequency domain (zero-padded so the ends do not wrap around)."""
    if rate == target:
        return samples
    pad = rate // 10
    padded = np.concatenate([np.zeros(pad), samples, np.zeros(pad)])
    out_len = round(len(padded) * target / rate)
    spectrum = np.fft.rfft(padded)[: out_len // 2 + 1]
    out = np.fft.irfft(spectrum, out_len) * (out_len / len(padded))
    out_pad = round(pad * target / rate)
    return out[out_pad : len(out) - out_pad]


def _frame_db(samples: np.ndarray) -> np.ndarray:
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)


def trim_and_normalise(samples: np.ndarray) -> np.ndarray:
    """Cut leading/trailing silence, bring the voiced frames to ``SPEECH_RMS_DB`` (peak at most ``PEAK``)."""
    db = _frame_db(samples)
    voiced = np.flatnonzero(db > db.max() + SILENCE_DB)
    pad = int(PAD_S * RATE)
    start = max(0, voiced[0] * FRAME - pad)
    end = min(len(samples), (voiced[-1] + 1) * FRAME + pad)
    clip = samples[start:end]
    speech_rms = np.sqrt(np.mean(10 ** (db[voiced] / 10)))
    gain = min(10 ** (SPEECH_RMS_DB / 20) / speech_rms, PEAK / np.abs(clip).max())
    return fade(clip * gain, fade_in=0.005, fade_out=0.015)


def fade(samples: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    """Linear fades (seconds) so a clip never starts or stops with a click."""
    out = samples.copy()
    n_in, n_out = int(fade_in * RATE), int(fade_out * RATE)
    out[:n_in] *= np.linspace(0.0, 1.0, n_in)
    out[len(out) - n_out :] *= np.linspace(1.0, 0.0, n_out)
    return out


def chime(duration: float = 1.2) -> np.ndarray:
    """A three-note descending "ding-dong" (G5, E5, C5) of bell-like tones, fading out by ``duration``."""
    t = np.arange(int(duration * RATE)) / RATE
    out = np.zeros_like(t)
    for start, freq in ((0.0, 783.99), (0.32, 659.25), (0.64, 523.25)):
        local = np.clip(t - start, 0.0, None)
        envelope = np.where(t >= start, np.minimum(local / 0.006, 1.0) * np.exp(-local / 0.45), 0.0)
        # a few inharmonic partials that die away faster than the fundamental give the bell colour
        partials = (1.0, 1.0), (2.0, 0.35), (3.01, 0.12), (4.2, 0.05)
        for ratio, level in partials:
            out += level * envelope * np.exp(-local * (ratio - 1) * 2.0) * np.sin(2 * np.pi * freq * ratio * local)
    out *= 0.7 / np.abs(out).max()
    return fade(out, fade_in=0.0, fade_out=0.35)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Mono 16 kHz 16-bit PCM."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm.tobytes())


def main(argv: list[str] | None = None) -> int:
    """Write every clip (and the chime) to ``--out``; ``--prune`` deletes WAVs no longer in the vocabulary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    parser.add_argument("--speed", type=int, default=165, help="espeak-ng words per minute (default: %(default)s)")
    parser.add_argument("--prune", action="store_true", help="delete .wav files that are not in the vocabulary")
    args = parser.parse_args(argv)
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        print("espeak-ng not found: apt-get install espeak-ng", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    write_wav(args.out / "chime.wav", chime())
    for name, text in sorted(CLIP_TEXT.items()):
        write_wav(args.out / f"{name}.wav", trim_and_normalise(speak(espeak, text, args.speed)))
    if args.prune:
        for stale in set(args.out.glob("*.wav")) - {args.out / f"{n}.wav" for n in [*CLIP_TEXT, "chime"]}:
            stale.unlink()
    total = sum(p.stat().st_size for p in args.out.glob("*.wav"))
    print(f"{len(CLIP_TEXT) + 1} clips in {args.out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
