"""Phrase detectors on real customer-service text: hit counts, samples to read, SwDA agreement.

    .venv/bin/python bench/text_eval.py [--data ../shared/data] [--sample N] [--seed S]
                                        [--split tune|eval|all] [--limit N] [--json OUT]
    .venv/bin/python bench/text_eval.py --labels [--data ../shared/data] [--json OUT]
                                        [--show dev|test|random|all] [--errors OUT]

``--labels`` scores the detectors against the hand-labelled agent utterances of ``bench/labels``
(guideline in ``bench/labels/README.md``): each labelled line's dialogue is scored whole, an
element *fires* on the line when a finding of its kind points at the line's turn, and precision
and recall per element are printed for the ``dev`` split (for tuning), the ``test`` split (for
reporting) and the randomly drawn lines (``--show dev`` prints the dev figures only, for
tuning; the cap on credit findings a report lists per kind is lifted while the labels are
scored; ``--errors OUT`` writes the dev split's false positives and negatives with their texts
to a file outside the repository); with ``bench/labels/pass2.jsonl`` (and
``pass2_excuse.jsonl``), Cohen's kappa per element between two independent labelling passes,
pooled and per language (counts: first pass positives, second pass positives). The label
files hold references (data set, dialogue, line) and a fingerprint of each text, not the texts
(the data sets' licences do not let the project redistribute them): the texts are read from
``../shared/data``, and a line whose fingerprint no longer matches stops the run naming the
record. Without ``../shared/data`` the mode exits with status 2.

Every dialogue of the data sets below becomes a call (roles from the corpus, synthetic times:
4 characters/s for Mandarin, 2.5 words/s for English) and is scored by the phrase-driven
detectors with the packaged default rubric of its language; customer stress comes from
``calmline.monitor.stress`` (text only, so from anger words). Printed: per practice the findings
that quote a phrase (the "hits"), the top phrases, and ``--sample`` random hits per practice to
read, drawn with ``--seed``.

* ``zh_musied/dev.json``: MUSIED food-delivery calls and chats, ``客服:`` = agent;
* ``stc3_helpdesk``: Weibo customer ↔ helpdesk dialogues, Mandarin (``test_data_cn.json`` and
  ``train_data_cn.json`` from ``data.zip``) and their English translation (``*_en.json``);
* ``en_swda``: Switchboard telephone conversations, no agents. Every utterance is run through the
  acknowledgement lexicon, the let_finish backchannel lexicon and the repeated-token rule, and
  compared with the dialog-act tags ``b`` (backchannel), ``aa`` (agree), ``ba`` (appreciation),
  ``bk`` (response acknowledgement): utterance-level precision and recall.

Dialogues (and SwDA conversations) are split in two halves by a stable hash of their id:
lexicons were tuned on ``--split tune`` only, and the figures below were read on ``eval``.

Results (eval half, seed 2; hand labels in ``bench/TEXT_EVAL.md``)
-----------------------------------------------------------------
Hits read / right: acknowledge zh 20/20, en 6/6; repeated_ack zh 19/19, en no hits;
apologize_for_inconvenience zh 20/20, en 20/20; empathy zh 18/17, en 1/1; solve_problem zh
20/18, en 20/19; closing zh 20/14, en 20/13 (thanks closing a request); greeting zh 20/20, en
20/20. no_apology_demand: no hit in 13,339 agent lines; on customer lines 5/5 real demands.
SwDA: backchannel-only utterances vs tag ``b`` precision 0.74, recall 0.88.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from calmline.monitor.detectors import DetectorContext, detector_for, phrases
from calmline.monitor.rubric import Rubric, default_rubric
from calmline.monitor.stress import estimate_stress
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    StressTrajectory,
    Turn,
    Word,
)

REPO = Path(__file__).resolve().parents[1]
TEXT_PRACTICES = (
    "acknowledge",
    "no_apology_demand",
    "solve_problem",
    "greeting",
    "courtesy",
    "apologize_for_inconvenience",
    "paraphrase",
    "empathy",
    "no_arguing",
    "no_blame_shift",
    "no_excuses",
    "no_overpromise",
    "options",
    "closing",
)
SUMMARY_KINDS = {"ack_rate", "courtesy_share"}
SWDA_ACK_TAGS = {"b", "aa", "ba", "bk"}
ZH_RATE = 4.0  # characters per second
EN_RATE = 2.5  # words per second
GAP_S = 0.3
CALM = StressTrajectory((), None, None, None, "insufficient", "")


@dataclass(frozen=True, slots=True)
class Dialogue:
    source: str
    language: str
    id: str
    lines: tuple[tuple[Role, str], ...]


# --- data -----------------------------------------------------------------------------------


def musied(data: Path) -> Iterator[Dialogue]:
    path = data / "text" / "zh_musied" / "dev.json"
    for doc in json.loads(path.read_text(encoding="utf-8")):
        lines = []
        for raw in doc.get("content", []):
            text = raw.strip().rstrip(",").strip()
            for prefix, role in (("客服:", Role.AGENT), ("用户:", Role.CUSTOMER)):
                if text.startswith(prefix) and text[len(prefix) :].strip():
                    lines.append((role, text[len(prefix) :].strip()))
        if any(r is Role.AGENT for r, _ in lines):
            yield Dialogue(f"musied/{doc.get('domain', '')}", "zh", str(doc["id"]), tuple(lines))


def stc3(data: Path, language: str) -> Iterator[Dialogue]:
    folder = data / "text" / "stc3_helpdesk"
    suffix = "cn" if language == "zh" else "en"
    sets = [("test", json.loads((folder / f"test_data_{suffix}.json").read_text("utf-8")))]
    archive = folder / "data.zip"
    if archive.exists():
        with zipfile.ZipFile(archive) as z:
            sets.append(("train", json.loads(z.read(f"data/train_data_{suffix}.json"))))
    for name, dialogues in sets:
        for d in dialogues:
            lines = []
            for turn in d["turns"]:
                role = Role.AGENT if turn["sender"] == "helpdesk" else Role.CUSTOMER
                lines += [(role, u.strip()) for u in turn["utterances"] if u.strip()]
            if any(r is Role.AGENT for r, _ in lines):
                yield Dialogue(f"stc3_{suffix}/{name}", language, str(d["id"]), tuple(lines))


def swda(data: Path) -> Iterator[tuple[str, str, str]]:
    """(conversation id, utterance, dialog-act tag) of every Switchboard utterance."""
    root = data / "text" / "en_swda" / "swda_data"
    for folder in ("train", "val", "test"):
        for path in sorted((root / folder).glob("*.txt")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split("|")
                if len(parts) >= 3:
                    yield path.stem, "|".join(parts[1:-1]), parts[-1].strip()


def mobilecs(data: Path) -> Iterator[Dialogue]:
    """China Mobile call-center dialogues: ``[SPEAKER 1]`` is the agent (客服意图), and speaks
    first in every turn."""
    path = data / "text" / "zh_mobilecs" / "example.json"
    for d in json.loads(path.read_text(encoding="utf-8")):
        lines = []
        for turn in d.get("content", []):
            for key, role in (("[SPEAKER 1]", Role.AGENT), ("[SPEAKER 2]", Role.CUSTOMER)):
                text = str(turn.get(key) or "").strip()
                if text:
                    lines.append((role, text))
        if any(r is Role.AGENT for r, _ in lines):
            yield Dialogue("mobilecs", "zh", str(d["id"]), tuple(lines))


def harper_valley(data: Path) -> Iterator[Dialogue]:
    """Harper Valley bank calls: the human transcript, segments in time order, consecutive
    segments of one side joined into one line, noise tags (``[noise]``) dropped."""
    folder = data / "calls" / "harper_valley" / "transcript"
    for path in sorted(folder.glob("*.json")):
        segments = sorted(json.loads(path.read_text(encoding="utf-8")), key=_start_ms)
        lines: list[tuple[Role, str]] = []
        for s in segments:
            text = " ".join(re.sub(r"\[[^\]]*\]", " ", s.get("human_transcript") or "").split())
            if not text:
                continue
            role = Role.AGENT if s.get("speaker_role") == "agent" else Role.CUSTOMER
            if lines and lines[-1][0] is role:
                lines[-1] = (role, f"{lines[-1][1]} {text}")
            else:
                lines.append((role, text))
        yield Dialogue("harper_valley", "en", path.stem, tuple(lines))


def _start_ms(segment: dict) -> float:
    return float(segment.get("start_ms") or 0)


def swda_dialogues(data: Path) -> Iterator[Dialogue]:
    """Every Switchboard conversation twice, once with each caller (``A``, ``B``) in the agent's
    role; the id is ``<conversation>:<caller>``. No one there is an agent: these lines show what
    the detectors do with ordinary telephone talk."""
    root = data / "text" / "en_swda" / "swda_data"
    for folder in ("train", "val", "test"):
        for path in sorted((root / folder).glob("*.txt")):
            said = []
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split("|")
                text = "|".join(parts[1:-1]).strip() if len(parts) >= 3 else ""
                if text:
                    said.append((parts[0].strip(), text))
            for caller in ("A", "B"):
                lines = tuple(
                    (Role.AGENT if who == caller else Role.CUSTOMER, text) for who, text in said
                )
                if any(r is Role.AGENT for r, _ in lines):
                    yield Dialogue(f"swda/{folder}", "en", f"{path.stem}:{caller}", lines)


def split_key(d: Dialogue) -> str:
    """What :func:`in_split` hashes for the labelled set: the data set and the conversation.
    Both SwDA roles of a conversation, and an STC-3 dialogue and its English translation, fall in
    the same half."""
    family = d.source.split("/")[0]
    family = "stc3" if family.startswith("stc3") else family
    return f"{family}/{d.id.split(':')[0]}"


def in_split(key: str, split: str) -> bool:
    if split == "all":
        return True
    half = int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2
    return half == (0 if split == "tune" else 1)


# --- dialogues as calls ---------------------------------------------------------------------


def to_report(d: Dialogue) -> CallReport:
    zh = d.language == "zh"
    t = 0.0
    turns = []
    for i, (role, text) in enumerate(d.lines):
        tokens = re.findall(r"[^\W_]\W*|\W+", text) if zh else text.split()
        dur = max(0.5, len(tokens) / (ZH_RATE if zh else EN_RATE))
        step = dur / max(len(tokens), 1)
        words = tuple(
            Word(round(t + k * step, 3), round(t + (k + 1) * step, 3), tok, 0.9)
            for k, tok in enumerate(tokens)
        )
        speaker = "agent" if role is Role.AGENT else "customer"
        joined = ("" if zh else " ").join(w.text for w in words)
        turns.append(Turn(i, speaker, role, round(t, 3), round(t + dur, 3), joined, words))
        t += dur + GAP_S
    talk = {r.value: sum(x.end - x.start for x in turns if x.role is r) for r in Role}
    metrics = CallMetrics(t, talk, None, 0.0, (), 0.0, len(turns), ())
    return CallReport(
        call_id=d.id,
        audio=AudioInfo(d.source, "text", "text", 0, 2, t, 0),
        language=d.language,
        language_probability=None,
        attribution="channels",
        roles=RoleAssignment({"agent": Role.AGENT, "customer": Role.CUSTOMER}, "override"),
        segments=(),
        turns=tuple(turns),
        overlaps=(),
        metrics=metrics,
        models=(),
        timings={},
    )


@dataclass
class Tally:
    dialogues: int = 0
    agent_lines: int = 0
    hits: Counter = field(default_factory=Counter)
    """(practice, kind) -> hits."""
    phrases: Counter = field(default_factory=Counter)
    """(practice, kind, phrase) -> hits."""
    scores: defaultdict = field(default_factory=lambda: defaultdict(list))
    """practice -> scores of the dialogues it judged."""
    examples: defaultdict = field(default_factory=lambda: defaultdict(list))
    """practice -> one record per hit."""


def swapped(d: Dialogue) -> Dialogue:
    """The dialogue with the roles exchanged: the customer's lines scored as an agent's."""
    flip = {Role.AGENT: Role.CUSTOMER, Role.CUSTOMER: Role.AGENT}
    return Dialogue(d.source, d.language, d.id, tuple((flip[r], t) for r, t in d.lines))


def demands_by_customers(dialogues: list[Dialogue], rubric: Rubric, tally: Tally) -> None:
    """Apology demands are what angry customers say, so the demand lexicon is checked on the
    customers' lines too (roles swapped; customers are never scored)."""
    matcher = PhraseMatcher(rubric.matching, rubric.language)
    pid = "no_apology_demand"
    for d in dialogues:
        report = to_report(swapped(d))
        ctx = DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=CALM)
        for f in detector_for(pid)(ctx, pid, rubric.practices[pid]).findings:
            label = "apology_demand_by_customer"
            tally.hits[(label, f.kind)] += 1
            tally.phrases[(label, f.kind, f.phrase)] += 1
            tally.examples[label].append(_example(d, report, f))


