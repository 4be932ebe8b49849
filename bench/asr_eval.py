"""WER (English) and CER (Mandarin) of the configured ASR on ../shared/data/asr.

Normalisation, stated: English — lower case, everything but letters, digits and apostrophes
becomes a space, spaces collapsed (numbers are not spelled out, so "4G" vs "four g" counts as an
error). Mandarin — hypothesis converted to Simplified (OpenCC t2s, as Calmline does), then only
CJK ideographs, ASCII letters and digits kept, letters lower-cased; the MagicData references lose
their ``#1``-``#4`` prosody marks. CER is over characters, WER over words; totals are pooled
(sum of edits / sum of reference length), not averaged per file.

    .venv/bin/python bench/asr_eval.py [--data ../shared/data] [--model bundled:base] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def norm_en(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split())


def norm_zh(text: str, t2s) -> str:
    text = t2s.convert(text)
    return "".join(re.findall(r"[\u4e00-\u9fffA-Za-z0-9]", text)).lower()


def load_references(data: Path) -> list[tuple[Path, str, str, str]]:
    """(audio path, language, reference, set name) for every evaluation file."""
    asr = data / "asr"
    rows = []
    lines = (asr / "references.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        if not line.strip():
            continue
        path, lang, ref = line.split("\t")
        rows.append((asr / path, lang, ref, "smoke-" + lang))
    magic = asr / "zh" / "magicdata_customer_service_read"
    labels = magic / "ProsodyLabeling" / "general.txt"
    if labels.exists():
        for line in labels.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^(\d+)\t(.+)$", line)
            if m:
                wav = magic / "Wave" / "general" / f"{m.group(1)}.wav"
                if wav.exists():
                    rows.append((wav, "zh", re.sub(r"#\d", "", m.group(2)), "magicdata-cs"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--model", default="bundled:base")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="Print every hypothesis.")
    args = parser.parse_args()
    if not (args.data / "asr").exists():
        print(f"no evaluation data at {args.data / 'asr'}", file=sys.stderr)
        return 2

    import jiwer
    import opencc

    from calmline.monitor.audio import load_audio
    from calmline.monitor.settings import Settings
    from calmline.pipelines.manager import ModelManager

    t2s = opencc.OpenCC("t2s")
    models = ModelManager(Settings.load(asr={"model": args.model}))
    transcriber = models.transcriber()
    vad = models.vad()
    per_set: dict[str, dict[str, float]] = {}
    rows = []
    t_audio = t_asr = 0.0
    for path, lang, ref, set_name in load_references(args.data):
        audio = load_audio(path)
        x = audio.mono()
        t0 = time.perf_counter()
        result = transcriber.transcribe(x, spans=vad.detect(x), language=lang)
        t_asr += time.perf_counter() - t0
        t_audio += audio.duration
        if lang == "zh":
            hyp = norm_zh("".join(w.text for w in result.words), t2s)
            r = norm_zh(ref, t2s)
            out = jiwer.process_characters(r, hyp)
            edits = out.substitutions + out.deletions + out.insertions
            n = len(r)
        else:
            hyp = norm_en(" ".join(w.text for w in result.words))
            r = norm_en(ref)
            out = jiwer.process_words(r, hyp)
            edits = out.substitutions + out.deletions + out.insertions
            n = len(r.split())
        s = per_set.setdefault(set_name, {"files": 0, "edits": 0, "ref": 0})
        s["files"] += 1
        s["edits"] += edits
        s["ref"] += n
        rows.append(
            {
                "file": str(path.relative_to(args.data)),
                "set": set_name,
                "error": round(edits / max(n, 1), 4),
                "ref": r,
                "hyp": hyp,
            }
        )
        if args.show:
            print(f"{path.name}: {edits}/{n}\n  ref {r}\n  hyp {hyp}")
    print(
        f"model {transcriber.info.name} {transcriber.info.version} "
        f"({transcriber.info.device}, {transcriber.info.compute_type}); "
        f"RTF {t_asr / max(t_audio, 1e-9):.3f} over {t_audio:.0f} s"
    )
    print(f"{'set':16} {'files':>5} {'metric':>6} {'error':>7}")
    for name, s in per_set.items():
        metric = "CER" if name != "smoke-en" else "WER"
        print(f"{name:16} {s['files']:5d} {metric:>6} {s['edits'] / max(s['ref'], 1):7.2%}")
    if args.json:
        args.json.write_text(
            json.dumps({"sets": per_set, "files": rows}, ensure_ascii=False, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
