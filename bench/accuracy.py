"""Accuracy of Calmline against references on real recordings: DER, WER/CER, interruptions.

Data: ``../shared/data`` (see its README): the pyannote tutorial sample and seven AMI excerpts
with RTTM references; English and Mandarin utterances with reference transcripts.

**Diarization (DER).** ``pyannote.metrics.DiarizationErrorRate``, overlapped speech scored, at
collar 0 and collar 0.25 s (pyannote's collar is the total width: +-0.125 s around every
reference boundary is not scored). Scored inside the UEM (AMI) or over the whole file (pyannote
sample). Backends:

* ``embedded`` (mono) on the mono files: the speaker count fixed at 2 (the phone-call default;
  pyannote sample only), estimated between 1 and 5, and the oracle count (AMI);
* ``pyannote`` (mono), when pyannote.audio imports here and a local pipeline directory is given
  with ``--pyannote-pipeline``; otherwise reported as skipped with the reason;
* ``channels`` (stereo) on two-channel mixes built from per-speaker material: the two speakers
  of a file who talk most each get a channel holding the recording wherever the reference says
  they talk (10 ms fades at the edges), and silence elsewhere; where both talk, both channels
  carry it, as crosstalk on a phone line does. Moments where any third speaker talks are
  silenced on both channels and left out of the scored region, and the reference keeps the two
  speakers only. Attribution is what the pipeline does with a stereo call: Silero VAD per
  channel, one speaker per channel.

**ASR (WER/CER).** The configured model (default ``bundled:base``) through Calmline's
transcriber with Calmline's VAD spans, language given. Normalisation: English - lower case,
everything but letters, digits and apostrophes becomes a space, spaces collapsed (numbers are
not spelled out). Mandarin - OpenCC t2s on both sides, then CJK ideographs, ASCII letters and
digits only, letters lower-cased; MagicData references lose their ``#1``-``#4`` prosody marks.
Totals are pooled (edits / reference length over the set).

**Interruptions (precision / recall).** The full pipeline (ASR, turns, let_finish detector) on
the stereo mixes, channel 0 as the agent. Reference events come from the RTTM: each speaker's
reference segments are joined into turns across pauses shorter than the pipeline's
``max_turn_pause_s`` (1.5 s), and a turn that starts while the other speaker's turn holds the
floor (more than the 0.3 s turn-transition tolerance after its start and before its end) is an
interruption by its speaker - the detector's own timing rule. A reference event whose turn
lasts 1 s or less may be a backchannel, which the detector leaves out by its words; such events
are "don't care": not counted in recall, and a detection matching one is not a false alarm.
Detections (``interruption`` by the agent, ``customer_interruption`` by the customer) match a
reference event of the same speaker starting within 0.5 s.

    .venv/bin/python bench/accuracy.py [--data ../shared/data] [--only der,asr,interruptions]
                                      [--model bundled:base] [--pyannote-pipeline DIR]
                                      [--out bench/results/accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SR = 16_000
COLLARS = (0.0, 0.25)
MATCH_S = 0.5
"""A detected interruption matches a reference one of the same speaker starting this close."""
BACKCHANNEL_S = 1.0
"""Reference interruptions by turns this short or shorter are don't-care (maybe backchannels)."""


# -- data -------------------------------------------------------------------------------------


@dataclass
class Recording:
    name: str
    samples: np.ndarray
    """float32 (n,) at 16 kHz, mono."""
    reference: Any
    """pyannote.core.Annotation."""
    uem: Any
    """pyannote.core.Timeline: the scored region."""


def decode(path: Path) -> np.ndarray:
    """Mono float32 (n,) at 16 kHz through Calmline's decoder."""
    from calmline.monitor.audio import load_audio

    return load_audio(path).mono()


def load_rttm(path: Path) -> dict[str, Any]:
    from pyannote.core import Annotation, Segment

    refs: dict[str, Annotation] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        uri, start, dur, speaker = parts[1], float(parts[3]), float(parts[4]), parts[7]
        ann = refs.setdefault(uri, Annotation(uri=uri))
        ann[Segment(start, start + dur), len(ann)] = speaker
    return refs