def _example(d: Dialogue, report, f) -> dict:
    """One hit as a record to read: where it is, what matched, and the whole agent line."""
    return {
        "source": d.source,
        "dialogue": d.id,
        "turn": f.turn_index,
        "kind": f.kind,
        "severity": f.severity.value,
        "phrase": f.phrase,
        "value": f.value,
        "quote": f.quote,
        "line": report.turns[f.turn_index].text,
    }


def score_dialogues(dialogues: list[Dialogue], rubric: Rubric, tally: Tally) -> None:
    matcher = PhraseMatcher(rubric.matching, rubric.language)
    for d in dialogues:
        report = to_report(d)
        tally.dialogues += 1
        tally.agent_lines += sum(1 for t in report.turns if t.role is Role.AGENT)
        stress = estimate_stress(report, rubric, matcher)
        ctx = DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=stress)
        for pid in TEXT_PRACTICES:
            outcome = detector_for(pid)(ctx, pid, rubric.practices[pid])
            if outcome.score is not None:
                tally.scores[pid].append(outcome.score)
            for f in outcome.findings:
                if f.kind in SUMMARY_KINDS or f.turn_index is None:
                    continue
                if f.phrase is None and f.kind != "repeated_ack":
                    continue
                label = "repeated_ack" if f.kind == "repeated_ack" else pid
                tally.hits[(label, f.kind)] += 1
                tally.phrases[(label, f.kind, f.phrase)] += 1
                tally.examples[label].append(_example(d, report, f))


