"""Offer several solutions for the customer to choose (建议不同的解决方法).

Credit for an options phrase said by the agent (您看…还是…, 有两个方案, "you can either … or …");
after a complaint, none scores ``missing_score``; no complaint and none: not judged.

Agents mostly offer a choice without a set phrase, as two steps joined by "or" in one sentence:
"please submit the request on our website or bring your phone to a service office", "we suggest
you block the calls with an app or report them on the website", 建议您使用自助服务或稍后再来咨询.
:func:`alternative_hits` finds that form: a suggestion or an offer to the customer
(``alternative_lead``: "please", "you can", "we suggest"; 建议您, 您可以, 请您) and, later in the
same sentence, "or" / 或 before a verb of a step (``alternative_verb``: "bring", "log in",
"call", "going"; 在, 通过, 拨打, 稍后), perhaps after "you can" or "by" (也可以; some verbs,
``alternative_verb_weak``: "tell", "provide", "ask for", only after "you can"); a semicolon
before "or" does not end the sentence ("call the store first; or you can log on our website").
Not when a negation stands between them ("please do not charge it or use it"), nor in a
sentence that invites future contact (``alternative_not``: "for any problem in the future,
please send us a message or dial our hotline" is a closing, not a choice of solutions), nor in a
question, nor "or" before a noun ("your order number or phone number" asks for details), nor two
verbs of one action ("open Cydia to update or install the module"). The second step may also
open a sentence of its own right after the sentence that suggested the first ("You can move them
in Settings. Or you can use the PC assistant to move them", "… You can also log in our website
to submit the request", 或者您也可以拨打…).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.frames import alternation, pattern_hit
from calmline.monitor.detectors.phrases import Hit, presence_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Turn

_POINT = r"\.(?![A-Za-z0-9])|(?<![A-Za-z0-9])\."
"""A full stop, not the points inside an address or a number (www.10010.com, t.tt, 1.3)."""
_SENTENCE = re.compile(rf"[!?\n]|;(?!\s*or\b)|{_POINT}")
"""A sentence's end; a semicolon before "or" joins the second step to the first ("we suggest
you call the store first; or you can log on our website")."""
_ZH_SENTENCE = re.compile(rf"[。！？!?；;\n]|{_POINT}")
_NEGATION = re.compile(r"\b(?:not|never|no|cannot|can't|can’t|don't|don’t)\b", re.I)
_ZH_NEGATION = re.compile(r"不要|不用|不能|无法|(?<![特区识级类分差个告])别|请勿|勿")
_SECOND_LEAD = (
    r"(?P<second>(?:you\s+)?(?:can|could|may)\s+(?:also\s+)?|by\s+|through\s+|via\s+|to\s+)?"
)
"""What may stand between "or" and the second step's verb ("or you can report it", "or by
calling", "or to visit")."""
_ZH_SECOND_LEAD = r"(?P<second>您?也?(?:可以|可)?)"
"""The same in Mandarin (或您也可以…, 或可直接…)."""


@lru_cache(maxsize=16)
def _pattern(leads: tuple[str, ...], verbs: tuple[str, ...], zh: bool) -> re.Pattern[str]:
    if zh:
        return re.compile(
            f"(?P<lead>{alternation(leads)})(?P<between>.*?)(?:或者|或是|或){_ZH_SECOND_LEAD}"
            f"(?P<verb>{alternation(verbs)})(?![类的])"
        )
    return re.compile(
        rf"\b(?P<lead>{alternation(leads)})\b(?P<between>.*?)\bor\s+{_SECOND_LEAD}"
        rf"(?P<verb>{alternation(verbs)})\b",
        re.IGNORECASE,
    )


@lru_cache(maxsize=16)
def _first_step(leads: tuple[str, ...], zh: bool) -> re.Pattern[str]:
    """A sentence that suggests or offers the customer something (its lead)."""
    return re.compile(f"(?:{alternation(leads)})" if zh else rf"\b(?:{alternation(leads)})\b", re.I)


