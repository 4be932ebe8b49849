"""Diarization error rate and speed of the embedded mono diarizer on real recordings.

Runs the ``embedded`` backend (Silero VAD + resemblyzer GE2E, default options) over

* the pyannote tutorial sample (30 s, 2 speakers, no UEM: the whole file is scored), with the
  count fixed at 2 (the phone-call default) and estimated between 1 and 5;
* the AMI excerpts (7 × 30 s, 2–5 speakers, scored inside their UEM), with the count estimated
  between 1 and 5 and with the oracle count from the reference,

and prints DER from ``pyannote.metrics.DiarizationErrorRate`` without a collar and with a
0.25 s collar (pyannote's collar is the total width: ±0.125 s around every reference boundary),
overlapped speech scored (the diarizer gives one speaker per moment, so overlap counts as missed
speech), plus the real-time factor (diarization seconds / audio seconds, models already loaded).

    python bench/der.py [--data DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
COLLARS = (0.0, 0.25)


@dataclass
class Row:
    name: str
    count: str
    """How the speaker count was given: ``fixed=2``, ``oracle=N`` or ``est 1-5``."""
    ref_speakers: int
    hyp_speakers: int
    der: dict[str, float]
    """DER (0-1) per collar, keys ``collar=0`` and ``collar=0.25``."""
    audio_s: float
    rtf: float


def decode(path: Path) -> np.ndarray:
    """Mono float32 (n,) at 16 kHz, decoded with PyAV (the project's decoder)."""
    import av

    out = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                out.append(resampled.to_ndarray().reshape(-1))
        for resampled in resampler.resample(None):
            out.append(resampled.to_ndarray().reshape(-1))
    return np.concatenate(out).astype(np.float32)


def load_rttm(path: Path) -> dict:
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


def load_uem(path: Path) -> dict:
    from pyannote.core import Segment, Timeline

    uems: dict[str, Timeline] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        uri, start, end = parts[0], float(parts[2]), float(parts[3])
        uems.setdefault(uri, Timeline(uri=uri)).add(Segment(start, end))
    return uems


def to_annotation(segments, uri: str):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, seg in enumerate(segments):
        ann[Segment(seg.start, seg.end), i] = seg.speaker
    return ann


def run(args: argparse.Namespace) -> int:
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    from calmline.models.diarization_embedded import EmbeddedDiarizationOptions, EmbeddedDiarizer

    data = Path(args.data).resolve()
    diar_dir = data / "diarization"
    if not diar_dir.is_dir():
        print(f"no diarization data under {data}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    options = EmbeddedDiarizationOptions(device=args.device)
    diarizer = EmbeddedDiarizer(options)
    load_s = time.perf_counter() - t0

    jobs: list[tuple[str, np.ndarray, object, object]] = []  # name, samples, reference, uem
    sample_dir = diar_dir / "pyannote_sample"
    if (sample_dir / "sample.wav").is_file():
        samples = decode(sample_dir / "sample.wav")
        ref = load_rttm(sample_dir / "sample.rttm")["sample"]
        uem = Timeline([Segment(0.0, samples.shape[0] / 16_000)], uri="sample")
        jobs.append(("pyannote sample", samples, ref, uem))
    ami_dir = diar_dir / "ami_dev"
    if ami_dir.is_dir():
        refs, uems = {}, {}
        for split in ("development", "train"):
            if (ami_dir / f"debug.{split}.rttm").is_file():
                refs.update(load_rttm(ami_dir / f"debug.{split}.rttm"))
                uems.update(load_uem(ami_dir / f"debug.{split}.uem"))
        for wav in sorted(ami_dir.glob("*.wav")):
            if wav.stem in refs:
                jobs.append((f"AMI {wav.stem}", decode(wav), refs[wav.stem], uems.get(wav.stem)))

    # warm the encoder and VAD (first torch call allocates) so the RTF is steady state
    if jobs:
        diarizer.diarize(jobs[0][1][: 16_000 * 5])

    rows: list[Row] = []
    totals: dict[str, dict[float, DiarizationErrorRate]] = {}
    for name, samples, ref, uem in jobs:
        n_ref = len(ref.labels())
        settings = [("fixed=2", {"num_speakers": 2})] if name == "pyannote sample" else []
        settings.append(("est 1-5", {"num_speakers": None, "min_speakers": 1, "max_speakers": 5}))
        if name != "pyannote sample":
            settings.append((f"oracle={n_ref}", {"num_speakers": n_ref}))
        for count, kwargs in settings:
            t = time.perf_counter()
            segments = diarizer.diarize(samples, **kwargs)
            elapsed = time.perf_counter() - t
            hyp = to_annotation(segments, ref.uri)
            der = {}
            group = "AMI " + count.split("=")[0] if name.startswith("AMI") else f"{name} {count}"
            for collar in COLLARS:
                metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
                der[f"collar={collar:g}"] = float(metric(ref, hyp, uem=uem))
                total = totals.setdefault(group, {}).setdefault(
                    collar, DiarizationErrorRate(collar=collar, skip_overlap=False)
                )
                total(ref, hyp, uem=uem)
            audio_s = samples.shape[0] / 16_000
            rows.append(Row(name, count, n_ref, len(hyp.labels()), der, audio_s, elapsed / audio_s))

    header = (
        f"{'recording':<16} {'count':<9} {'ref':>3} {'hyp':>3} "
        f"{'DER c=0':>8} {'DER c=0.25':>10} {'RTF':>7}"
    )
    print(
        f"models loaded in {load_s:.1f} s on {diarizer.info.device} "
        f"({platform.machine()}, {os.cpu_count()} CPUs)"
    )
    print(
        "DER: pyannote.metrics, overlap scored; collar 0.25 = ±0.125 s around reference boundaries"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:<16} {r.count:<9} {r.ref_speakers:>3} {r.hyp_speakers:>3} "
            f"{100 * r.der['collar=0']:>7.1f}% {100 * r.der['collar=0.25']:>9.1f}% {r.rtf:>7.4f}"
        )
    print("-" * len(header))
    summary = {}
    for group, by_collar in totals.items():
        values = {f"collar={c:g}": float(abs(m)) for c, m in by_collar.items()}
        summary[group] = values
        print(f"{group:<36} {100 * values['collar=0']:>7.1f}% {100 * values['collar=0.25']:>9.1f}%")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "options": repr(options),
                    "device": diarizer.info.device,
                    "load_s": load_s,
                    "rows": [asdict(r) for r in rows],
                    "aggregate": summary,
                },
                indent=2,
            )
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=str(REPO.parent / "shared" / "data"),
        help="evaluation data folder (default: ../shared/data beside the repository)",
    )
    parser.add_argument("--json", help="write the figures to this JSON file")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