# --- Switchboard ----------------------------------------------------------------------------


def swda_agreement(data: Path, split: str, limit: int | None, rng: random.Random, n: int) -> dict:
    rubric = default_rubric("en")
    matcher = PhraseMatcher(rubric.matching, "en")
    ack = rubric.practices["acknowledge"]
    good, negations = ack.phrase_list("good"), ack.phrase_list("negation")
    repeat = ack.phrase_list("repeat")
    backchannel = rubric.practices["let_finish"].phrase_list("backchannel")
    counts = Counter()
    tags = Counter()
    repeats: list[dict] = []
    false_pos: list[dict] = []
    conversations = set()
    for conv, text, tag in swda(data):
        if not in_split(f"swda/{conv}", split):
            continue
        if limit is not None and conv not in conversations and len(conversations) >= limit:
            continue
        conversations.add(conv)
        ref = tag in SWDA_ACK_TAGS
        tags[tag] += 1
        hit = any(not m.negated for m in matcher.find(text, good, negations=negations))
        only_bc = _only_phrases(matcher, text, backchannel)
        counts["ack", hit, ref] += 1
        counts["bc", only_bc, tag == "b"] += 1
        counts["bc_any", only_bc, ref] += 1
        if hit and not ref:
            false_pos.append({"tag": tag, "line": text})
        for m in matcher.find_repeats(text, repeat, 3):
            repeats.append({"tag": tag, "count": m.count, "phrase": m.phrase, "line": text})

    def pr(name: str) -> dict:
        tp, fp, fn = counts[name, True, True], counts[name, True, False], counts[name, False, True]
        return {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        }

    return {
        "conversations": len(conversations),
        "utterances": sum(tags.values()),
        "reference_ack_utterances": sum(tags[t] for t in SWDA_ACK_TAGS),
        "acknowledge_lexicon_vs_b_aa_ba_bk": pr("ack"),
        "backchannel_only_vs_b": pr("bc"),
        "backchannel_only_vs_b_aa_ba_bk": pr("bc_any"),
        "repeated_tokens": len(repeats),
        "repeated_tags": Counter(r["tag"] for r in repeats).most_common(),
        "repeated_sample": rng.sample(repeats, min(n, len(repeats))),
        "ack_false_positive_tags": Counter(r["tag"] for r in false_pos).most_common(8),
        "ack_false_positive_sample": rng.sample(false_pos, min(n, len(false_pos))),
    }


