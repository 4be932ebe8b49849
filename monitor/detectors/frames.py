"""Sentence frames: the agent undertaking an action, said in ordinary words.

Phrase lists catch the set phrases (帮您登记, "I'll check it for you"), but agents mostly commit in
plain sentences: 我会在两个小时之内给您回电, 我们会尽快核查, 我这边给您发送一条短信, "we will
arrange the repair", "I have scheduled your appointment for Monday", "I ordered you a
replacement card". What these share is a frame, not a phrase (PRACTICES.md, solve_problem: "a
concrete next step … offered"; the doer must be the agent):

    subject (the agent: 我 / 我们 / 我这边; "I" / "we")
    + a marker of an undertaking (a future, a completed action, or doing it for the customer:
      会 / 将 / 已经 / 马上 / 帮您 / 给您; "will", "'ll", "have", "just", "am going to")
    + an action verb of customer service (联系, 核实, 反馈, 退款, 补发; "check", "send",
      "schedule", "order", "refund")

all inside one clause (Mandarin) or within a few words (English), with no negation between them
(我这边也联系不到 / "I can't send" / "we will not refund" are not undertakings). The three word
classes live in the rubric (``frame_subject``, ``frame_marker``, ``frame_verb``) so a QA lead can
extend them. Another party as the subject (商家会联系您, "the merchant will call you") never fits:
the frame starts at the agent's own pronoun. A match is reported with kind ``pattern``: the words
heard are quoted as they are, and the frame they fit is named as the form.

A Mandarin agent also announces what they do now with no marker at all (小美联系商家协商处理,
我先核实一下): :func:`plain_hits` finds the agent's own subject right before a concrete verb.

A step the agent tells the customer to take has a frame of its own (English): a request or a
suggestion ("please", "we advise you to", "it is suggested to") before a step verb ("remove",
"visit", "uninstall"), or a modal addressed to the customer ("you can", "you may") before a verb
of a service or a device ("restart", "turn off", "apply for"), a few words apart: "please
remove the SIM card", "we advise you to visit the business hall", "you can uninstall the app
and install it again" (:func:`customer_frame_hits`; ``customer_frame_lead`` /
``customer_frame_verb``, ``customer_modal_lead`` / ``customer_modal_verb``). The modal's verbs
are fewer because in chat "you" is anyone ("you can use chicken"). It is a next step only,
never the agent's commitment.

In English the agent's second predicate may leave the subject out ("we have known your issue and
will give you the feedback": ``EN_ELLIPSIS_WORDS``), and another party may be the subject of the
same frame ("the director has recorded your order number": :func:`others_frame_hits`, the
rubric's ``others``): that is a next step, not the agent's commitment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from calmline.monitor.detectors import DetectorContext
from calmline.monitor.detectors.phrases import Hit, text_breaks
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.textmatch import Match
from calmline.monitor.types import Turn

ZH_SUBJECT_GAP_CHARS = 4
"""Characters allowed between the subject and the marker (我这边的话会): the marker belongs to the
subject's own predicate, not to a later one (我这边也是消费者…来电…解决 is no undertaking)."""
_ZH_NUMBER = r"(?:\d+|[一二两三四五六七八九十半几]+)"
ZH_TIME = (
    r"(?:在|于)?(?:最晚|最迟|最多)?(?:不会?超过)?"
    rf"(?:{_ZH_NUMBER}(?:(?:-|~|到|至){_ZH_NUMBER})?个?(?:h|小时|分钟|天|工作日|周|星期)"
    r"|(?:今天|明天|次日|后天)的?(?:上午|中午|下午|晚上)?(?:" + _ZH_NUMBER + r"点)?)"
    r"(?:之内|以内|内|之后|以后|后|左右|之前|以前|前)?"
)
"""A stated while or a day (在24小时内, 最晚不会超过三十分钟内, 次日的十三点前): said between the
agent and the marker (小美在24小时内会跟进) or between the marker and the verb (我会在最晚不会超过
三十分钟内给您回电), it says when, it starts no other predicate, so it does not count against
``ZH_SUBJECT_GAP_CHARS`` or ``ZH_GAP_CHARS``."""
ZH_GAP_CHARS = 12
"""Characters allowed between the marker and the verb (fillers and adverbs of speech:
我会在两个小时之内给您回电)."""
EN_GAP_WORDS = 4
"""Words allowed between the marker and the verb ("we will try our best to arrange")."""
EN_ELLIPSIS_WORDS = 6
"""Words allowed between the subject and "and" before a second marker whose subject is not
said again ("we have known your issue and will give you the feedback")."""
_ZH_CLAUSE = "，。！？；：,.!?;:~～、\n"
_ZH_NEGATION = re.compile(r"不(?![断停足便适满良佳当周妥]|好的|愉快|会?超过)|[没别无未]|无法|没法")
"""A negation in the frame's words; 不断 / 不停 ("keep on", 我们会不断优化), 不(会)超过 (a
bound on the time: 我会在最晚不会超过三十分钟内给您回电) and the nouns of a shortfall (不足之处,
不便, 不适, 不满, 不良, 不好的体验, 不愉快: 我司会针对不足之处进行改善) deny nothing."""
_ZH_ASKS_CUSTOMER = re.compile(r"(?:建议|请|麻烦|让)[您你]")
"""A request or a suggestion to the customer between the agent's subject and the verb (我才去建议您
与商家联系, 我这边请您重新下单): the verb is the customer's to do, not the agent's undertaking."""
_ZH_CUSTOMER_DOES = re.compile(r"(?<![给为帮替向跟和与助])(?<![^注看收意解]到)[您你](所)?$")
_EN_CUSTOMER_DOES = re.compile(
    r"\b(?:issues?|problems?|questions?|situations?|matters?|information|case|feedback|"
    r"complaints?|troubles?|what|which|that)\s+you(?:\s+have|\s+had|['’]ve)?\s+$",
    re.IGNORECASE,
)
"""What the customer did, said in a relative clause right before the verb ("the issue you fed
back", "the problem you have reported"): the verb is the customer's, not the agent's."""
_EN_DETERMINER = re.compile(
    r"\b(?:the|this|that|these|those|your|our|my|its|their|a|an|any)\s+$", re.IGNORECASE
)
"""A determiner right before an English frame verb makes it a noun ("taken notice of the issue
you fed back", "received your order"): no action."""


