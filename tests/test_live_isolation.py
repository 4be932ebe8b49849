"""Live calls are isolated by construction: no recogniser window holds audio of two calls.

The scheduler of the live transcription worker is tested on real sessions (every window it
makes belongs to one call; calls are served in turn); the batched decoder (faster-whisper's
batched pipeline, the CUDA path, run here on the CPU) on real speech of three calls decoded as
rows of one batch; and a real server on three calls streamed at once. Each call carries its own
real recording (``../shared/data/asr/en``: JFK's inaugural line, a LibriSpeech sentence, a
counted "one two three"), so a word of one call in another's transcript shows as a word that
only the other recording holds. The checks do not depend on Whisper's exact words: a call's
transcript must hold none of the words that only another call's recording says, and some of
its own.

Last, the live alerts that re-implemented detectors now are the detectors: a call of real speech
with agent onsets near the interruption rule's limits and a louder line to a calm customer gets
exactly the stored report's interruptions and louder/faster findings as alerts.
"""

from __future__ import annotations

import asyncio
import re
import time

import numpy as np
import pytest

from calmline.monitor.audio import load_audio, resample
from calmline.pipelines.live import (
    AsrScheduler,
    AsrWorker,
    CallMeta,
    Job,
    StreamingOptions,
    StreamingPipeline,
    Utterance,
)
from tests.conftest import shared_data
from tests.live_client import WavData, sse_events, stream_raw
from tests.server import CalmlineServer

CLIPS = {
    "jfk": "jfk.flac",
    "libri": "librispeech-1995-1837-0001.wav",
    "count": "english.wav",
}
"""Call name -> real recording under ``asr/en`` (its words are in ``asr/references.tsv``)."""

_WORD = re.compile(r"[a-z0-9']+")
_NUMBERS = {"one": "1", "two": "2", "three": "3"}


def _words(text: str) -> set[str]:
    """Lower-case words of ``text``, number words as digits ("one" and "1" are one word)."""
    return {_NUMBERS.get(w, w) for w in _WORD.findall(text.lower())}


def _references() -> dict[str, set[str]]:
    table = shared_data("asr", "references.tsv").read_text(encoding="utf-8").splitlines()[1:]
    by_file = {line.split("\t")[0]: line.split("\t")[2] for line in table if line.strip()}
    return {name: _words(by_file[f"en/{file}"]) for name, file in CLIPS.items()}


def _own_words() -> dict[str, set[str]]:
    """Per call, the words only its recording says: of four letters or more (digits count),
    in no other call's reference."""
    refs = _references()
    out = {}
    for name, words in refs.items():
        others = set().union(*(w for n, w in refs.items() if n != name))
        out[name] = {w for w in words - others if len(w) >= 4 or w.isdigit()}
    return out


def _speech(name: str) -> np.ndarray:
    """The call's recording: float32 mono at 16 kHz."""
    audio = load_audio(shared_data("asr", "en", CLIPS[name]))
    return audio.samples.mean(axis=0).astype(np.float32)