def _only_phrases(matcher: PhraseMatcher, text: str, phrases) -> bool:
    """Whether ``text`` is nothing but backchannel phrases (and fillers, punctuation)."""
    matches = matcher.find(text, phrases)
    if not matches:
        return False
    rest = list(text)
    for m in matches:
        rest[m.start_char : m.end_char] = [" "] * (m.end_char - m.start_char)
    return matcher.normalize("".join(rest)).strip() == ""


# --- hand-labelled agent utterances (bench/labels) ------------------------------------------

LABELS_DIR = REPO / "bench" / "labels"
LABEL_PRACTICES = (*TEXT_PRACTICES, "let_finish")
FINDING_LABELS = {
    ("acknowledge", "ack_phrase"): "ack_phrase",
    ("acknowledge", "repeated_ack"): "repeated_ack",
    ("no_apology_demand", "apology_demand"): "apology_demand",
    ("apologize_for_inconvenience", "apology"): "apologize_for_inconvenience",
    ("empathy", "empathy"): "empathy",
    ("solve_problem", "empathy_phrase"): "empathy",
    ("solve_problem", "commitment"): "solve_problem:commitment",
    ("solve_problem", "next_step"): "solve_problem:next_step",
    ("solve_problem", "time_frame"): "solve_problem:time_frame",
    ("options", "options"): "options",
    ("paraphrase", "paraphrase"): "paraphrase",
    ("greeting", "greeting_hello"): "greeting:greeting_hello",
    ("greeting", "greeting_name"): "greeting:greeting_name",
    ("greeting", "greeting_offer"): "greeting:greeting_offer",
    ("closing", "closing_thanks"): "closing:closing_thanks",
    ("closing", "closing_invite"): "closing:closing_invite",
    ("closing", "closing_farewell"): "closing:closing_farewell",
    ("no_overpromise", "overpromise"): "overpromise",
    ("no_excuses", "excuse"): "excuse",
    ("no_blame_shift", "blame_shift"): "blame_shift",
    ("no_arguing", "arguing"): "arguing",
    ("let_finish", "retort"): "retort",
    ("courtesy", "rude"): "rude",
}
"""Finding (practice, kind) -> the element label it is compared with (``bench/labels``)."""
ELEMENTS = tuple(dict.fromkeys(FINDING_LABELS.values()))
MIN_POSITIVES = 5
"""An element's precision and recall count once it has this many labelled positives."""


FINGERPRINT_RE = re.compile(r"[0-9a-f]{12}")
NEEDS_DATA = (
    "the label files hold references to the data sets' lines, not their texts (the data sets' "
    "licences forbid redistributing them): --labels reads the texts from ../shared/data "
    "(see bench/labels/README.md); pass --data DIR if it is elsewhere"
)


class LabelTextsMissing(ValueError):
    """Records without their text, and no data set to read it from."""


