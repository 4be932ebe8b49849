"""``let_finish`` (尽量让对方把话说完): let the customer finish; do not answer back louder, faster
or with a retort.

Findings:

- ``interruption`` (major): the agent cutting in on the customer under the interruption rule of
  ``docs/interruptions.md`` (:mod:`calmline.monitor.floor`), read from the call's speech
  segments, not its turns: a stretch of agent speech starts while the customer is speaking
  (for more than ``simultaneous_start_s`` already), overlaps that customer speech by at least
  ``min_overlap_s``, lasts at least ``backchannel_max_s``, holds a recognised word, is not a
  backchannel by its words, is not the agent resuming after a pause of their own of at most
  ``resume_pause_s`` (over a customer who started in it), and is not a closing overlap (a
  goodbye over the other's last words; closing words are the ``closing`` practice's ``thanks``
  and ``farewell`` phrases, :func:`only_closing`). Start:
  the agent's onset; end: the end of the overlap; value: the overlap in seconds, from segments.
  Weight ``agitated_weight`` when the customer's agitation at that moment is at or above
  ``rubric.stress.agitated_level``.
- ``possible_interruption`` (minor, mono recordings only): see below.
- ``customer_interruption`` (info, not scored): the customer cutting in on the agent by the same
  rule. It belongs in the record of the call, not against the agent.
- ``louder`` / ``faster`` (minor, weight ``agitated_weight``): an agent turn at
  ``loudness_rel_db >= louder_db`` or at an articulation rate of ``faster_ratio`` times the
  agent's median or more, while the customer is agitated. Both are relative to the agent's own
  turns in the same call: the practice is about answering back louder or faster than one's
  normal self, and headset gains differ too much for an absolute level to mean it.
- ``retort`` (major): a retort phrase (lexicon ``retort``) in an agent turn; quote and times
  are those of the matched words.
- ``customer_protest`` (minor, weight ``agitated_weight`` while the customer is agitated): the
  customer asking to be let finish (lexicon ``protest``: 你听我说完, 你先听我说, 我还没说完, "let
  me finish", "stop interrupting me") after the agent's last turn with content. The customer's
  own words say what the timing may not show: on a text transcript, or on a mono call whose
  diarization draws no overlap, they are the evidence that the agent cut in. The finding sits on
  the customer's turn (its quote, times and matched words are the customer's) and names the
  agent turn it answers (at most one more customer turn between them). Where that agent turn is
  already charged (``interruption``, ``possible_interruption``) the protest confirms it, at
  severity info and no penalty: one fault, one penalty. A bare 你听我说 is not a protest
  (callers open a story with it), nor is a protest after nothing but the agent's backchannels.
- ``interruption_summary`` (info): the count and total overlap time; a finding about the whole
  call, so its ``start`` and ``end`` are ``None``.

An interruption is charged here only: when it is also the way the agent took the floor after a
long customer turn, ``gentle_control`` reports it as counted under this practice, without a
penalty of its own (see :func:`charged_turns`).

A backchannel is not an interruption, by its duration (speech shorter than
``backchannel_max_s``) or by its words (at most ``backchannel_max_words`` words, nothing but
backchannel phrases of the lexicon ``backchannel`` and fillers). Where the report holds no
segments (a live call's partial report), the turns stand in for them.

**Mono recordings.** Single-label diarization gives one speaker per instant, so it cannot show
two people talking at once, and the segment rule finds nothing there; where a diarizer does
produce overlapping speech the rule applies as on a stereo call. On a mono call an interruption
shows up as an agent turn that begins right where the customer's ends. Such a turn is reported
as a ``possible_interruption`` when the agent starts no more than
``possible_interruption_gap_s`` (0.1 s) after the customer's turn ends (or before it, within
the tolerance), the customer's text does not end a sentence (it has
text and its last character is not sentence-final punctuation) and the turn is not a backchannel
(the customer's turn right after it counts as the customer going on). Because a
transcript without punctuation cannot show an unfinished sentence, the cue is used only when the
call's transcript is punctuated somewhere. It is a cue, not a measurement (diarization boundaries
move by a few tenths of a second), so it is a separate kind at minor severity and costs
``possible_interruption_penalty`` (5) rather than the 20 of a measured overlap; it is not
counted among the interruptions. Stereo recordings measure the overlap directly and never get
this finding.

Score: ``100 - per_interruption_penalty * sum(interruption weights)
- possible_interruption_penalty * sum(possible weights) - louder_penalty * sum(louder weights)
- faster_penalty * sum(faster weights) - retort_penalty * sum(retort weights)
- protest_penalty * sum(customer_protest weights)``, at least 0;
``None`` without agent or customer turns.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import match_fields, units, unsure_note
from calmline.monitor.floor import (
    Interruption,
    InterruptionRule,
    Stretch,
    find_interruptions,
    stretches,
)
from calmline.monitor.measure import count_units
from calmline.monitor.rubric import PhraseEntry, PracticeRubric, Rubric
from calmline.monitor.stress import MIN_RATE_UNITS
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import Finding, Role, Severity, SpeechSegment, Turn, Word

PRACTICE = "let_finish"

DEFAULTS = {
    "turn_transition_tolerance_s": 0.3,
    "backchannel_max_s": 1.0,
    "backchannel_max_words": 3.0,
    "min_overlap_s": 0.5,
    "simultaneous_start_s": 0.2,
    "resume_pause_s": 1.0,
    "agitated_weight": 1.5,
    "per_interruption_penalty": 20.0,
    "louder_db": 4.0,
    "faster_ratio": 1.25,
    "possible_interruption_gap_s": 0.1,
    "possible_interruption_penalty": 5.0,
    "louder_penalty": 5.0,
    "faster_penalty": 5.0,
    "retort_penalty": 10.0,
    "protest_penalty": 10.0,
}
"""Thresholds of this practice and their defaults (rubric key -> value). The interruption rule's
(``backchannel_max_s``, ``backchannel_max_words``, ``min_overlap_s``, ``simultaneous_start_s``,
``resume_pause_s``) are argued in ``docs/interruptions.md``."""

_SENTENCE_END = frozenset("。！？!?.…")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class FloorRules:
    """Turn-taking rules shared by the practices that judge who holds the floor.

    Attributes:
        tolerance: Turn-transition tolerance (s): starts closer than this to the other turn's
            start or end are ordinary turn-taking, not talking over.
        backchannel_max_s: Longest backchannel (s); speech shorter than this never takes the
            floor.
        backchannel_max_words: Most words in a backchannel.
        backchannel: The backchannel lexicon.
        fillers: Filler words that may accompany a backchannel (嗯, 啊, um …).
        min_overlap_s: Least overlap of an interruption (s).
        simultaneous_start_s: Two starts this close are simultaneous, not a cut-in (s).
        resume_pause_s: A pause of one's own up to this keeps the floor (s).
        closing: Closing words, the ``thanks`` and ``farewell`` phrases of the rubric's
            ``closing`` practice (empty without one): an overlap in a closing exchange is no
            interruption (:func:`calmline.monitor.floor.closing_overlap`).
        closing_content_units: Fewest words (Mandarin: characters) besides closing words,
            backchannels and fillers that make words more than a closing; the closing
            practice's ``content_min_units`` (4 / 6).
    """

    tolerance: float
    backchannel_max_s: float
    backchannel_max_words: float
    backchannel: tuple[PhraseEntry, ...]
    fillers: tuple[str, ...]
    min_overlap_s: float = DEFAULTS["min_overlap_s"]
    simultaneous_start_s: float = DEFAULTS["simultaneous_start_s"]
    resume_pause_s: float = DEFAULTS["resume_pause_s"]
    closing: tuple[PhraseEntry, ...] = ()
    closing_content_units: float = 4.0

    @property
    def interruption_rule(self) -> InterruptionRule:
        """These thresholds as the segment rule of :mod:`calmline.monitor.floor`."""
        return InterruptionRule(
            simultaneous_start_s=self.simultaneous_start_s,
            resume_pause_s=self.resume_pause_s,
            min_overlap_s=self.min_overlap_s,
            min_speech_s=self.backchannel_max_s,
            backchannel_max_words=int(self.backchannel_max_words),
        )

    @classmethod
    def of(cls, rubric: Rubric, practice: PracticeRubric) -> FloorRules:
        """Rules from ``practice``, falling back to the rubric's ``let_finish`` practice (which
        owns them), then to the defaults, so another practice need not repeat them."""
        owner = rubric.practices.get(PRACTICE)

        def value(key: str) -> float:
            if key in practice.thresholds:
                return practice.threshold(key, DEFAULTS[key])
            if owner is not None:
                return owner.threshold(key, DEFAULTS[key])
            return DEFAULTS[key]

        phrases = practice.phrase_list("backchannel")
        if not phrases and owner is not None:
            phrases = owner.phrase_list("backchannel")
        closing = rubric.practices.get("closing")
        closing_words = (
            (*closing.phrase_list("thanks"), *closing.phrase_list("farewell")) if closing else ()
        )
        return cls(
            tolerance=value("turn_transition_tolerance_s"),
            backchannel_max_s=value("backchannel_max_s"),
            backchannel_max_words=value("backchannel_max_words"),
            backchannel=phrases,
            fillers=rubric.matching.fillers,
            min_overlap_s=value("min_overlap_s"),
            simultaneous_start_s=value("simultaneous_start_s"),
            resume_pause_s=value("resume_pause_s"),
            closing=closing_words,
            closing_content_units=(
                closing.threshold("content_min_units", 4.0) if closing is not None else 4.0
            ),
        )


def starts_inside(turn: Turn, other: Turn, tolerance: float) -> bool:
    """Whether ``turn`` starts while ``other`` holds the floor, beyond the tolerance at both ends.

    Args:
        turn: The turn that may be talking over.
        other: The turn that may be talked over.
        tolerance: Turn-transition tolerance (s).
    """
    return other.start + tolerance < turn.start < other.end - tolerance


def is_backchannel(
    turn: Turn, rules: FloorRules, matcher: PhraseMatcher, *, other_continues: bool
) -> bool:
    """Whether ``turn`` is a backchannel: short, acknowledgement only, the other keeps talking.

    Args:
        turn: The short turn.
        rules: Turn-taking rules (length limits, backchannel lexicon, fillers).
        matcher: Phrase matcher of the call's language.
        other_continues: Whether the other speaker keeps talking after ``turn`` ends.
    """
    if not other_continues or not turn.text.strip():
        return False
    n_words = len(turn.words) if turn.words else len(turn.text.split())
    short = (
        turn.end - turn.start <= rules.backchannel_max_s or n_words <= rules.backchannel_max_words
    )
    return short and only_phrases(turn.text, rules.backchannel, matcher, rules.fillers)


def next_turns(ctx: DetectorContext) -> dict[int, Turn]:
    """Each turn's index -> the turn of the call that comes next (by start, then end)."""
    order = sorted(ctx.report.turns, key=lambda t: (t.start, t.end))
    return {a.index: b for a, b in pairwise(order)}


