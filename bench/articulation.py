"""Rates, levels and the count of voices, measured against real recordings' references.

Data: ``../shared/data`` (see its README).

**Articulation rate.** The six Harper Valley calls recorded as a PBX does (agent on channel 0,
caller on channel 1, 8 kHz G.711 mu-law: ``bench/pbx.py``) go through the full pipeline. Each
turn with an articulation rate is matched to the human transcript's segments of the same side
whose middle lies inside it (0.3 s slack); the reference rate is the syllables of their human
text (:func:`calmline.monitor.measure.count_syllables`, ``[noise]``-style tags dropped) over
their phonation time: segment durations less the gaps over 0.25 s between the transcript's word
timings. Reported: the median relative error of the pipeline's rate against the reference, per
call and pooled; the same for the rate the recogniser's word timestamps give
(:func:`~calmline.monitor.measure.phonation_time`, the measure used before); phonation time alone
against the reference; the clear_speech rate findings (``too_fast``, ``too_slow``) on the calls.

**Levels and pitch.** The reference segments are measured as turns of their own (same
:func:`~calmline.monitor.measure.measure`, same audio): a pipeline turn's loudness relative to
the speaker's median turn and its F0 relative to the speaker's baseline are compared with those
of the reference turn it overlaps most (median absolute difference, dB and semitones), and the
clear_speech level findings (``too_quiet``, ``mumbling``) are counted.

**Mandarin.** No real Mandarin call with human timing is in the data: the 50 MagicData read
sentences, each one turn with its reference text, give the range of the signal-based rate in
characters per second against the Mandarin rubric's band.

**Speaker count.** The embedded diarizer, count estimated between 1 and 2 (the default), on
one-voice recordings - every ``asr/en`` and ``asr/zh`` file, ten MagicData groups of five
consecutive utterances of its one reader (23-32 s), each of these also through 8 kHz mu-law,
and each Harper Valley side alone (one real caller or agent, 8 kHz) - and on two-voice
recordings: the pyannote sample and the six Harper Valley calls summed to one 8 kHz mu-law
channel. Held out (not used to choose the threshold): AMI excerpts cut by their RTTM into each
speaker's solo speech (at least 4 s) and into two speakers' solo speech in call order; and
each Harper Valley call on one 8 kHz mu-law channel with one side silenced after its first
3 s or 6 s of human-transcribed speech (a party who says little).

**Mono DER.** The six Harper Valley calls summed to one 8 kHz mu-law channel, the embedded
diarizer with the default settings (count estimated 1-2); reference: the transcript segments
(``[noise]``-only segments dropped), roles as speakers; ``pyannote.metrics``, overlap scored,
collars 0 and 0.25 s (total width).

    .venv/bin/python bench/articulation.py [--data ../shared/data]
                                           [--only rate,zh,count,der] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SR = 16_000
MATCH_SLACK_S = 0.3
"""A reference segment belongs to a turn when its middle lies this close to the turn or inside."""
PAUSE_S = 0.25
"""Gaps between the transcript's word timings longer than this are pauses (as in measure)."""
_TAG = re.compile(r"\[[^\]]*\]")


def _bench_module(name: str):
    """Another script of ``bench/`` as a module."""
    spec = importlib.util.spec_from_file_location(
        f"calmline_bench_{name}", REPO / "bench" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- reference timing --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefSegment:
    """One human-transcribed segment of a Harper Valley call."""

    role: str
    """``agent`` or ``customer``."""
    start: float
    end: float
    text: str
    phonation: float
    """Duration less the pauses (> 0.25 s) between the transcript's word timings (s)."""
    syllables: int


def reference_segments(data: Path, call_id: str) -> list[RefSegment]:
    """The human segments of a call, ``[noise]``-only ones left out."""
    from calmline.monitor.measure import count_syllables

    path = data / "calls" / "harper_valley" / "transcript" / f"{call_id}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable Harper Valley transcript ({e})") from e
    out = []
    for s in raw:
        text = _TAG.sub(" ", s["human_transcript"]).strip()
        if not text:
            continue
        offs, durs = s.get("word_offsets_ms") or [], s.get("word_durations_ms") or []
        gaps = [offs[i + 1] - (offs[i] + durs[i]) for i in range(len(offs) - 1)]
        pauses = sum(g for g in gaps if g > PAUSE_S * 1000) / 1000
        start = s["start_ms"] / 1000
        end = start + s["duration_ms"] / 1000
        out.append(
            RefSegment(
                role="agent" if s["speaker_role"] == "agent" else "customer",
                start=start,
                end=end,
                text=text,
                phonation=end - start - pauses,
                syllables=sum(count_syllables(w) for w in text.split()),
            )
        )
    return out