def load_uem(path: Path) -> dict[str, Any]:
    from pyannote.core import Segment, Timeline

    uems: dict[str, Timeline] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            uri, start, end = parts[0], float(parts[2]), float(parts[3])
            uems.setdefault(uri, Timeline(uri=uri)).add(Segment(start, end))
    return uems


def recordings(data: Path) -> list[Recording]:
    from pyannote.core import Segment, Timeline

    out = []
    sample_dir = data / "diarization" / "pyannote_sample"
    if (sample_dir / "sample.wav").is_file():
        x = decode(sample_dir / "sample.wav")
        ref = load_rttm(sample_dir / "sample.rttm")["sample"]
        out.append(Recording("sample", x, ref, Timeline([Segment(0, len(x) / SR)], uri="sample")))
    ami = data / "diarization" / "ami_dev"
    if ami.is_dir():
        refs, uems = {}, {}
        for split in ("development", "train"):
            if (ami / f"debug.{split}.rttm").is_file():
                refs.update(load_rttm(ami / f"debug.{split}.rttm"))
                uems.update(load_uem(ami / f"debug.{split}.uem"))
        for wav in sorted(ami.glob("*.wav")):
            if wav.stem in refs:
                x = decode(wav)
                uem = uems.get(wav.stem) or Timeline([Segment(0, len(x) / SR)], uri=wav.stem)
                out.append(Recording(wav.stem, x, refs[wav.stem], uem))
    return out


def to_annotation(segments, uri: str):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, seg in enumerate(segments):
        if seg.end > seg.start:
            ann[Segment(seg.start, seg.end), i] = seg.speaker
    return ann


# -- stereo mixes -----------------------------------------------------------------------------


@dataclass
class StereoMix:
    name: str
    samples: np.ndarray
    """float32 (2, n) at 16 kHz."""
    speakers: tuple[str, str]
    """Reference labels of channel 0 and channel 1."""
    reference: Any
    uem: Any


