"""Calibrate the rubric thresholds on real conversations: score distributions and percentiles.

    .venv/bin/python bench/calibrate.py [--data ../shared/data] [--limit N] [--split tune|eval|all]
                                        [--json OUT] [--calls-only] [--audio]

Two kinds of real data (``../shared/data``, see its README):

* **Harper Valley bank calls** (six real two-channel telephone calls, competent agents on routine
  tasks): each call is built from its *human* transcript and timings, no ASR. A segment of the
  transcript (``speaker_role``, ``start_ms``, ``duration_ms``, ``human_transcript``) becomes a
  speech segment on its side's channel (agent 0, caller 1); its words take the corpus' machine
  word timings when the human transcript has as many words as the machine one, and are spread
  evenly over the segment otherwise; every word has probability 1 (a human transcript). The two
  8 kHz channels are read from ``audio/`` (the shorter one padded with silence), so loudness and
  pitch are measured on the real audio. The call then goes through the pipeline's own
  ``BatchPipeline.assemble_report`` (turns, measurements, scoring with the default rubric) with
  the channel map as the role assignment. ``--audio`` also runs the full pipeline (VAD, Whisper)
  on the stereo call (slow: minutes per call on two CPU cores).
* **Customer-service dialogues** (MUSIED, STC-3 zh and en, MobileCS; loaders of
  ``bench/text_eval.py``): scored whole by :func:`calmline.monitor.scoring.score_report` with
  synthetic times (4 characters/s, 2.5 words/s), for the text-only practices and quantities
  (acknowledgement rate, courtesy share). The dialogues are split in two halves by a hash of
  their id (as in ``text_eval.py``); the thresholds were chosen on ``--split tune`` and the
  ``eval`` half is printed to show the percentiles hold.

Printed: per data set the overall and per-practice score distributions, the percentiles (min,
5, 10, 25, 50, 75, 90, 95, max) of each threshold quantity, and for the calls every finding that
costs points, so a reader can judge them against ``PRACTICES.md``.

Results (the thresholds they chose, with their figures, are comments in the rubrics; the
whole account is in ``bench/TEXT_EVAL.md``): the six Harper Valley calls score 96.2-100 from
their human transcripts (57-71 before the calibration and the applicability rules); agent
articulation 3.9-6.9 syllables/s (p50 5.3), calm callers' turn agitation at most 0.58;
acknowledgement rate p50 0 on real problem dialogues (p25 0.7-1.1 per minute among the agents
who acknowledge); courtesy share p5-p10 33-60 %.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calmline.monitor.audio import audio_from_array, load_audio
from calmline.monitor.measure import count_units
from calmline.monitor.roles import roles_from_channels, roles_from_cues
from calmline.monitor.rubric import Rubric, default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.settings import Settings
from calmline.monitor.types import (
    FAULT_SEVERITIES,
    Audio,
    CallReport,
    Role,
    SpeechSegment,
    Word,
)

REPO = Path(__file__).resolve().parents[1]
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
COLUMNS = ("min", *(f"p{p}" for p in PERCENTILES), "max")
AGENT_CHANNEL = 0
"""Harper Valley: the agent's side is put on channel 0, the caller's on channel 1."""
MIN_RATE_UNITS = 4
"""Turns with fewer words than this give no rate (as ``clear_speech`` judges them)."""
_NOISE_TAG = re.compile(r"\[[^\]]*\]")


def _text_eval():
    """``bench/text_eval.py`` as a module (its loaders and dialogue-to-call conversion)."""
    name = "calmline_bench_text_eval"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "text_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- Harper Valley calls from their human transcripts ---------------------------------------


@dataclass(frozen=True, slots=True)
class HumanCall:
    """One Harper Valley call as the pipeline's analysis stage takes it."""

    call_id: str
    audio: Audio
    segments: tuple[SpeechSegment, ...]
    words_by_channel: dict[int | None, tuple[Word, ...]]


def harper_valley_ids(data: Path) -> list[str]:
    """The call ids under ``calls/harper_valley/transcript``."""
    folder = data / "calls" / "harper_valley" / "transcript"
    return sorted(p.stem for p in folder.glob("*.json"))


