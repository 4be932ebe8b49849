"""How well the complaint words find a customer who raises a problem (the ``customer_problem``
condition of ``calmline.monitor.applicability``).

    .venv/bin/python bench/labels/complaints.py [--data ../shared/data] [--language zh|en]

``complaints_<language>.jsonl`` marks the first customer post of STC-3 threads (tune half) by
hand: ``problem`` is true where the post raises a problem with the service or the product (a
fault, a charge, a delay, rude staff), false for questions, suggestions, praise and chat. Draw
``tune-words`` (60 threads, seed 7) is the one the complaint words were extended from; draw
``held-out`` (50 other threads, seed 8) was marked before the words were run on it. Each line
is a reference (thread id and the text's fingerprint), the text is read from the data. Prints
precision and recall of ``complaint_words`` (a complaint or anger word outside every
no-problem phrase; agitation and the recogniser's confidence play no part in text) per draw.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import text_eval  # noqa: E402

from calmline.monitor.detectors.phrases import complaint_words  # noqa: E402
from calmline.monitor.rubric import default_rubric  # noqa: E402
from calmline.monitor.textmatch import PhraseMatcher  # noqa: E402
from calmline.monitor.types import Role  # noqa: E402


def first_posts(data: Path, language: str = "zh") -> dict[str, str]:
    """Thread id -> the first customer post, for the STC-3 threads of ``language``."""
    out = {}
    for d in text_eval.stc3(data, language):
        first = next((t for r, t, *_ in d.lines if r is Role.CUSTOMER and t.strip()), None)
        if first is not None:
            out[d.id] = first
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--language", choices=("zh", "en"), action="append")
    args = ap.parse_args()
    if not (args.data / "text").exists():
        print(f"no evaluation data under {args.data}", file=sys.stderr)
        return 2
    for language in args.language or ("zh", "en"):
        rubric = default_rubric(language)
        matcher = PhraseMatcher(rubric.matching, language)
        posts = first_posts(args.data, language)
        path = HERE / f"complaints_{language}.jsonl"
        marks = [json.loads(line) for line in path.open(encoding="utf-8")]
        for draw in dict.fromkeys(m["draw"] for m in marks):
            tp = fp = fn = tn = 0
            for m in (m for m in marks if m["draw"] == draw):
                text = posts[m["dialogue"]]
                if text_eval.fingerprint(text) != m["fingerprint"]:
                    print(f"{m['dialogue']}: the text changed since it was marked", file=sys.stderr)
                    return 1
                found = bool(complaint_words(text, matcher, rubric.stress))
                tp += found and m["problem"]
                fp += found and not m["problem"]
                fn += m["problem"] and not found
                tn += not found and not m["problem"]
            p = tp / (tp + fp) if tp + fp else float("nan")
            r = tp / (tp + fn) if tp + fn else float("nan")
            print(
                f"{language} {draw:<11} {tp + fn:3d} raise a problem of {tp + fp + fn + tn:3d}: "
                f"precision {p:.2f} recall {r:.2f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