@lru_cache(maxsize=16)
def _second_sentence(verbs: tuple[str, ...], zh: bool) -> re.Pattern[str]:
    """A sentence that opens on the second step ("Or you can use the PC assistant", "You can
    also log in our website", 或者您也可以拨打…)."""
    if zh:
        return re.compile(
            f"\\s*(?:或者|或是|或){_ZH_SECOND_LEAD}(?P<verb>{alternation(verbs)})(?![类的])"
        )
    return re.compile(
        rf"\s*(?:or\s+{_SECOND_LEAD}|you\s+(?:can|could|may)\s+also\s+)"
        rf"(?P<verb>{alternation(verbs)})\b",
        re.IGNORECASE,
    )


@lru_cache(maxsize=16)
def _barred(words: tuple[str, ...], zh: bool) -> re.Pattern[str]:
    edge = "" if zh else r"\b"
    return re.compile(f"{edge}(?:{alternation(words)}){edge}", re.I)


def _coordinated(between: str, verbs: Sequence[str]) -> bool:
    """Whether the words before "or" end on a step verb: one action on one object with two verbs
    ("to update or install it"), not two steps."""
    last = between.strip().lower()
    return any(last == v.lower() or last.endswith(" " + v.lower()) for v in verbs)


def _weak_alone(m: re.Match[str], weak: set[str]) -> bool:
    """Whether the second step's verb is one that makes a step only after "you can" / "can"
    (``alternative_verb_weak``) and no such word stands between "or" (or the sentence's start)
    and it: "please tell us the model or provide a screenshot" asks for details, "or you can
    tell us the issue" and "You can also open …" offer a way."""
    if m.group("verb").lower() not in weak:
        return False
    lead = m.group("second") if "lead" in m.groupdict() else m.string[m.start() : m.start("verb")]
    return not re.search(r"\b(?:can|could|may)\b", lead or "", re.IGNORECASE)


def alternative_hits(
    ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric
) -> list[Hit]:
    """Two steps offered as alternatives in one sentence (see the module docstring); only where
    the rubric lists the words (both default rubrics do)."""
    leads = practice.phrase_forms("alternative_lead")
    verbs = practice.phrase_forms("alternative_verb")
    if not (leads and verbs):
        return []
    zh = ctx.language.startswith("zh")
    pattern = _pattern(leads, verbs, zh)
    weak = {v.lower() for v in practice.phrase_forms("alternative_verb_weak")}
    excluded = practice.phrase_forms("alternative_not")
    barred = _barred(excluded, zh) if excluded else None
    breaks, negation = (_ZH_SENTENCE, _ZH_NEGATION) if zh else (_SENTENCE, _NEGATION)
    first_step = _first_step(leads, zh)
    second = _second_sentence(verbs, zh)
    hits = []
    for turn in turns:
        start = 0
        offered = False  # the sentence before offered a step
        for brk in [*breaks.finditer(turn.text), None]:
            end = len(turn.text) if brk is None else brk.start()
            sentence = (start, end)
            start = end if brk is None else brk.end()
            before, offered = offered, False
            # a question asks ("could you send a photo or call us?"); a closing invites
            if brk is not None and any(c in "?？" for c in brk.group(0)):
                continue
            if barred is not None and barred.search(turn.text, *sentence):
                continue
            # the second step in a sentence of its own, after the first ("You can move them in
            # Settings. Or you can use the PC assistant.")
            m = second.match(turn.text, *sentence) if before else None
            if m is not None and not _weak_alone(m, weak):
                hits.append(pattern_hit(ctx, turn, m, "step + or + step verb"))
                break
            step = first_step.search(turn.text, *sentence)
            offered = step is not None and not negation.search(turn.text, *sentence)
            m = pattern.search(turn.text, *sentence)
            if m is None or negation.search(m.group("between")):
                continue
            # two verbs sharing one object ("open it to update or install the module")
            if not zh and not m.group("second") and _coordinated(m.group("between"), verbs):
                continue
            if _weak_alone(m, weak):
                continue
            hits.append(pattern_hit(ctx, turn, m, "suggestion + or + step verb"))
            break
    return hits


@register("options")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx,
        practice_id,
        practice,
        kind="options",
        missing_kind="no_options",
        what="options",
        more=lambda c, agents: alternative_hits(c, agents, practice),
    )