def listens_on(turn: Turn, nxt: Turn | None, rules: FloorRules, matcher: PhraseMatcher) -> bool:
    """Whether ``turn`` is a backchannel said in the other speaker's pause, after which the other
    speaker goes on talking: the call's next turn, ``nxt`` (:func:`next_turns`), is the other
    speaker's (嗯 / "uh-huh" between two stretches of the customer's story). Such a turn keeps
    listening: it neither takes the floor nor answers.

    Args:
        turn: The short turn.
        nxt: The turn of the call that comes after ``turn``, if any.
        rules: Turn-taking rules (length limits, backchannel lexicon, fillers).
        matcher: Phrase matcher of the call's language.
    """
    return (
        nxt is not None
        and nxt.role is not turn.role
        and is_backchannel(turn, rules, matcher, other_continues=True)
    )


def only_phrases(
    text: str, phrases: Sequence[PhraseEntry], matcher: PhraseMatcher, fillers: Sequence[str] = ()
) -> bool:
    """Whether ``text`` holds nothing but ``phrases`` (any number, any order), fillers and
    punctuation.

    Matches are cut out and the rest searched again, so a matcher that reports one match per
    phrase still consumes 嗯嗯 or "yeah yeah".
    """
    if not phrases:
        return False
    rest = text
    for _ in range(len(text) + 1):
        if _only_fillers(rest, fillers):
            return True
        spans = [(m.start_char, m.end_char) for m in matcher.find(rest, phrases)]
        spans = [(a, b) for a, b in spans if 0 <= a < b <= len(rest)]
        if not spans:
            return False
        cut = list(rest)
        for a, b in spans:
            cut[a:b] = " " * (b - a)  # a space, so the words either side do not join
        rest = "".join(cut)
    return False


