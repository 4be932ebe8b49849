"""A learned model of the next step, for the agent's turns no phrase credits with one.

The phrase rules of :mod:`~calmline.monitor.detectors.solve_problem` find next steps in the
words they list; on real dialogues they have not seen they miss about one in five, said in
words no list holds (``bench/TEXT_EVAL.md``, "A learned layer"). This module reads a logistic
regression per part over the character 1-3-grams of a turn (TF-IDF, sublinear term frequency,
L2 norm), trained by ``bench/labels/learn.py`` on the hand-labelled dev lines of ``bench/labels``
and on the rules' own decisions over every other agent line of the tune half of the dialogues.
The weights ship in ``rubrics/learned_<language>.json`` (Mandarin only: on English lines the
model did no better than the phrases); no model is fetched and reading it needs nothing beyond
the standard library.

A model only credits, and only where no phrase did: it never accuses an agent of a fault and
never takes back a phrase's credit. Its evidence is the stretch of the turn whose n-grams weigh
most for the part (:meth:`LearnedModel.evidence`), shown with the match kind ``learned`` and the
probability, so a reviewer sees which words carried the decision and that no phrase matched.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ORDERS = (1, 2, 3)
"""The n-gram orders, in characters."""


def _fold(ch: str) -> str:
    """One character as the model reads it: NFKC (full-width Latin and digits to half-width),
    lower case, any white space as one space; unchanged where that would not be one
    character, so that offsets into the text hold."""
    if ch.isspace():
        return " "
    out = unicodedata.normalize("NFKC", ch).lower()
    return out if len(out) == 1 else ch


def grams(text: str) -> list[tuple[str, int, int]]:
    """The character n-grams of ``text`` (orders :data:`ORDERS`) with their spans in it; grams
    of white space only are left out."""
    folded = "".join(_fold(c) for c in text)
    out = []
    for n in ORDERS:
        for i in range(len(folded) - n + 1):
            g = folded[i : i + n]
            if g.strip():
                out.append((g, i, i + n))
    return out


def analyzer(text: str) -> list[str]:
    """The features of ``text`` as the trainer counts them (``TfidfVectorizer(analyzer=...)``)."""
    return [g for g, _, _ in grams(text)]


@dataclass(frozen=True)
class Part:
    """One part's classifier: weight per n-gram and intercept. The probability from which a
    turn counts as holding the part is the rubric's (``learned_step_min``)."""

    weights: dict[str, float]
    intercept: float


class LearnedModel:
    """The classifiers of one language, read from their JSON file (see :func:`export`)."""

    def __init__(self, spec: dict, source: str = "") -> None:
        try:
            self.language: str = spec["language"]
            grams_ = spec["grams"]
            self.idf: dict[str, float] = dict(zip(grams_, map(float, spec["idf"]), strict=True))
            self.parts: dict[str, Part] = {
                name: Part(
                    weights={g: float(w) for g, w in zip(grams_, p["weights"], strict=True) if w},
                    intercept=float(p["intercept"]),
                )
                for name, p in spec["parts"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"{source or 'learned model'}: not a learned model file ({e})") from e
        self.meta: dict = spec.get("meta", {})

    @classmethod
    def load(cls, path: Path | str) -> LearnedModel:
        p = Path(path)
        try:
            spec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{p}: cannot read the learned model ({e})") from e
        return cls(spec, str(p))

    def _vector(
        self, text: str
    ) -> tuple[dict[str, float], list[tuple[str, int, int]], dict[str, int]]:
        """The TF-IDF vector of ``text``, the spans of its known n-grams and their counts."""
        spans = [s for s in grams(text) if s[0] in self.idf]
        counts: dict[str, int] = {}
        for g, _, _ in spans:
            counts[g] = counts.get(g, 0) + 1
        vec = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        if norm > 0:
            vec = {g: v / norm for g, v in vec.items()}
        return vec, spans, counts

    def probability(self, text: str, part: str) -> float:
        """The probability that ``text`` holds ``part``."""
        p = self.parts[part]
        vec, _, _ = self._vector(text)
        z = p.intercept + sum(v * p.weights.get(g, 0.0) for g, v in vec.items())
        return 1.0 / (1.0 + math.exp(-z))

    def evidence(self, text: str, part: str) -> tuple[int, int]:
        """The span of ``text`` whose characters weigh most for ``part``. Each n-gram's share of
        the score (its TF-IDF value times its weight, spread over its characters and its
        occurrences) is summed per character; the clause (between punctuation) with the largest
        sum is taken, and within a clause longer than :data:`EVIDENCE_CHARS` the stretch with the
        largest sum. ``(0, 0)`` when nothing weighs for it."""
        p = self.parts[part]
        vec, spans, occurrences = self._vector(text)
        per_char = [0.0] * len(text)
        for g, a, b in spans:
            share = vec[g] * p.weights.get(g, 0.0) / occurrences[g] / (b - a)
            for i in range(a, b):
                per_char[i] += share
        clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(text)]
        scored = [(sum(per_char[a:b]), a, b) for a, b in clauses]
        best = max(scored, default=(0.0, 0, 0))
        if best[0] <= 0:
            return (0, 0)
        _, a, b = best
        if b - a > EVIDENCE_CHARS:
            a, b = _heaviest_run(per_char, a, b)
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        return (a, b)


EVIDENCE_CHARS = 24
"""A clause longer than this (an unpunctuated transcript) is narrowed to its heaviest stretch."""
_CLAUSE = re.compile(r"[^，,。.!！?？;；:：~～、\n]+")


def _heaviest_run(per_char: list[float], start: int, end: int) -> tuple[int, int]:
    """The stretch of ``per_char[start:end]`` with the largest sum."""
    best, span, run, run_start = 0.0, (start, end), 0.0, start
    for i in range(start, end):
        if run <= 0:
            run, run_start = 0.0, i
        run += per_char[i]
        if run > best:
            best, span = run, (run_start, i + 1)
    return span


def export(language: str, vocabulary: dict[str, int], idf, parts: dict, meta: dict) -> dict:
    """The JSON form of a model: ``vocabulary`` (n-gram -> column) and ``idf`` as a fitted
    ``TfidfVectorizer`` holds them; ``parts`` maps a part to ``(coefficients, intercept)`` of a
    fitted binary ``LogisticRegression``. The n-grams are listed once
    (``grams``) with their ``idf`` and each part's ``weights`` in the same order, rounded to four
    decimals."""
    order = sorted(vocabulary, key=vocabulary.__getitem__)
    cols = [vocabulary[g] for g in order]
    return {
        "language": language,
        "meta": meta,
        "grams": order,
        "idf": [round(float(idf[c]), 4) for c in cols],
        "parts": {
            name: {
                "intercept": round(float(intercept), 4),
                "weights": [_number(coef[c]) for c in cols],
            }
            for name, (coef, intercept) in parts.items()
        },
    }


def _number(x) -> float | int:
    """``x`` rounded to four decimals; 0 written as ``0``."""
    r = round(float(x), 4)
    return r if r else 0


def model_for(language: str) -> LearnedModel | None:
    """The shipped model of ``language`` (``zh`` for any Mandarin code), or ``None``."""
    return _shipped("zh" if language.lower().startswith("zh") else language.lower())


@functools.cache
def _shipped(code: str) -> LearnedModel | None:
    ref = resources.files("calmline.monitor").joinpath(f"rubrics/learned_{code}.json")
    if not ref.is_file():
        return None
    return LearnedModel.load(Path(str(ref)))