_ZH_CLAUSE_BREAK = text_breaks(_ZH_CLAUSE)


def _zh_tail(text: str, end: int) -> str:
    """The two characters after a Mandarin verb that may deny it (联系不到, 申请不了), up to the
    clause's end: the next clause is another matter (我们会尽快主动回访，无需再次进线)."""
    return _ZH_CLAUSE_BREAK.split(text[end : end + 2])[0]


def _customer_does(text: str, start: int, end: int) -> bool:
    """Whether the verb at ``text[start:end]`` is the customer's, in a clause that describes
    what they said: 您反映的问题, 您所反馈的 (the customer right before the verb, and 所 before it
    or 的 after it). After 给 / 为 / 帮 / 向 … the customer is the object: 我会尽快给您回电的 and
    协助您处理 are the agent's; after 到 too (转到您…), except where 到 ends a verb of noticing
    (关注到您反映的问题, 查看到您反馈的: the customer reported it)."""
    m = _ZH_CUSTOMER_DOES.search(text[:start])
    return bool(m) and (bool(m.group(1)) or text[end : end + 1] == "的")


def _en_no_action(text: str, start: int) -> bool:
    """Whether the English frame verb at ``text[start]`` is no action of the agent's: the
    customer's, after the noun it describes ("the problem you reported"), or a noun after a
    determiner ("the issue you fed back": *issue*); "we will help you check" stays the agent's."""
    before = text[:start]
    return bool(_EN_CUSTOMER_DOES.search(before) or _EN_DETERMINER.search(before))


_ZH_AND = re.compile(r"并|然后|再|和|及|同时")
_EN_AND = re.compile(r"\b(?:and|then)\b", re.I)
"""What joins a second action to a general one (我们会马上处理并尽快回复您; "we will handle it
and reply to you"). Without it the concrete verb after a general one belongs to the general
one's object (优化升级, "optimizing our service process", 处理部门跟进) and names no step."""
_EN_BE = re.compile(r"^\S+(?:\s+[\w@]+)?\s+(?:is|are|am)\b(?!\s+going\s+to)", re.I)
_EN_IF = re.compile(r"\b(?:if|unless|once|whether)\b", re.I)
_EN_SENTENCE = text_breaks(".!?;\n")
_EN_NEGATION = re.compile(r"\b(?:not|never|no|cannot|can't|can’t|won't|won’t|don't|don’t)\b", re.I)


def alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True) if w)


@lru_cache(maxsize=16)
def _zh_frame(subjects: tuple[str, ...], markers: tuple[str, ...], verbs: tuple[str, ...]):
    # any character but a clause break (a point inside a number, 1.3, is none)
    gap = f"(?:(?!{_ZH_CLAUSE_BREAK.pattern}).)"
    return re.compile(
        f"(?:{alternation(subjects)})(?:{ZH_TIME})?{gap}{{0,{ZH_SUBJECT_GAP_CHARS}}}?"
        f"(?:{alternation(markers)})(?:{gap}{{0,2}}?{ZH_TIME})?{gap}{{0,{ZH_GAP_CHARS}}}?"
        f"(?P<verb>{alternation(verbs)})"
    )


PERSONA_NAME = r"\s+[\w@]+"
"""What ``…`` stands for in an English subject such as ``Xiao …``: one name word (a chat persona
speaking of itself: "Xiao WO has recorded", "Little U will transfer")."""


def _en_subjects(subjects: Sequence[str]) -> str:
    named = [re.escape(s[:-1].strip()) + PERSONA_NAME for s in subjects if s.endswith("…")]
    plain = alternation([s for s in subjects if not s.endswith("…")])
    return "|".join([*named, plain] if plain else named)


@lru_cache(maxsize=16)
def _en_frame(subjects: tuple[str, ...], markers: tuple[str, ...], verbs: tuple[str, ...]):
    apostrophe = "['’]"
    subject = f"(?:{_en_subjects(subjects)})"
    # "I'll", "we've": the marker glued on with an apostrophe, or a separate word
    marker = "|".join(
        f"{apostrophe}{re.escape(m[1:])}" if m.startswith("'") else rf"\s+{re.escape(m)}"
        for m in sorted(set(markers), key=len, reverse=True)
    )
    verb = f"(?P<verb>{alternation(verbs)})"
    # a second predicate of the same subject joined by "and" ("we have known your issue and
    # will give you the feedback"): the subject is not said again
    ellipsis = rf"(?:(?:\s+[\w'’-]+){{1,{EN_ELLIPSIS_WORDS}}}?\s+and)?"
    return re.compile(
        rf"\b{subject}{ellipsis}(?:{marker})(?:\s+[\w'’-]+){{0,{EN_GAP_WORDS}}}?\s+{verb}\b",
        re.IGNORECASE,
    )


def _be_without_ing(m: re.Match) -> bool:
    """Whether an English frame's marker is "is" / "are" / "am" with a verb not in its -ing form:
    those mark an undertaking only as work under way ("our company is checking", "we are
    communicating with"); "is very concerned about the issue" undertakes nothing."""
    verb = m.group("verb").split()[0].lower()
    return bool(_EN_BE.search(m.group(0))) and not verb.endswith("ing")


def _words(practice: PracticeRubric, key: str) -> tuple[str, ...]:
    return tuple(p.text for p in practice.phrase_list(key))


def _joined(before: str, vague: set[str], zh: bool) -> bool:
    """Whether the concrete verb after ``before`` (the frame's words up to it) is an action of
    its own: no general verb in ``before``, or one joined to the verb by a conjunction."""
    low = before.lower()
    ends = []
    for v in vague:
        pattern = re.escape(v) if zh else rf"\b{re.escape(v)}\b"
        ends += [x.end() for x in re.finditer(pattern, low)]
    return not ends or bool((_ZH_AND if zh else _EN_AND).search(before[max(ends) :]))


