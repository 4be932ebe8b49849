"""The streaming pipeline in process: real audio, real models, 20 ms chunks.

What needs no server is tested here: the streamed speech spans equal the batch pipeline's,
encodings, bad input, out-of-order, repeated and lost media, a client gone mid-call, a customer
whose agitation rises, and the shared transcription worker (round-robin, packing within a call;
the isolation of calls is ``tests/test_live_isolation.py``'s). Whole sample calls are streamed
through both ingest protocols of a real server and compared with batch analysis in
``tests/test_live_api.py``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from calmline.models.base import Transcript
from calmline.monitor.audio import load_audio, resample
from calmline.monitor.types import ModelInfo, Word
from calmline.pipelines.live import (
    MULAW_TO_INT16,
    AsrWorker,
    CallMeta,
    Job,
    StreamError,
    StreamingOptions,
    StreamingPipeline,
    StreamingVad,
    Utterance,
    decode_samples,
    owner,
)
from tests.conftest import SAMPLES
from tests.live_client import CHUNK_S, mulaw_encode, read_wav
from tests.pii import leaked, planted, said_strings

STEREO = ("en_stereo_mulaw", "zh_stereo")


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline)
    yield sp
    sp.close()


def _tracks(name: str) -> tuple[np.ndarray, int, str]:
    """(float32 (channels, n) at the file's rate, rate, encoding) as a client would send it."""
    wav = read_wav(SAMPLES / f"{name}.wav")
    return decode_samples(wav.payload, wav.encoding, wav.channels), wav.rate, wav.encoding


def _stream(streaming, call_id, x, rate, encoding, tracks, *, until_s=None, incomplete=False):
    """Stream (channels, n) samples in 20 ms chunks, channel i to track i; close; return
    (report, events, session)."""
    events = []
    lock = threading.Lock()

    def on_event(e):
        with lock:
            events.append(e)

    session = streaming.open_session(
        CallMeta(
            call_id=call_id, agent_id="a1", tracks=tracks, sample_rate=rate, encoding=encoding
        ),
        on_event=on_event,
    )
    names = list(tracks)
    step = round(CHUNK_S * rate)
    end = x.shape[1] if until_s is None else round(until_s * rate)
    for i in range(0, end, step):
        for c, name in enumerate(names):
            session.accept(name, x[c, i : min(i + step, end)])
    report = session.close(incomplete=incomplete)
    return report, events, session


def _agitation_call(rate=8000):
    """The zh customer's two calm closing turns first, then three angry ones (2 s apart), the
    agent silent: a customer whose agitation rises. Returns (samples, start of each turn)."""
    audio = load_audio(SAMPLES / "zh_stereo.wav")
    report_spans = [(58.21, 59.94), (69.03, 71.55), (7.17, 11.33), (15.78, 23.71), (25.64, 28.29)]
    parts, starts, t = [], [], 1.0
    for a, b in report_spans:
        starts.append(t + 2.0)
        seg = audio.samples[1, round(a * 16000) : round(b * 16000)]
        parts += [np.zeros(round(2.0 * 16000), np.float32), seg]
        t += 2.0 + (b - a)
    customer = np.concatenate([np.zeros(16000, np.float32), *parts, np.zeros(32000, np.float32)])
    customer = resample(customer, 16000, rate)
    return np.stack([np.zeros_like(customer), customer]), starts


# --- spans, audio, encodings ---------------------------------------------------------------------


@pytest.mark.parametrize("name", STEREO)
def test_streaming_vad_gives_the_batch_spans_exactly(models, name):
    """Chunks of odd sizes, state carried across them: the same spans as the whole channel."""
    audio = load_audio(SAMPLES / f"{name}.wav")
    vad = models.vad()
    rng = np.random.default_rng(7)
    for channel in range(2):
        x = audio.samples[channel]
        sv = StreamingVad(vad, models.vad_options(), max_utterance_s=1e9)
        spans, i = [], 0
        while i < x.shape[0]:
            n = int(rng.integers(1, 2000))
            spans += sv.push(x[i : i + n], min_frames=1 + channel * 2)
            i += n
        spans += sv.finish()
        assert [(s.start, s.end) for s in spans] == vad.detect(x)
        assert all(s.start < s.speech_end <= s.end for s in spans)


def test_mulaw_table_is_g711_as_ffmpeg_decodes_it():
    import av

    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav")
    ours = decode_samples(wav.payload, "mulaw", 2)
    with av.open(str(SAMPLES / "en_stereo_mulaw.wav")) as c:
        raw = np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1)
    ffmpeg = raw.reshape(-1, 2).T  # packed s16: interleaved
    assert np.array_equal(np.round(ours * 32768).astype(np.int16), ffmpeg)
    every = np.arange(256, dtype=np.uint8)
    assert np.array_equal(MULAW_TO_INT16[mulaw_encode(MULAW_TO_INT16[every])], MULAW_TO_INT16)


