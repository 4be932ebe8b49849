"""PBX-style two-channel test calls built from real recordings (Harper Valley bank calls).

A contact-centre PBX records a call as one file with the agent on one channel and the caller on
the other, at 8 kHz, usually G.711 mu-law (North America, Japan) or A-law (elsewhere). The
Harper Valley corpus (``../shared/data/calls/harper_valley``, see its README) holds real calls
as one 8 kHz 16-bit file per side, both starting together; this module turns them into such
recordings:

* :func:`load_call` pairs the two sides (the shorter padded with silence at its end), channel 0
  the agent, channel 1 the caller, and reads the reference speech of each side from the human
  transcript (``start_ms``, ``duration_ms``; ``offset_ms`` is not aligned with the audio).
* :func:`add_crosstalk` leaks each side's talker into the other channel the way a headset
  microphone or a hybrid does: telephone-band (300-3400 Hz) filtered, a few milliseconds late, at
  a level drawn between -57 and -49 dBFS (the level measured on per-speaker microphones, issue
  12). The planted leak is known, so what a detector marks on it is measurable exactly.
* :func:`encode_call` writes the pair as a WAV file in ``pcm_s16le``, ``pcm_mulaw`` or
  ``pcm_alaw`` (FFmpeg's G.711 encoders, through PyAV) and decodes it with Calmline's own
  :func:`~calmline.monitor.audio.load_audio`, so the pipeline sees what it sees for a real PBX
  file: 16 kHz float32, two channels.

Reference speech. A transcript segment spans a speaker's utterance including its short pauses:
on these calls 71-98 % of the audio inside a segment is speech. :func:`refine_reference` gives a
second, tighter reference: inside each segment, the 10 ms frames whose level is within
``REFINE_DB`` (25 dB, about the range of a talker's syllables) of the segment's loudest frame and
above the channel's noise floor (10th percentile of its frames) plus ``FLOOR_DB`` (10 dB), joined
across gaps under ``REFINE_GAP_S`` (0.25 s: shorter gaps are stop closures and breaths inside a
phrase, not pauses a listener hears), each piece padded by ``REFINE_PAD_S`` (0.05 s). It keeps
88-99 % of each side's segment time on the six calls (per segment: median 99 %, 5th percentile
78 %). Both references are scored; the transcript's segments are the human one, the refined one
says how much of the "missed" speech is the segments' own pauses.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from calmline.pipelines.batch import union_spans

RATE = 8_000
"""Sample rate of the Harper Valley audio and of the PBX recordings (Hz)."""
HARPER = Path("calls") / "harper_valley"
"""Where the calls are under the evaluation data folder."""
CODECS = {"pcm": "pcm_s16le", "mulaw": "pcm_mulaw", "alaw": "pcm_alaw"}
"""Recording formats: name -> FFmpeg encoder (WAV container)."""
CROSSTALK_DBFS = (-57.0, -49.0)
"""Range of the leaked talker's level (dBFS, RMS over that talker's reference speech)."""
CROSSTALK_DELAY_MS = (1.0, 8.0)
"""Range of the leak's delay behind its source (ms): a headset or hybrid, not a far echo."""
REFINE_DB = 25.0
FLOOR_DB = 10.0
REFINE_GAP_S = 0.25
REFINE_PAD_S = 0.05

Span = tuple[float, float]


@dataclass
class PbxCall:
    """One real call as two channels at 8 kHz with per-channel reference speech."""

    name: str
    samples: np.ndarray
    """float32 (2, n) at 8 kHz, values in [-1, 1]; channel 0 agent, channel 1 caller."""
    reference: tuple[list[Span], list[Span]]
    """Speech of channel 0 and channel 1 (s): the transcript segments, sorted, merged."""
    crosstalk: tuple[list[Span], list[Span]] = field(default_factory=lambda: ([], []))
    """Where planted crosstalk sits on each channel (s): the other side's reference speech."""
    crosstalk_dbfs: tuple[float, float] | None = None
    """Level of the leak planted on each channel (dBFS), ``None`` when none was added."""

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / RATE


def call_ids(data: Path) -> list[str]:
    """Ids of the calls with both sides and a transcript, sorted; [] when the folder is absent."""
    root = Path(data) / HARPER
    if not (root / "transcript").is_dir():
        return []
    return sorted(
        p.stem
        for p in (root / "transcript").glob("*.json")
        if (root / "audio" / "agent" / f"{p.stem}.wav").is_file()
        and (root / "audio" / "caller" / f"{p.stem}.wav").is_file()
    )


