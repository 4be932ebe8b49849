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
  speakers only. The mixes are scored at 16 kHz and resampled to 8 kHz G.711 mu-law.
  Attribution is what the pipeline does with a stereo call (``channel_speech``: Silero VAD per
  channel with the stereo settings, crosstalk and echo removed by
  ``calmline.monitor.crosstalk``), one speaker per channel; ``plain-vad`` rows are Silero per
  channel with the mono settings and no crosstalk rule, for comparison;
* ``channels`` on the six real Harper Valley bank calls as a PBX records them
  (``bench/pbx.py``): agent and caller each on their own channel, 8 kHz PCM, mu-law and A-law,
  as recorded and with each talker's leak planted in the other channel at -57 to -49 dBFS
  (``+xt``); reference: the transcript segments (and, for mu-law, the segments refined by
  level). Crosstalk false alarm: detected speech on a channel lying on the other talker's
  reference speech and more than 0.125 s from its own, as a share of the reference speech.

**ASR (WER/CER), pipeline against bare faster-whisper.** Each recording goes through the full
batch pipeline (mono diarization or stereo VAD per channel, packing, ASR; no scoring, no
redaction) and through bare faster-whisper with the same loaded model, language and beam, every
other option at faster-whisper's defaults (whole signal, no VAD filter, no prompt,
``condition_on_previous_text=True``), in one run. Sets: ``smoke-en``, ``smoke-zh`` (the
references.tsv clips), ``magicdata-cs`` (50 read customer-service clips), and the real Harper
Valley bank calls as a PBX records them (8 kHz mu-law): ``harper-agent`` and ``harper-caller``
(stereo, each side's words against its human transcript), ``harper-mono`` (both sides summed to
one channel: a two-party conversation through mono diarization). Normalisation: English - lower
case, ``[noise]`` tags and hesitations (um, uh, hmm, mm, er, ah) out, everything but letters,
digits and apostrophes becomes a space (numbers are not spelled out). Mandarin - OpenCC t2s on
both sides, then CJK ideographs, ASCII letters and digits only, letters lower-cased; MagicData
references lose their ``#1``-``#4`` prosody marks. Totals are pooled per set and over all
English (WER) and all Mandarin (CER) sets.