def test_decode_rejects_partial_frames_and_bad_floats():
    with pytest.raises(StreamError, match="whole number"):
        decode_samples(b"\x00\x01\x02", "pcm16", 1)
    with pytest.raises(StreamError, match="whole number"):
        decode_samples(b"\x00\x01\x02", "mulaw", 2)
    with pytest.raises(StreamError, match="finite"):
        decode_samples(np.array([np.nan], "<f4").tobytes(), "float32", 1)
    with pytest.raises(StreamError, match="unknown encoding"):
        decode_samples(b"", "alaw", 1)


def test_call_meta_and_accept_refuse_bad_input(streaming):
    with pytest.raises(StreamError, match="unknown track role"):
        CallMeta(call_id="c", agent_id="a", tracks={"x": "boss"})
    with pytest.raises(StreamError, match="only track"):
        CallMeta(call_id="c", agent_id="a", tracks={"x": "mixed", "y": "agent"})
    with pytest.raises(StreamError, match="same party"):
        CallMeta(call_id="c", agent_id="a", tracks={"x": "agent", "y": "agent"})
    with pytest.raises(StreamError, match="sample rate"):
        CallMeta(call_id="c", agent_id="a", sample_rate=100)
    session = streaming.open_session(CallMeta(call_id="bad-input", agent_id="a"))
    with pytest.raises(StreamError, match="already live"):
        streaming.open_session(CallMeta(call_id="bad-input", agent_id="a"))
    with pytest.raises(StreamError, match="unknown track 'nobody'"):
        session.accept("nobody", np.zeros(160, np.int16))
    with pytest.raises(StreamError, match="finite"):
        session.accept("agent", np.array([0.0, np.inf], np.float32))
    with pytest.raises(StreamError, match="one-dimensional"):
        session.accept("agent", np.zeros((2, 160), np.int16))
    with pytest.raises(StreamError, match="timestamp"):
        session.accept("agent", np.zeros(160, np.int16), t=-1.0)
    with pytest.raises(StreamError, match="before any audio"):
        session.close()


# --- live events ---------------------------------------------------------------------------------


def _of(events, kind):
    return [e for e in events if e.type == kind]


def test_rising_customer_agitation_is_an_event(streaming):
    x, starts = _agitation_call()
    tracks = {"agent": "agent", "customer": "customer"}
    report, events, _ = _stream(streaming, "live-agitation", x, 8000, "pcm16", tracks)
    assert report.scorecard.stress.result == "escalated"
    rising = _of(events, "agitation_rising")
    assert rising, [e.data for e in _of(events, "metrics")][-1]
    first = rising[0]
    assert first.t >= starts[2] - 0.5, "calm turns raise no alarm"
    assert first.data["agitation"] >= first.data["threshold"]
    assert first.data["previous"] is not None and first.data["previous"] < first.data["threshold"]


@pytest.mark.parametrize("name", ["en_pii", "zh_pii"])
def test_live_events_never_carry_planted_pii(streaming, name):
    """Redaction (on by default) applies to what subscribers see during the call, not only to
    the stored report: no event's text gives back the planted numbers, and the spans are marked.

    What is marked depends on what Whisper heard, which differs between CPUs: a misheard context
    word or digit turns a resident ID into another kind of number, and a number heard as
    "41 times, 55 times" holds no run to redact (nor to leak). So no number may leak, and the
    marks are asked where the planted numbers were said, of whatever kind."""
    x, rate, enc = _tracks(name)
    report, events, _ = _stream(
        streaming, f"live-{name}", x, rate, enc, {"agent": "agent", "customer": "customer"}
    )
    said = said_strings([e.data for e in events])
    for p in planted(name):
        for piece in said:
            assert not leaked(piece, p["value"]), f"{p['kind']} {p['value']} in a live event"
    texts = " ".join(e.data["text"] for e in _of(events, "transcript"))
    assert "[" in texts, texts  # marked, not dropped
    marked = [
        p
        for p in planted(name)
        if any(r.start <= p["end"] + 1.0 and r.end >= p["start"] - 1.0 for r in report.redactions)
    ]
    assert marked, (planted(name), report.redactions)


