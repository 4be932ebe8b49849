"""Field labels: the findings QA leads confirmed, rejected or added on real calls.

    calmline labels export --out labels.jsonl      (or GET /api/v1/evaluations/labels.jsonl)
    .venv/bin/python bench/field_labels.py labels.jsonl [--json OUT]
    .venv/bin/python bench/text_eval.py --field labels.jsonl

Each line is one judged finding of a call's newest published evaluation
(``calmline.api.evaluations``): ``quote``, ``context`` (the customer's words just before),
``language``, ``practice``, ``kind``, ``rule`` (rubric, version, the phrase that matched),
``verdict`` (``confirmed``: the machine's finding was right; ``rejected``: it was wrong, with a
``reason``; ``missed``: the machine did not find it) and
who judged it when.

Two measures come out of them:

* :func:`field_counts`: the deployed detectors' precision and recall as the evaluators saw them,
  per practice and kind and per month (``evaluated_at``): precision = confirmed / (confirmed +
  rejected), recall = confirmed / (confirmed + missed). Rejections whose reason lies upstream of
  the rule (:data:`UPSTREAM_REASONS`: the words were misheard, or said by the other side) are
  counted apart: they measure transcription and role attribution, not the rule.
* :func:`detector_scores`: the *current* text detectors re-run on each quote (``predict``, e.g.
  ``bench/text_eval.py``'s ``label_predictions``) and compared with the human verdict on the one
  element that was judged: confirmed and missed quotes should fire it, rejected ones (for a
  reason of the rule's own) should not. Findings without a quote, and kinds that no text
  detector produces (acoustic findings: interruptions, talk-over, pace), are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

FIELD_VERDICTS = ("confirmed", "rejected", "missed")
REJECT_REASONS = ("asr_error", "wrong_speaker", "not_applicable", "wrong_rule", "other")
UPSTREAM_REASONS = frozenset({"asr_error", "wrong_speaker"})
"""Rejections that say nothing about the rule: the transcript or the roles were wrong."""
REQUIRED = ("id", "language", "practice", "kind", "verdict", "quote")
MIN_JUDGED = 5
"""Precision and recall are printed once a group has this many judged findings (fewer give a
figure whose 95 % interval spans most of 0–1)."""


def read_field_labels(path: Path) -> list[dict]:
    """The records of a labels JSONL file; a bad line raises ``ValueError`` naming the file, the
    line and what is wrong."""
    records = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot be read ({e})") from e
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e})") from e
        problem = _problem(rec)
        if problem:
            raise ValueError(f"{path}:{n}: not a field label ({problem})")
        records.append(rec)
    return records


def _problem(rec: object) -> str | None:
    if not isinstance(rec, dict):
        return "not a JSON object"
    missing = [k for k in REQUIRED if k not in rec]
    if missing:
        return f"missing {', '.join(missing)}"
    if rec["verdict"] not in FIELD_VERDICTS:
        return f"verdict {rec['verdict']!r} is not one of {', '.join(FIELD_VERDICTS)}"
    if rec["verdict"] == "rejected" and rec.get("reason") not in REJECT_REASONS:
        return f"a rejection with reason {rec.get('reason')!r}, not one of {REJECT_REASONS}"
    if rec["language"] not in ("zh", "en", None):
        return f"language {rec['language']!r}"
    if not isinstance(rec["quote"], str):
        return "quote is not text"
    return None


def _rates(confirmed: int, rejected: int, missed: int) -> dict:
    judged = confirmed + rejected + missed
    enough = judged >= MIN_JUDGED
    found = confirmed + rejected
    return {
        "confirmed": confirmed,
        "rejected": rejected,
        "missed": missed,
        "precision": round(confirmed / found, 3) if enough and found else None,
        "recall": round(confirmed / (confirmed + missed), 3)
        if enough and confirmed + missed
        else None,
    }


def field_counts(records: Iterable[dict]) -> dict:
    """Per ``practice/kind`` and per month: confirmed, rejected (for the rule's own reasons),
    missed, precision and recall; and the upstream rejections by reason."""
    groups: dict[str, Counter] = defaultdict(Counter)
    months: dict[str, Counter] = defaultdict(Counter)
    upstream: Counter = Counter()
    for r in records:
        if r["verdict"] == "rejected" and r.get("reason") in UPSTREAM_REASONS:
            upstream[r["reason"]] += 1
            continue
        groups[f"{r['practice']}/{r['kind']}"][r["verdict"]] += 1
        months[str(r.get("evaluated_at") or "")[:7] or "unknown"][r["verdict"]] += 1
    by = {
        name: _rates(c["confirmed"], c["rejected"], c["missed"])
        for name, c in sorted(groups.items())
    }
    over_time = {
        m: _rates(c["confirmed"], c["rejected"], c["missed"]) for m, c in sorted(months.items())
    }
    return {"by_kind": by, "by_month": over_time, "upstream_rejections": dict(upstream)}


def to_text_records(records: Iterable[dict], element_of: dict[tuple[str, str], str]) -> list[dict]:
    """The records a text detector can be scored on, in ``bench/text_eval.py``'s label format
    (the quote after the customer's ``context``; no data set needed): ``labels`` holds the
    judged element when a human says it is there (confirmed, missed) and is empty when they say
    it is not (rejected for the rule's own reason); ``element`` names the one element judged."""
    out = []
    for r in records:
        element = element_of.get((r["practice"], r["kind"]))
        if element is None or not r["quote"].strip() or r["language"] not in ("zh", "en"):
            continue
        if r["verdict"] == "rejected" and r.get("reason") in UPSTREAM_REASONS:
            continue
        truth = r["verdict"] in ("confirmed", "missed")
        out.append(
            {
                "id": r["id"],
                "language": r["language"],
                "source": "field",
                "dialogue": r["id"],
                "line": 0,
                "split": "field",
                "text": r["quote"],
                "context": r.get("context") or "",
                "labels": [element] if truth else [],
                "element": element,
            }
        )
    return out


def detector_scores(text_records: list[dict], predicted: dict[str, set]) -> dict[str, dict]:
    """Per judged element: tp, fp, fn, tn of the detectors' firing on the quotes against the
    human verdicts, precision and recall (``None`` under :data:`MIN_JUDGED` judged quotes)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in text_records:
        truth = bool(r["labels"])
        fired = r["element"] in predicted.get(r["id"], set())
        counts[r["element"]][("t" if truth == fired else "f") + ("p" if fired else "n")] += 1
    out = {}
    for element, c in sorted(counts.items()):
        tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
        enough = tp + fp + fn + tn >= MIN_JUDGED
        out[element] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "precision": round(tp / (tp + fp), 3) if enough and tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if enough and tp + fn else None,
        }
    return out


def field_report(
    path: Path,
    predict: Callable[[list[dict]], dict[str, set]] | None = None,
    element_of: dict[tuple[str, str], str] | None = None,
) -> dict:
    """:func:`field_counts` of the file, and with ``predict`` (records -> id -> elements fired,
    e.g. ``lambda rs: text_eval.label_predictions(rs, None)``) and ``element_of`` (``text_eval.
    FINDING_LABELS``) the current detectors' :func:`detector_scores` on its quotes."""
    records = read_field_labels(path)
    rep = {"file": str(path), "labels": len(records), **field_counts(records)}
    if predict is not None and element_of is not None:
        text_records = to_text_records(records, element_of)
        rep["quotes_scored"] = len(text_records)
        rep["detectors"] = detector_scores(
            text_records, predict(text_records) if text_records else {}
        )
    return rep


def print_field_report(rep: dict) -> None:
    def pr(s: dict) -> str:
        p = "–" if s["precision"] is None else f"{s['precision']:.2f}"
        r = "–" if s["recall"] is None else f"{s['recall']:.2f}"
        return f"P {p:>4}  R {r:>4}"

    print(f"{rep['labels']} field label(s) in {rep['file']}")
    print(f"\n{'practice/kind':<40} confirmed rejected missed")
    for name, s in rep["by_kind"].items():
        print(f"{name:<40} {s['confirmed']:>9} {s['rejected']:>8} {s['missed']:>6}  {pr(s)}")
    print("\nby month:")
    for month, s in rep["by_month"].items():
        print(f"  {month:<8} {s['confirmed']:>5} / {s['rejected']:>5} / {s['missed']:>5}  {pr(s)}")
    if rep["upstream_rejections"]:
        print(f"rejections upstream of the rules: {rep['upstream_rejections']}")
    if "detectors" in rep:
        print(f"\ncurrent text detectors on {rep['quotes_scored']} quote(s):")
        for element, s in rep["detectors"].items():
            counts = f"tp {s['tp']} fp {s['fp']} fn {s['fn']} tn {s['tn']}"
            print(f"  {element:<32} {counts:<26} {pr(s)}")


def run_field_report(
    path: Path,
    json_out: Path | None,
    predict: Callable[[list[dict]], dict[str, set]] | None = None,
    element_of: dict[tuple[str, str], str] | None = None,
) -> int:
    """Print :func:`field_report` of the file (and write it to ``json_out`` when given); the
    exit status: 2 with the error on stderr when the file is bad, else 0."""
    try:
        rep = field_report(path, predict, element_of)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_field_report(rep)
    if json_out:
        json_out.write_text(json.dumps(rep, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path, help="JSONL from `calmline labels export`")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    return run_field_report(args.labels, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
