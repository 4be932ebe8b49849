"""Scoring speed: the rubric's detectors over real customer-service dialogues, with the phrase
matcher as it is against the matcher without its two shortcuts, side by side in one run.

The shortcuts (``monitor/textmatch.py``): a Mandarin phrase form whose characters the turn lacks
is skipped before matching (``_may_occur``), and the normalised forms of a rubric's phrases are
shared by every matcher of that rubric (one matcher per call) instead of being normalised again
for each call. Without them is how every call was scored before. Both ways must give the same
reports; the bench says whether they did.

The dialogues are the first ``--dialogues`` of each data set's development split
(``bench/text_eval.py``'s readers, ``../shared/data/text``), each scored as a call (the lines
laid end to end at a speaking rate, as ``text_eval`` scores them). The ways run in turns
(``--runs`` rounds, the fastest round of each kept), on the same machine load.

    .venv/bin/python bench/scoring_speed.py [--dialogues 60] [--runs 2]

Printed per data set: dialogues, agent lines, seconds each way, and the ratio.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import text_eval  # noqa: E402  (a benchmark script, not a package)

import calmline.monitor.textmatch as textmatch  # noqa: E402
from calmline.monitor.report import report_to_dict  # noqa: E402
from calmline.monitor.rubric import default_rubric  # noqa: E402
from calmline.monitor.scoring import score_report  # noqa: E402
from calmline.monitor.types import Role  # noqa: E402

SOURCES = {
    "musied (zh)": lambda data: text_eval.musied(data),
    "stc3 (zh)": lambda data: text_eval.stc3(data, "zh"),
    "mobilecs (zh)": lambda data: text_eval.mobilecs(data),
    "stc3 (en)": lambda data: text_eval.stc3(data, "en"),
    "harper_valley (en)": lambda data: text_eval.harper_valley(data),
}


def _dialogues(data: Path, read, n: int) -> list[text_eval.Dialogue]:
    dev = (
        d
        for d in read(data)
        if text_eval.in_split(text_eval.split_key(d), "tune")
        and any(r is Role.AGENT for r, _ in d.lines)
    )
    return list(itertools.islice(dev, n))


def _score(dialogues: list[text_eval.Dialogue], shortcuts: bool) -> tuple[float, list[str]]:
    """Seconds to score the dialogues, and their reports as JSON."""
    real = textmatch._may_occur
    if not shortcuts:
        textmatch._may_occur = lambda *_: True
    try:
        out = []
        t0 = time.perf_counter()
        for d in dialogues:
            if not shortcuts:
                textmatch._SHARED_FORMS.clear()  # each call's matcher normalises its forms
            report = score_report(text_eval.to_report(d), default_rubric(d.language))
            out.append(report)
        seconds = time.perf_counter() - t0
    finally:
        textmatch._may_occur = real
    return seconds, [json.dumps(report_to_dict(r), sort_keys=True, default=str) for r in out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--dialogues", type=int, default=60)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if not (args.data / "text").is_dir():
        print(f"error: {args.data / 'text'} is missing (the shared data sets)", file=sys.stderr)
        return 2
    print(f"{'data set':<20} {'dialogues':>9} {'agent lines':>11} {'without':>9} {'with':>8} ratio")
    same = True
    totals = [0.0, 0.0]
    for name, read in SOURCES.items():
        dialogues = _dialogues(args.data, read, args.dialogues)
        if not dialogues:
            continue
        best = {False: float("inf"), True: float("inf")}
        reports = {}
        for _ in range(args.runs):
            for shortcuts in (False, True):
                seconds, reports[shortcuts] = _score(dialogues, shortcuts)
                best[shortcuts] = min(best[shortcuts], seconds)
        same &= reports[False] == reports[True]
        totals[0] += best[False]
        totals[1] += best[True]
        lines = sum(1 for d in dialogues for r, _ in d.lines if r is Role.AGENT)
        print(
            f"{name:<20} {len(dialogues):>9} {lines:>11} {best[False]:>8.2f}s {best[True]:>7.2f}s"
            f" {best[False] / best[True]:.2f}x"
        )
    print(f"{'all':<42} {totals[0]:>8.2f}s {totals[1]:>7.2f}s {totals[0] / totals[1]:.2f}x")
    print(f"same reports both ways: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
