"""Paraphrase the complaint (重复或简述令顾客不满的原因).

Credit for a paraphrase phrase said by the agent (您的意思是, 我确认一下, "so what you're saying
is", a confirming 您是说…对吗 / "do you mean …?"); a turn that asks the customer to repeat
(``repeat_request``: 我没有听清楚, "could you repeat that") earns none. After a complaint, none
scores ``missing_score``; no complaint and none: not judged. A phrase matched across a filler
the phrase does not hold is not credited: 我明白您的意思呃是这样的 is an acknowledgement and a
filler, not 您的意思是. Nor is a gap phrase whose question is the agent's own proposal or a
reminder (``proposal_tag``, ``reminder_open``): 就是说…您看这样可以吗 asks for consent, 您不是说在等
报告吗 reminds; over the tune dialogues these were 4 lines, none a restatement.

A confirming question in ordinary words also counts when it echoes the customer: a clause
ending in a ``confirm_tag`` (对吗, 是吗, 对吧 …) that shares ``echo_min_units`` characters in a
row (Mandarin; words for English) with what the customer said since the agent last spoke
(十一月九号对吧 after the customer said 十一月九号; a number given in pieces while the agent
hums 嗯). A tag on a question that brings a new detail is no paraphrase. Leaving fillers and
common words (``echo_ignore``) out of this short echo was tried: over the tune dialogues it
dropped 30 confirmations, about two thirds of them the agent's own look-ups, and the dev labels
gained, but the held-out labelled lines lost restatements that share only such words with the
customer (test recall 0.55 -> 0.36, random 0.88 -> 0.62), so the short echo counts every unit.
A tag standing alone after a comma (…手机信号不好，对吗？) confirms the clause before the comma;
over the unlabelled tune dialogues this credited 2 more lines, both restatements.

A restatement without a tag counts when it opens with a restating cue (``restate_open``: 就是您…,
也就是说…, "so you're saying") and its clause repeats ``restate_min_units`` characters in a row
(words for English) of what the customer said: 就是您昨天点的奶茶盖子鼓起来了 after the customer
said the lid had bulged. A cue that goes on to explain something of the agent's own shares
little with the customer's words and earns nothing.

A confirming question may also restate the problem told turns before, once the order has been
looked up in between (就是在鸭脑袋里面吃出了半个苍蝇对吗): it counts when it ends on a closing tag
(``confirm_final``) and shares ``echo_earlier_min_units`` in a row with anything the customer
said, words that any two sentences share (``echo_ignore``: 这个, 那个, 就是) left out. Over the
2,319 unlabelled dev dialogues this credited 20 more lines; 18 were restatements, 2 asked about
a detail of the agent's own (the shop's name, a photo upload).

An agent also restates the complaint as the customer filed it, before the customer has told it
in the call: 餐品里面有异物的情况是吗, 是商品质量问题对吗, 饺子是有点发霉的这个情况是吧 (the dev
labels count these). A clause that ends on a ``problem_confirm`` tag (问题对吗, 情况是吧 …)
counts when what stands before 问题 / 情况, its 的 / 一个 / 这个 left out, names the problem: at
least ``_PROBLEM_MIN_UNITS`` units that do not end on a ``problem_confirm_not`` word
(这笔订单的问题对吗 confirms the order, 有反馈过这个问题对吧 asks whether it was reported,
馄饨没有问题是吧 relays the shop's denial), nor a clause that asks (``problem_confirm_asks``:
是哪笔订单您遇到了问题对吗). Over the tune dialogues this credited 11 more lines; each restated
the complaint. So does a clause closed by a ``confirm_final`` tag that holds one of the
customer's complaint words (``stress.complaint_words``: 亲亲是不新鲜是吗,
您这边不认可这个方案对吗), except the words of a step or a fact the agent checks
(``problem_word_not``: 商家是已经给您退款了是吗): 22 more tune lines, 20 plain restatements and
2 that restate the matter with a guess or a step added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    Hit,
    customer_turns,
    find_hits,
    presence_outcome,
    text_breaks,
)
from calmline.monitor.digits import EN_DIGITS, ZERO_LETTERS, ZH_DIGITS
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Role, Turn

_CLAUSE_BREAK = text_breaks(",，。.!！?？;；:：~～、\n")
_ZH_UNIT = re.compile(r"[\u4e00-\u9fff0-9a-zA-Z]")
_ZH_UNIT_OR_MASK = re.compile(r"[\u4e00-\u9fff0-9a-zA-Z*]")


def no_filler_inside(ctx: DetectorContext, hit: Hit) -> bool:
    """Whether the matched words hold no filler (呃, 嗯 …) that the phrase itself lacks."""
    fillers = ctx.rubric.matching.fillers
    form = hit.match.form or hit.match.phrase
    return not any(f in hit.match.matched and f not in form for f in fillers)


def _proposal_or_reminder(practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a gap phrase's closing question is the agent's own proposal or a reminder, not a
    confirmation: 就是说…您看这样可以吗 and …我来帮您进行协商好吗 end on a ``proposal_tag`` (the
    吗 the phrase closed on asks whether the customer agrees), and 您不是说在等报告吗 is a
    ``reminder_open`` around the phrase's start (it reminds the customer of their own words and
    restates no complaint)."""
    matched = hit.match.matched.rstrip("?？。.!！~～ ")
    if any(matched.endswith(tag) for tag in practice.phrase_forms("proposal_tag")):
        return True
    text, start = hit.turn.text, hit.match.start_char
    for opener in practice.phrase_forms("reminder_open"):
        at = text.rfind(opener, 0, start + len(opener))
        if at != -1 and at <= start < at + len(opener):
            return True
    return False