def beyond_backchannel(
    turns: Sequence[Turn], rules: FloorRules, matcher: PhraseMatcher
) -> list[Turn]:
    """The ``turns`` that say more than backchannels and fillers (:func:`only_phrases` over
    ``rules.backchannel``): an agent who only hums 嗯 after the customer's words has not
    answered them."""
    return [
        t
        for t in turns
        if t.text.strip() and not only_phrases(t.text, rules.backchannel, matcher, rules.fillers)
    ]


def only_closing(text: str, rules: FloorRules, matcher: PhraseMatcher) -> bool:
    """Whether ``text`` is a closing's thanks and goodbyes and nothing more: it holds a closing
    phrase (``rules.closing``), and what is left once closing phrases, backchannels and fillers
    are taken out is shorter than ``rules.closing_content_units`` (the closing practice's own
    measure of a turn that carries content; "that's" is one word). "Okay thank you and have a
    good day" is a closing; "thank you, and one more thing about my card" is not."""
    if not rules.closing or not text.strip():
        return False
    found = matcher.find(text, rules.closing, fuzzy_threshold=100)
    if not found:
        return False
    rest = list(text)
    for m in (*found, *matcher.find(text, rules.backchannel, fuzzy_threshold=100)):
        rest[m.start_char : m.end_char] = " " * (m.end_char - m.start_char)
    left = "".join(rest).lower()
    fillers = sorted((f.lower() for f in rules.fillers if f), key=len, reverse=True)
    if matcher.cjk:
        for f in fillers:
            left = left.replace(f, " ")
        return units(left, "zh") < rules.closing_content_units
    content = [w for w in re.findall(r"\w+(?:'\w+)*", left) if w not in fillers]
    return len(content) < rules.closing_content_units


