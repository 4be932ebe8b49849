"""Open warmly, give your name, offer help (介绍自己的名字,并表示乐意帮忙).

The opening is the agent's first ``opening_turns`` turns that start within ``opening_s`` seconds
of the agent's first word. It should hold a greeting (``hello``), the agent's name (``name``) and
an offer to help (``offer_help``); the score is the share of the three found, and the coaching
names only the missing ones.

A ``name`` phrase is a cue (我是, 工号, "my name is", "this is" …); it counts only when what
follows it in the same clause is a name or a staff number:

* a number (工号1023, 1023号客服, 工号幺零二三) counts, unless the number before 号客服 is one
  to dial (``number_dialled``: 拨打当地10000号客服 is a hotline, not a staff number);
* Mandarin: the clause is cut where a greeting or an offer to help starts (ASR text often has
  no punctuation: 我是小李很高兴为您服务), or where the next sentence does (``name_stop``:
  我是美团客服有看到您的订单 is a company and a role, then 有看到…); company and platform
  words (``not_name``: 美团, 平台 …) are ignored; with a role word (``name_role``: 客服, 专员
  …) the name is what follows the last one (我是客服小李), 1 to 4 characters, never starting
  with a pronoun (我是美团客服我看到…); without one, the rest of the
  clause, 1 to 3 characters (我是小李). 我是美团客服 has no name, nor 我是本次为您服务的客服
  (modifiers such as 本次, 您的贴心 are ``not_name`` too); after 为您服务 the role and the name may
  follow (我是本次为您服务的客服小美_1023); after 我姓 the surname is the
  next character (我姓李很荣幸为您服务; a masked 我姓* too), never a function word (我姓了解嗯 is an
  ASR slip); before a service phrase (``name_before``: 为您服务) the name comes first, after a
  role word (a chat's 人工客服小美会竭诚为您服务的, 客服小李为您服务);
* English: after "my name is" any word not in ``not_name``; after the other cues ("this is",
  "I'm", "speaking with") a capitalised word, not in ``not_name``, not followed by one that is
  ("This is David" counts, "this is Sunrise Telecom" does not). A lower-case transcript's
  "this is david" is not taken for a name.

The finding shows the cue with the name it introduces (我是客服小李, 工号1023, "This is David";
match kind ``pattern``), or the cue alone where the name is not next to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.closing import content_units
from calmline.monitor.detectors.phrases import (
    Component,
    Hit,
    agent_turns,
    components_outcome,
    customer_turns,
    find_hits,
    text_breaks,
    units,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.textmatch import Match
from calmline.monitor.types import Turn

_CLAUSE_END = text_breaks(",，.。!！?？;；:：、\n")
_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十零〇幺两]")
_ZH_DIGITS = re.compile(r"[0-9０-９零〇幺一二三四五六七八九两]{2,}|[0-9０-９]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_NAME_IS = ("my name is", "my name's", "my names")
_ZH_SURNAME_CUE = "我姓"
# Characters that follow 我姓 in a misheard phrase, never a surname.
_ZH_NOT_SURNAME = set("的是了不在就也都还和嗯啊呢吧吗呀哦")


def is_name(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a name cue is followed by a name or a staff number (see the module docstring)."""
    text = hit.turn.text
    rest = _CLAUSE_END.split(text[hit.match.end_char :], maxsplit=1)[0]
    before = _CLAUSE_END.split(text[: hit.match.start_char])[-1]
    if ctx.language.startswith("zh") and _before_service(practice, hit):
        return _zh_served_by(ctx, practice, before, hit.match.matched)
    if ctx.language.startswith("zh"):
        return _zh_name(ctx, practice, hit.match.matched, before, rest)
    return _en_name(ctx, practice, hit.match.form or hit.match.phrase, rest)