def _units(text: str, language: str, masks: bool = False) -> list[str]:
    """Characters (Mandarin) or words; with ``masks``, each masked character (*) too."""
    if language.startswith("zh"):
        return (_ZH_UNIT_OR_MASK if masks else _ZH_UNIT).findall(text)
    return re.findall(r"[a-z0-9']+", text.lower())


def _common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of units ``a`` and ``b`` share."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def echo_confirmations(
    ctx: DetectorContext, practice: PracticeRubric, agents: Sequence[Turn]
) -> list[Hit]:
    """Confirming questions that echo the customer (see the module docstring): the clause
    before a ``confirm_tag`` shares ``echo_min_units`` in a row with the customer's words, or
    (:func:`echo_earlier`) ``echo_earlier_min_units`` with anything the customer said before."""

    def clause(h: Hit) -> str:
        # a tag standing alone after a comma (…手机信号不好，对吗？) asks about the clause
        # before; one that opens a clause (…设置里，是不是设置了快捷键) asks whether
        parts = _CLAUSE_BREAK.split(h.turn.text[: h.match.start_char])
        if len(parts) > 1 and not _units(parts[-1], ctx.language):
            return parts[-2] if _ends_clause(ctx, h) else ""
        return parts[-1]

    found = _echoes(ctx, practice, agents, "confirm_tag", "echo_min_units", clause)
    return found + echo_earlier(ctx, practice, agents, clause, skip=found)


def echo_earlier(
    ctx: DetectorContext,
    practice: PracticeRubric,
    agents: Sequence[Turn],
    clause: Callable[[Hit], str],
    skip: Sequence[Hit] = (),
) -> list[Hit]:
    """Confirming questions that restate what the customer said before the last exchange: the
    problem, told turns ago, confirmed once the order is found (就是在鸭脑袋里面吃出了半个苍蝇对吗,
    商家态度很恶劣的对吗). The clause must share ``echo_earlier_min_units`` in a row with the
    customer's earlier words (more than the last turn's ``echo_min_units``: the order, the shop
    and the refund come up in every call), and must end on a ``confirm_final`` tag that closes
    it (at most an address such as 女士 or 亲亲 after it): 是不是 inside a sentence asks whether,
    and 对吧 run on into a time (认可吧对吧明天下午) restates nothing."""
    need = int(practice.threshold("echo_earlier_min_units", 0))
    tags = practice.phrase_list("confirm_final")
    if need <= 0 or not tags:
        return []
    ignore = [p.text for p in practice.phrase_list("echo_ignore")] + list(
        ctx.rubric.matching.fillers
    )
    done = {(id(h.turn), h.match.start_char) for h in skip}
    out = []
    for h in find_hits(ctx, agents, tags, fuzzy_threshold=100):
        if (id(h.turn), h.match.start_char) in done:
            continue
        if not _ends_clause(ctx, h):
            continue
        heard = _content(_earlier_customer_words(ctx, h.turn), ignore, ctx.language)
        said = _content(_units(clause(h), ctx.language, masks=True), ignore, ctx.language)
        if heard and _common_run(said, heard) >= need:
            out.append(h)
    return out


def _content(units: list, ignore: Sequence[str], language: str) -> list:
    """``units`` without the words in ``ignore`` (这个, 那个, 就是: they repeat in any two
    sentences, 那个米线 is only 米线); each break (``None``) and masked character (*) becomes a
    unit that matches nothing."""
    if language.startswith("zh"):
        text = "".join("\x00" if u is None else u for u in units)
        for word in sorted(ignore, key=len, reverse=True):
            text = text.replace(word, "")
        units = list(text)
    else:
        skip = set(ignore)
        units = [u for u in units if u not in skip]
    return [object() if u in (None, "\x00", "*") else u for u in units]