def frame_hits(
    ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric, concrete: bool = False
) -> list[Hit]:
    """Undertakings in ``turns`` that fit the frame (see the module docstring). ``concrete``:
    only frames whose verb names a step, not a general one (``frame_general_verb``: 处理,
    "handle"), so that a general verb does not hide the step after it in the same clause
    (我们会马上处理并尽快回复您: the step is 回复)."""
    subjects = _words(practice, "frame_subject")
    markers = _words(practice, "frame_marker")
    verbs = _words(practice, "frame_verb")
    # the general verbs that are frame verbs ("help" alone is none: "will help you check")
    vague = {f.lower() for f in practice.phrase_forms("frame_general_verb")}
    vague &= {v.lower() for v in verbs}
    if concrete:
        verbs = tuple(v for v in verbs if v.lower() not in vague)
    if not (subjects and markers and verbs):
        return []
    zh = ctx.language.startswith("zh")
    frame = (_zh_frame if zh else _en_frame)(subjects, markers, verbs)
    negation = _ZH_NEGATION if zh else _EN_NEGATION
    hits = []
    for turn in turns:
        for m in frame.finditer(turn.text):
            words = m.group(0)
            # the verb's own clause must not deny it: 我这边联系不到, "we will not send"
            tail = _zh_tail(turn.text, m.end()) if zh else ""
            if negation.search(words + tail):
                continue
            if not zh and _be_without_ing(m):
                continue
            if concrete and not _joined(words[: m.start("verb") - m.start()], vague, zh):
                continue
            # the customer's verb inside the agent's clause: 我司会对您反映的问题进行研究, and
            # a verb the agent asks the customer to do: 我才去建议您与商家联系
            if zh and (
                _customer_does(turn.text, m.start("verb"), m.end("verb"))
                or _ZH_ASKS_CUSTOMER.search(words[: m.start("verb") - m.start()])
            ):
                continue
            # a noun or the customer's verb: "has taken notice of the issue you fed back"
            if not zh and _en_no_action(turn.text, m.start("verb")):
                continue
            hits.append(pattern_hit(ctx, turn, m, "subject + undertaking + action verb"))
    return hits


def pattern_hit(
    ctx: DetectorContext, turn: Turn, m: re.Match, form: str, group: int | str = 0
) -> Hit:
    match = Match(
        phrase=form,
        matched=m.group(group),
        start_char=m.start(group),
        end_char=m.end(group),
        score=100.0,
        kind="pattern",
        form=form,
    )
    start, end = ctx.matcher.time_span(turn, match)
    return Hit(turn, match, start, end)


def pattern_hits(
    ctx: DetectorContext, turns: Sequence[Turn], frame: re.Pattern, form: str, group: int | str = 0
) -> list[Hit]:
    """:func:`pattern_hit` for every match of ``frame`` in each of ``turns``."""
    return [
        pattern_hit(ctx, turn, m, form, group) for turn in turns for m in frame.finditer(turn.text)
    ]


_ZH_PLAIN_FILLER = "(?:这边|那边|这里|先|呢|就|再|也|的话|如实){0,2}"
"""What may stand between the agent's own subject and its verb in a plain undertaking (小美先联系
商家, 我这边呢核实一下, 我这里如实登记)."""
_ZH_PLAIN_BEFORE = "与和跟给让被请于向对帮系"
"""A subject after these is an object (与我们联系, 帮我查询, 联系我们查看): no undertaking."""
_ZH_PLAIN_AFTER = "的"
"""A verb followed by these qualifies a noun (我们查询的结果): no undertaking."""


@lru_cache(maxsize=16)
def _zh_plain(subjects: tuple[str, ...], verbs: tuple[str, ...]):
    return re.compile(
        f"(?<![{_ZH_PLAIN_BEFORE}])(?:{alternation(subjects)}){_ZH_PLAIN_FILLER}"
        f"(?P<verb>{alternation(verbs)})(?![{_ZH_PLAIN_AFTER}])"
    )


def plain_hits(ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric) -> list[Hit]:
    """Mandarin undertakings said without a marker: the agent's own subject right before a
    concrete action verb (小美联系商家协商处理, 我先核实一下, 小美转接亲), as a call-centre agent
    announces what they do now. Only concrete verbs (not ``frame_general_verb``: 我们处理 names no
    step); not after a preposition that makes the subject an object (与我们联系), not before 的
    (我们查询的结果), never with a negation (小美这边申请不了). English states an undertaking
    with its marker ("I'll check"), so this is for Mandarin alone."""
    if not ctx.language.startswith("zh"):
        return []
    subjects = _words(practice, "frame_subject")
    vague = set(practice.phrase_forms("frame_general_verb"))
    # one character alone (派) is too often part of another word or of a quoted question
    verbs = tuple(v for v in _words(practice, "frame_verb") if v not in vague and len(v) > 1)
    if not (subjects and verbs):
        return []
    plain = _zh_plain(subjects, verbs)
    hits = []
    for turn in turns:
        for m in plain.finditer(turn.text):
            if _ZH_NEGATION.search(m.group(0) + _zh_tail(turn.text, m.end())):
                continue
            hits.append(pattern_hit(ctx, turn, m, "subject + action verb"))
    return hits