def read_side(path: Path) -> np.ndarray:
    """One side's 8 kHz 16-bit mono WAV as float32 (n,); a clear error for anything else."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as e:
        raise ValueError(f"{path}: not a readable WAV file ({e})") from e
    if (rate, width, channels) != (RATE, 2, 1):
        raise ValueError(
            f"{path}: expected 8000 Hz 16-bit mono, got {rate} Hz {8 * width}-bit {channels} ch"
        )
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


merge = union_spans
"""Sorted union of spans, joining those closer than ``gap`` seconds (the pipeline's own)."""


def transcript_reference(path: Path) -> dict[str, list[Span]]:
    """Speech spans per role (``agent``, ``caller``) from a Harper Valley transcript."""
    try:
        segments = json.loads(path.read_text(encoding="utf-8"))
        spans: dict[str, list[Span]] = {"agent": [], "caller": []}
        for s in segments:
            a = s["start_ms"] / 1000
            spans.setdefault(s["speaker_role"], []).append((a, a + s["duration_ms"] / 1000))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a Harper Valley transcript ({e})") from e
    return {role: merge(v) for role, v in spans.items()}


def load_call(data: Path, call_id: str) -> PbxCall:
    """The call ``call_id`` as a :class:`PbxCall` (agent on channel 0), no crosstalk added."""
    root = Path(data) / HARPER
    agent = read_side(root / "audio" / "agent" / f"{call_id}.wav")
    caller = read_side(root / "audio" / "caller" / f"{call_id}.wav")
    n = max(agent.size, caller.size)
    x = np.zeros((2, n), dtype=np.float32)
    x[0, : agent.size] = agent
    x[1, : caller.size] = caller
    ref = transcript_reference(root / "transcript" / f"{call_id}.json")
    dur = n / RATE
    clip = [[(a, min(b, dur)) for a, b in ref[r] if a < dur] for r in ("agent", "caller")]
    return PbxCall(call_id, x, (clip[0], clip[1]))


def level_dbfs(x: np.ndarray, spans: list[Span], rate: int = RATE) -> float:
    """RMS level (dBFS, full scale = 1.0) of ``x`` over ``spans``; -inf when empty."""
    parts = [x[int(a * rate) : int(b * rate)] for a, b in spans]
    v = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if v.size == 0:
        return float("-inf")
    return float(10 * np.log10(np.mean(v.astype(np.float64) ** 2) + 1e-20))


def telephone_band(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    """300-3400 Hz band-pass (4th-order Butterworth, zero phase): the telephone channel."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=rate, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def add_crosstalk(call: PbxCall, seed: int = 0) -> PbxCall:
    """``call`` with each talker leaking into the other channel (see the module docstring).

    Each channel gets the other channel's signal, band-passed to 300-3400 Hz, delayed by a
    whole number of samples drawn in ``CROSSTALK_DELAY_MS`` and scaled so that its RMS over
    the source talker's reference speech is a level drawn in ``CROSSTALK_DBFS``. The draw is
    seeded (``seed`` and the call's name), so a call is built the same way every time.
    """
    rng = np.random.default_rng([seed, *call.name.encode()])
    x = call.samples
    out = x.copy()
    levels = []
    for target in (0, 1):
        source = 1 - target
        leak = telephone_band(x[source])
        delay = round(rng.uniform(*CROSSTALK_DELAY_MS) * RATE / 1000)
        leak = np.concatenate([np.zeros(delay, np.float32), leak[: leak.size - delay]])
        dbfs = float(rng.uniform(*CROSSTALK_DBFS))
        gain = 10 ** ((dbfs - level_dbfs(leak, call.reference[source])) / 20)
        out[target] += gain * leak
        levels.append(round(dbfs, 1))
    return PbxCall(
        call.name,
        np.clip(out, -1.0, 1.0),
        call.reference,
        (call.reference[1], call.reference[0]),
        (levels[0], levels[1]),
    )


def encode_call(call: PbxCall, codec: str = "mulaw"):
    """``call`` recorded as a PBX would (8 kHz WAV, ``codec``) and decoded by Calmline.

    Args:
        call: the two channels at 8 kHz.
        codec: ``pcm`` (16-bit linear), ``mulaw`` or ``alaw`` (G.711).

    Returns:
        :class:`calmline.monitor.types.Audio`: 16 kHz float32, two channels, as
        :func:`calmline.monitor.audio.load_audio` decodes the file.
    """
    import av

    from calmline.monitor.audio import load_audio

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; expected one of {', '.join(CODECS)}")
    with tempfile.TemporaryDirectory(prefix="calmline-pbx-") as tmp:
        path = Path(tmp) / f"{call.name}-{codec}.wav"
        with av.open(str(path), mode="w", format="wav") as out:
            stream = out.add_stream(CODECS[codec], rate=RATE, layout="stereo")
            ctx = stream.codec_context
            ctx.open()
            resampler = av.AudioResampler(format=ctx.format.name, layout="stereo", rate=RATE)
            src = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(call.samples, dtype=np.float32), format="fltp", layout="stereo"
            )
            src.sample_rate = RATE
            src.pts = 0
            for frame in [*resampler.resample(src), *resampler.resample(None)]:
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        audio = load_audio(path)
    return audio


def refine_reference(x: np.ndarray, spans: list[Span], rate: int = RATE) -> list[Span]:
    """The speech inside ``spans`` by level (see the module docstring), sorted and merged."""
    hop = rate // 100  # 10 ms
    n = x.size // hop
    if n == 0:
        return []
    frames = x[: n * hop].astype(np.float64).reshape(n, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor = float(np.percentile(db, 10))
    out: list[Span] = []
    for a, b in spans:
        i, j = int(a * 100), min(int(np.ceil(b * 100)), n)
        if j <= i:
            continue
        seg = db[i:j]
        voiced = (seg >= seg.max() - REFINE_DB) & (seg >= floor + FLOOR_DB)
        pieces: list[Span] = []
        k = 0
        while k < voiced.size:
            if voiced[k]:
                m = k
                while m < voiced.size and voiced[m]:
                    m += 1
                pieces.append(((i + k) / 100, (i + m) / 100))
                k = m
            else:
                k += 1
        for p, q in merge(pieces, REFINE_GAP_S):
            out.append((max(a, p - REFINE_PAD_S), min(b, q + REFINE_PAD_S)))
    return merge(out)


def speech_seconds(spans: list[Span]) -> float:
    """Total length of ``spans`` (s)."""
    return float(sum(b - a for a, b in spans))


def intersect_seconds(x: list[Span], y: list[Span]) -> float:
    """Seconds where a span of ``x`` and a span of ``y`` overlap (both sorted, merged)."""
    total, i, j = 0.0, 0, 0
    while i < len(x) and j < len(y):
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        total += max(0.0, hi - lo)
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def subtract(x: list[Span], y: list[Span]) -> list[Span]:
    """The parts of ``x`` outside every span of ``y`` (both sorted, merged)."""
    out: list[Span] = []
    for a, b in x:
        t = a
        for p, q in y:
            if q <= t or p >= b:
                continue
            if p > t:
                out.append((t, p))
            t = max(t, q)
        if b > t:
            out.append((t, b))
    return out


CROSSTALK_COLLAR_S = 0.125
"""Own reference speech is widened by this much on each side before crosstalk is counted: the
reach of the 0.25 s DER collar, so that a span's padding is not called crosstalk."""


def crosstalk_seconds(hyp: list[Span], own: list[Span], other: list[Span]) -> float:
    """Seconds a channel's detected speech ``hyp`` lies on the other talker's reference speech
    and away from its own (``own`` widened by ``CROSSTALK_COLLAR_S``): its crosstalk false
    alarm."""
    c = CROSSTALK_COLLAR_S
    wide = merge([(max(0.0, a - c), b + c) for a, b in own])
    return intersect_seconds(merge(subtract(merge(hyp), wide)), merge(other))


def excerpt(call: PbxCall, start: float, end: float) -> PbxCall:
    """The stretch ``start``-``end`` (s) of ``call``, references cut to it and shifted to 0."""
    if not 0 <= start < end <= call.duration:
        raise ValueError(f"{call.name}: excerpt {start}-{end} s outside 0-{call.duration:.2f} s")
    i, j = round(start * RATE), round(end * RATE)

    def cut(spans: list[Span]) -> list[Span]:
        return [
            (round(max(a, start) - start, 3), round(min(b, end) - start, 3))
            for a, b in spans
            if min(b, end) > max(a, start)
        ]

    return PbxCall(
        f"{call.name}@{start:g}-{end:g}",
        call.samples[:, i:j].copy(),
        (cut(call.reference[0]), cut(call.reference[1])),
        (cut(call.crosstalk[0]), cut(call.crosstalk[1])),
        call.crosstalk_dbfs,
    )