def segment_words(segment: dict, where: str) -> tuple[float, float, list[Word]]:
    """(start s, end s, words) of one transcript segment: the human transcript's words at the
    machine word timings when both have as many words, else spread evenly over the segment.

    Raises:
        ValueError: a segment without ``start_ms`` / ``duration_ms`` (named by ``where``).
    """
    try:
        start = float(segment["start_ms"]) / 1000.0
        end = start + float(segment["duration_ms"]) / 1000.0
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{where}: segment without a numeric start_ms / duration_ms") from e
    tokens = _NOISE_TAG.sub(" ", segment.get("human_transcript") or "").split()
    offsets = segment.get("word_offsets_ms") or []
    durations = segment.get("word_durations_ms") or []
    if tokens and len(tokens) == len(offsets) == len(durations):
        spans = [
            (start + o / 1000.0, min(end, start + (o + d) / 1000.0))
            for o, d in zip(offsets, durations, strict=True)
        ]
        # the segment holds pauses (71-98 % of it is speech): like a VAD, keep the spoken span
        start, end = min(a for a, _ in spans), max(b for _, b in spans)
    else:
        step = (end - start) / max(len(tokens), 1)
        spans = [(start + k * step, start + (k + 1) * step) for k in range(len(tokens))]
    words = [
        Word(round(a, 3), round(max(a, b), 3), tok, 1.0)
        for tok, (a, b) in zip(tokens, spans, strict=True)
    ]
    return start, end, words


def harper_valley_call(data: Path, call_id: str) -> HumanCall:
    """The call ``call_id``: both channels of real audio, segments and words from the human
    transcript (agent on channel 0)."""
    root = data / "calls" / "harper_valley"
    path = root / "transcript" / f"{call_id}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable transcript ({e})") from e
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of segments, got {type(raw).__name__}")
    sides = [load_audio(root / "audio" / side / f"{call_id}.wav") for side in ("agent", "caller")]
    n = max(a.samples.shape[1] for a in sides)
    stereo = np.zeros((2, n), dtype=np.float32)
    for i, a in enumerate(sides):
        stereo[i, : a.samples.shape[1]] = a.samples[0]
    audio = audio_from_array(stereo, sides[0].sample_rate, name=f"harper_valley/{call_id}")
    segments, words = [], {0: [], 1: []}
    for k, s in enumerate(raw):
        role = s.get("speaker_role")
        if role not in ("agent", "caller"):
            raise ValueError(f"{path}: segment {k} has speaker_role {role!r}, not agent/caller")
        start, end, ws = segment_words(s, f"{path}: segment {k}")
        if not ws:
            continue
        channel = AGENT_CHANNEL if role == "agent" else 1 - AGENT_CHANNEL
        end = min(end, audio.duration)
        segments.append(
            SpeechSegment(round(start, 3), round(end, 3), f"channel_{channel}", channel)
        )
        words[channel].extend(ws)
    segments.sort(key=lambda s: (s.start, s.end))
    return HumanCall(
        call_id,
        audio,
        tuple(segments),
        {c: tuple(sorted(ws, key=lambda w: w.start)) for c, ws in words.items()},
    )


def human_report(call: HumanCall, settings: Settings | None = None) -> CallReport:
    """The scored report of ``call`` through the pipeline's ``assemble_report`` (turns,
    measurements, default English rubric), roles from the channel map."""
    from calmline.pipelines.batch import BatchPipeline

    pipeline = BatchPipeline(settings or Settings())
    roles = roles_from_channels({0: "channel_0", 1: "channel_1"}, AGENT_CHANNEL)
    return pipeline.assemble_report(
        call.audio,
        list(call.segments),
        call.words_by_channel,
        roles,
        call_id=call.call_id,
        language="en",
        language_probability=None,
        attribution="channels",
        models_used=[],
        warnings=[],
    )


def cue_role_confidence(call: HumanCall) -> float:
    """The role confidence a mono recording of ``call`` would get from opening cues (the
    human words, attributed by segment), 0 when the cues pick the caller as the agent."""
    words = sorted((w for ws in call.words_by_channel.values() for w in ws), key=lambda w: w.start)
    mono = [SpeechSegment(s.start, s.end, s.speaker, None) for s in call.segments]
    roles = roles_from_cues(mono, words, "en")
    agent = f"channel_{AGENT_CHANNEL}"
    return roles.confidence if roles.roles.get(agent) is Role.AGENT else 0.0