@dataclass(frozen=True, slots=True)
class _Judge:
    """What every finding of one run of the detector needs: context, thresholds, rules."""

    ctx: DetectorContext
    practice_id: str
    practice: PracticeRubric
    rules: FloorRules

    def th(self, key: str) -> float:
        return self.practice.threshold(key, DEFAULTS[key])

    @property
    def agitated_level(self) -> float:
        return self.ctx.rubric.stress.agitated_level

    def weight_at(self, time: float) -> tuple[float, float]:
        """Customer agitation at ``time`` and the weight it gives a finding there."""
        level = self.ctx.agitation_at(time)
        return level, self.th("agitated_weight") if level >= self.agitated_level else 1.0

    def mood(self, level: float) -> str:
        state = "agitated" if level >= self.agitated_level else "not agitated"
        return f"customer agitation {level:.2f} ({state}; agitated at >= {self.agitated_level:.2f})"

    def finding(self, turn: Turn, kind: str, severity: Severity, **fields) -> Finding:
        fields.setdefault("start", turn.start)
        fields.setdefault("end", turn.end)
        fields.setdefault("quote", turn.text)
        fields.setdefault("turn_index", turn.index)
        return Finding(
            practice=self.practice_id,
            kind=kind,
            speaker=turn.speaker,
            role=turn.role,
            severity=severity,
            **fields,
        )


@register(PRACTICE)
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    """Interruptions, louder or faster answers while the customer is agitated, retorts."""
    agent = _in_time_order(ctx.turns_of(Role.AGENT))
    customer = _in_time_order(ctx.turns_of(Role.CUSTOMER))
    if not agent or not customer:
        return PracticeOutcome(score=None, findings=())
    judge = _Judge(ctx, practice_id, practice, FloorRules.of(ctx.rubric, practice))

    events = interruption_events(ctx, judge.rules)
    interruptions, possible = _charged(judge, events)
    charged = {f.turn_index: f.kind for f in (*interruptions, *possible)}
    protests = [f for _, f in _protests(judge, agent, customer, charged)]
    by_customer = _customer_interruptions(judge, events)
    louder, faster = _louder_faster(judge, agent)
    retorts = _retorts(judge, agent)

    th = judge.th
    penalty = (
        th("per_interruption_penalty") * _weights(interruptions)
        + th("possible_interruption_penalty") * _weights(possible)
        + th("louder_penalty") * _weights(louder)
        + th("faster_penalty") * _weights(faster)
        + th("retort_penalty") * _weights(retorts)
        + th("protest_penalty") * _weights(protests)
    )
    score = round(max(0.0, 100.0 - penalty), 1)

    total_overlap = sum(f.value or 0.0 for f in interruptions)
    n_agitated = sum(1 for f in interruptions if f.weight > 1.0)
    summary = judge.finding(
        agent[0],
        "interruption_summary",
        Severity.INFO,
        start=None,  # about the whole call, not a moment in it
        end=None,
        quote="",
        value=_r(total_overlap),
        threshold=judge.rules.min_overlap_s,
        detail=(
            f"{len(interruptions)} interruption(s) by the agent ({n_agitated} while the customer "
            f"was agitated), {total_overlap:.2f} s of overlap in total; "
            f"{len(possible)} possible interruption(s) on a mono recording; "
            f"{len(by_customer)} by the customer (not scored)."
        ),
        turn_index=None,
    )
    findings = sorted(
        [*interruptions, *possible, *protests, *by_customer, *louder, *faster, *retorts],
        key=lambda f: (f.start, f.end, f.kind),
    )
    return PracticeOutcome(score=score, findings=(summary, *findings))