def _mask(annotation, labels, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for segment, _, label in annotation.itertracks(yield_label=True):
        if label in labels:
            mask[int(segment.start * SR) : int(np.ceil(segment.end * SR))] = True
    return mask


def stereo_mix(rec: Recording) -> StereoMix | None:
    """Two channels from one recording's per-speaker material (see the module docstring)."""
    from pyannote.core import Timeline

    ref = rec.reference.crop(rec.uem)
    talk = ref.chart()  # [(label, seconds)], most first
    if len(talk) < 2:
        return None
    s0, s1 = talk[0][0], talk[1][0]
    n = rec.samples.shape[0]
    others = [label for label in ref.labels() if label not in (s0, s1)]
    other_mask = _mask(ref, set(others), n)
    fade = np.ones(161, dtype=np.float32) / 161  # 10 ms ramps at every edge
    channels = []
    for label in (s0, s1):
        gate = (_mask(ref, {label}, n) & ~other_mask).astype(np.float32)
        channels.append(rec.samples * np.convolve(gate, fade, mode="same"))
    uem = rec.uem
    if others:
        uem = rec.uem.extrude(Timeline([s for o in others for s in ref.label_timeline(o)]))
    return StereoMix(
        rec.name,
        np.stack(channels).astype(np.float32),
        (s0, s1),
        ref.subset([s0, s1]).crop(uem),
        uem,
    )


# -- DER --------------------------------------------------------------------------------------


def evaluate_der(recs: list[Recording], mixes: list[StereoMix], args, models) -> dict[str, Any]:
    from pyannote.metrics.diarization import DiarizationErrorRate

    from calmline.models.diarization_embedded import EmbeddedDiarizationOptions, EmbeddedDiarizer
    from calmline.monitor.types import SpeechSegment

    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[float, DiarizationErrorRate]] = {}
    skipped: dict[str, str] = {}

    def score(backend: str, group: str, name: str, count: str, ref, hyp, uem, seconds, audio_s):
        der = {}
        for collar in COLLARS:
            metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
            der[f"collar={collar:g}"] = round(float(metric(ref, hyp, uem=uem)), 4)
            totals.setdefault(group, {}).setdefault(
                collar, DiarizationErrorRate(collar=collar, skip_overlap=False)
            )(ref, hyp, uem=uem)
        rows.append(
            {
                "backend": backend,
                "recording": name,
                "count": count,
                "ref_speakers": len(ref.labels()),
                "hyp_speakers": len(hyp.labels()),
                "der": der,
                "rtf": round(seconds / audio_s, 4),
            }
        )

    # embedded, with the pipeline's VAD options and device
    s = models.settings
    embedded = EmbeddedDiarizer(
        EmbeddedDiarizationOptions(vad=models.vad_options(), device=s.asr.device),
        vad=models.vad(),
    )
    if recs:
        embedded.diarize(recs[0].samples[: SR * 5])  # first torch call allocates; not timed
    for rec in recs:
        counts = [("fixed=2", {"num_speakers": 2})] if rec.name == "sample" else []
        counts.append(("est 1-5", {"num_speakers": None, "min_speakers": 1, "max_speakers": 5}))
        if rec.name != "sample":
            n_ref = len(rec.reference.crop(rec.uem).labels())
            counts.append((f"oracle={n_ref}", {"num_speakers": n_ref}))
        for count, kwargs in counts:
            t0 = time.perf_counter()
            segments = embedded.diarize(rec.samples, **kwargs)
            seconds = time.perf_counter() - t0
            group = "embedded " + ("pyannote sample " + count if rec.name == "sample" else "AMI")
            if rec.name != "sample":
                group += " " + count.split("=")[0]
            hyp = to_annotation(segments, rec.name)
            score(
                "embedded",
                group,
                rec.name,
                count,
                rec.reference,
                hyp,
                rec.uem,
                seconds,
                len(rec.samples) / SR,
            )

    # pyannote, when it can run here
    reason = _pyannote_unavailable(args.pyannote_pipeline)
    if reason:
        skipped["pyannote"] = reason
    else:
        from calmline.models.diarization_pyannote import PyannoteDiarizer, PyannoteOptions

        diarizer = PyannoteDiarizer(
            PyannoteOptions(pipeline=args.pyannote_pipeline, device=s.asr.device)
        )
        for rec in recs:
            t0 = time.perf_counter()
            segments = diarizer.diarize(
                rec.samples, num_speakers=None, min_speakers=1, max_speakers=5
            )
            seconds = time.perf_counter() - t0
            group = "pyannote " + ("pyannote sample" if rec.name == "sample" else "AMI")
            score(
                "pyannote",
                group,
                rec.name,
                "est 1-5",
                rec.reference,
                to_annotation(segments, rec.name),
                rec.uem,
                seconds,
                len(rec.samples) / SR,
            )

    # channels (stereo) on the mixes: VAD per channel, as the pipeline attributes a stereo call
    vad = models.vad()
    for mix in mixes:
        t0 = time.perf_counter()
        segments = [
            SpeechSegment(a, b, f"channel_{c}", c)
            for c in range(2)
            for a, b in vad.detect(mix.samples[c])
        ]
        seconds = time.perf_counter() - t0
        group = "channels " + ("pyannote sample" if mix.name == "sample" else "AMI")
        score(
            "channels",
            group,
            mix.name,
            "2 ch",
            mix.reference,
            to_annotation(segments, mix.name),
            mix.uem,
            seconds,
            mix.samples.shape[1] / SR,
        )

    aggregate = {}
    for group, by_collar in totals.items():
        values: dict[str, Any] = {
            f"collar={c:g}": round(float(abs(m)), 4) for c, m in by_collar.items()
        }
        # where the error comes from, at collar 0, as shares of the scored reference speech
        acc = by_collar[0.0].accumulated_
        values["components_collar=0"] = {
            k: round(acc[k] / max(acc["total"], 1e-9), 4)
            for k in ("missed detection", "false alarm", "confusion")
        }
        aggregate[group] = values
    return {
        "embedded_options": repr(embedded.options),
        "rows": rows,
        "aggregate": aggregate,
        "skipped": skipped,
    }