def matched(turn, refs: list[RefSegment]) -> list[RefSegment]:
    """Reference segments of the turn's side whose middle lies in the turn (with slack)."""
    role = str(turn.role)
    lo, hi = turn.start - MATCH_SLACK_S, turn.end + MATCH_SLACK_S
    return [r for r in refs if r.role == role and lo <= (r.start + r.end) / 2 <= hi]


# -- articulation rate, levels, pitch ----------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 4) if values else None


def evaluate_rates(data: Path, codec: str = "mulaw") -> dict[str, Any]:
    """Rates, levels and findings of the full pipeline on the Harper Valley calls."""
    from calmline.monitor.measure import (
        MeasureOptions,
        count_units,
        measure,
        phonation_time,
    )
    from calmline.monitor.settings import Settings
    from calmline.monitor.types import Role, Turn
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    pbx = _bench_module("pbx")
    pipeline = BatchPipeline(Settings.load(asr={"cpu_threads": 1}))
    options = MeasureOptions()
    calls, pooled = [], {"rate": [], "words": [], "phonation": [], "loud": [], "f0": []}
    findings: dict[str, list[dict[str, Any]]] = {}
    for call_id in pbx.call_ids(data):
        audio = pbx.encode_call(pbx.load_call(data, call_id), codec)
        refs = reference_segments(data, call_id)
        t0 = time.perf_counter()
        report = pipeline.analyze_audio(audio, AnalyzeRequest(call_id=call_id, language="en"))
        seconds = time.perf_counter() - t0
        # the reference segments measured as turns of their own, for levels and pitch
        ref_turns = [
            Turn(
                i,
                r.role,
                Role(r.role),
                r.start,
                r.end,
                r.text,
                (),
                channel=0 if r.role == "agent" else 1,
            )
            for i, r in enumerate(refs)
        ]
        ref_measured, _ = measure(audio, ref_turns, "en", options)
        rows = []
        for turn in report.turns:
            mine = matched(turn, refs)
            m = turn.metrics
            if not mine or m is None:
                continue
            ref_rate = sum(r.syllables for r in mine) / max(sum(r.phonation for r in mine), 1e-9)
            units = count_units(turn.words, "en")
            word_phon = phonation_time(turn.words, options.pause_min_s)
            row: dict[str, Any] = {
                "start": turn.start,
                "role": str(turn.role),
                "text": turn.text,
                "rate": m.articulation_rate,
                "ref_rate": round(ref_rate, 3),
                "word_rate": round(units / word_phon, 3) if units and word_phon > 0 else None,
            }
            if m.articulation_rate is not None:
                row["error"] = round(m.articulation_rate / ref_rate - 1, 4)
                pooled["rate"].append(row["error"])
                if row["word_rate"] is not None:
                    row["word_error"] = round(row["word_rate"] / ref_rate - 1, 4)
                    pooled["words"].append(row["word_error"])
                phon = units / m.articulation_rate
                pooled["phonation"].append(phon / sum(r.phonation for r in mine) - 1)
            # levels and pitch against the reference turn it overlaps most
            best = max(ref_measured, key=lambda r: min(r.end, turn.end) - max(r.start, turn.start))
            same_side = str(best.role) == str(turn.role)
            rm = best.metrics
            if same_side and rm is not None:
                if m.loudness_rel_db is not None and rm.loudness_rel_db is not None:
                    pooled["loud"].append(abs(m.loudness_rel_db - rm.loudness_rel_db))
                if m.f0_rel_semitones is not None and rm.f0_rel_semitones is not None:
                    pooled["f0"].append(abs(m.f0_rel_semitones - rm.f0_rel_semitones))
            rows.append(row)
        practice = (
            next((p for p in report.scorecard.practices if p.practice == "clear_speech"), None)
            if report.scorecard
            else None
        )
        for f in practice.findings if practice else ():
            findings.setdefault(f.kind, []).append(
                {"call": call_id, "start": f.start, "value": f.value, "quote": f.quote}
            )
        errors = [r["error"] for r in rows if "error" in r]
        calls.append(
            {
                "call": call_id,
                "seconds": round(seconds, 2),
                "rated_turns": len(errors),
                "median_error": _median(errors),
                "median_abs_error": _median([abs(e) for e in errors]),
                "clear_speech": practice.score if practice else None,
                "turns": rows,
            }
        )
    return {
        "codec": codec,
        "calls": calls,
        "pooled": {
            "rated_turns": len(pooled["rate"]),
            "median_error": _median(pooled["rate"]),
            "median_abs_error": _median([abs(e) for e in pooled["rate"]]),
            "word_timestamps_median_error": _median(pooled["words"]),
            "word_timestamps_median_abs_error": _median([abs(e) for e in pooled["words"]]),
            "phonation_median_error": _median(pooled["phonation"]),
            "loudness_rel_median_abs_diff_db": _median(pooled["loud"]),
            "f0_rel_median_abs_diff_semitones": _median(pooled["f0"]),
        },
        "findings": {k: len(v) for k, v in findings.items()},
        "finding_list": findings,
    }