def fingerprint(text: str) -> str:
    """What a label record keeps of its utterance: the first 12 hex digits of the SHA-256 of the
    text in Unicode NFC, enough to notice that a data set's line changed."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()[:12]


def line_texts(d: Dialogue, i: int) -> dict[str, str]:
    """Line ``i`` of ``d`` as a labeller reads it: ``context`` (the customer's line just before,
    if the line before is the customer's), ``text``, ``next`` (the line after, ``A:`` agent /
    ``C:`` customer; empty at the end)."""
    before = d.lines[i - 1] if i > 0 else None
    after = d.lines[i + 1] if i + 1 < len(d.lines) else None
    return {
        "context": before[1] if before and before[0] is Role.CUSTOMER else "",
        "text": d.lines[i][1],
        "next": f"{'A' if after[0] is Role.AGENT else 'C'}: {after[1]}" if after else "",
    }


def load_labels(folder: Path = LABELS_DIR, languages=("zh", "en")) -> list[dict]:
    """The first-pass label records of ``languages``; a bad line raises naming file and line.

    A record names its line (``source``, ``dialogue``, ``line``) and carries its text's
    ``fingerprint``; a record may carry its ``text`` instead (a file written for a test)."""
    records = []
    for language in languages:
        path = folder / f"{language}.jsonl"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                unknown = set(rec["labels"]) - set(ELEMENTS)
                if unknown or rec["split"] not in ("dev", "test"):
                    raise ValueError(f"unknown labels {sorted(unknown)} or bad split")
                if "text" not in rec and not FINGERPRINT_RE.fullmatch(str(rec.get("fingerprint"))):
                    raise ValueError("neither a text nor a 12-hex-digit fingerprint")
                if not isinstance(rec["line"], int) or rec["line"] < 0:
                    raise ValueError(f"bad line index {rec['line']!r}")
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{n}: not a label record ({e})") from e
            records.append(rec)
    return records


def labelled_dialogues(data: Path | None, records: list[dict]) -> dict[tuple[str, str], Dialogue]:
    """The dialogues the records come from, by (source, dialogue id).

    With ``data`` (``../shared/data``) every dialogue is read whole, as the records' ``line``
    indices expect; a record whose line is missing, not the agent's, or no longer matches its
    fingerprint (or its ``text``) raises naming the record. Without data, records must carry
    their texts (:class:`LabelTextsMissing` otherwise) and each becomes a two-line dialogue of
    its customer context and its text: enough for the phrase detectors that look at one turn,
    not for greetings and closings, which depend on where the turn is in the call."""
    wanted = {(r["source"], r["dialogue"]) for r in records}
    if data is None:
        bare = [r["id"] for r in records if "text" not in r]
        if bare:
            raise LabelTextsMissing(
                f"{len(bare)} record(s) without text ({bare[0]}, …): " + NEEDS_DATA
            )
        out = {}
        for r in records:
            lines = ((Role.CUSTOMER, r["context"]),) if r.get("context") else ()
            out[(r["source"], f"{r['dialogue']}#{r['line']}")] = Dialogue(
                r["source"], r["language"], r["dialogue"], (*lines, (Role.AGENT, r["text"]))
            )
        return out
    families = {r["source"].split("/")[0] for r in records}
    readers = {
        "musied": lambda: musied(data),
        "stc3_cn": lambda: stc3(data, "zh"),
        "stc3_en": lambda: stc3(data, "en"),
        "mobilecs": lambda: mobilecs(data),
        "harper_valley": lambda: harper_valley(data),
        "swda": lambda: swda_dialogues(data),
    }
    unknown = [r["id"] for r in records if r["source"].split("/")[0] not in readers]
    if unknown:
        raise ValueError(f"label {unknown[0]}: unknown source (not one of {sorted(readers)})")
    found = {}
    for family in sorted(families):
        for d in readers[family]():
            if (d.source, d.id) in wanted:
                found[(d.source, d.id)] = d
    missing = wanted - set(found)
    if missing:
        some = sorted(missing)[:3]
        raise ValueError(f"{len(missing)} labelled dialogue(s) not in {data}: {some}")
    for r in records:
        check_line(r, found[(r["source"], r["dialogue"])], data)
    return found


def check_line(r: dict, d: Dialogue, data: Path) -> None:
    """Raise naming the record unless line ``r["line"]`` of ``d`` is an agent line whose text
    has the record's fingerprint (and equals its ``text``, when the record carries one)."""
    where = f"label {r['id']}: line {r['line']} of {r['source']} dialogue {r['dialogue']} in {data}"
    if r["line"] >= len(d.lines):
        raise ValueError(f"{where}: the dialogue has only {len(d.lines)} lines")
    role, text = d.lines[r["line"]]
    if role is not Role.AGENT:
        raise ValueError(f"{where} is the customer's, not an agent line")
    got = fingerprint(text)
    if "fingerprint" in r and got != r["fingerprint"]:
        raise ValueError(
            f"{where} has changed: its fingerprint is {got}, the label says "
            f"{r['fingerprint']} (the data set is not the one that was labelled)"
        )
    if "text" in r and text != r["text"]:
        raise ValueError(f"{where} is not the record's text")


def resolve_texts(records: list[dict], data: Path) -> list[dict]:
    """The records with their ``context``, ``text`` and ``next`` read from ``data`` (checked
    against their fingerprints): what a labeller reads, never written into the repository."""
    dialogues = labelled_dialogues(data, records)
    return [r | line_texts(dialogues[(r["source"], r["dialogue"])], r["line"]) for r in records]