def _pyannote_unavailable(pipeline: str | None) -> str | None:
    import importlib.util

    if importlib.util.find_spec("pyannote.audio") is None:
        return (
            "pyannote.audio is not installed in this environment (its torch pins conflict with "
            "the main one; bash bench/pyannote_backend.sh builds .venv-pyannote)"
        )
    if not pipeline:
        return "no local pyannote pipeline directory given (--pyannote-pipeline DIR)"
    if not Path(pipeline).exists():
        return f"pyannote pipeline directory not found: {pipeline}"
    return None


def print_der(result: dict[str, Any]) -> None:
    print("DER (pyannote.metrics, overlap scored; collar 0.25 = +-0.125 s around reference edges)")
    header = (
        f"{'backend':9} {'recording':9} {'count':9} {'ref':>3} {'hyp':>3} "
        f"{'c=0':>7} {'c=0.25':>7} {'RTF':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        print(
            f"{r['backend']:9} {r['recording']:9} {r['count']:9} {r['ref_speakers']:>3} "
            f"{r['hyp_speakers']:>3} {100 * r['der']['collar=0']:6.1f}% "
            f"{100 * r['der']['collar=0.25']:6.1f}% {r['rtf']:7.4f}"
        )
    print("-" * len(header))
    print(f"{'total':35} {'c=0':>7} {'c=0.25':>7}   at c=0: missed / false alarm / confusion")
    for group, values in result["aggregate"].items():
        parts = " / ".join(f"{100 * v:.1f}%" for v in values["components_collar=0"].values())
        print(
            f"{group:35} {100 * values['collar=0']:6.1f}% {100 * values['collar=0.25']:6.1f}%"
            f"   {parts}"
        )
    for backend, reason in result["skipped"].items():
        print(f"{backend}: skipped: {reason}")


# -- ASR --------------------------------------------------------------------------------------


def norm_en(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split())


def norm_zh(text: str, t2s) -> str:
    text = t2s.convert(text)
    return "".join(re.findall(r"[\u4e00-\u9fffA-Za-z0-9]", text)).lower()


def asr_references(data: Path) -> list[tuple[Path, str, str, str]]:
    """(audio path, language, reference, set name) for every evaluation file."""
    asr = data / "asr"
    rows = []
    tsv = asr / "references.tsv"
    if tsv.is_file():
        for line in tsv.read_text(encoding="utf-8").splitlines()[1:]:
            if line.strip():
                path, lang, ref = line.split("\t")
                rows.append((asr / path, lang, ref, "smoke-" + lang))
    magic = asr / "zh" / "magicdata_customer_service_read"
    labels = magic / "ProsodyLabeling" / "general.txt"
    if labels.is_file():
        for line in labels.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^(\d+)\t(.+)$", line)
            if m:
                wav = magic / "Wave" / "general" / f"{m.group(1)}.wav"
                if wav.is_file():
                    rows.append((wav, "zh", re.sub(r"#\d", "", m.group(2)), "magicdata-cs"))
    return rows