# --- robustness ----------------------------------------------------------------------------------


def test_client_gone_mid_call_gives_an_incomplete_report(streaming):
    x, rate, enc = _tracks("zh_stereo")
    report, events, session = _stream(
        streaming,
        "live-gone",
        x,
        rate,
        enc,
        {"agent": "agent", "customer": "customer"},
        until_s=26.0,
        incomplete=True,
    )
    assert report.incomplete
    assert report.audio.duration == pytest.approx(26.0, abs=0.05)
    assert any(w.startswith("incomplete") for w in report.warnings)
    assert all(t.end <= 26.0 for t in report.turns)
    kinds = {f.kind for p in report.scorecard.practices for f in p.findings}
    assert "interruption" in kinds, "what was received is judged"
    assert "apology_demand" not in kinds, "nothing after the disconnect is"
    assert _of(events, "call_ended")[0].data["incomplete"] is True
    assert session.call_id not in streaming.sessions


def _chunks(x, rate):
    step = round(CHUNK_S * rate)
    return [(i / rate, x[:, i : i + step]) for i in range(0, x.shape[1], step)]


def _send(session, chunks, order):
    for k in order:
        t, chunk = chunks[k]
        session.accept("agent", chunk[0], t=t)
        session.accept("customer", chunk[1], t=t)


def test_out_of_order_and_repeated_media_give_the_in_order_audio(streaming):
    x, rate, enc = _tracks("en_stereo_mulaw")
    x = x[:, : 8 * rate]
    chunks = _chunks(x, rate)
    tracks = {"agent": "agent", "customer": "customer"}
    in_order = streaming.open_session(CallMeta("live-order", "a1", tracks, rate, enc))
    _send(in_order, chunks, range(len(chunks)))
    shuffled = streaming.open_session(CallMeta("live-shuffled", "a1", tracks, rate, enc))
    order = list(range(len(chunks)))
    for k in range(0, len(order) - 3, 4):  # swap neighbours, send one chunk late by 3
        order[k], order[k + 1] = order[k + 1], order[k]
    order[10:14] = [11, 12, 13, 10]
    order[20:20] = [18, 19]  # repeated chunks
    _send(shuffled, chunks, order)
    a = in_order.close()
    b = shuffled.close()
    assert np.array_equal(in_order.audio().samples, shuffled.audio().samples)
    assert [(s.start, s.end) for s in a.segments] == [(s.start, s.end) for s in b.segments]
    assert any("arrived after their time" in w for w in b.warnings)
    assert not any("gap" in w for w in b.warnings)


def test_gaps_are_silence_and_late_audio_is_dropped(streaming):
    x, rate, enc = _tracks("en_stereo_mulaw")
    x = x[:, : 8 * rate]
    chunks = _chunks(x, rate)
    tracks = {"agent": "agent", "customer": "customer"}
    session = streaming.open_session(CallMeta("live-gaps", "a1", tracks, rate, enc))
    lost = set(range(100, 125))  # 0.5 s lost in the middle of the greeting
    order = [k for k in range(len(chunks)) if k not in lost]
    _send(session, chunks, order[:200])
    _send(session, chunks, [110])  # far too late: that time was filled with silence already
    _send(session, chunks, order[200:])
    report = session.close()
    audio = session.audio()
    assert audio.duration == pytest.approx(8.0, abs=0.01), "gaps keep the timeline"
    lo, hi = round(100 * CHUNK_S * 16000) + 64, round(125 * CHUNK_S * 16000) - 64
    assert np.abs(audio.samples[:, lo:hi]).max() < 1e-3, "lost audio is silence"
    assert np.abs(audio.samples[0, : lo - 128]).max() > 0.01
    assert any("gap(s)" in w and "0.50 s" in w for w in report.warnings), report.warnings
    assert any("arrived after their time" in w for w in report.warnings)