CUSTOMER_GAP_WORDS = 3
"""Words allowed between the lead and the step verb ("you can also first restart", "please try
to reinsert")."""


@lru_cache(maxsize=16)
def _en_customer_frame(leads: tuple[str, ...], verbs: tuple[str, ...]):
    lead = "|".join(
        r"\s+".join(re.escape(w) for w in p.split())
        for p in sorted(set(leads), key=len, reverse=True)
    )
    return re.compile(
        rf"\b(?P<lead>{lead})(?:\s+[\w'’-]+){{0,{CUSTOMER_GAP_WORDS}}}?\s+(?P<verb>{alternation(verbs)})\b",
        re.IGNORECASE,
    )


_ENDS_IN_QUESTION = re.compile(r"[^.!?]*\?")
"""The rest of a sentence, ending in a question mark."""

_EN_SENTENCE_START = r"(?:^|(?<=[.!?;:])\s+|(?<![\w.])\d{1,2}[.)]\s*)"
"""Where an imperative opens: the turn's start, after a sentence's end, or after a step's
number ("1. Turn off the modem")."""

_EN_NOT_IMPERATIVE = (
    r"(?!\s+(?:is|was|are|were|will|would|has|have|had|can|could|may|of)\b)(?![^.!?]*\?)"
)
"""A verb-like first word followed by one of these is a noun ("Update is available"); a
sentence that ends in a question asks ("Log in Daofeng? The website?")."""


@lru_cache(maxsize=16)
def _en_imperative(verbs: tuple[str, ...]):
    return re.compile(
        rf"{_EN_SENTENCE_START}(?P<verb>{alternation(verbs)})\b{_EN_NOT_IMPERATIVE}",
        re.IGNORECASE,
    )


_ZH_STEP_NUMBER = r"(?:^|(?<=[\s。.；;，,！!？?：:]))\d{1,2}\s*[.、．)）]\s*(?:先|再|请)?"
"""Where a numbered step opens in Mandarin ("1、打开…", "2.检查…", "3、先关闭…"): its number after
a break, not a digit inside a figure (版本2.5, 拨打10010.)."""


@lru_cache(maxsize=16)
def _zh_numbered(verbs: tuple[str, ...]):
    return re.compile(rf"{_ZH_STEP_NUMBER}(?P<verb>{alternation(verbs)})")


def customer_frame_hits(
    ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric
) -> list[Hit]:
    """Steps the agent tells the customer to take, said in a frame (see the module docstring):
    a modal addressed to the customer (``customer_modal_lead``: "you can") before a verb of a
    service or a device (``customer_modal_verb``), or a request or a suggestion
    (``customer_frame_lead``: "please", "we suggest you") before one of those or an everyday
    verb (``customer_frame_verb``: "use", "check"), within ``CUSTOMER_GAP_WORDS`` words and
    with no negation between them ("you can't restart it", "please don't uninstall"); or an
    instruction in the imperative, a ``customer_imperative_verb`` opening a sentence or a
    numbered step ("Turn off the modem.", "1. Log out and log in again"). Mandarin lists its
    steps as phrases (``customer_step``), and takes an instruction only after a step's number
    (``customer_numbered_verb``: 1、打开WiFi, 2.检查协议设置): a Mandarin sentence that opens with
    a verb is as often a report (检查发现…) as an instruction."""
    if ctx.language.startswith("zh"):
        numbered = _words(practice, "customer_numbered_verb")
        if not numbered:
            return []
        return pattern_hits(
            ctx, turns, _zh_numbered(numbered), "step verb after a step's number", "verb"
        )
    device = _words(practice, "customer_modal_verb")
    hits = []
    for leads, verbs, modal in (
        (
            _words(practice, "customer_frame_lead"),
            _words(practice, "customer_frame_verb") + device,
            False,
        ),
        (_words(practice, "customer_modal_lead"), device, True),
    ):
        if not (leads and verbs):
            continue
        frame = _en_customer_frame(leads, verbs)
        for turn in turns:
            for m in frame.finditer(turn.text):
                # the lead's own "not" ("why not restart it?") suggests; one after it negates;
                # a modal in a question asks ("you have a modem you can connect to them?")
                if _EN_NEGATION.search(turn.text, m.end("lead"), m.end()) or (
                    modal and _ENDS_IN_QUESTION.match(turn.text, m.end())
                ):
                    continue
                hits.append(pattern_hit(ctx, turn, m, "customer + step verb"))
    imperative = _words(practice, "customer_imperative_verb")
    if imperative:
        hits += pattern_hits(
            ctx, turns, _en_imperative(imperative), "step verb opening a sentence", "verb"
        )
    return hits