def louder_faster(
    ctx: DetectorContext, practice_id: str, practice: PracticeRubric
) -> tuple[list[Finding], list[Finding]]:
    """The ``louder`` and ``faster`` findings of :func:`detect` alone (agent turns louder or
    faster than the agent's own baseline while the customer is agitated), for callers that
    judge a call as it goes and need no interruption or retort rule."""
    agent = _in_time_order(ctx.turns_of(Role.AGENT))
    if not agent or not ctx.turns_of(Role.CUSTOMER):
        return [], []
    return _louder_faster(
        _Judge(ctx, practice_id, practice, FloorRules.of(ctx.rubric, practice)), agent
    )


def charged_turns(ctx: DetectorContext) -> dict[int, str]:
    """The agent turns this practice charges as an interruption: turn index -> finding kind
    (``interruption``, ``possible_interruption``, or ``customer_protest`` for the agent turn a
    customer's protest answers).

    An interruption is one fault, charged here; a practice that judges how the agent takes the
    floor (``gentle_control``) refers to these turns without charging them again. Empty when
    the rubric has no enabled ``let_finish`` practice, or the call lacks agent or customer
    turns.
    """
    practice = ctx.rubric.practices.get(PRACTICE)
    if practice is None or not practice.enabled:
        return {}
    agent = _in_time_order(ctx.turns_of(Role.AGENT))
    customer = _in_time_order(ctx.turns_of(Role.CUSTOMER))
    if not agent or not customer:
        return {}
    judge = _Judge(ctx, PRACTICE, practice, FloorRules.of(ctx.rubric, practice))
    interruptions, possible = _charged(judge, interruption_events(ctx, judge.rules))
    charged = {f.turn_index: f.kind for f in (*interruptions, *possible)}
    for answered, f in _protests(judge, agent, customer, charged):
        charged.setdefault(answered, f.kind)
    return {i: kind for i, kind in charged.items() if i is not None}


def _charged(
    judge: _Judge, events: Sequence[tuple[Interruption, Turn]]
) -> tuple[list[Finding], list[Finding]]:
    """The interruptions and, on a punctuated mono call, the possible interruptions."""
    interruptions = _interruptions(judge, events)
    possible: list[Finding] = []
    ctx = judge.ctx
    if ctx.report.attribution != "channels" and _punctuated(ctx.report.turns):
        taken = {f.turn_index for f in interruptions}
        possible = _possible_interruptions(judge, _in_time_order(ctx.report.turns), taken)
    return interruptions, possible