def evaluate_asr(data: Path, models, show: bool) -> dict[str, Any]:
    import jiwer
    import opencc

    from calmline.monitor.audio import load_audio

    t2s = opencc.OpenCC("t2s")
    transcriber = models.transcriber()
    vad = models.vad()
    sets: dict[str, dict[str, Any]] = {}
    files = []
    t_audio = t_asr = 0.0
    for path, lang, ref, set_name in asr_references(data):
        x = load_audio(path).mono()
        t0 = time.perf_counter()
        result = transcriber.transcribe(x, spans=vad.detect(x), language=lang)
        t_asr += time.perf_counter() - t0
        t_audio += len(x) / SR
        if lang == "zh":
            hyp, r = norm_zh("".join(w.text for w in result.words), t2s), norm_zh(ref, t2s)
            out = jiwer.process_characters(r, hyp)
            n = len(r)
        else:
            hyp, r = norm_en(" ".join(w.text for w in result.words)), norm_en(ref)
            out = jiwer.process_words(r, hyp)
            n = len(r.split())
        edits = out.substitutions + out.deletions + out.insertions
        s = sets.setdefault(
            set_name, {"metric": "CER" if lang == "zh" else "WER", "files": 0, "edits": 0, "ref": 0}
        )
        s["files"] += 1
        s["edits"] += edits
        s["ref"] += n
        files.append(
            {
                "file": str(path.relative_to(data)),
                "set": set_name,
                "error": round(edits / max(n, 1), 4),
                "ref": r,
                "hyp": hyp,
            }
        )
        if show:
            print(f"{path.name}: {edits}/{n}\n  ref {r}\n  hyp {hyp}")
    for s in sets.values():
        s["error"] = round(s["edits"] / max(s["ref"], 1), 4)
    info = transcriber.info
    return {
        "model": f"{info.name} {info.version} ({info.device}, {info.compute_type})",
        "rtf": round(t_asr / max(t_audio, 1e-9), 4),
        "audio_s": round(t_audio, 1),
        "sets": sets,
        "files": files,
    }


def print_asr(result: dict[str, Any]) -> None:
    print(
        f"ASR {result['model']}; RTF {result['rtf']:.3f} over {result['audio_s']:.0f} s. "
        "Normalisation: en lower case, letters/digits/apostrophes; zh OpenCC t2s, CJK + "
        "letters + digits"
    )
    header = f"{'set':14} {'files':>5} {'metric':>6} {'edits':>6} {'ref':>6} {'error':>7}"
    print(header)
    print("-" * len(header))
    for name, s in result["sets"].items():
        print(
            f"{name:14} {s['files']:5d} {s['metric']:>6} {s['edits']:6d} {s['ref']:6d} "
            f"{100 * s['error']:6.2f}%"
        )


# -- interruptions ----------------------------------------------------------------------------


def reference_interruptions(mix: StereoMix, max_pause: float, tolerance: float) -> list[dict]:
    """Interruption events (speaker channel, onset, turn length) from the reference timing."""
    turns: dict[int, list[list[float]]] = {0: [], 1: []}
    for segment, _, label in sorted(
        mix.reference.itertracks(yield_label=True), key=lambda t: t[0].start
    ):
        channel = mix.speakers.index(label)
        own = turns[channel]
        if own and segment.start - own[-1][1] < max_pause:
            own[-1][1] = max(own[-1][1], segment.end)
        else:
            own.append([segment.start, segment.end])
    events = []
    for channel in (0, 1):
        for start, end in turns[channel]:
            if any(a + tolerance < start < b - tolerance for a, b in turns[1 - channel]):
                events.append(
                    {"channel": channel, "start": round(start, 3), "length": round(end - start, 3)}
                )
    return sorted(events, key=lambda e: e["start"])