def print_rates(result: dict[str, Any]) -> None:
    print(f"\nArticulation rate, Harper Valley calls as 8 kHz {result['codec']} stereo")
    print(f"{'call':18s} {'rated':>5s} {'median err':>10s} {'|err|':>7s} {'clear_speech':>12s}")
    for c in result["calls"]:
        print(
            f"{c['call']:18s} {c['rated_turns']:5d} {_pct(c['median_error']):>10s} "
            f"{_pct(c['median_abs_error']):>7s} {c['clear_speech']!s:>12s}"
        )
    p = result["pooled"]
    print(
        f"pooled: {p['rated_turns']} turns, median error {_pct(p['median_error'])}, median |error| "
        f"{_pct(p['median_abs_error'])}; word timestamps: {_pct(p['word_timestamps_median_error'])}"
        f" / {_pct(p['word_timestamps_median_abs_error'])}; phonation vs reference "
        f"{_pct(p['phonation_median_error'])}"
    )
    print(
        f"levels: loudness vs speaker median, median |diff| "
        f"{p['loudness_rel_median_abs_diff_db']} dB; F0 vs baseline, median |diff| "
        f"{p['f0_rel_median_abs_diff_semitones']} semitones"
    )
    print(f"clear_speech findings: {result['findings'] or 'none'}")
    for kind, items in result["finding_list"].items():
        for f in items:
            print(
                f"  {kind:10s} {f['call'][:8]} {f['start']:6.2f}s {f['value']:>7} {f['quote'][:60]}"
            )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}%"


def evaluate_zh_rates(data: Path) -> dict[str, Any]:
    """Articulation rate (characters per second, from the signal) of the 50 MagicData read
    customer-service sentences, each one turn with its reference text: no human timing exists
    for them, so this is a range check against the Mandarin rubric's band, not an error."""
    from calmline.monitor.audio import load_audio
    from calmline.monitor.measure import measure
    from calmline.monitor.rubric import default_rubric
    from calmline.monitor.types import Role, Turn, Word

    root = data / "asr" / "zh" / "magicdata_customer_service_read"
    texts = {}
    for line in (root / "ProsodyLabeling" / "general.txt").read_text("utf-8").splitlines():
        key, _, text = line.partition("\t")
        if key.strip().isdigit():
            texts[key.strip()] = re.sub(r"#\d", "", text)
    rates = []
    for wav in sorted(root.rglob("*.wav")):
        if wav.stem in texts:
            audio = load_audio(wav)
            text = texts[wav.stem]
            turn = Turn(0, "A", Role.AGENT, 0.0, audio.duration, text, (Word(0.0, 1.0, text, 1),))
            (measured,), _ = measure(audio, [turn], "zh")
            if measured.metrics.articulation_rate is not None:
                rates.append(measured.metrics.articulation_rate)
    band = default_rubric("zh").practices["clear_speech"].thresholds
    lo, hi = band.get("articulation_min"), band.get("articulation_max")
    return {
        "sentences": len(rates),
        "percentiles_0_5_50_95_100": [
            round(float(v), 2) for v in np.percentile(rates, [0, 5, 50, 95, 100])
        ],
        "band": [lo, hi],
        "outside_band": sum(not lo <= r <= hi for r in rates),
    }