_PROBLEM_MIN_UNITS = 2
"""Units that must name the problem before a ``problem_confirm`` tag (异物问题是吗)."""

_PROBLEM_DETERMINERS = re.compile(r"(?:的|一个|这个|这种|这样|一些|等等|有|个)+$")
"""What may stand between the problem and 问题 / 情况 (发霉的这个情况, 不新鲜的一个问题)."""


def _head(tag: Hit) -> str:
    """The words of the tag's clause before it (是商品质量 before 问题对吗)."""
    return _CLAUSE_BREAK.split(tag.turn.text[: tag.match.start_char])[-1]


def named_problems(
    ctx: DetectorContext, practice: PracticeRubric, agents: Sequence[Turn]
) -> list[Hit]:
    """Confirming questions that name the customer's filed problem (see the module
    docstring): a ``problem_confirm`` tag closing its clause, after words that name the
    problem, do not end on a ``problem_confirm_not`` word and ask nothing
    (``problem_confirm_asks``: 是哪笔订单您遇到了问题对吗 asks which order)."""
    tags = practice.phrase_list("problem_confirm")
    if not tags:
        return []
    not_before = practice.phrase_forms("problem_confirm_not")
    asks = practice.phrase_forms("problem_confirm_asks")
    out = []
    for h in find_hits(ctx, agents, tags, fuzzy_threshold=100):
        if not _ends_clause(ctx, h):
            continue
        named = _PROBLEM_DETERMINERS.sub("", "".join(_units(_head(h), ctx.language, masks=True)))
        if len(named) < _PROBLEM_MIN_UNITS or named.endswith("*"):
            continue
        if any(named.endswith(word) for word in not_before) or any(word in named for word in asks):
            continue
        out.append(h)
    return out + _complaint_confirmations(ctx, practice, agents, asks, skip=out)


def _complaint_confirmations(
    ctx: DetectorContext,
    practice: PracticeRubric,
    agents: Sequence[Turn],
    asks: Sequence[str],
    skip: Sequence[Hit],
) -> list[Hit]:
    """Confirming questions whose clause holds one of the customer's complaint words
    (``stress.complaint_words``: 亲亲是不新鲜是吗, 您是对这个赔付不认可的是吗), a ``confirm_final``
    tag closing it; not the words of a step or a fact the agent checks (``problem_word_not``: 退款,
    无法 — 商家是已经给您退款了是吗 asks whether the shop refunded), nor a clause that asks
    (``problem_confirm_asks``). A clause closed by a bare question tag (``restate_question_tag``:
    吗) counts when it names the customer as the one who has the problem before the complaint
    word (``restate_question_open``: 您是在国外无法正常使用吗, 您是对理赔结果不满意吗)."""
    complaint = ctx.rubric.stress.complaint_list()
    tags = practice.phrase_list("confirm_final")
    if not complaint or not tags:
        return []
    left_out = set(practice.phrase_forms("problem_word_not"))
    opens = practice.phrase_list("restate_question_open")
    bare = practice.phrase_list("restate_question_tag")
    done = {(id(h.turn), h.match.start_char) for h in skip}
    tagged = find_hits(ctx, agents, tags, fuzzy_threshold=100)
    ends = {(id(h.turn), h.match.end_char) for h in tagged}
    # a bare question tag (吗) closing a clause the other tags do not close, nor a proposal's
    # (上传一下好吗: ``proposal_tag``; 信号不好吗 proposes nothing)
    proposals = practice.phrase_forms("proposal_tag")
    questions = [
        h
        for h in (find_hits(ctx, agents, bare, fuzzy_threshold=100) if opens and bare else [])
        if (id(h.turn), h.match.end_char) not in ends
        and not _proposes(h.turn.text[: h.match.end_char], proposals)
    ]
    out = []
    for h in tagged + questions:
        if (id(h.turn), h.match.start_char) in done or not _ends_clause(ctx, h):
            continue
        head = _head(h)
        if any(word in head for word in asks):
            continue
        words = [
            m
            for m in ctx.matcher.find(head, complaint, fuzzy_threshold=100)
            if m.matched not in left_out
        ]
        if h in questions:
            # 您是在国外无法正常使用吗: the customer named as the one who has the problem, before it
            cues = ctx.matcher.find(head, opens, fuzzy_threshold=100)
            words = [m for m in words if any(c.end_char <= m.start_char for c in cues)]
        if words:
            out.append(h)
    return out


def _proposes(text: str, proposals: Sequence[str]) -> bool:
    """Whether ``text`` ends on a proposal's tag (上传一下好吗, 可以吗), not a negated word that
    ends like one (信号不好吗)."""
    return any(text.endswith(p) and not text[: -len(p)].endswith("不") for p in proposals)