**Interruptions (precision / recall / F1).** The full pipeline (VAD per channel, ASR, turns,
``let_finish``) with channel 0 as the agent, on: stereo mixes built as above for every pair of
a recording's speakers who each talk 1 s or more (``--interruption-pairs top``: the two who
talk most only) at 16 kHz (``ami-16k``) and resampled to 8 kHz G.711 mu-law (``ami-mulaw``);
the six real Harper Valley
bank calls as a PBX records them (``harper-mulaw``: 8 kHz mu-law, each side on its own channel
with the other talker's leak planted at -57 to -49 dBFS, ``bench/pbx.py``). Detections
(``interruption`` by channel 0, ``customer_interruption`` by channel 1) are scored against two
references made from the reference segments: the documented rule (``docs/interruptions.md``,
the detector's own code, ``calmline.monitor.floor``, on the reference segments; Harper Valley's
human words feed its backchannel test, the AMI references have none) and the judging rule of
``EVALUATION.md`` (a segment of B starting inside one of A, overlapping it by 0.5 s or more,
B's lasting 1 s or more). A detection matches a reference event of the same interrupter whose
onset is within 1 s, one to one. Pooled per group, per part and overall: the ``dev`` part (the
pyannote sample and the AMI ``debug.train`` excerpts) is what the channel VAD's onset
refinement was chosen on, the ``test`` part (the AMI ``debug.development`` excerpts and the
Harper Valley calls) was not looked at for it (``--interruption-split`` runs one part).

    .venv/bin/python bench/accuracy.py [--data ../shared/data] [--only der,asr,interruptions]
                                      [--interruption-groups ami-16k,ami-mulaw,harper-mulaw]
                                      [--interruption-split dev|test|all]
                                      [--interruption-pairs top|all]
                                      [--der-backends embedded,pyannote,channels]
                                      [--asr-sets smoke-en,...,harper-mono] [--harper-calls 6]
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
MATCH_S = 1.0
"""A detected interruption matches a reference one of the same interrupter starting this close
(``EVALUATION.md``: within +-1 s, one to one)."""
EVAL_OVERLAP_S = 0.5
EVAL_MIN_S = 1.0
"""The judging rule of ``EVALUATION.md``: least overlap and least length of B's segment."""
INTERRUPTION_GROUPS = ("ami-16k", "ami-mulaw", "harper-mulaw")


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


def stereo_mix(rec: Recording, pair: tuple[str, str] | None = None) -> StereoMix | None:
    """Two channels from one recording's per-speaker material (see the module docstring): the
    speakers of ``pair`` (channel 0, channel 1), by default the two who talk most."""
    from pyannote.core import Timeline

    ref = rec.reference.crop(rec.uem)
    talk = ref.chart()  # [(label, seconds)], most first
    if len(talk) < 2:
        return None
    s0, s1 = pair or (talk[0][0], talk[1][0])
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


PAIR_MIN_TALK_S = 1.0
"""A speaker takes part in the interruption evaluation's pair mixes with at least this much
reference speech in the scored region: the rule's shortest stretch that can take the floor."""


def pair_mixes(rec: Recording) -> list[StereoMix]:
    """A stereo mix for every pair of the recording's speakers who each talk at least
    ``PAIR_MIN_TALK_S``, the one who talks more on channel 0: on the AMI excerpts (three to
    five speakers) an interruption between any two speakers is real overlapping talk, and the
    two most talkative speakers alone hold few of them."""
    ref = rec.reference.crop(rec.uem)
    labels = [label for label, seconds in ref.chart() if seconds >= PAIR_MIN_TALK_S]
    mixes = []
    for i, s0 in enumerate(labels):
        for s1 in labels[i + 1 :]:
            mix = stereo_mix(rec, (s0, s1))
            if mix is not None:
                mix.name = f"{rec.name}:{s0}+{s1}" if len(labels) > 2 else rec.name
                mixes.append(mix)
    return mixes


def split_of(data: Path, name: str) -> str:
    """``dev`` or ``test``: the AMI excerpts of ``debug.development.lst`` and the Harper Valley
    calls are the test part; the pyannote sample and the AMI ``debug.train`` excerpts are the
    dev part, on which the channel VAD's onset refinement was chosen
    (``calmline.monitor.crosstalk.refine_onsets``) and its cut at a talker's own pauses checked
    (``calmline.monitor.pauses``)."""
    lst = data / "diarization" / "ami_dev" / "debug.development.lst"
    test = set(lst.read_text().split()) if lst.is_file() else set()
    return "test" if name.split(":")[0] in test else "dev"


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
    backends = set(getattr(args, "der_backends", "embedded,pyannote,channels").split(","))
    embedded = EmbeddedDiarizer(
        EmbeddedDiarizationOptions(vad=models.vad_options(), device=s.asr.device),
        vad=models.vad(),
    )
    recs_embedded = recs if "embedded" in backends else []
    if recs_embedded:
        embedded.diarize(recs[0].samples[: SR * 5])  # first torch call allocates; not timed
    for rec in recs_embedded:
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
    if "pyannote" in backends and reason:
        skipped["pyannote"] = reason
    elif "pyannote" in backends:
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

    # channels (stereo): speech per channel as the pipeline finds it (``channel_speech``: the
    # stereo VAD settings and the crosstalk rule), on the AMI mixes at 16 kHz and as 8 kHz
    # mu-law, and on the Harper Valley calls as a PBX records them; ``plain-vad`` is Silero per
    # channel with the mono VAD settings and no crosstalk rule (what stereo calls got before)
    from calmline.pipelines.batch import channel_speech

    vad = models.vad()
    crosstalk: dict[str, list[float]] = {}
    for case in stereo_der_cases(mixes, args.data) if "channels" in backends else []:
        samples = case["audio"].samples
        audio_s = samples.shape[1] / SR
        for backend in ("channels", "plain-vad"):
            t0 = time.perf_counter()
            if backend == "channels":
                spans = channel_speech(samples, vad, s)
            else:
                spans = {c: vad.detect(samples[c]) for c in range(2)}
            seconds = time.perf_counter() - t0
            segments = [
                SpeechSegment(a, b, case["speakers"][c], c) for c in range(2) for a, b in spans[c]
            ]
            group = f"{backend} {case['group']}"
            score(
                backend,
                group,
                case["name"],
                case["variant"],
                case["reference"],
                to_annotation(segments, case["name"]),
                case["uem"],
                seconds,
                audio_s,
            )
            if case.get("own") is not None:
                pbx = _bench_module("pbx")
                acc = crosstalk.setdefault(group, [0.0, 0.0])
                for c in range(2):
                    own, other = case["own"][c], case["own"][1 - c]
                    acc[0] += pbx.crosstalk_seconds(spans[c], own, other)
                    acc[1] += pbx.speech_seconds(own)

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
        if group in crosstalk:
            fa, speech = crosstalk[group]
            values["crosstalk_false_alarm"] = round(fa / max(speech, 1e-9), 4)
        aggregate[group] = values
    return {
        "embedded_options": repr(embedded.options),
        "rows": rows,
        "aggregate": aggregate,
        "skipped": skipped,
    }


HARPER_CODECS = ("pcm", "mulaw", "alaw")
"""Recording formats the Harper Valley calls are scored in (``bench/pbx.py``)."""


def stereo_der_cases(mixes: list[StereoMix], data: Path) -> list[dict[str, Any]]:
    """Two-channel recordings with reference speech for the stereo DER.

    * the stereo mixes at 16 kHz (``AMI 16k``, ``sample 16k``) and resampled to 8 kHz and
      recorded as G.711 mu-law (``AMI mulaw``, ``sample mulaw``);
    * the six real Harper Valley calls as a PBX records them (``bench/pbx.py``): agent on
      channel 0, caller on channel 1, 8 kHz PCM, mu-law and A-law, as recorded (``HV <codec>``)
      and with each talker's leak planted on the other channel at -57 to -49 dBFS
      (``HV <codec> +xt``). Reference: the transcript segments; the mu-law calls are also
      scored against the segments refined by level (``HV mulaw refined``, see ``bench/pbx.py``).
      The whole call is scored. ``own`` holds each channel's reference speech, for the
      crosstalk false alarm.
    """
    from pyannote.core import Annotation, Segment, Timeline
    from scipy.signal import resample_poly

    from calmline.monitor.audio import audio_from_array

    pbx = _bench_module("pbx")
    cases: list[dict[str, Any]] = []
    for mix in mixes:
        where = "sample" if mix.name == "sample" else "AMI"
        base = {"name": mix.name, "speakers": mix.speakers, "reference": mix.reference}
        base["uem"] = mix.uem
        audio = audio_from_array(mix.samples)
        cases.append({**base, "group": f"{where} 16k", "variant": "16k", "audio": audio})
        x8 = np.clip(resample_poly(mix.samples, 1, 2, axis=1), -1.0, 1.0).astype(np.float32)
        audio = pbx.encode_call(pbx.PbxCall(f"{mix.name}-mix", x8, ([], [])), "mulaw")
        cases.append({**base, "group": f"{where} mulaw", "variant": "mulaw", "audio": audio})

    def annotation(refs, uri: str):
        ann = Annotation(uri=uri)
        for c, label in enumerate(("agent", "caller")):
            for i, (a, b) in enumerate(refs[c]):
                ann[Segment(a, b), f"{label}{i}"] = label
        return ann

    for call_id in pbx.call_ids(data):
        recorded = pbx.load_call(data, call_id)
        for leak in (False, True):
            call = pbx.add_crosstalk(recorded) if leak else recorded
            uem = Timeline([Segment(0, call.duration)], uri=call_id)
            for codec in HARPER_CODECS:
                variant = codec + (" +xt" if leak else "")
                audio = pbx.encode_call(call, codec)
                common = {
                    "name": call_id[:8],
                    "speakers": ("agent", "caller"),
                    "uem": uem,
                    "audio": audio,
                    "own": call.reference,
                }
                cases.append(
                    {
                        **common,
                        "group": f"HV {variant}",
                        "variant": variant,
                        "reference": annotation(call.reference, call_id),
                    }
                )
                if codec == "mulaw" and not leak:
                    refined = [
                        pbx.refine_reference(call.samples[c], call.reference[c]) for c in (0, 1)
                    ]
                    cases.append(
                        {
                            **common,
                            "group": "HV mulaw refined",
                            "variant": "refined",
                            "reference": annotation(refined, call_id),
                            "own": None,
                        }
                    )
    return cases


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
        if "crosstalk_false_alarm" in values:
            parts += f"   crosstalk FA {100 * values['crosstalk_false_alarm']:.2f}% of speech"
        print(
            f"{group:35} {100 * values['collar=0']:6.1f}% {100 * values['collar=0.25']:6.1f}%"
            f"   {parts}"
        )
    for backend, reason in result["skipped"].items():
        print(f"{backend}: skipped: {reason}")


# -- ASR --------------------------------------------------------------------------------------

FILLERS = re.compile(r"\b(?:u+m+|u+h+|h+m+|m+h*m+|e+r+m*|a+h+)\b")
"""Hesitations that human transcripts write and Whisper leaves out (Whisper's own English
normaliser drops them too); removed from both sides."""
ASR_SETS = ("smoke-en", "smoke-zh", "magicdata-cs", "harper-agent", "harper-caller", "harper-mono")


@dataclass
class AsrCase:
    """One recording with reference text per transcribed channel."""

    name: str
    set: str
    language: str
    audio: Any
    """calmline.monitor.types.Audio: one channel (mono pipeline) or two (stereo pipeline)."""
    references: dict[int | None, tuple[str, str]]
    """Channel (``None``: the mono transcript) -> (set name, reference text)."""


def norm_en(text: str) -> str:
    """Lower case; ``[noise]``-style tags and hesitations out; letters, digits, apostrophes."""
    text = re.sub(r"\[[^\]]*\]", " ", text.lower())
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return " ".join(FILLERS.sub(" ", text).split())


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


def harper_text(data: Path, call_id: str, role: str | None) -> str:
    """The human transcript of one side (``None``: both) of a Harper Valley call, in time order."""
    path = data / "calls" / "harper_valley" / "transcript" / f"{call_id}.json"
    segments = json.loads(path.read_text(encoding="utf-8"))
    segments.sort(key=lambda s: s["start_ms"])
    return " ".join(s["human_transcript"] for s in segments if role in (None, s["speaker_role"]))


def asr_cases(data: Path, sets: set[str], harper_calls: int) -> list[AsrCase]:
    """The evaluation recordings of ``sets``: the smoke and MagicData files as mono recordings;
    the first ``harper_calls`` Harper Valley calls as a PBX records them (8 kHz mu-law, agent on
    channel 0, ``bench/pbx.py``) for ``harper-agent`` and ``harper-caller``, and those calls' two
    sides summed to one channel for ``harper-mono``. No crosstalk is planted: bare
    faster-whisper would transcribe the other talker's leak, and this compares recognition, not
    attribution (the DER part measures that)."""
    from calmline.monitor.audio import audio_from_array, load_audio

    cases = []
    for path, lang, ref, set_name in asr_references(data):
        if set_name in sets:
            audio = audio_from_array(load_audio(path).mono(), name=str(path))
            cases.append(AsrCase(path.name, set_name, lang, audio, {None: (set_name, ref)}))
    stereo = {"harper-agent", "harper-caller"} & sets
    if stereo or "harper-mono" in sets:
        pbx = _bench_module("pbx")
        for call_id in pbx.call_ids(data)[:harper_calls]:
            audio = pbx.encode_call(pbx.load_call(data, call_id), "mulaw")
            if stereo:
                refs = {
                    c: (f"harper-{role}", harper_text(data, call_id, role))
                    for c, role in enumerate(("agent", "caller"))
                    if f"harper-{role}" in sets
                }
                cases.append(AsrCase(call_id[:8], "harper", "en", audio, refs))
            if "harper-mono" in sets:
                mono = audio_from_array(audio.mono(), name=f"{call_id}-mono")
                ref = harper_text(data, call_id, None)
                refs = {None: ("harper-mono", ref)}
                cases.append(AsrCase(call_id[:8], "harper-mono", "en", mono, refs))
    return cases


def asr_edits(lang: str, ref: str, hyp: str, t2s) -> tuple[int, int, str, str]:
    """(edits, reference length, normalised reference, normalised hypothesis)."""
    import jiwer

    if lang == "zh":
        r, h = norm_zh(ref, t2s), norm_zh(hyp, t2s)
        out = jiwer.process_characters(r, h) if r else None
        n = len(r)
    else:
        r, h = norm_en(ref), norm_en(hyp)
        out = jiwer.process_words(r, h) if r else None
        n = len(r.split())
    if out is None:
        return len(h if lang == "zh" else h.split()), 0, r, h
    return out.substitutions + out.deletions + out.insertions, n, r, h


def bare_text(model, samples: np.ndarray, language: str, beam_size: int) -> str:
    """faster-whisper as a user runs it: the whole signal, the same model, language and beam,
    everything else at faster-whisper's defaults (no VAD filter, no prompt,
    ``condition_on_previous_text=True``, no word timestamps)."""
    segments, _ = model.transcribe(samples, language=language, beam_size=beam_size)
    return ("" if language == "zh" else " ").join(s.text.strip() for s in segments)


def report_text(report, channel: int | None) -> str:
    """The words of a report's turns (of ``channel``; ``None``: all) in time order."""
    turns = [t for t in report.turns if channel is None or t.channel == channel]
    words = sorted((w for t in turns for w in t.words), key=lambda w: (w.start, w.end))
    return ("" if report.language == "zh" else " ").join(w.text for w in words)


def words_pipeline(pipeline):
    """A pipeline on ``pipeline``'s models that reports the words as heard: no scoring and no
    redaction (which rewrites numbers and names)."""
    from calmline.pipelines.batch import BatchPipeline

    settings = pipeline.settings.model_copy(deep=True)
    settings.scoring.enabled = False
    settings.privacy.redact = False
    return BatchPipeline(settings, pipeline.models)


def evaluate_asr(data: Path, pipeline, show: bool, sets: set[str], harper_calls: int) -> dict:
    """WER/CER of the full pipeline and of bare faster-whisper on the same signals, per file,
    per set and pooled (English WER, Mandarin CER)."""
    import opencc

    from calmline.pipelines.batch import AnalyzeRequest

    t2s = opencc.OpenCC("t2s")
    calmline = words_pipeline(pipeline)
    transcriber = pipeline.models.transcriber()
    beam = transcriber.options.beam_size
    totals: dict[str, dict[str, Any]] = {}
    files = []
    seconds = {"audio": 0.0, "pipeline": 0.0, "bare": 0.0}
    for case in asr_cases(data, sets, harper_calls):
        t0 = time.perf_counter()
        report = calmline.analyze_audio(case.audio, AnalyzeRequest(language=case.language))
        t1 = time.perf_counter()
        bare = {
            c: bare_text(transcriber.model, case.audio.samples[c or 0], case.language, beam)
            for c in case.references
        }
        seconds["bare"] += time.perf_counter() - t1
        seconds["pipeline"] += t1 - t0
        seconds["audio"] += case.audio.duration
        for channel, (set_name, ref) in case.references.items():
            heard = report_text(report, channel)
            e_pipe, n, r, h_pipe = asr_edits(case.language, ref, heard, t2s)
            e_bare, _, _, h_bare = asr_edits(case.language, ref, bare[channel], t2s)
            metric = "CER" if case.language == "zh" else "WER"
            for key in (set_name, f"pooled {metric}"):
                s = totals.setdefault(
                    key, {"metric": metric, "files": 0, "ref": 0, "pipeline": 0, "bare": 0}
                )
                s["files"] += 1
                s["ref"] += n
                s["pipeline"] += e_pipe
                s["bare"] += e_bare
            name = case.name if channel is None else f"{case.name} ch{channel}"
            files.append(
                {
                    "file": name,
                    "set": set_name,
                    "ref_len": n,
                    "pipeline_edits": e_pipe,
                    "bare_edits": e_bare,
                    "ref": r,
                    "pipeline": h_pipe,
                    "bare": h_bare,
                }
            )
            if show:
                print(f"{set_name} {name}: pipeline {e_pipe}/{n}, bare {e_bare}/{n}")
                print(f"  ref      {r}\n  pipeline {h_pipe}\n  bare     {h_bare}")
    for s in totals.values():
        s["pipeline_error"] = round(s["pipeline"] / max(s["ref"], 1), 4)
        s["bare_error"] = round(s["bare"] / max(s["ref"], 1), 4)
        s["difference_points"] = round(100 * (s["pipeline_error"] - s["bare_error"]), 2)
    info = transcriber.info
    audio_s = max(seconds["audio"], 1e-9)
    return {
        "model": f"{info.name} {info.version} ({info.device}, {info.compute_type})",
        "beam_size": beam,
        "audio_s": round(seconds["audio"], 1),
        "pipeline_rtf": round(seconds["pipeline"] / audio_s, 4),
        "bare_rtf": round(seconds["bare"] / audio_s, 4),
        "sets": totals,
        "files": files,
    }


def print_asr(result: dict[str, Any]) -> None:
    print(
        f"ASR {result['model']}, beam {result['beam_size']}, {result['audio_s']:.0f} s of audio; "
        f"RTF pipeline {result['pipeline_rtf']:.3f} (whole analysis), bare "
        f"{result['bare_rtf']:.3f}. Normalisation: en lower case, letters/digits/apostrophes, "
        "tags and hesitations out; zh OpenCC t2s, CJK + letters + digits"
    )
    header = (
        f"{'set':14} {'files':>5} {'metric':>6} {'ref':>6} {'pipeline':>9} {'bare':>7} "
        f"{'diff pt':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = sorted(result["sets"].items(), key=lambda kv: kv[0].startswith("pooled"))
    for name, s in rows:
        print(
            f"{name:14} {s['files']:5d} {s['metric']:>6} {s['ref']:6d} "
            f"{100 * s['pipeline_error']:8.2f}% {100 * s['bare_error']:6.2f}% "
            f"{s['difference_points']:+7.2f}"
        )


# -- interruptions ----------------------------------------------------------------------------


@dataclass
class InterruptionCase:
    """One two-party recording with reference speech, for the interruption evaluation."""

    name: str
    group: str
    """``ami-16k`` / ``ami-mulaw`` (stereo mixes), ``harper-mulaw`` (real PBX-style calls)."""
    audio: Any
    """calmline.monitor.types.Audio, channel 0 the first speaker ("agent")."""
    speakers: tuple[str, str]
    """Reference labels of channel 0 and channel 1."""
    segments: list[Any]
    """Reference speech, calmline.monitor.types.SpeechSegment, speaker = reference label."""
    words: dict[str, list[Any]] | None
    """Reference words per label (Harper Valley's human transcripts); ``None``: no words."""
    split: str = "test"
    """``dev`` (what the channel VAD's onset refinement was chosen on) or ``test``
    (:func:`split_of`)."""


def _bench_module(name: str):
    """``bench/<name>.py`` as a module (the benchmarks are scripts, not a package)."""
    import importlib.util

    key = f"calmline_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def interruption_cases(mixes: list[StereoMix], data: Path, groups: set[str]) -> list:
    """The stereo mixes at 16 kHz and as 8 kHz G.711 mu-law, and the Harper Valley calls as a
    PBX records them (8 kHz mu-law, the real sides on their own channels, each talker's leak
    planted on the other channel at -57 to -49 dBFS by ``bench/pbx.py``)."""
    from calmline.monitor.audio import audio_from_array
    from calmline.monitor.types import SpeechSegment

    cases = []
    for mix in mixes:
        segments = [
            SpeechSegment(seg.start, seg.end, label)
            for seg, _, label in mix.reference.itertracks(yield_label=True)
        ]
        split = split_of(data, mix.name)
        if "ami-16k" in groups:
            audio = audio_from_array(mix.samples, name=f"{mix.name}-stereo-mix")
            cases.append(
                InterruptionCase(mix.name, "ami-16k", audio, mix.speakers, segments, None, split)
            )
        if "ami-mulaw" in groups:
            from scipy.signal import resample_poly

            pbx = _bench_module("pbx")
            x8 = resample_poly(mix.samples, 1, 2, axis=1).astype(np.float32)
            call = pbx.PbxCall(f"{mix.name}-mix", np.clip(x8, -1.0, 1.0), ([], []))
            audio = pbx.encode_call(call, "mulaw")
            cases.append(
                InterruptionCase(mix.name, "ami-mulaw", audio, mix.speakers, segments, None, split)
            )
    if "harper-mulaw" in groups:
        pbx = _bench_module("pbx")
        for call_id in pbx.call_ids(data):
            call = pbx.add_crosstalk(pbx.load_call(data, call_id))
            segments, words = harper_reference(data, call_id)
            cases.append(
                InterruptionCase(
                    call_id[:8],
                    "harper-mulaw",
                    pbx.encode_call(call, "mulaw"),
                    ("agent", "caller"),
                    segments,
                    words,
                )
            )
    return cases


def harper_reference(data: Path, call_id: str) -> tuple[list, dict[str, list]]:
    """A Harper Valley call's human segments and words. The transcript times segments, not
    words: a segment's words are spread evenly over it (only their text and number count for
    the rule: the backchannel test reads words, the timing reads segments)."""
    from calmline.monitor.types import SpeechSegment, Word

    path = data / "calls" / "harper_valley" / "transcript" / f"{call_id}.json"
    segments, words = [], {"agent": [], "caller": []}
    for s in json.loads(path.read_text(encoding="utf-8")):
        start = s["start_ms"] / 1000
        end = start + s["duration_ms"] / 1000
        role = s["speaker_role"]
        segments.append(SpeechSegment(start, end, role))
        tokens = [t for t in re.sub(r"\[[^\]]*\]", " ", s["human_transcript"]).split() if t]
        step = (end - start) / max(1, len(tokens))
        words.setdefault(role, []).extend(
            Word(start + i * step, start + (i + 1) * step, t, 1.0) for i, t in enumerate(tokens)
        )
    return segments, words


def _interruption_rule():
    """The rule the detector applies (the English rubric's ``let_finish`` thresholds), its
    backchannel test by words and its closing-overlap test (closing words only)."""
    from calmline.monitor.detectors.let_finish import (
        PRACTICE,
        FloorRules,
        only_closing,
        only_phrases,
    )
    from calmline.monitor.rubric import load_rubric
    from calmline.monitor.textmatch import PhraseMatcher

    rubric = load_rubric(REPO / "monitor" / "rubrics" / "default_en.yaml")
    rules = FloorRules.of(rubric, rubric.practices[PRACTICE])
    matcher = PhraseMatcher(rubric.matching, "en")

    def backchannel(stretch) -> bool:
        text = " ".join(w.text for w in stretch.words or ())
        return only_phrases(text, rules.backchannel, matcher, rules.fillers)

    def closing(words) -> bool:
        return only_closing(" ".join(w.text for w in words), rules, matcher)

    return rules.interruption_rule, backchannel, closing


def reference_interruptions(case: InterruptionCase, rule, backchannel, closing=None) -> list[dict]:
    """Interruption events of the reference under the documented rule (``docs/interruptions.md``,
    :mod:`calmline.monitor.floor`): the same code the detector runs, on the reference's
    segments (and words, where the reference has them)."""
    from calmline.monitor.floor import find_interruptions, stretches

    speech = stretches(case.segments, case.words, rule.join_gap_s)
    return [
        {
            "channel": case.speakers.index(e.speaker),
            "start": round(e.start, 3),
            "overlap": round(e.overlap, 3),
        }
        for e in find_interruptions(speech, rule, backchannel, closing)
        if e.speaker in case.speakers and e.interrupted in case.speakers
    ]


def truth_interruptions(case: InterruptionCase) -> list[dict]:
    """Events by the judging rule of ``EVALUATION.md``: a reference segment of B starts inside
    one of A, the two overlap by at least ``EVAL_OVERLAP_S`` and B's lasts at least
    ``EVAL_MIN_S``."""
    events = {}
    for a in case.segments:
        for b in case.segments:
            if (
                b.speaker != a.speaker
                and a.start < b.start < a.end
                and min(a.end, b.end) - b.start >= EVAL_OVERLAP_S
                and b.end - b.start >= EVAL_MIN_S
            ):
                events[(b.speaker, b.start)] = {
                    "channel": case.speakers.index(b.speaker),
                    "start": round(b.start, 3),
                }
    return sorted(events.values(), key=lambda e: e["start"])


def match_events(detected: list[dict], reference: list[dict]) -> tuple[int, int, int]:
    """(TP, FP, FN): one-to-one, same interrupter, onsets within ``MATCH_S``, closest first."""
    pairs = sorted(
        (abs(d["start"] - r["start"]), i, j)
        for i, d in enumerate(detected)
        for j, r in enumerate(reference)
        if d["channel"] == r["channel"] and abs(d["start"] - r["start"]) <= MATCH_S
    )
    used_d: set[int] = set()
    used_r: set[int] = set()
    for _, i, j in pairs:
        if i not in used_d and j not in used_r:
            used_d.add(i)
            used_r.add(j)
    tp = len(used_d)
    return tp, len(detected) - tp, len(reference) - tp


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if tp + fp and tp + fn else None)
    return {
        "precision": None if p is None else round(p, 3),
        "recall": None if r is None else round(r, 3),
        "f1": None if f is None else round(f, 3),
    }


def evaluate_interruptions(cases: list[InterruptionCase], pipeline) -> dict[str, Any]:
    """The full pipeline (VAD per channel, ASR, turns, ``let_finish``) on every case, channel 0
    as the agent; detections scored against the documented rule on the reference and against
    the judging rule of ``EVALUATION.md``, per file and pooled per group and overall."""
    from calmline.pipelines.batch import AnalyzeRequest

    rule, backchannel, closing = _interruption_rule()
    files = []
    for case in cases:
        t0 = time.perf_counter()
        report = pipeline.analyze_audio(
            case.audio, AnalyzeRequest(language="en", diarization="channels", agent_channel=0)
        )
        detected = [
            {"channel": 0 if f.kind == "interruption" else 1, "start": f.start}
            for practice in (report.scorecard.practices if report.scorecard else ())
            for f in practice.findings
            if f.kind in ("interruption", "customer_interruption")
        ]
        row = {
            "recording": case.name,
            "group": case.group,
            "split": case.split,
            "detected": sorted(detected, key=lambda e: e["start"]),
            "wall_s": round(time.perf_counter() - t0, 1),
        }
        for key, reference in (
            ("rule", reference_interruptions(case, rule, backchannel, closing)),
            ("eval", truth_interruptions(case)),
        ):
            tp, fp, fn = match_events(detected, reference)
            row[key] = {"reference": reference, "tp": tp, "fp": fp, "fn": fn}
        files.append(row)
    pooled: dict[str, Any] = {}
    keys = [*dict.fromkeys(f["group"] for f in files)]
    keys += [f"{split} {g}" for split in ("dev", "test") for g in keys]
    for group in [*keys, "dev", "test", "all"]:
        rows = [
            f
            for f in files
            if group in ("all", f["group"], f["split"], f"{f['split']} {f['group']}")
        ]
        if not rows:
            continue
        pooled[group] = {}
        for key in ("rule", "eval"):
            tp, fp, fn = (sum(f[key][k] for f in rows) for k in ("tp", "fp", "fn"))
            pooled[group][key] = {"tp": tp, "fp": fp, "fn": fn, **_prf(tp, fp, fn)}
    return {
        "rule": (
            f"documented rule (docs/interruptions.md): overlap >= {rule.min_overlap_s:g} s, "
            f"speech >= {rule.min_speech_s:g} s, simultaneous start < "
            f"{rule.simultaneous_start_s:g} s, own pause keeping the floor <= "
            f"{rule.resume_pause_s:g} s, backchannel <= {rule.backchannel_max_words} words; "
            f"EVALUATION.md rule: B's segment starts inside A's, overlap >= {EVAL_OVERLAP_S:g} s, "
            f"B >= {EVAL_MIN_S:g} s; matched one to one, same interrupter, within {MATCH_S:g} s"
        ),
        "files": files,
        "pooled": pooled,
    }


def print_interruptions(result: dict[str, Any]) -> None:
    print("Interruptions (full pipeline, let_finish detector, both directions)")
    print(f"  {result['rule']}")
    header = (
        f"{'group':13} {'recording':32} {'det':>4} | {'rule':>4} {'TP':>3} {'FP':>3} {'FN':>3} "
        f"| {'eval':>4} {'TP':>3} {'FP':>3} {'FN':>3}"
    )
    print(header)
    print("-" * len(header))
    for f in result["files"]:
        r, e = f["rule"], f["eval"]
        print(
            f"{f['group']:13} {f['recording'] + ' ' + f['split']:32} {len(f['detected']):4d} | "
            f"{len(r['reference']):4d} {r['tp']:3d} {r['fp']:3d} {r['fn']:3d} | "
            f"{len(e['reference']):4d} {e['tp']:3d} {e['fp']:3d} {e['fn']:3d}"
        )
    print("pooled:")
    for group, by in result["pooled"].items():
        for key, m in by.items():

            def show(x):
                return "n/a" if x is None else f"{x:.2f}"

            print(
                f"  {group:18} {key:4}: TP {m['tp']} FP {m['fp']} FN {m['fn']}  precision "
                f"{show(m['precision'])} recall {show(m['recall'])} F1 {show(m['f1'])}"
            )


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--only", default="der,asr,interruptions", help="comma list of der, asr, interruptions"
    )
    parser.add_argument("--model", default="bundled:base", help="ASR model")
    parser.add_argument(
        "--interruption-groups",
        default=",".join(INTERRUPTION_GROUPS),
        help=f"comma list of {', '.join(INTERRUPTION_GROUPS)}",
    )
    parser.add_argument(
        "--interruption-split",
        default="all",
        choices=["dev", "test", "all"],
        help="interruption cases of the dev part, the test part or both (see split_of)",
    )
    parser.add_argument(
        "--interruption-pairs",
        default="all",
        choices=["top", "all"],
        help="AMI speakers mixed for interruptions: the two who talk most, or every pair",
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--pyannote-pipeline", default=None, help="local pyannote pipeline dir")
    parser.add_argument(
        "--der-backends",
        default="embedded,pyannote,channels",
        help="comma list of the DER backends to run: embedded, pyannote, channels (stereo)",
    )
    parser.add_argument("--show", action="store_true", help="print every ASR hypothesis")
    parser.add_argument(
        "--asr-sets", default=",".join(ASR_SETS), help=f"comma list of {', '.join(ASR_SETS)}"
    )
    parser.add_argument(
        "--harper-calls", type=int, default=6, help="Harper Valley calls in the ASR sets"
    )
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
        asr_sets = {x.strip() for x in args.asr_sets.split(",") if x.strip()}
        result["asr"] = evaluate_asr(args.data, pipeline, args.show, asr_sets, args.harper_calls)
        print_asr(result["asr"])
        print()
    if "interruptions" in parts:
        groups = {g.strip() for g in args.interruption_groups.split(",") if g.strip()}
        pairs = mixes
        if args.interruption_pairs == "all":
            pairs = [m for r in recs for m in pair_mixes(r)]
        cases = interruption_cases(pairs, args.data, groups)
        if args.interruption_split != "all":
            cases = [c for c in cases if c.split == args.interruption_split]
        result["interruptions"] = evaluate_interruptions(cases, pipeline)
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