def detected_elements(d: Dialogue, rubric: Rubric, matcher: PhraseMatcher) -> dict[int, set]:
    """Turn index -> element labels of the findings pointing at that turn, the whole dialogue
    scored by the phrase detectors (and let_finish, for retorts)."""
    report = to_report(d)
    stress = estimate_stress(report, rubric, matcher)
    ctx = DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=stress)
    fired: dict[int, set] = defaultdict(set)
    for pid in LABEL_PRACTICES:
        if pid not in rubric.practices:
            continue
        for f in detector_for(pid)(ctx, pid, rubric.practices[pid]).findings:
            label = FINDING_LABELS.get((f.practice, f.kind))
            if label is not None and f.turn_index is not None:
                fired[f.turn_index].add(label)
    return fired


def label_predictions(
    records: list[dict], data: Path | None, *, uncapped: bool = True
) -> dict[str, set]:
    """Record id -> the elements Calmline's detectors fire on that utterance.

    With ``uncapped`` (the default) the cap on credit findings per kind
    (``phrases.MAX_POSITIVE_FINDINGS``, what a report shows) is lifted while the detectors run:
    a commitment on the 69th line of a long chat is recognised whether or not the report lists
    it, and the labels judge recognition."""
    if uncapped:
        saved = phrases.MAX_POSITIVE_FINDINGS
        phrases.MAX_POSITIVE_FINDINGS = 10**9
        try:
            return label_predictions(records, data, uncapped=False)
        finally:
            phrases.MAX_POSITIVE_FINDINGS = saved
    dialogues = labelled_dialogues(data, records)
    rubrics = {lang: default_rubric(lang) for lang in {r["language"] for r in records}}
    matchers = {lang: PhraseMatcher(rb.matching, lang) for lang, rb in rubrics.items()}
    fired_by = {}
    for key, d in dialogues.items():
        fired_by[key] = detected_elements(d, rubrics[d.language], matchers[d.language])
    out = {}
    for r in records:
        if data is None:
            key, turn = (r["source"], f"{r['dialogue']}#{r['line']}"), 1 if r.get("context") else 0
        else:
            key, turn = (r["source"], r["dialogue"]), r["line"]
        out[r["id"]] = fired_by[key].get(turn, set())
    return out


def precision_recall(records: list[dict], predicted: dict[str, set]) -> dict[str, dict]:
    """Per element: labelled positives, detector firings, tp/fp/fn, precision and recall
    (``None`` when undefined, and both ``None`` under :data:`MIN_POSITIVES` positives)."""
    out = {}
    for element in ELEMENTS:
        tp = fp = fn = 0
        for r in records:
            truth, fired = element in r["labels"], element in predicted[r["id"]]
            tp += truth and fired
            fp += fired and not truth
            fn += truth and not fired
        enough = tp + fn >= MIN_POSITIVES
        out[element] = {
            "positives": tp + fn,
            "fired": tp + fp,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 3) if enough and tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if enough else None,
        }
    return out


def cohen_kappa(a: list[bool], b: list[bool]) -> float | None:
    """Cohen's kappa of two binary labellings; ``None`` when neither holds a positive, 1.0
    when they agree on every item and chance agreement is 1."""
    n = len(a)
    if n == 0 or not (any(a) or any(b)):
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance >= 1.0:
        return 1.0
    return round((observed - chance) / (1 - chance), 3)


# Second, independent passes kept beside the labels: report key -> (file, elements left out,
# title). pass2.jsonl covers every element on a 100-line subset, but its excuse and blame_shift
# labels were made before the guideline for them was tightened; pass2_excuse.jsonl judges those
# two again on 300 lines (every pass2 line among them), so they are reported from it alone.
SECOND_PASSES = {
    "agreement": ("pass2.jsonl", ("excuse", "blame_shift"), "two passes"),
    "agreement_excuse": (
        "pass2_excuse.jsonl",
        (),
        "two passes on excuse and blame shift (pass2_excuse.jsonl)",
    ),
}


def pass_agreement(records: list[dict], second: list[dict]) -> dict:
    """Per element Cohen's kappa between the first pass and ``second`` (same ids).

    A row of ``second`` may carry ``elements`` (the only elements its labeller judged) and
    ``first`` (the first pass's labels of those elements as they were before the two passes were
    adjudicated): kappa is then taken against ``first``, not against the adjudicated labels of
    ``records``, and over those elements only."""
    current = {r["id"]: set(r["labels"]) for r in records}
    common = [r for r in second if r["id"] in current]
    first = {r["id"]: set(r["first"]) if "first" in r else current[r["id"]] for r in common}
    judged = [e for e in ELEMENTS if all(e in r.get("elements", ELEMENTS) for r in common)]
    out = {"items": len(common), "elements": {}}
    for element in judged:
        a = [element in first[r["id"]] for r in common]
        b = [element in (r.get("labels") or []) for r in common]
        out["elements"][element] = {
            "first": sum(a),
            "second": sum(b),
            "kappa": cohen_kappa(a, b),
        }
    return out