def others_frame_hits(
    ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric
) -> list[Hit]:
    """Steps another party takes, said in the agent's frame with that party as the subject
    (English): one of ``others`` ("the director", "our staff", "the engineer") + a marker + an
    action verb, a general one included (work under way on the matter, as 专员在跟进 is in
    Mandarin: "our staff is following up the issue"), no negation: "the director has recorded
    your order number", "our engineers are checking the line". A next step, never the agent's
    commitment; not on a condition earlier in the sentence ("if …, our staff will inform you").
    Entries of ``others`` that carry their own marker ("they will") are left out: the frame
    adds it."""
    if ctx.language.startswith("zh"):
        return []
    markers = _words(practice, "frame_marker")
    marker_words = {m.lower().lstrip("'") for m in markers}
    subjects = tuple(
        o
        for o in _words(practice, "others")
        if not marker_words & set(re.split(r"[\s'’]+", o.lower()))
    )
    verbs = _words(practice, "frame_verb")
    if not (subjects and markers and verbs):
        return []
    hits = []
    for turn in turns:
        for m in _en_frame(subjects, markers, verbs).finditer(turn.text):
            words = m.group(0)
            if _EN_NEGATION.search(words):
                continue
            if _be_without_ing(m):
                continue
            # a step on a condition ("if your place can take fibre, our staff will inform
            # you") is not yet a step
            if _EN_IF.search(_EN_SENTENCE.split(turn.text[: m.start()])[-1]):
                continue
            hits.append(pattern_hit(ctx, turn, m, "another party + undertaking + action verb"))
    return hits


_EN_REPAIR = (
    r"what|who|where|when|how|can|could|would|will|say|come|go|pardon|excuse|wrong|"
    r"i\s+(?:mean|meant|didn't|did\s+not|missed|couldn't|can't|cannot)"
)
"""Words that open what follows a "sorry," asking to repeat or repairing one's own words ("sorry,
what was that", "sorry, I mean Tuesday", "sorry, go ahead"): no apology for the customer's
trouble."""


@lru_cache(maxsize=4)
def _en_apology_sentence(words: tuple[str, ...]):
    statement = rf"(?!(?:{_EN_REPAIR})\b)[^?.!]{{12,}}(?:[.!]|$)"
    return re.compile(
        rf"{_EN_SENTENCE_START}(?P<word>{alternation(words)})"
        rf"(?:[.!]+\s+(?=\S)|,\s+(?={statement}))",
        re.IGNORECASE,
    )


def apology_sentence_hits(
    ctx: DetectorContext, turns: Sequence[Turn], practice: PracticeRubric
) -> list[Hit]:
    """An apology said as a sentence of its own before more of the answer (English): one of
    ``apology_sentence`` ("sorry", "so sorry") opening a sentence, ended by a full stop or an
    exclamation mark, with more after it: "Sorry. We will optimize the system", "Sorry! Some
    content shall be modified"; or followed by a comma and a statement of a dozen characters or
    more ("Sorry, mobile software will generate more caches …", en1566). Not "Sorry?" (a request
    to repeat), not a bare "sorry." (a chat partner's reflex after a cough or an overlap), not
    "sorry, what was that" or "sorry, I mean …" (:data:`_EN_REPAIR`), nor a "sorry," whose
    sentence ends in a question."""
    words = _words(practice, "apology_sentence")
    if ctx.language.startswith("zh") or not words:
        return []
    return pattern_hits(ctx, turns, _en_apology_sentence(words), "apology sentence", "word")