def print_zh_rates(result: dict[str, Any]) -> None:
    p = result["percentiles_0_5_50_95_100"]
    print(
        f"\nMandarin read sentences (MagicData, {result['sentences']}): articulation {p[0]}-{p[4]} "
        f"characters/s (p5 {p[1]}, median {p[2]}, p95 {p[3]}); {result['outside_band']} outside "
        f"the zh rubric band {result['band']}"
    )


# -- speaker count -----------------------------------------------------------------------------


def _mono(path: Path) -> np.ndarray:
    from calmline.monitor.audio import load_audio

    audio = load_audio(path)
    return audio.samples[0] if audio.channels == 1 else audio.mono()


def _join(parts: list[np.ndarray], gap_s: float) -> np.ndarray:
    gap = np.zeros(round(gap_s * SR), dtype=np.float32)
    out: list[np.ndarray] = []
    for p in parts:
        out += [p, gap]
    return np.concatenate(out[:-1]).astype(np.float32)


def telephone(x: np.ndarray) -> np.ndarray:
    """16 kHz float32 through 8 kHz G.711 mu-law and back to 16 kHz, as a phone line carries it."""
    from scipy.signal import resample_poly

    mu = 255.0
    y = np.clip(resample_poly(x, 1, 2), -1.0, 1.0)
    code = np.round(np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu) * 127) / 127
    y = np.sign(code) * np.expm1(np.abs(code) * np.log1p(mu)) / mu
    return resample_poly(y, 2, 1).astype(np.float32)