_ADDRESS_UNITS = 2
"""Units a closing tag may be followed by in its clause: an address (女士, 先生, 亲亲)."""


def _ends_clause(ctx: DetectorContext, tag: Hit) -> bool:
    """Whether the ``tag`` closes its clause: at most an address (``_ADDRESS_UNITS``) follows
    it before the next clause break."""
    text = tag.turn.text
    stop = _CLAUSE_BREAK.search(text, tag.match.end_char)
    rest = text[tag.match.end_char : stop.start() if stop else len(text)]
    return len(_units(rest, ctx.language)) <= _ADDRESS_UNITS


def echo_restatements(
    ctx: DetectorContext, practice: PracticeRubric, agents: Sequence[Turn]
) -> list[Hit]:
    """Restatements opened by a ``restate_open`` cue that echo the customer at length (see the
    module docstring): the clause from the cue on shares ``restate_min_units`` in a row."""

    def clause(h: Hit) -> str:
        stop = _CLAUSE_BREAK.search(h.turn.text, h.match.end_char)
        return h.turn.text[h.match.start_char : stop.start() if stop else len(h.turn.text)]

    return _echoes(ctx, practice, agents, "restate_open", "restate_min_units", clause)


def _echoes(
    ctx: DetectorContext,
    practice: PracticeRubric,
    agents: Sequence[Turn],
    phrases: str,
    need_key: str,
    clause: Callable[[Hit], str],
) -> list[Hit]:
    """Hits of the ``phrases`` list whose ``clause`` shares at least the ``need_key``
    threshold's units in a row with what the customer said (:func:`customer_words`); none
    when the threshold or the list is unset."""
    need = int(practice.threshold(need_key, 0))
    cues = practice.phrase_list(phrases)
    if need <= 0 or not cues:
        return []
    out = []
    for h in find_hits(ctx, agents, cues, fuzzy_threshold=100):
        heard = customer_words(ctx, h.turn)
        if heard and _common_run(_units(clause(h), ctx.language), heard) >= need:
            out.append(h)
    return out


_BACKCHANNEL_UNITS = 2
"""A turn of at most this many units (嗯, 好的, "okay") only keeps the floor open."""
_DIGITS = set(ZH_DIGITS) | (set(EN_DIGITS) - ZERO_LETTERS) | set("0123456789")


def customer_words(ctx: DetectorContext, turn: Turn) -> list[str]:
    """What the customer said that a confirming question in the agent's ``turn`` may echo: the
    customer's turns since the agent's last turn that said more than a backchannel (a detail
    given in pieces, YD幺五幺 … 466205, while the agent hums 嗯), or else the customer's last turn
    that said more than one; their units, a break (``None``) between turns."""
    agents = [t for t in ctx.turns_of(Role.AGENT) if t.start < turn.start]
    customers = [
        (t, _units(t.text, ctx.language)) for t in customer_turns(ctx) if t.start < turn.start
    ]
    spoke = [t.start for t in agents if len(_units(t.text, ctx.language)) > _BACKCHANNEL_UNITS]
    since = [(t, u) for t, u in customers if not spoke or t.start > spoke[-1]]
    said = [(t, u) for t, u in customers if _says_more(u)]
    if not any(_says_more(u) for _, u in since):
        since = said[-1:] or customers[-1:]
    return _with_breaks(u for _, u in since)


def _says_more(units: list[str]) -> bool:
    """More than a backchannel: more than ``_BACKCHANNEL_UNITS`` units, or digits alone (七五,
    "five two": a number given in pieces, the piece the agent repeats back)."""
    return len(units) > _BACKCHANNEL_UNITS or (bool(units) and all(u in _DIGITS for u in units))


def _earlier_customer_words(ctx: DetectorContext, turn: Turn) -> list[str]:
    """Every customer turn before ``turn``: its units, masked characters (*) kept, a break
    (``None``) between turns."""
    return _with_breaks(
        _units(t.text, ctx.language, masks=True)
        for t in customer_turns(ctx)
        if t.start < turn.start
    )


def _with_breaks(turns: Iterable[list[str]]) -> list:
    out: list = []
    for units in turns:
        out += [*units, None]
    return out


@register("paraphrase")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx,
        practice_id,
        practice,
        kind="paraphrase",
        missing_kind="no_paraphrase",
        what="paraphrase",
        exclude="repeat_request",
        accept=lambda c, h: no_filler_inside(c, h) and not _proposal_or_reminder(practice, h),
        more=lambda c, agents: (
            echo_confirmations(c, practice, agents)
            + echo_restatements(c, practice, agents)
            + named_problems(c, practice, agents)
        ),
    )