def interruption_events(ctx: DetectorContext, rules: FloorRules) -> list[tuple[Interruption, Turn]]:
    """Interruptions between the agent and the customer, either way, under the segment rule,
    each with the turn of the interrupter it falls in.

    Speech comes from the report's segments (the turns' spans where it has none) and words from
    the turns; speakers other than the call's agent and customer are left out.
    """
    report = ctx.report
    role_of = _roles(report)
    wanted = {Role.AGENT, Role.CUSTOMER}
    segments = report.segments or tuple(
        SpeechSegment(t.start, t.end, t.speaker, t.channel) for t in report.turns
    )
    segments = tuple(s for s in segments if role_of.get(s.speaker) in wanted)
    words: dict[str, list[Word]] = {}
    for t in report.turns:
        words.setdefault(t.speaker, []).extend(t.words)
    rule = rules.interruption_rule
    speech = stretches(segments, words, rule.join_gap_s)

    def backchannel(stretch: Stretch) -> bool:
        return only_phrases(
            _text(stretch, report.language), rules.backchannel, ctx.matcher, rules.fillers
        )

    def closing(said: Sequence[Word]) -> bool:
        return only_closing(_words_text(said, report.language), rules, ctx.matcher)

    by_speaker: dict[str, list[Turn]] = {}
    for t in sorted(report.turns, key=lambda t: (t.start, t.end, t.index)):
        by_speaker.setdefault(t.speaker, []).append(t)
    out = []
    for event in find_interruptions(speech, rule, backchannel, closing):
        if {role_of.get(event.speaker), role_of.get(event.interrupted)} != wanted:
            continue
        turn = _turn_at(by_speaker.get(event.speaker, []), event.start)
        if turn is not None:
            out.append((event, turn))
    return out


def _roles(report) -> dict[str, Role]:
    roles = dict(report.roles.roles)
    for t in report.turns:
        roles.setdefault(t.speaker, t.role)
    return roles


def _text(stretch: Stretch, language: str) -> str:
    return _words_text(stretch.words or (), language)


def _words_text(words: Sequence[Word], language: str) -> str:
    joiner = "" if language.startswith("zh") else " "
    return joiner.join(w.text for w in words)


def _turn_at(own: Sequence[Turn], time: float) -> Turn | None:
    """Of one speaker's turns (in time order), the one holding ``time``, else the nearest."""
    k = bisect_right([t.start for t in own], time)
    candidates = own[max(0, k - 1) : k + 1]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda t: (
            0.0 if t.start <= time <= t.end else min(abs(time - t.start), abs(time - t.end)),
            t.index,
        ),
    )


def _event_detail(event: Interruption, who: str, whom: str) -> str:
    """What was measured, for a finding's detail."""
    s = event.stretch
    how = (
        f"{who} started {event.start - event.held_since:.2f} s into the {whom}'s speech "
        f"(from {event.held_since:.2f} s)"
    )
    return (
        f"{how}: {event.overlap:.2f} s of overlapping speech, {s.duration:.2f} s of {who.lower()} "
        "speech"
    )


def _interruptions(judge: _Judge, events: Sequence[tuple[Interruption, Turn]]) -> list[Finding]:
    """The agent cutting in on the customer (segment rule)."""
    rules = judge.rules
    found = [(e, t) for e, t in events if t.role is Role.AGENT]
    total = sum(e.overlap for e, _ in found)
    out = []
    for i, (e, a) in enumerate(found, start=1):
        level, weight = judge.weight_at(e.start)
        out.append(
            judge.finding(
                a,
                "interruption",
                Severity.MAJOR,
                start=_r(e.start),
                end=_r(e.end),
                quote=_text(e.stretch, judge.ctx.report.language) or a.text,
                value=_r(e.overlap),
                threshold=rules.min_overlap_s,
                detail=(
                    f"{_event_detail(e, 'Agent', 'customer')} (an interruption takes at least "
                    f"{rules.min_overlap_s:.2f} s of overlap and {rules.backchannel_max_s:.2f} s "
                    f"of speech); {judge.mood(level)}, weight {weight:g}. Interruption {i} of "
                    f"{len(found)}, {total:.2f} s of overlap in total."
                ),
                weight=weight,
            )
        )
    return out


def _possible_interruptions(
    judge: _Judge, ordered: Sequence[Turn], taken: set[int | None]
) -> list[Finding]:
    """Mono recordings: agent turns latched onto a customer's unfinished sentence."""
    rules, max_gap = judge.rules, judge.th("possible_interruption_gap_s")
    out = []
    for i, a in enumerate(ordered):
        if i == 0 or a.role is not Role.AGENT or a.index in taken:
            continue
        c = ordered[i - 1]
        gap = a.start - c.end
        if (
            c.role is not Role.CUSTOMER
            or a.start <= c.start + rules.tolerance
            or gap > max_gap
            or not c.text.strip()  # no words: nothing shows whether the sentence was finished
            or _ends_sentence(c.text)
        ):
            continue
        follows = ordered[i + 1] if i + 1 < len(ordered) else None
        continues = follows is not None and follows.role is Role.CUSTOMER
        if is_backchannel(a, rules, judge.ctx.matcher, other_continues=continues):
            continue
        level, weight = judge.weight_at(a.start)
        out.append(
            judge.finding(
                a,
                "possible_interruption",
                Severity.MINOR,
                value=_r(gap),
                threshold=max_gap,
                detail=(
                    f"Agent started {describe_gap(gap)} customer turn {c.index} ended "
                    f'mid-sentence ("...{c.text.strip()[-20:]}"); a mono recording cannot show '
                    f"an overlap, so this is a possible interruption; {judge.mood(level)}, "
                    f"weight {weight:g}."
                ),
                weight=weight,
            )
        )
    return out