def audio_report(data: Path, call_id: str, settings: Settings | None = None) -> CallReport:
    """The full pipeline (VAD, Whisper, turns, scoring) on the call as a stereo file."""
    import tempfile

    from calmline.monitor.audio import write_wav
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    call = harper_valley_call(data, call_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_wav(call.audio.samples, call.audio.sample_rate, Path(tmp) / f"{call_id}.wav")
        pipeline = BatchPipeline(settings or Settings())
        return pipeline.analyze(
            path, AnalyzeRequest(language="en", agent_channel=AGENT_CHANNEL, call_id=call_id)
        )


# --- what a report says about each threshold ------------------------------------------------


def call_quantities(report: CallReport) -> dict[str, list[float]]:
    """Threshold quantities of one scored report (name -> values; per turn where the threshold
    judges turns, one value where it judges the call)."""
    q: dict[str, list[float]] = defaultdict(list)
    sc = report.scorecard
    agents = [t for t in report.turns if t.role is Role.AGENT]
    for t in agents:
        m = t.metrics
        if m is None:
            continue
        if count_units(t.words, report.language) >= MIN_RATE_UNITS:
            if m.articulation_rate is not None:
                q["agent_turn_articulation_rate"].append(m.articulation_rate)
            if m.speech_rate is not None:
                q["agent_turn_speech_rate"].append(m.speech_rate)
        if m.loudness_dbfs is not None:
            q["agent_turn_loudness_dbfs"].append(m.loudness_dbfs)
        if m.loudness_rel_db is not None:
            q["agent_turn_loudness_rel_db"].append(m.loudness_rel_db)
        if m.mean_word_prob is not None:
            q["agent_turn_mean_word_prob"].append(m.mean_word_prob)
    for s in report.metrics.speakers:
        if s.role is Role.AGENT and s.articulation_rate is not None:
            q["agent_articulation_rate"].append(s.articulation_rate)
    by_speaker = {s.speaker: s for s in report.metrics.speakers}
    for t in agents:
        mine, m = by_speaker.get(t.speaker), t.metrics
        if mine is None or m is None or count_units(t.words, report.language) < MIN_RATE_UNITS:
            continue
        if m.articulation_rate and mine.articulation_rate:
            q["agent_turn_rate_ratio"].append(m.articulation_rate / mine.articulation_rate)
    previous = None
    for t in sorted(report.turns, key=lambda t: t.start):
        if t.role is Role.AGENT and previous is not None and previous.role is Role.CUSTOMER:
            # how far the agent starts inside the customer's turn (<= 0: after it ended)
            q["agent_start_overlap_s"].append(round(previous.end - t.start, 3))
        previous = t
    if report.metrics.talk_ratio is not None:
        q["talk_ratio"].append(report.metrics.talk_ratio)
    if sc is None:
        return q
    if sc.stress is not None and sc.stress.turns:
        q["customer_stress_peak"].append(max(t.agitation for t in sc.stress.turns))
        q["customer_turn_agitation"].extend(t.agitation for t in sc.stress.turns)
    for p in sc.practices:
        for f in p.findings:
            if f.kind == "ack_rate" and f.value is not None:
                q["ack_rate_per_min"].append(f.value)
                if f.value > 0:
                    q["ack_rate_per_min_if_any"].append(f.value)
            if f.kind == "courtesy_share" and f.value is not None:
                q["courtesy_share_pct"].append(f.value)
    return q


def faults(report: CallReport) -> list[str]:
    """Every finding that costs points, and every coaching sentence, as lines to read."""
    out = []
    for p in report.scorecard.practices:
        for f in p.findings:
            if f.severity in FAULT_SEVERITIES:
                at = "call" if f.start is None else f"{f.start:6.1f}s"
                out.append(f"  {p.practice:<28} {f.kind:<24} {at:>7} | {f.detail} | {f.quote[:70]}")
        if p.coaching:
            out.append(f"  {p.practice:<28} coaching: {p.coaching}")
    return out


# --- distributions ----------------------------------------------------------------------------


@dataclass
class Collected:
    """Scores and quantities gathered over the calls of one data set."""

    calls: int = 0
    overall: list[float] = None  # type: ignore[assignment]
    scores: dict[str, list[float]] = None  # type: ignore[assignment]
    not_judged: dict[str, int] = None  # type: ignore[assignment]
    quantities: dict[str, list[float]] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.overall = []
        self.scores = defaultdict(list)
        self.not_judged = defaultdict(int)
        self.quantities = defaultdict(list)

    def add(self, report: CallReport) -> None:
        self.calls += 1
        sc = report.scorecard
        self.overall.append(sc.overall)
        for p in sc.practices:
            if p.score is None:
                self.not_judged[p.practice] += 1
            else:
                self.scores[p.practice].append(p.score)
        for k, v in call_quantities(report).items():
            self.quantities[k].extend(v)

    def summary(self) -> dict:
        return {
            "calls": self.calls,
            "overall": percentiles(self.overall),
            "scores": {k: percentiles(v) for k, v in sorted(self.scores.items())},
            "not_judged": dict(sorted(self.not_judged.items())),
            "quantities": {k: percentiles(v) for k, v in sorted(self.quantities.items())},
        }


def percentiles(values: Iterable[float]) -> dict:
    """n, mean and the :data:`PERCENTILES` of ``values`` (linear interpolation)."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    out = {"n": int(v.size), "mean": round(float(v.mean()), 3), "min": round(float(v.min()), 3)}
    for p in PERCENTILES:
        out[f"p{p}"] = round(float(np.percentile(v, p)), 3)
    out["max"] = round(float(v.max()), 3)
    return out


def text_reports(data: Path, split: str, limit: int | None) -> Iterator[tuple[str, CallReport]]:
    """(data set, scored report) of every dialogue of the text data sets in ``split``."""
    te = _text_eval()
    rubrics: dict[str, Rubric] = {lang: default_rubric(lang) for lang in ("zh", "en")}
    sources = {
        "musied": lambda: te.musied(data),
        "stc3_zh": lambda: te.stc3(data, "zh"),
        "stc3_en": lambda: te.stc3(data, "en"),
        "mobilecs": lambda: te.mobilecs(data),
    }
    for name, read in sources.items():
        n = 0
        for d in read():
            if not te.in_split(te.split_key(d), split):
                continue
            if limit is not None and n >= limit:
                break
            n += 1
            yield name, score_report(te.to_report(d), rubrics[d.language])


def print_summary(name: str, s: dict) -> None:
    heads = "".join(f"{k:>8}" for k in COLUMNS)
    print(f"\n=== {name}: {s['calls']} calls ===")
    print(f"{'':<30}{'n':>6}{'mean':>8}{heads}")

    def row(label: str, d: dict) -> None:
        if not d.get("n"):
            return
        cells = "".join(f"{d[k]:>8.3g}" for k in COLUMNS)
        print(f"{label[:30]:<30}{d['n']:>6}{d['mean']:>8.3g}{cells}")

    row("overall", s["overall"])
    for k, d in s["scores"].items():
        row(f"score {k}", d)
    for k, d in s["quantities"].items():
        row(k, d)
    if s["not_judged"]:
        print("not judged: " + ", ".join(f"{k} {n}" for k, n in s["not_judged"].items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--split", choices=("tune", "eval", "all"), default="tune")
    parser.add_argument("--limit", type=int, default=None, help="dialogues per text data set")
    parser.add_argument("--calls-only", action="store_true", help="only the Harper Valley calls")
    parser.add_argument("--audio", action="store_true", help="also the full pipeline (slow)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "calls" / "harper_valley").exists():
        print(f"no evaluation data under {args.data}", file=sys.stderr)
        return 2
    out: dict = {"split": args.split, "sets": {}, "calls": {}}

    hv = Collected()
    t0 = time.perf_counter()
    for call_id in harper_valley_ids(args.data):
        call = harper_valley_call(args.data, call_id)
        report = human_report(call)
        hv.add(report)
        hv.quantities["role_confidence_from_cues"].append(cue_role_confidence(call))
        sc = report.scorecard
        per = {p.practice: p.score for p in sc.practices}
        out["calls"][call_id] = {"overall": sc.overall, "practices": per, "faults": faults(report)}
        print(f"\n--- harper_valley {call_id}: overall {sc.overall} (uncapped {sc.uncapped})")
        print("  " + ", ".join(f"{k} {'—' if v is None else v}" for k, v in per.items()))
        print("\n".join(faults(report)))
    out["sets"]["harper_valley_human"] = hv.summary()
    print_summary(
        f"harper_valley (human transcripts, {time.perf_counter() - t0:.1f} s)", hv.summary()
    )

    if args.audio:
        full = Collected()
        for call_id in harper_valley_ids(args.data):
            report = audio_report(args.data, call_id)
            full.add(report)
            print(f"\n--- harper_valley {call_id} (full pipeline): {report.scorecard.overall}")
            print("\n".join(faults(report)))
        out["sets"]["harper_valley_audio"] = full.summary()
        print_summary("harper_valley (full pipeline)", full.summary())

    if not args.calls_only:
        sets: dict[str, Collected] = defaultdict(Collected)
        t0 = time.perf_counter()
        for name, report in text_reports(args.data, args.split, args.limit):
            sets[name].add(report)
        print(f"\n(text dialogues scored in {time.perf_counter() - t0:.1f} s, split {args.split})")
        for name, c in sets.items():
            out["sets"][name] = c.summary()
            print_summary(f"{name} (split {args.split})", c.summary())
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