def _zh_name(
    ctx: DetectorContext, practice: PracticeRubric, cue: str, before: str, rest: str
) -> bool:
    if _ZH_DIGITS.search(rest[:6]):
        return True
    if "号" in cue and (digits := _ZH_DIGITS.search(before[-6:])):
        # 拨打当地10000号客服: a number to dial, not the agent's
        lead = before[: max(0, len(before) - 6) + digits.start()]
        return not ctx.matcher.find(lead, practice.phrase_list("number_dialled"))
    if ctx.matcher.normalize(cue) == ctx.matcher.normalize(_ZH_SURNAME_CUE):
        first = rest.lstrip()[:1]
        return first == "*" or ("\u4e00" <= first <= "\u9fff" and first not in _ZH_NOT_SURNAME)
    # Without punctuation the clause runs on into the next phrase: 我是小李很高兴为您服务, or
    # into the next sentence (``name_stop``): 我是美团客服有看到您的订单 names no one.
    others = _zh_name_ends(practice)
    cuts = sorted(ctx.matcher.find(rest, others), key=lambda m: m.start_char)
    if _zh_named(ctx, practice, rest[: cuts[0].start_char if cuts else len(rest)]):
        return True
    # 我是本次为您服务的客服小美_1023: the role and the name follow the service phrase.
    ends = ctx.matcher.find(rest, practice.phrase_list("name_end"))
    if not (cuts and ends and ends[0].start_char == cuts[0].start_char):
        return False
    after = rest[ends[0].end_char :]
    later = [m.start_char for m in ctx.matcher.find(after, others)]
    after = after[: min(later, default=len(after))]
    return bool(_ZH_DIGITS.search(after)) or _zh_named(ctx, practice, after, role_needed=True)