def labels_report(data: Path | None, folder: Path = LABELS_DIR, languages=("zh", "en")) -> dict:
    """Precision and recall per language, split (``dev``, ``test``) and element, plus on the
    randomly drawn lines of both splits, and the two passes' kappa when ``pass2.jsonl`` exists."""
    out: dict = {"data": "whole dialogues" if data else "context + line only", "languages": {}}
    by_language = {language: load_labels(folder, (language,)) for language in languages}
    for language, records in by_language.items():
        predicted = label_predictions(records, data)
        groups = {
            "dev": [r for r in records if r["split"] == "dev"],
            "test": [r for r in records if r["split"] == "test"],
            "random": [r for r in records if r["stratum"].startswith(("random_", "all_"))],
        }
        out["languages"][language] = {
            "utterances": {g: len(rs) for g, rs in groups.items()},
            "scores": {g: precision_recall(rs, predicted) for g, rs in groups.items()},
            "fired": {rid: sorted(els) for rid, els in predicted.items()},
        }
    every = [r for records in by_language.values() for r in records]
    for key, (name, superseded, _) in SECOND_PASSES.items():
        second = folder / name
        if second.exists():
            rows = [json.loads(x) for x in second.read_text("utf-8").splitlines() if x.strip()]
            rows = [r for r in rows if r["id"][:2] in languages]
            if superseded:
                kept = [e for e in ELEMENTS if e not in superseded]
                rows = [{"elements": kept} | r for r in rows]
            if rows:
                out[key] = pass_agreement(every, rows)
                out[key]["languages"] = {
                    lang: pass_agreement(records, rows)
                    for lang, records in by_language.items()
                    if any(r["id"].startswith(lang) for r in rows)
                }
    return out


def print_labels_report(rep: dict, groups: tuple[str, ...] = ("dev", "test", "random")) -> None:
    """The figures of ``groups`` (``--show dev`` while tuning: the test figures stay unread)."""
    print(f"labelled utterances, detectors run on {rep['data']}")
    for language, lang in rep["languages"].items():
        shown = [g for g in lang["scores"] if g in groups]
        sizes = ", ".join(f"{g} {n}" for g, n in lang["utterances"].items() if g in groups)
        print(f"\n=== {language}: {sizes} ===")
        heads = "  ".join(f"{g + ' P / R (pos, fired)':<28}" for g in shown)
        print(f"{'element':<30} {heads}")
        for element in ELEMENTS:
            cells = []
            for g in shown:
                s = lang["scores"][g][element]
                p = "–" if s["precision"] is None else f"{s['precision']:.2f}"
                r = "–" if s["recall"] is None else f"{s['recall']:.2f}"
                cells.append(f"{p:>4} / {r:<4} ({s['positives']}, {s['fired']})".ljust(28))
            rows = [lang["scores"][g][element] for g in shown]
            if any(s["positives"] or s["fired"] for s in rows):
                print(f"{element:<30} " + "  ".join(cells))
    for key, (_, _, title) in SECOND_PASSES.items():
        if key not in rep:
            continue
        ag = rep[key]
        print(f"\n=== {title}: {ag['items']} utterances, Cohen's kappa per element ===")
        parts = {"all": ag} | {f"{k} ({v['items']})": v for k, v in ag["languages"].items()}
        for element in ag["elements"]:
            cells = []
            for part, a in parts.items():
                a = a["elements"][element]
                if a["kappa"] is not None:
                    cells.append(f"{part} {a['kappa']:>6} ({a['first']}, {a['second']})")
            if cells:
                print(f"{element:<30} kappa " + "   ".join(cells))