def _crossings(heard: dict[str, set[str]], own: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per call, the words it holds that only another call's recording says, where it holds two
    or more of that call's: a leaked utterance brings its words along, while one common word
    ("great", "first") is a word the recogniser can mishear on its own."""
    out = {}
    for name, words in heard.items():
        out[name] = set()
        for other, theirs in own.items():
            if other != name and len(words & theirs) >= 2:
                out[name] |= words & theirs
    return out


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions(acoustic_alerts=True))
    yield sp
    sp.close()


def _sessions(streaming, languages):
    """Real live sessions (no audio sent): the scheduler's and the worker's callers."""
    out = []
    for i, language in enumerate(languages):
        meta = CallMeta(call_id=f"iso-{i}-{time.monotonic_ns()}", agent_id="a", language=language)
        out.append(streaming.open_session(meta, on_event=lambda e: None))
    return out


def _job(session, index: int, samples: np.ndarray, track: str = "agent") -> Job:
    start = index * 10.0
    end = start + samples.shape[0] / 16000
    role = {"agent": ("agent", 0), "customer": ("customer", 1)}[track]
    utt = Utterance(index, track, role[0], role[1], start, end, end, time.perf_counter())
    return Job(session, utt, samples)


# --- the scheduler -------------------------------------------------------------------------------


def test_scheduler_windows_hold_one_call_and_calls_take_turns(streaming):
    busy, quiet, other, unknown = _sessions(streaming, ["en", "en", "en", None])
    scheduler = AsrScheduler(pack_max_s=8.0, pack_gap_s=1.0)
    second = np.zeros(16000, np.float32)
    queued = []
    for i in range(12):  # a backlog of twelve 1 s utterances, both tracks
        queued.append(_job(busy, i, second, "agent" if i % 2 else "customer"))
    for s in (quiet, other, unknown):
        queued += [_job(s, 0, second), _job(s, 1, second)]
    for job in queued:
        scheduler.put(job)

    served = []
    while scheduler:
        for window in scheduler.take(calls=1):
            served.append(window)
    assert scheduler.pending() == 0
    assert sorted(id(j) for w in served for j in w) == sorted(id(j) for j in queued)
    for window in served:
        assert len({id(j.session) for j in window}) == 1, "a window holds one call"
        assert sum(j.seconds + 1.0 for j in window) <= 8.0
        indices = [j.utt.index for j in window]
        assert indices == sorted(indices), "a call's utterances in their order"
    first_round = [w[0].session for w in served[:4]]
    assert {id(s) for s in first_round} == {id(busy), id(quiet), id(other), id(unknown)}, (
        "every waiting call gets a window before a busy call gets its second"
    )
    assert max(len(w) for w in served if w[0].session is busy) == 4, "a backlog is packed"
    assert all(len(w) == 1 for w in served if w[0].session is unknown), (
        "a call of unknown language is decoded an utterance at a time"
    )
    for s in (busy, quiet, other, unknown):
        streaming._forget(s)


def test_scheduler_batches_calls_only_as_separate_windows(streaming):
    a, b, c, zh = _sessions(streaming, ["en", "en", "en", "zh"])
    scheduler = AsrScheduler(pack_max_s=24.0, pack_gap_s=1.0)
    second = np.zeros(16000, np.float32)
    for s in (a, b, zh, c):
        for i in range(3):
            scheduler.put(_job(s, i, second))
    batch = scheduler.take(calls=8)
    assert [w[0].session for w in batch] == [a, b], "one language per batch, calls in turn"
    for window in batch:
        assert len({id(j.session) for j in window}) == 1 and len(window) == 3
    assert [w[0].session for w in scheduler.take(calls=8)] == [zh]
    assert [w[0].session for w in scheduler.take(calls=8)] == [c]
    for s in (a, b, c, zh):
        streaming._forget(s)


def test_an_utterance_that_decides_an_alert_goes_to_the_head_of_the_line(streaming):
    a, b, c = _sessions(streaming, ["en", "en", "en"])
    scheduler = AsrScheduler(pack_max_s=2.0, pack_gap_s=1.0)  # one 1 s utterance per window
    second = np.zeros(16000, np.float32)
    for s in (a, b, a, b):
        scheduler.put(_job(s, 0, second))
    scheduler.put(_job(c, 0, second), urgent=True)
    order = []
    while scheduler:
        (window,) = scheduler.take(calls=1)
        order.append(window[0].session.call_id)
    assert order == [c.call_id, a.call_id, b.call_id, a.call_id, b.call_id]
    for s in (a, b, c):
        streaming._forget(s)


# --- the batched decoder: calls as rows of one batch --------------------------------------------


def test_batched_rows_give_each_call_only_its_own_words(streaming, settings):
    """The CUDA path (several calls' windows decoded together) run on the CPU with the batched
    pipeline: each row's words come back to its own call."""
    from calmline.models.asr_whisper import WhisperOptions, WhisperTranscriber

    own = _own_words()
    transcriber = WhisperTranscriber(
        WhisperOptions(batched=True, cache_dir=settings.cache_dir, cpu_threads=2)
    )
    worker = AsrWorker(transcriber, StreamingOptions())
    assert worker.batch_calls > 1
    sessions = _sessions(streaming, ["en"] * len(CLIPS))
    windows = [
        [_job(s, 0, _speech(name)), _job(s, 1, _speech(name)[: 16000 * 3], "customer")]
        for s, name in zip(sessions, CLIPS, strict=True)
    ]
    results = worker._transcribe(windows)
    heard = {}
    for name, window, result in zip(CLIPS, windows, results, strict=True):
        words = [w for (ws, error), job in zip(result, window, strict=True) for w in ws]
        assert all(error is None for _, error in result)
        for (ws, _), job in zip(result, window, strict=True):
            assert all(job.utt.start <= w.start <= w.end <= job.utt.end for w in ws)
        heard[name] = _words(" ".join(w.text for w in words))
    assert _crossings(heard, own) == {name: set() for name in CLIPS}
    for name in CLIPS:
        assert heard[name] & own[name], f"{name}: none of its own words heard: {heard[name]}"
    for s in sessions:
        streaming._forget(s)


# --- a real server, three calls at once ---------------------------------------------------------


def _call_wav(name: str, rate: int = 8000) -> WavData:
    """A two-channel 8 kHz PCM16 call of one recording (interleaved samples, as a client sends
    them): the agent says it, a second later the customer says it, then the agent once more."""
    x = resample(_speech(name), 16000, rate)
    pad = np.zeros(rate // 2, np.float32)
    n = x.shape[0]
    agent = np.concatenate([pad, x, np.zeros(n + rate, np.float32), x, pad])
    customer = np.concatenate(
        [pad, np.zeros(n + rate, np.float32), x, np.zeros(n, np.float32), pad]
    )
    pcm = (np.clip(np.stack([agent, customer]), -1, 1) * 32767).astype("<i2")
    return WavData(shared_data("asr", "en", CLIPS[name]), rate, 2, "pcm16", pcm.T.tobytes())


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    data = tmp_path_factory.mktemp("isolation")
    # three calls sent faster than real time: on a loaded machine the recogniser falls behind
    # and would shed the newest call's live transcript (tested in test_live_degrade); the test
    # is of isolation, so every call stays followed
    env = {
        "CALMLINE_LIVE__MAX_CALLS": "4",
        "CALMLINE_PRIVACY__REDACT": "false",
        "CALMLINE_LIVE__POST_CALL_BATCH": "false",
        "CALMLINE_LIVE__MAX_ASR_LAG_S": "0",
    }
    with CalmlineServer(data / "data", cache_dir, env=env) as srv:
        yield srv


async def _three_calls(server, key):
    ws = server.base_url.replace("http://", "ws://") + "/api/v1/live/ingest"
    feed: list[dict] = []
    ready = asyncio.Event()
    reader = asyncio.create_task(
        sse_events(server.base_url + "/api/v1/live/events", key, feed, ready)
    )
    await asyncio.wait_for(ready.wait(), 30)
    streams = [
        stream_raw(
            ws, _call_wav(name), call_id=f"iso-{name}", agent_id="a1", key=key, language="en"
        )
        for name in CLIPS
    ]
    results = await asyncio.gather(*streams)  # all three at once, as fast as the server reads
    await asyncio.sleep(1.0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    return results, feed


def test_concurrent_calls_never_get_each_others_words(server):
    own = _own_words()
    results, feed = asyncio.run(_three_calls(server, server.key("supervisor")))
    for r in results:
        assert not r.errors and r.stopped, (r.call_id, r.messages[-3:])
    heard = {name: set() for name in CLIPS}
    tracks = {name: set() for name in CLIPS}
    for e in feed:
        if e.get("type") == "transcript" and e["call_id"].startswith("iso-"):
            name = e["call_id"].removeprefix("iso-")
            heard[name] |= _words(e["data"]["text"])
            tracks[name].add(e["data"]["role"])
    assert _crossings(heard, own) == {name: set() for name in CLIPS}, heard
    for name in CLIPS:
        assert heard[name] & own[name], f"{name}: none of its own words heard: {heard[name]}"
        assert tracks[name] == {"agent", "customer"}, f"{name}: both parties transcribed"


# --- live alerts on the batch rules -------------------------------------------------------------


def _place(track: np.ndarray, x: np.ndarray, at_s: float, gain: float = 1.0) -> None:
    a = round(at_s * 16000)
    track[a : a + x.shape[0]] += gain * x


def cut(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return x[round(a * 16000) : round(b * 16000)]


def _rule_call() -> tuple[np.ndarray, dict[str, float]]:
    """A two-channel 16 kHz call of real speech (customer: the LibriSpeech sentence, agent:
    JFK's line) where the agent comes in over the customer near the interruption rule's limits,
    and says a last line 10 dB louder than the others to a calm customer. Returns the samples
    and the agent's onsets by case."""
    customer_speech, agent_speech = _speech("libri"), _speech("jfk")
    customer = np.zeros(40 * 16000, np.float32)
    agent = np.zeros_like(customer)
    onsets = {}
    # over the customer's last words (JFK's line opens with 0.3 s of silence), then on for 2 s:
    # an overlap near min_overlap_s
    _place(customer, cut(customer_speech, 0, 4), 0.5)
    onsets["short_overlap"] = 4.0
    _place(agent, cut(agent_speech, 0, 2.5), 4.0)
    # 0.8 s of words inside the customer's speech: shorter than a stretch that takes the floor
    _place(customer, cut(customer_speech, 4, 8.7), 8.0)
    onsets["short_speech"] = 10.0
    _place(agent, cut(agent_speech, 0, 0.8), 10.0)
    # 2.5 s over the customer's speech: an interruption by every rule
    _place(customer, cut(customer_speech, 0, 4), 15.0)
    onsets["interruption"] = 16.5
    _place(agent, cut(agent_speech, 3.0, 6.0), 16.5)
    # the agent's turns alone, the last one 10 dB louder, the customer calm in between
    _place(customer, cut(customer_speech, 4, 8.7), 21.0)
    _place(agent, cut(agent_speech, 6.0, 11.0), 26.5)
    _place(customer, cut(customer_speech, 0, 4), 32.0)
    onsets["louder"] = 36.5
    _place(agent, cut(agent_speech, 0, 2.5), 36.5, gain=10 ** (10 / 20))
    return np.clip(np.stack([agent, customer]), -1, 1), onsets


def test_live_alerts_are_the_stored_reports_findings(streaming):
    """Every live interruption and louder/faster alert is a finding of the stored report, made
    by the same rule (``docs/interruptions.md``; ``let_finish``'s baseline, thresholds and
    agitation condition), and every interruption of the report was alerted live."""
    from tests.test_streaming import _stream

    x, onsets = _rule_call()
    report, events, _ = _stream(
        streaming, "rules-live", x, 16000, "float32", {"agent": "agent", "customer": "customer"}
    )
    findings = [f for p in report.scorecard.practices for f in p.findings]
    found = sorted(f.start for f in findings if f.kind == "interruption")
    withdrawn = {e.data["agent_start"] for e in events if e.type == "alert_withdrawn"}
    alerted = sorted(
        e.data["agent_start"]
        for e in events
        if e.type == "interruption" and e.data["agent_start"] not in withdrawn
    )
    assert alerted == pytest.approx(found, abs=0.01)
    assert len(found) == 1 and found[0] == pytest.approx(onsets["interruption"], abs=0.5)
    for e in events:
        if e.type == "interruption":
            assert e.data["overlap_s"] >= e.data["min_overlap_s"]
    # told by sound while the agent was still talking, before any of their words were in
    (alert,) = [e for e in events if e.type == "interruption"]
    assert alert.data["basis"] == "sound" and alert.data["agent_end"] is None
    stretch_end = max(t.end for t in report.turns if abs(t.start - onsets["interruption"]) < 0.5)
    assert alert.data["utterance_end"] < stretch_end - 1.0
    first_words = next(
        e
        for e in events
        if e.type == "transcript"
        and e.data["role"] == "agent"
        and abs(e.data["start"] - onsets["interruption"]) < 0.5
    )
    assert alert.seq < first_words.seq
    # the louder line is louder than the agent's median turn by more than louder_db, but the
    # customer is calm: neither the report nor the live feed holds it
    louder_turn = next(t for t in report.turns if abs(t.start - onsets["louder"]) < 0.5)
    assert louder_turn.metrics.loudness_rel_db >= 4.0
    kinds = {"louder", "faster"}
    assert [f for f in findings if f.kind in kinds] == []
    assert [e for e in events if e.type in ("agent_louder", "agent_faster")] == []
