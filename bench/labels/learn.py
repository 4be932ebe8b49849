"""Train the learned layer of the solve_problem parts (``calmline.monitor.detectors.learned``).

    .venv/bin/python bench/labels/learn.py [--data ../shared/data] [--language zh]
        [--out monitor/rubrics/learned_zh.json]

For the next step a logistic regression over the character 1-3-grams
of an agent line (TF-IDF) is fitted on two kinds of lines:

* the hand-labelled **dev** lines of ``bench/labels/<language>.jsonl`` (weight ``--gold-weight``);
* every other agent line of the **tune** half of the dialogues (MUSIED, STC-3, MobileCS for
  Mandarin), labelled by Calmline's phrase rules with the learned layer off (weight 1): many
  more words than the hand labels hold, read the way the rules read them.

The test half of the dialogues, and with it every test label, is never read. The file's ``meta``
records the model's five-fold cross-validation on the labelled dev lines, grouped by dialogue
(the folds' rule-labelled lines leave out the held-out dialogues too): its best F1 alone over
its thresholds. The regularisation is fixed (:data:`C`, with what chose it). The probability
from which the detector credits a step the phrases missed is the rubric's ``learned_step_min``
(see its comment and ``bench/TEXT_EVAL.md``). Needs scikit-learn (a dev dependency); the
shipped model reads with the standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import text_eval  # noqa: E402

from calmline.monitor.detectors.learned import analyzer, export  # noqa: E402
from calmline.monitor.rubric import default_rubric  # noqa: E402
from calmline.monitor.textmatch import PhraseMatcher  # noqa: E402
from calmline.monitor.types import Role  # noqa: E402

PARTS = {"action": "solve_problem:next_step"}
"""solve_problem lexicon -> the label element it is judged by."""
READERS = {
    "zh": lambda data: (
        text_eval.musied(data),
        text_eval.stc3(data, "zh"),
        text_eval.mobilecs(data),
    ),
}
C = 16.0
"""The inverse regularisation. Chosen for how the model is used, adding steps where the phrases
miss: each of the last two label batches held out in turn (the model fitted without its labels,
against the phrases of the round before it), C = 16 added more steps, all right, from the
probabilities the rubric uses (0.6-0.7: 7 and 6 of 7 and 6) than C = 4 (4 and 2); the
cross-validated F1 of the model alone, which does not measure that, is 0.894 for both
(``bench/TEXT_EVAL.md``, "A learned layer")."""
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.91, 0.05))


def rules_only(language: str):
    """The default rubric of ``language`` with the learned layer off."""
    rubric = default_rubric(language)
    practice = rubric.practices["solve_problem"]
    off = practice.model_copy(
        update={"thresholds": practice.thresholds | {"learned_step_min": 0.0}}
    )
    return rubric.model_copy(update={"practices": rubric.practices | {"solve_problem": off}})


def rule_lines(data: Path, language: str, skip: set) -> list[tuple[str, str, set]]:
    """(dialogue key, text, elements the rules credit) of every agent line of the tune half,
    the lines in ``skip`` (``(source|dialogue, line)``) left out."""
    rubric = rules_only(language)
    matcher = PhraseMatcher(rubric.matching, language)
    out = []
    for it in READERS[language](data):
        for d in it:
            if not text_eval.in_split(text_eval.split_key(d), "tune"):
                continue
            key = f"{d.source}|{d.id}"
            fired = text_eval.detected_elements(d, rubric, matcher)
            for i, (role, text) in enumerate(d.lines):
                if role is Role.AGENT and text.strip() and (key, i) not in skip:
                    out.append((key, text, fired.get(i, set())))
    return out


def scores(truth: np.ndarray, fired: np.ndarray) -> tuple[float, float, float]:
    tp = int(np.sum(truth & fired))
    fp = int(np.sum(fired & ~truth))
    fn = int(np.sum(truth & ~fired))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def vectorized(texts):
    """The fitted TF-IDF vectoriser of ``texts`` (the model's n-grams) and their matrix."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=analyzer, min_df=2, sublinear_tf=True)
    return vec, vec.fit_transform(texts)


def regression(X, labels, weights, C: float = C):
    """The logistic regression of one part fitted on the rows of ``X``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000).fit(X, labels, sample_weight=weights)


def fit(texts, labels, weights, C: float = C):
    """Vectoriser and regression fitted on ``texts`` alone (one cross-validation fold)."""
    vec, X = vectorized(texts)
    return vec, regression(X, labels, weights, C)


def train(data: Path, language: str, gold_weight: float, log=print) -> dict:
    from sklearn.model_selection import GroupKFold

    records = text_eval.load_labels(text_eval.LABELS_DIR, (language,))
    dev = text_eval.resolve_texts([r for r in records if r["split"] == "dev"], data)
    skip = {(f"{r['source']}|{r['dialogue']}", r["line"]) for r in records}
    weak = rule_lines(data, language, skip)
    log(f"{len(dev)} labelled dev lines, {len(weak)} rule-labelled tune lines")
    dev_keys = np.array([f"{r['source']}|{r['dialogue']}" for r in dev])
    weak_keys = np.array([k for k, _, _ in weak])
    folds = list(GroupKFold(n_splits=5).split(dev, groups=dev_keys))

    def lines(dev_idx, weak_mask, element):
        texts = [dev[i]["text"] for i in dev_idx] + [
            w[1] for w, m in zip(weak, weak_mask, strict=True) if m
        ]
        labels = [element in dev[i]["labels"] for i in dev_idx]
        labels += [element in w[2] for w, m in zip(weak, weak_mask, strict=True) if m]
        weights = [gold_weight] * len(dev_idx) + [1.0] * int(np.sum(weak_mask))
        return texts, labels, weights

    meta_parts = {}
    everything = np.ones(len(weak), bool)
    for part, element in PARTS.items():
        truth = np.array([element in r["labels"] for r in dev])
        oof = np.zeros(len(dev))
        for tr, va in folds:
            mask = ~np.isin(weak_keys, dev_keys[va])
            vec, clf = fit(*lines(tr, mask, element))
            oof[va] = clf.predict_proba(vec.transform([dev[i]["text"] for i in va]))[:, 1]
        p, r, f, th = max(((*scores(truth, oof >= t), t) for t in THRESHOLDS), key=lambda c: c[2])
        log(
            f"{part}: C={C:g}; the model alone, dev cross-validation: best F1 {f:.3f} "
            f"(P {p:.3f} R {r:.3f}) from probability {th:.2f}"
        )
        meta_parts[part] = {
            "element": element,
            "C": C,
            "cv_threshold": th,
            "cv_precision": round(p, 3),
            "cv_recall": round(r, 3),
            "cv_f1": round(f, 3),
            "dev_positives": int(truth.sum()),
        }
    # one vocabulary for every part: fit on all lines, then one regression per part
    texts, _, _ = lines(range(len(dev)), everything, "")
    vec, X = vectorized(texts)
    parts = {}
    for part, element in PARTS.items():
        _, labels, weights = lines(range(len(dev)), everything, element)
        clf = regression(X, labels, weights)
        parts[part] = (clf.coef_[0], clf.intercept_[0])
    meta = {
        "trained_by": "bench/labels/learn.py",
        "gold_dev_lines": len(dev),
        "rule_labelled_lines": len(weak),
        "gold_weight": gold_weight,
        "parts": meta_parts,
    }
    return export(language, vec.vocabulary_, vec.idf_, parts, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--language", default="zh", choices=sorted(READERS))
    ap.add_argument("--gold-weight", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or HERE.parents[1] / "monitor" / "rubrics" / f"learned_{args.language}.json"
    spec = train(args.data, args.language, args.gold_weight)
    out.write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