def one_voice_recordings(data: Path) -> list[tuple[str, np.ndarray]]:
    """Real recordings of one voice each (see the module docstring)."""
    pbx = _bench_module("pbx")
    out = []
    files = sorted((data / "asr" / "en").glob("*.*")) + sorted(
        p for p in (data / "asr" / "zh").glob("*.*") if p.is_file()
    )
    out += [(p.stem, _mono(p)) for p in files]
    waves = sorted((data / "asr" / "zh" / "magicdata_customer_service_read").rglob("*.wav"))
    for g in range(len(waves) // 5):
        out.append((f"magicdata_{g}", _join([_mono(w) for w in waves[5 * g : 5 * g + 5]], 0.5)))
    out += [(f"{name}_8k_mulaw", telephone(x)) for name, x in out]
    from scipy.signal import resample_poly

    for call_id in pbx.call_ids(data):
        call = pbx.load_call(data, call_id)
        for channel, side in enumerate(("agent", "caller")):
            x = resample_poly(call.samples[channel], 2, 1).astype(np.float32)
            out.append((f"hv_{side}_{call_id[:8]}", x))
    return out


def two_voice_recordings(data: Path) -> list[tuple[str, np.ndarray]]:
    """Real two-voice conversations on one channel (see the module docstring)."""
    from scipy.signal import resample_poly

    pbx = _bench_module("pbx")
    out = [("pyannote_sample", _mono(data / "diarization" / "pyannote_sample" / "sample.wav"))]
    for call_id in pbx.call_ids(data):
        call = pbx.load_call(data, call_id)
        mix = np.clip(call.samples.sum(axis=0), -1.0, 1.0)
        out.append((f"hv_{call_id[:8]}", telephone(resample_poly(mix, 2, 1).astype(np.float32))))
    return out


def one_side_short(call, refs: list[RefSegment], channel: int, seconds: float) -> np.ndarray | None:
    """A Harper Valley call summed to one 8 kHz mu-law channel (returned at 16 kHz) with side
    ``channel`` silenced after its first human segments that reach ``seconds`` of speech;
    ``None`` when that side never says that much."""
    from scipy.signal import resample_poly

    pbx = _bench_module("pbx")
    role = ("agent", "customer")[channel]
    spoken = 0.0
    for r in sorted((r for r in refs if r.role == role), key=lambda r: r.start):
        spoken += r.phonation
        if spoken >= seconds:
            x = call.samples.copy()
            x[channel, round(r.end * pbx.RATE) :] = 0.0
            mix = np.clip(x.sum(axis=0), -1.0, 1.0)
            return telephone(resample_poly(mix, 2, 1).astype(np.float32))
    return None


def one_side_short_recordings(
    data: Path, minor_s: tuple[float, ...] = (3.0, 6.0)
) -> list[tuple[str, np.ndarray]]:
    """Two-voice calls where one party says little: :func:`one_side_short` for each Harper
    Valley call, each side in turn and each amount of ``minor_s``."""
    pbx = _bench_module("pbx")
    out = []
    for call_id in pbx.call_ids(data):
        call = pbx.load_call(data, call_id)
        refs = reference_segments(data, call_id)
        for channel, role in enumerate(("agent", "customer")):
            for amount in minor_s:
                x = one_side_short(call, refs, channel, amount)
                if x is not None:
                    out.append((f"hv_{call_id[:8]}_{role}_{amount:.0f}s", x))
    return out


def ami_recordings(data: Path, min_solo_s: float = 4.0) -> tuple[list, list]:
    """Held-out one- and two-voice recordings cut from the AMI excerpts by their RTTM."""
    ami = data / "diarization" / "ami_dev"
    by_uri: dict[str, list[tuple[float, float, str]]] = {}
    for rttm in sorted(ami.glob("*.rttm")):
        for line in rttm.read_text(encoding="utf-8").splitlines():
            f = line.split()
            if f and f[0] == "SPEAKER":
                a = float(f[3])
                by_uri.setdefault(f[1], []).append((a, a + float(f[4]), f[7]))
    ones, twos = [], []
    for uri, segs in sorted(by_uri.items()):
        path = ami / f"{uri}.wav"
        if not path.exists():
            continue
        x = _mono(path)
        solo = sorted(_solo(segs))
        talk: dict[str, float] = {}
        for a, b, s in solo:
            talk[s] = talk.get(s, 0.0) + b - a
        top = sorted(talk, key=lambda s: -talk[s])

        def cut(who: list[str], x=x, solo=solo) -> np.ndarray:
            return _join([x[round(a * SR) : round(b * SR)] for a, b, s in solo if s in who], 0.3)

        ones += [(f"ami_{uri}_{s}", cut([s])) for s in top if talk[s] >= min_solo_s]
        if len(top) >= 2 and talk[top[1]] >= min_solo_s:
            twos.append((f"ami_{uri}_two", cut(top[:2])))
    return ones, twos


def _solo(segs: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The parts (over 0.3 s) of each speaker's segments that no other speaker overlaps."""
    out = []
    for a, b, s in segs:
        pieces = [(a, b)]
        for a2, b2, s2 in segs:
            if s2 == s or a2 >= b or b2 <= a:
                continue
            pieces = [
                p
                for c in pieces
                for p in ((c[0], min(c[1], a2)), (max(c[0], b2), c[1]))
                if p[1] - p[0] > 0.3
            ]
        out += [(p, q, s) for p, q in pieces]
    return out


def evaluate_count(data: Path) -> dict[str, Any]:
    """Speaker count (estimated 1-2) on one- and two-voice recordings."""
    from calmline.models.diarization_embedded import EmbeddedDiarizer

    diarizer = EmbeddedDiarizer()
    ami_ones, ami_twos = ami_recordings(data)
    groups = {
        "one_voice": (1, one_voice_recordings(data)),
        "two_voices": (2, two_voice_recordings(data)),
        "held_out_one_voice_ami": (1, ami_ones),
        "held_out_two_voices_ami": (2, ami_twos),
        "held_out_one_side_short": (2, one_side_short_recordings(data)),
    }
    out: dict[str, Any] = {}
    for group, (truth, recs) in groups.items():
        rows = []
        for name, x in recs:
            c = diarizer.diarize_counted(x, num_speakers=None, min_speakers=1, max_speakers=2)
            k = c.speaker_count
            rows.append(
                {
                    "name": name,
                    "seconds": round(x.size / SR, 1),
                    "count": k.count,
                    "method": k.method,
                    "cohesion": k.cohesion,
                    "confidence": k.confidence,
                }
            )
        right = sum(r["count"] == truth for r in rows)
        out[group] = {"truth": truth, "right": right, "total": len(rows), "recordings": rows}
    return out


def print_count(result: dict[str, Any]) -> None:
    print("\nSpeaker count (embedded, estimated between 1 and 2)")
    for group, g in result.items():
        cohesions = [r["cohesion"] for r in g["recordings"] if r["cohesion"] is not None]
        span = f"cohesion {min(cohesions):.3f}-{max(cohesions):.3f}" if cohesions else ""
        print(f"  {group:26s} {g['right']}/{g['total']} right  {span}")
        for r in g["recordings"]:
            if r["count"] != g["truth"]:
                print(f"    wrong: {r['name']} -> {r['count']} ({r['method']}, {r['cohesion']})")


# -- mono DER ----------------------------------------------------------------------------------


def evaluate_mono_der(data: Path) -> dict[str, Any]:
    """DER of the embedded diarizer (default count 1-2) on the calls summed to one channel."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from calmline.models.diarization_embedded import EmbeddedDiarizer
    from calmline.monitor.settings import Settings

    s = Settings.load().diarization
    diarizer = EmbeddedDiarizer()
    metrics = {c: DiarizationErrorRate(collar=c, skip_overlap=False) for c in (0.0, 0.25)}
    parts = {
        c: {"missed detection": 0.0, "false alarm": 0.0, "confusion": 0.0, "total": 0.0}
        for c in metrics
    }
    files = []
    for name, x in two_voice_recordings(data):
        if not name.startswith("hv_"):
            continue
        call_id = next(p for p in _bench_module("pbx").call_ids(data) if p.startswith(name[3:]))
        ref = Annotation(uri=name)
        for r in reference_segments(data, call_id):
            ref[Segment(r.start, r.end)] = r.role
        segs = diarizer.diarize(
            x, num_speakers=s.num_speakers, min_speakers=s.min_speakers, max_speakers=s.max_speakers
        )
        hyp = Annotation(uri=name)
        for seg in segs:
            hyp[Segment(seg.start, seg.end)] = seg.speaker
        row: dict[str, Any] = {"name": name, "speakers": len({g.speaker for g in segs})}
        for c, metric in metrics.items():
            d = metric(ref, hyp, detailed=True)
            for k in parts[c]:
                parts[c][k] += d[k]
            row[f"der_{c}"] = round(d["diarization error rate"], 4)
        files.append(row)
    pooled = {}
    for c, p in parts.items():
        total = max(p["total"], 1e-9)
        pooled[str(c)] = {
            "der": round(abs(metrics[c]), 4),
            "missed": round(p["missed detection"] / total, 4),
            "false_alarm": round(p["false alarm"] / total, 4),
            "confusion": round(p["confusion"] / total, 4),
        }
    return {"files": files, "pooled": pooled}


def print_mono_der(result: dict[str, Any]) -> None:
    print("\nMono DER, Harper Valley calls summed to one 8 kHz mu-law channel (count 1-2)")
    for f in result["files"]:
        print(
            f"  {f['name']:12s} speakers {f['speakers']}  "
            f"DER {f['der_0.0']:.3f} / {f['der_0.25']:.3f}"
        )
    for collar, p in result["pooled"].items():
        print(
            f"  pooled collar {collar}: DER {p['der']:.3f} (missed {p['missed']:.3f}, false alarm "
            f"{p['false_alarm']:.3f}, confusion {p['confusion']:.3f})"
        )


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--only", default="rate,zh,count,der", help="comma list: rate, zh, count, der"
    )
    parser.add_argument("--codec", default="mulaw", choices=("pcm", "mulaw", "alaw"))
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    if not (args.data / "calls" / "harper_valley").is_dir():
        print(f"{args.data}: no calls/harper_valley folder (the evaluation data)", file=sys.stderr)
        return 2
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    results: dict[str, Any] = {}
    if "rate" in only:
        results["rate"] = evaluate_rates(args.data, args.codec)
        print_rates(results["rate"])
    if "zh" in only:
        results["zh_rate"] = evaluate_zh_rates(args.data)
        print_zh_rates(results["zh_rate"])
    if "count" in only:
        results["count"] = evaluate_count(args.data)
        print_count(results["count"])
    if "der" in only:
        results["mono_der"] = evaluate_mono_der(args.data)
        print_mono_der(results["mono_der"])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