def _protests(
    judge: _Judge,
    agent: Sequence[Turn],
    customer: Sequence[Turn],
    charged: dict[int | None, str],
) -> list[tuple[int, Finding]]:
    """The customer asking to be let finish after the agent's last turn with content, one
    finding per agent turn, each with that turn's index. Only exact and normalised matches
    count: a tolerant match of the customer's words is no evidence against the agent."""
    phrases = judge.practice.phrase_list("protest")
    if not phrases:
        return []
    rules, matcher = judge.rules, judge.ctx.matcher
    negations = judge.practice.phrase_list("negation")
    said = beyond_backchannel(agent, rules, matcher)
    out: list[tuple[int, Finding]] = []
    answered: set[int] = set()
    for c in customer:
        if not c.text.strip():
            continue
        hits = [
            m
            for m in matcher.find(c.text, phrases, negations=negations, fuzzy_threshold=100)
            if not m.negated and m.kind in ("exact", "normalised")
        ]
        if not hits:
            continue
        before = [a for a in said if a.start < c.start]
        if not before or before[-1].index in answered:
            continue
        a, m = before[-1], min(hits, key=lambda h: h.start_char)
        if sum(1 for t in customer if a.start < t.start < c.start) > 1:
            continue  # the customer has held the floor since: the protest answers no agent turn
        answered.add(a.index)
        start, end = matcher.time_span(c, m)
        level, weight = judge.weight_at(start)
        heard = (
            f'Customer said "{m.matched}" (protest phrase "{m.phrase}", {m.kind} match) in turn '
            f"{c.index}, after agent turn {a.index}"
        )
        severity = Severity.MINOR
        detail = f"{heard}: the customer had not finished; {judge.mood(level)}, weight {weight:g}."
        if a.index in charged:
            severity, weight = Severity.INFO, 0.0
            detail = f"{heard}: it confirms the {charged[a.index]} charged there (no penalty)."
        finding = judge.finding(
            c,
            "customer_protest",
            severity,
            start=start,
            end=end,
            value=None,
            threshold=None,
            detail=detail,
            weight=weight,
            **match_fields(m, c.text, m.start_char, m.end_char),
        )
        out.append((a.index, finding))
    return out


def _customer_interruptions(
    judge: _Judge, events: Sequence[tuple[Interruption, Turn]]
) -> list[Finding]:
    """The customer cutting in on the agent by the same rule (recorded, not scored)."""
    out = []
    for e, c in events:
        if c.role is not Role.CUSTOMER:
            continue
        out.append(
            judge.finding(
                c,
                "customer_interruption",
                Severity.INFO,
                start=_r(e.start),
                end=_r(e.end),
                quote=_text(e.stretch, judge.ctx.report.language) or c.text,
                value=_r(e.overlap),
                threshold=judge.rules.min_overlap_s,
                detail=(
                    f"{_event_detail(e, 'Customer', 'agent')}; recorded, not scored against the "
                    "agent."
                ),
            )
        )
    return out


