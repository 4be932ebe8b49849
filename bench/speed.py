"""Real-time factor of ``calmline analyze`` next to bare faster-whisper, on the same files.

Both use the same model, device, compute type, beam size and word timestamps; bare faster-whisper
gets its own Silero VAD filter and the mono mix (or each channel of a stereo file, as Calmline
transcribes them). Each file runs bare first, then Calmline, repeated ``--repeat`` times, and the
fastest run of each is kept, so both see the same warm caches.

    .venv/bin/python bench/speed.py [FILES...] [--threads N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [
    REPO / "samples" / "en_stereo_mulaw.wav",
    REPO / "samples" / "en_mono.wav",
    REPO / "samples" / "zh_stereo.wav",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--model", default="bundled:base")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from calmline.monitor.audio import load_audio
    from calmline.monitor.settings import Settings
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    settings = Settings.load(asr={"model": args.model, "cpu_threads": args.threads})
    pipeline = BatchPipeline(settings)
    transcriber = pipeline.models.transcriber()
    model = transcriber.model  # the same loaded faster-whisper model, used bare
    pipeline.models.vad()

    rows = []
    for path in args.files:
        if not path.exists():
            print(f"skip {path}: not found", file=sys.stderr)
            continue
        audio = load_audio(path)
        signals = [audio.samples[c] for c in range(audio.channels)]
        report = pipeline.analyze(path, AnalyzeRequest())
        language = report.language

        def bare(signals=signals, language=language):
            n = 0
            for x in signals:
                segments, _ = model.transcribe(
                    x,
                    language=language,
                    beam_size=settings.asr.beam_size,
                    word_timestamps=True,
                    vad_filter=True,
                    condition_on_previous_text=False,
                )
                n += sum(len(s.words or ()) for s in segments)
            return n

        bare_times, calm_times, stages = [], [], {}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            bare()
            bare_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = pipeline.analyze(path, AnalyzeRequest())
            calm_times.append(time.perf_counter() - t0)
            if not stages or calm_times[-1] == min(calm_times):
                stages = dict(report.timings)
        b, c = min(bare_times), min(calm_times)
        rows.append(
            {
                "file": path.name,
                "duration_s": audio.duration,
                "channels": audio.channels,
                "bare_s": round(b, 2),
                "calmline_s": round(c, 2),
                "bare_rtf": round(b / audio.duration, 3),
                "calmline_rtf": round(c / audio.duration, 3),
                "ratio": round(c / b, 3),
                "stages_s": stages,
            }
        )

    print(
        f"model {transcriber.info.name} ({transcriber.info.device}, "
        f"{transcriber.info.compute_type}), {args.threads} threads, {platform.processor() or ''}"
    )
    print(
        f"{'file':24} {'dur s':>6} {'bare s':>7} {'calm s':>7} {'bare RTF':>9} "
        f"{'calm RTF':>9} {'ratio':>6}"
    )
    for r in rows:
        print(
            f"{r['file']:24} {r['duration_s']:6.1f} {r['bare_s']:7.2f} {r['calmline_s']:7.2f} "
            f"{r['bare_rtf']:9.3f} {r['calmline_rtf']:9.3f} {r['ratio']:6.2f}"
        )
        print("    stages: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items()))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