def evaluate_interruptions(mixes: list[StereoMix], pipeline) -> dict[str, Any]:
    from calmline.monitor.audio import audio_from_array
    from calmline.monitor.detectors.let_finish import DEFAULTS
    from calmline.pipelines.batch import AnalyzeRequest

    tolerance = DEFAULTS["turn_transition_tolerance_s"]
    max_pause = pipeline.settings.measure.max_turn_pause_s
    per_file = []
    tp = fp = fn = dont_care = 0
    for mix in mixes:
        audio = audio_from_array(mix.samples, name=f"{mix.name}-stereo-mix")
        report = pipeline.analyze_audio(
            audio, AnalyzeRequest(language="en", diarization="channels", agent_channel=0)
        )
        detected = []
        for practice in report.scorecard.practices if report.scorecard else ():
            for f in practice.findings:
                if f.kind in ("interruption", "customer_interruption"):
                    detected.append(
                        {"channel": 0 if f.kind == "interruption" else 1, "start": f.start}
                    )
        reference = reference_interruptions(mix, max_pause, tolerance)
        used: set[int] = set()
        f_tp = f_fp = 0
        for d in sorted(detected, key=lambda e: e["start"]):
            match = next(
                (
                    i
                    for i, r in enumerate(reference)
                    if i not in used
                    and r["channel"] == d["channel"]
                    and abs(r["start"] - d["start"]) <= MATCH_S
                ),
                None,
            )
            if match is None:
                f_fp += 1
                continue
            used.add(match)
            if reference[match]["length"] > BACKCHANNEL_S:
                f_tp += 1
            else:
                dont_care += 1
        f_fn = sum(
            1 for i, r in enumerate(reference) if i not in used and r["length"] > BACKCHANNEL_S
        )
        tp, fp, fn = tp + f_tp, fp + f_fp, fn + f_fn
        per_file.append(
            {
                "recording": mix.name,
                "reference": sum(r["length"] > BACKCHANNEL_S for r in reference),
                "reference_dont_care": sum(r["length"] <= BACKCHANNEL_S for r in reference),
                "detected": len(detected),
                "tp": f_tp,
                "fp": f_fp,
                "fn": f_fn,
            }
        )
    return {
        "rule": (
            f"reference: a turn (segments joined across pauses < {max_pause:g} s) starting more "
            f"than {tolerance:g} s inside the other speaker's turn and more than {tolerance:g} s "
            f"before its end; turns of <= {BACKCHANNEL_S:g} s are don't-care; a detection "
            f"matches within {MATCH_S:g} s, same speaker"
        ),
        "files": per_file,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "dont_care_matched": dont_care,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


def print_interruptions(result: dict[str, Any]) -> None:
    print("Interruptions on the stereo mixes (full pipeline, let_finish detector)")
    print(f"  {result['rule']}")
    header = f"{'recording':9} {'ref':>4} {'dc':>3} {'det':>4} {'TP':>3} {'FP':>3} {'FN':>3}"
    print(header)
    print("-" * len(header))
    for f in result["files"]:
        print(
            f"{f['recording']:9} {f['reference']:4d} {f['reference_dont_care']:3d} "
            f"{f['detected']:4d} {f['tp']:3d} {f['fp']:3d} {f['fn']:3d}"
        )
    p, r = result["precision"], result["recall"]
    print(
        f"precision {p if p is not None else 'n/a'}, recall {r if r is not None else 'n/a'} "
        f"(TP {result['tp']}, FP {result['fp']}, FN {result['fn']}; "
        f"{result['dont_care_matched']} detections on don't-care events)"
    )


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--only", default="der,asr,interruptions", help="comma list of der, asr, interruptions"
    )
    parser.add_argument("--model", default="bundled:base", help="ASR model")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--pyannote-pipeline", default=None, help="local pyannote pipeline dir")
    parser.add_argument("--show", action="store_true", help="print every ASR hypothesis")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "accuracy.json")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = parts - {"der", "asr", "interruptions"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    if not args.data.is_dir():
        print(f"no evaluation data at {args.data}", file=sys.stderr)
        return 2

    from calmline.monitor.settings import Settings
    from calmline.pipelines.batch import BatchPipeline

    t_start = time.perf_counter()
    settings = Settings.load(asr={"model": args.model, "device": args.device})
    pipeline = BatchPipeline(settings)
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.machine()},
        "data": str(args.data),
    }
    recs: list[Recording] = []
    mixes: list[StereoMix] = []
    if parts & {"der", "interruptions"}:
        recs = recordings(args.data)
        if not recs:
            print(f"no diarization data under {args.data / 'diarization'}", file=sys.stderr)
        mixes = [m for m in (stereo_mix(r) for r in recs) if m is not None]
    if "der" in parts:
        result["der"] = evaluate_der(recs, mixes, args, pipeline.models)
        print_der(result["der"])
        print()
    if "asr" in parts:
        result["asr"] = evaluate_asr(args.data, pipeline.models, args.show)
        print_asr(result["asr"])
        print()
    if "interruptions" in parts:
        result["interruptions"] = evaluate_interruptions(mixes, pipeline)
        print_interruptions(result["interruptions"])
        print()
    result["bench_wall_s"] = round(time.perf_counter() - t_start, 1)
    print(f"benchmark wall time {result['bench_wall_s']:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