# --- the shared transcription worker -------------------------------------------------------------


class _FakeTranscriber:
    """Implements the Transcriber protocol (composition test of the worker only): one word per
    packed utterance, at its middle, after a fixed decoding time."""

    info = ModelInfo(kind="asr", name="fake", version="0", device="cpu")

    def __init__(self):
        self.calls = []

    def detect_language(self, samples):
        return "en", 1.0

    def transcribe(self, samples, *, spans=None, language=None):
        time.sleep(0.02)
        # utterances are runs of ones separated by zeros
        x = np.concatenate([[0.0], (samples > 0).astype(float), [0.0]])
        edges = np.flatnonzero(np.diff(x))
        words = tuple(
            Word((a + b) / 2 / 16000 - 0.05, (a + b) / 2 / 16000 + 0.05, f"w{a}", 0.9)
            for a, b in zip(edges[::2], edges[1::2], strict=True)
        )
        self.calls.append(len(words))
        return Transcript("en", 1.0, words)


@dataclass(eq=False)
class _FakeSession:
    call_id: str
    language: str | None = "en"

    def __post_init__(self):
        self.done = []

    def _speech_for_detection(self, job):
        return job.samples

    def _set_language(self, language, probability):
        self.language = language

    def _transcribed(self, utt, words, error):
        self.done.append((time.perf_counter(), utt.index, words))


def _job(session, index, seconds=1.0):
    utt = Utterance(index, "agent", "agent", 0, index * 2.0, index * 2.0 + seconds, 0, 0)
    return Job(session, utt, np.ones(round(seconds * 16000), np.float32))


def test_worker_serves_sessions_round_robin():
    fake = _FakeTranscriber()
    worker = AsrWorker(fake, StreamingOptions(pack_max_s=0.0))  # no packing: one per decode
    busy, quiet = _FakeSession("busy"), _FakeSession("quiet")
    with worker._cv:  # everything is queued before the worker takes anything
        for i in range(20):
            worker.submit(_job(busy, i))
        for i in range(2):
            worker.submit(_job(quiet, i))
    deadline = time.monotonic() + 10
    while (len(busy.done) < 20 or len(quiet.done) < 2) and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert len(busy.done) == 20 and len(quiet.done) == 2
    quiet_last = quiet.done[-1][0]
    busy_before = sum(1 for t, _, _ in busy.done if t < quiet_last)
    assert busy_before <= 4, "a session with a backlog does not hold the others back"
    assert [i for _, i, _ in busy.done] == list(range(20)), "each session in its own order"


def test_worker_packs_a_calls_waiting_utterances_into_one_decode():
    fake = _FakeTranscriber()
    worker = AsrWorker(fake, StreamingOptions(pack_max_s=12.0, pack_gap_s=1.0))
    sessions = [_FakeSession(f"s{i}") for i in range(4)]
    with worker._cv:  # a backlog: 3 utterances of each of 4 calls, plus one more
        for s in sessions:
            for i in range(3):
                worker.submit(_job(s, i))
        worker.submit(_job(sessions[0], 3))
    deadline = time.monotonic() + 10
    while sum(len(s.done) for s in sessions) < 13 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert sum(len(s.done) for s in sessions) == 13
    # a window holds one call only: each call's backlog (4 or 3 utterances of 1 s, 1 s apart,
    # within 12 s) is one decode of its own
    assert sorted(fake.calls) == [3, 3, 3, 4]
    for s in sessions:
        for _, index, words in s.done:
            assert len(words) == 1, "each utterance gets back its own word"
            assert index * 2.0 <= words[0].start <= words[0].end <= index * 2.0 + 1.0


def test_word_owner_by_time():
    windows = [(0.0, 2.0), (3.0, 4.0), (5.0, 6.0)]
    assert owner(1.0, windows) == 0
    assert owner(2.1, windows) == 0, "a word ending just after its utterance"
    assert owner(2.45, windows) == 1, "Whisper starts words early after a pause"
    assert owner(2.9, windows) == 1
    assert owner(6.1, windows) == 2
    assert owner(6.8, windows) is None, "the closing silence holds no speech"