def _louder_faster(judge: _Judge, agent: Sequence[Turn]) -> tuple[list[Finding], list[Finding]]:
    """Agent turns louder or faster than the agent's own baseline while the customer is
    agitated."""
    language = judge.ctx.report.language
    rated = [
        t.metrics.articulation_rate
        for t in agent
        if t.metrics is not None
        and t.metrics.articulation_rate
        and count_units(t.words, language) >= MIN_RATE_UNITS
    ]
    agent_rate = float(median(rated)) if rated else None
    louder_db, faster_ratio = judge.th("louder_db"), judge.th("faster_ratio")
    weight = judge.th("agitated_weight")
    louder: list[Finding] = []
    faster: list[Finding] = []
    for a in agent:
        m = a.metrics
        level = judge.ctx.agitation_at(a.start)
        if m is None or level < judge.agitated_level:
            continue
        if m.loudness_rel_db is not None and m.loudness_rel_db >= louder_db:
            louder.append(
                judge.finding(
                    a,
                    "louder",
                    Severity.MINOR,
                    value=m.loudness_rel_db,
                    threshold=louder_db,
                    detail=(
                        f"Agent turn {a.index} {m.loudness_rel_db:+.1f} dB above the agent's "
                        f"median turn level (limit +{louder_db:.1f} dB) while the "
                        f"{judge.mood(level)}."
                    ),
                    weight=weight,
                )
            )
        if (
            agent_rate
            and m.articulation_rate is not None
            and count_units(a.words, language) >= MIN_RATE_UNITS
            and m.articulation_rate >= faster_ratio * agent_rate
        ):
            ratio = m.articulation_rate / agent_rate
            faster.append(
                judge.finding(
                    a,
                    "faster",
                    Severity.MINOR,
                    value=_r(ratio),
                    threshold=faster_ratio,
                    detail=(
                        f"Agent turn {a.index} at {m.articulation_rate:g} {m.rate_unit}, "
                        f"{ratio:.2f}x the agent's median {agent_rate:g} (limit "
                        f"{faster_ratio:.2f}x) while the {judge.mood(level)}."
                    ),
                    weight=weight,
                )
            )
    return louder, faster


def _retorts(judge: _Judge, agent: Sequence[Turn]) -> list[Finding]:
    """Retort phrases said by the agent."""
    phrases = judge.practice.phrase_list("retort")
    negations = judge.practice.phrase_list("negation")
    matcher = judge.ctx.matcher
    bound = judge.ctx.rubric.matching.min_word_prob
    out = []
    for a in agent:
        if not phrases or not a.text.strip():
            continue
        for match in matcher.find(a.text, phrases, negations=negations):
            if match.negated:
                continue
            start, end = matcher.time_span(a, match)
            level, weight = judge.weight_at(start)
            said = (
                f'Agent said "{match.matched}" (retort phrase "{match.phrase}", '
                f"{match.kind} match) in turn {a.index}"
            )
            severity, detail = Severity.MAJOR, f"{said}; {judge.mood(level)}, weight {weight:g}."
            value, threshold = match.score, None
            if not matcher.heard(a, match, bound):
                # as likely misheard as said: shown to be heard, not charged
                severity, weight = Severity.INFO, 0.0
                value, threshold = round(matcher.heard_prob(a, match) or 0.0, 2), bound
                detail = f"{said}, {unsure_note(value, bound)}."
            out.append(
                judge.finding(
                    a,
                    "retort",
                    severity,
                    start=start,
                    end=end,
                    quote=match.matched,
                    value=value,
                    threshold=threshold,
                    detail=detail,
                    phrase=match.phrase,
                    weight=weight,
                    **match_fields(match, match.matched, 0, len(match.matched)),
                )
            )
    return out


def _in_time_order(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    return tuple(sorted(turns, key=lambda t: (t.start, t.end, t.index)))


def _only_fillers(text: str, fillers: Sequence[str]) -> bool:
    """Whether ``text`` is empty once punctuation and fillers are taken out."""
    forms = sorted((f.lower() for f in fillers if f), key=len, reverse=True)
    for token in _NON_WORD.split(text.lower()):
        # Strip fillers from the front until nothing (a filler run such as 嗯啊) or something
        # else (a real word) is left; a word that merely starts like a filler is kept.
        while token:
            head = next((f for f in forms if token.startswith(f)), None)
            if head is None:
                return False
            token = token[len(head) :]
    return True


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _punctuated(turns: Sequence[Turn]) -> bool:
    """Whether the recogniser punctuated this call's transcript at all."""
    return any(ch in _SENTENCE_END for t in turns for ch in t.text)


def describe_gap(gap: float) -> str:
    """``0.05 s after`` / ``0.05 s before`` (a gap in seconds, negative = before)."""
    return f"{abs(gap):.2f} s {'before' if gap < 0 else 'after'}"


def _weights(findings: Sequence[Finding]) -> float:
    return sum(f.weight for f in findings)


def _r(x: float) -> float:
    return round(x, 3) + 0.0