def dev_errors(rep: dict, data: Path, folder: Path = LABELS_DIR) -> list[dict]:
    """The ``dev`` records a detector gets wrong, with their texts read from ``data`` (for
    reading while tuning; never the ``test`` split): one row per record and element, ``error``
    ``fp`` (fired, not labelled) or ``fn`` (labelled, not fired)."""
    rows = []
    for language, lang in rep["languages"].items():
        dev = [r for r in load_labels(folder, (language,)) if r["split"] == "dev"]
        for r in resolve_texts(dev, data):
            fired, truth = set(lang["fired"].get(r["id"], ())), set(r["labels"])
            for element in ELEMENTS:
                if (element in fired) != (element in truth):
                    error = "fp" if element in fired else "fn"
                    keep = ("id", "position", "stratum", "labels", "context", "text", "next")
                    rows.append({"element": element, "error": error} | {k: r[k] for k in keep})
    return sorted(rows, key=lambda x: (x["element"], x["error"], x["id"]))


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--sample", type=int, default=10, help="hits shown per practice")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", choices=("tune", "eval", "all"), default="eval")
    parser.add_argument("--limit", type=int, default=None, help="dialogues per data set")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--labels",
        action="store_true",
        help="score the detectors against the hand labels in bench/labels instead",
    )
    parser.add_argument(
        "--show",
        choices=("dev", "test", "random", "all"),
        default="all",
        help="with --labels: the figures printed (dev while tuning; --json keeps all)",
    )
    parser.add_argument(
        "--errors",
        type=Path,
        default=None,
        metavar="OUT",
        help="with --labels: write the dev split's false positives and negatives, with their "
        "texts, to OUT (outside the repository; the test split is never listed)",
    )
    parser.add_argument(
        "--field",
        type=Path,
        default=None,
        help="score the detectors on the quotes of QA field labels (calmline labels export; "
        "bench/field_labels.py) instead",
    )
    args = parser.parse_args()
    if args.field:
        from field_labels import run_field_report  # bench/field_labels.py

        return run_field_report(
            args.field, args.json, lambda rs: label_predictions(rs, None), FINDING_LABELS
        )
    if args.labels:
        if not (args.data / "text").exists():
            print(f"no evaluation data under {args.data}: {NEEDS_DATA}", file=sys.stderr)
            return 2
        try:
            rep = labels_report(args.data)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        shown = ("dev", "test", "random") if args.show == "all" else (args.show,)
        print_labels_report(rep, shown)
        if args.errors:
            if args.errors.resolve().is_relative_to(REPO):
                print(f"{args.errors} is inside the repository: texts stay out", file=sys.stderr)
                return 2
            rows = dev_errors(rep, args.data)
            text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows)
            args.errors.write_text(text, encoding="utf-8")
        if args.json:
            args.json.write_text(json.dumps(rep, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    if not (args.data / "text").exists():
        print(f"no evaluation data under {args.data}", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    results: dict = {"split": args.split, "seed": args.seed, "languages": {}}
    sources = {
        "zh": [musied(args.data), stc3(args.data, "zh")],
        "en": [stc3(args.data, "en")],
    }
    for language, iters in sources.items():
        rubric = default_rubric(language)
        tally = Tally()
        t0 = time.perf_counter()
        for it in iters:
            chosen = [d for d in it if in_split(f"{d.source.split('/')[0]}/{d.id}", args.split)]
            chosen = chosen[: args.limit] if args.limit else chosen
            score_dialogues(chosen, rubric, tally)
            demands_by_customers(chosen, rubric, tally)
        elapsed = time.perf_counter() - t0
        print(
            f"\n=== {language}: {tally.dialogues} dialogues, {tally.agent_lines} agent lines "
            f"({elapsed:.1f} s, split {args.split}) ==="
        )
        per_practice = {}
        for label in sorted({p for p, _ in tally.hits}):
            kinds = {k: n for (p, k), n in tally.hits.items() if p == label}
            top = [(phrase, n) for (p, k, phrase), n in tally.phrases.most_common() if p == label][
                :8
            ]
            # One generator per practice: a sample does not move when another practice changes.
            pick = random.Random(f"{args.seed}/{language}/{label}")
            sample = pick.sample(
                tally.examples[label], min(args.sample, len(tally.examples[label]))
            )
            per_practice[label] = {"hits": kinds, "top_phrases": top, "sample": sample}
            print(f"\n{label}: {sum(kinds.values())} hits {dict(kinds)}")
            print("  top: " + ", ".join(f"{p} {n}" for p, n in top))
            for i, s in enumerate(sample, 1):
                print(f"  [{i:2d}] {s['kind']:<14} {s['phrase']!s:<16} | {s['quote']}")
        judged = {
            pid: {
                "judged": len(v),
                "mean": round(sum(v) / len(v), 1) if v else None,
            }
            for pid, v in tally.scores.items()
        }
        print(
            "\nscores (judged dialogues, mean): "
            + ", ".join(f"{pid} {j['judged']}/{j['mean']}" for pid, j in sorted(judged.items()))
        )
        results["languages"][language] = {
            "dialogues": tally.dialogues,
            "agent_lines": tally.agent_lines,
            "practices": per_practice,
            "scores": judged,
        }

    t0 = time.perf_counter()
    sw = swda_agreement(args.data, args.split, args.limit, rng, args.sample)
    print(
        f"\n=== en_swda: {sw['conversations']} conversations, {sw['utterances']} utterances, "
        f"{sw['reference_ack_utterances']} tagged b/aa/ba/bk ({time.perf_counter() - t0:.1f} s) ==="
    )
    for key in (
        "acknowledge_lexicon_vs_b_aa_ba_bk",
        "backchannel_only_vs_b",
        "backchannel_only_vs_b_aa_ba_bk",
    ):
        print(f"{key}: {sw[key]}")
    print(f"acknowledge false positives by tag: {sw['ack_false_positive_tags']}")
    for s in sw["ack_false_positive_sample"]:
        print(f"  fp  {s['tag']:<6} | {s['line'][:140]}")
    print(
        f"repeated tokens (3+ in a row): {sw['repeated_tokens']} utterances, "
        f"tags {sw['repeated_tags'][:8]}"
    )
    for s in sw["repeated_sample"]:
        print(f"  rep {s['tag']:<6} x{s['count']} {s['phrase']:<8} | {s['line'][:140]}")
    results["swda"] = sw
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