def _before_service(practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the hit is a cue the name comes before (``name_before``: 为您服务)."""
    return hit.match.phrase in {e.text for e in practice.phrase_list("name_before")}


def name_evidence(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> Hit:
    """An accepted name cue shown with the name it introduces (match kind ``pattern``): 我是客服
    小李, 工号1023, "This is David", and a name before a service phrase from its role word on
    (客服小美会竭诚为您服务). Where the name cannot be told from the words around it (我是本次为您
    服务的客服小美, named after the service phrase) the cue is shown alone, as matched."""
    text, m = hit.turn.text, hit.match
    rest = _CLAUSE_END.split(text[m.end_char :], maxsplit=1)[0]
    start, end = m.start_char, m.end_char
    if not ctx.language.startswith("zh"):
        word = _WORD.search(rest)
        number = _NUMBER.search(rest[:12])
        if word is not None:
            end += word.end()
        elif number is not None:
            end += number.end()
    elif _before_service(practice, hit):
        clause = _CLAUSE_END.split(text[:start])[-1]
        roles = [f for f in practice.phrase_forms("name_role") if f]
        first = max((clause.rfind(r) for r in roles), default=-1)
        if first >= 0:
            start -= len(clause) - first
    elif digits := _ZH_DIGITS.search(rest[:6]):
        end += digits.end()
    elif ctx.matcher.normalize(m.matched) == ctx.matcher.normalize(_ZH_SURNAME_CUE):
        end += min(1, len(rest))
    else:
        cuts = sorted(ctx.matcher.find(rest, _zh_name_ends(practice)), key=lambda c: c.start_char)
        head = rest[: cuts[0].start_char if cuts else len(rest)].rstrip("的")
        if head and len(head) <= _ZH_SHOWN_MAX and _zh_named(ctx, practice, head):
            end += len(head)
    if (start, end) == (m.start_char, m.end_char):
        return hit
    cue = m.form or m.phrase
    before = start < m.start_char
    match = Match(
        phrase=m.phrase,
        matched=text[start:end],
        start_char=start,
        end_char=end,
        score=100.0,
        kind="pattern",
        form=f"role + name + {cue}" if before else f"{cue} + name",
    )
    begin, stop = ctx.matcher.time_span(hit.turn, match)
    return Hit(hit.turn, match, begin, stop)


_ZH_SHOWN_MAX = 8
"""The longest stretch after a cue shown as the name with it (客服专员小李 and a little more)."""


def _zh_name_ends(practice: PracticeRubric) -> list:
    """Where a name after a cue ends: a greeting, an offer, a service phrase or the next
    sentence (see :func:`_zh_name`)."""
    return (
        practice.phrase_list("hello")
        + practice.phrase_list("offer_help")
        + practice.phrase_list("name_end")
        + practice.phrase_list("name_stop")
    )


def _zh_served_by(ctx: DetectorContext, practice: PracticeRubric, before: str, cue: str) -> bool:
    """Whether the clause before a service phrase (``name_before``: 为您服务) ends with a role word
    and a name, a 会 / 将 and a 竭诚 / 全力 between them left out: 人工客服小美会竭诚为您服务的,
    客服小李为您服务. 美团客服为您服务 names no one, nor an offer that holds the service phrase
    (客服这边很高兴为您服务)."""
    head = _SERVE_ADVERBS.sub("", before)
    said = before + cue
    offers = ctx.matcher.find(said, practice.phrase_list("offer_help"))
    if any(m.end_char == len(said) and m.start_char < len(head) for m in offers):
        return False
    return _zh_named(ctx, practice, head, role_needed=True)


_SERVE_ADVERBS = re.compile(r"(?:会|将)?(?:竭诚|全力|竭力|热情|真诚|用心)?$")


def _zh_named(
    ctx: DetectorContext, practice: PracticeRubric, rest: str, role_needed: bool = False
) -> bool:
    """Whether ``rest`` (the clause after a name cue, cut where the next phrase starts) holds a
    name: after its last role word 1 to 4 characters; without one (unless ``role_needed``) 1 to
    3 characters. Company, platform and modifier words (``not_name``) are left out first."""
    rest = ctx.matcher.normalize(rest)
    for entry in practice.phrase_list("not_name"):
        for form in entry.forms:
            rest = rest.replace(ctx.matcher.normalize(form), "")
    roles = sorted(
        (ctx.matcher.normalize(f) for f in practice.phrase_forms("name_role")),
        key=len,
        reverse=True,
    )
    rest = rest.rstrip(_ZH_PARTICLES)
    last = max((rest.rfind(r) + len(r) for r in roles if r and r in rest), default=-1)
    if last >= 0:
        name = rest[last:].lstrip("的是")
        return 1 <= len(name) <= 4 and not name.startswith(_ZH_PRONOUNS)
    name = rest.strip("的")
    return not role_needed and 1 <= len(name) <= 3 and not name.startswith(_ZH_PRONOUNS)


_ZH_PARTICLES = "吗呢吧啊呀哦嘛"
"""No name is a sentence-final particle: 需要升级专员吗 names no 专员 吗 (the signature cue
（专员 read without its bracket)."""
_ZH_PRONOUNS = ("我", "您", "你", "咱", "他", "她", "它")
"""No name starts with a pronoun: in 我是美团客服我看到… the next sentence starts at 我."""


def _en_name(ctx: DetectorContext, practice: PracticeRubric, cue: str, rest: str) -> bool:
    words = _WORD.findall(rest)
    if not words:
        return bool(_NUMBER.search(rest[:12]))
    stop = {ctx.matcher.normalize(f) for f in practice.phrase_forms("not_name")}
    first = words[0]
    if ctx.matcher.normalize(first) in stop:
        return False
    if ctx.matcher.normalize(cue) in {ctx.matcher.normalize(c) for c in _NAME_IS}:
        return True
    if not first[0].isupper() or first == "I":
        return False
    run = []  # the capitalised words from the cue on: David Smith, Harper Valley Bank
    for w in words:
        if not w[0].isupper():
            break
        run.append(ctx.matcher.normalize(w))
    return not any(w in stop for w in run)


COMPONENTS = (
    Component("hello", "greeting_hello", "a greeting"),
    Component("name", "greeting_name", "the agent's name", accept=is_name, evidence=name_evidence),
    Component("offer_help", "greeting_offer", "an offer to help"),
)


def customer_said(ctx: DetectorContext, after: int, before: int) -> int:
    """Characters (Mandarin) or words the customer said between turn indices ``after`` and
    ``before`` (both excluded)."""
    return sum(units(c.text, ctx.language) for c in customer_turns(ctx) if after < c.index < before)


def before_the_matter(
    ctx: DetectorContext, practice: PracticeRubric, opening: tuple[Turn, ...]
) -> tuple[Turn, ...]:
    """The opening turns said before the customer has told the matter: once the customer has
    said more than ``opening_customer_max_units`` characters or words (a complaint, a Weibo post
    that starts the thread), the agent's next reply answers it and opens nothing (您好 heading a
    second reply is no greeting); a short 你好 / "hi, I need a new checkbook" keeps it open. The
    agent's first turn always opens, and so does its first that says more than backchannels
    when the ones before it only hum (嗯 as the line connects, then a transfer's long hand-over
    by the colleague, then 嗯您好女士)."""
    limit = practice.threshold("opening_customer_max_units", 0.0)
    if limit <= 0 or len(opening) < 2:
        return opening
    first = next((i for i, t in enumerate(opening) if content_units(ctx, practice, t.text)), 0)
    out = list(opening[: first + 1])
    for t in opening[first + 1 :]:
        if customer_said(ctx, -1, t.index) > limit:
            break
        out.append(t)
    return tuple(out)


def reopenings(
    ctx: DetectorContext, practice: PracticeRubric, later: Sequence[Turn]
) -> tuple[Turn, ...]:
    """Later agent turns that open again: a hand-off to another agent (a bot's banner, then 您好，
    我是客服小李; a transfer, then "Hello, this is David") is a new opening. Once the contact was
    opened with a greeting, a later turn holding both a greeting and an introduction by name
    starts one; it runs over that turn and the agent's next ones, as the first opening does, and
    on over later messages of the same burst that greet or offer help. An
    agent who never greeted and introduces itself late ("Yes?" … "Hello, my name is Anna") did
    not open the call well, and gets no credit for it."""
    n = max(1, int(practice.threshold("opening_turns", 2)))
    span = practice.threshold("opening_s", 30.0)
    names = {
        h.turn.index
        for h in find_hits(ctx, later, practice.phrase_list("name"))
        if is_name(ctx, practice, h)
    }
    if not names:
        return ()
    hellos = {h.turn.index for h in find_hits(ctx, later, practice.phrase_list("hello"))}
    greets = hellos | {
        h.turn.index for h in find_hits(ctx, later, practice.phrase_list("offer_help"))
    }
    pause = practice.threshold("burst_customer_max_units", 0.0)
    out: list[Turn] = []
    for i, t in enumerate(later):
        if t.index in names and t.index in hellos:
            for k, u in enumerate(later[i:]):
                if k < n and u.start > t.start + span:
                    break
                if k >= n:
                    # the burst's messages follow each other: a long message before this one
                    # (a chat's welcome text) moves it past ``opening_s`` from the opening's
                    # start, a gap of more than ``opening_s`` after the last one ends the burst
                    if u.start > later[i + k - 1].end + span:
                        break
                    # a chat agent greets in a burst of messages after a hand-off (the banner
                    # with the name, then 您好亲亲请问有什么可以帮您): a later message holding a
                    # greeting or an offer to help still opens while the customer has said no
                    # more than ``burst_customer_max_units`` since (在吗, 亲)
                    if customer_said(ctx, t.index, u.index) > pause:
                        break
                    if u.index not in greets:
                        continue
                if u not in out:
                    out.append(u)
    return tuple(out)


@register("greeting")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    opening: tuple[Turn, ...] = ()
    if agents:
        n = max(1, int(practice.threshold("opening_turns", 2)))
        until = agents[0].start + practice.threshold("opening_s", 30.0)
        opening = tuple(t for t in agents[:n] if t.start <= until)
        opening = before_the_matter(ctx, practice, opening)
        if find_hits(ctx, opening, practice.phrase_list("hello")):
            opening += reopenings(ctx, practice, agents[len(opening) :])
    return components_outcome(
        ctx,
        practice_id,
        practice,
        opening,
        COMPONENTS,
        incomplete_kind="greeting_incomplete",
        where="opening",
    )
