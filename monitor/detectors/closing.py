"""Close on an upswing (感谢顾客; 若还有什么问题,别客气,请再告诉我们; 以上扬的态势结束服务).

The closing is the agent's last ``closing_turns`` turns that carry content (at least
``content_min_units`` characters or words besides goodbyes and backchannels: the ``farewell``
phrases, the ``hang_up`` words that end a phone call (请您先挂机) and the ``backchannel`` phrases
of ``let_finish``), with every turn after them: a
trailing "okay, okay, bye bye" or 好的好的再见 is searched too but does not push the real closing
out of the window, nor does a chat system's own end-of-session message (``system_end``: 系统已经
自动结束对话, sent minutes later when the customer went quiet), which the agent did not say.
Only turns that end within ``closing_s`` seconds of the last of those content turns count. An
invitation the customer declined (还有其他可以帮您的吗 - 嗯没有了; ``declined``) among the agent's
last ``invite_turns`` content turns is searched too: the closing began there, and a last detail,
the rating request and the goodbye after it pushed it out of the window. The
closing should thank the customer (``thanks``), invite further contact (``invite``) and say a
warm goodbye (``farewell``); the score is the share of the three found, and the coaching names
only the missing ones. An invitation's condition that leads straight into a request for the
customer's details ("If you need any help, could you please provide your account via private
message": ``invite_request``) asks, it does not invite.

A thank-you that ends a request or a question (请您评价,谢谢; "please DM us your number, thank
you"; 请问您是哪里的用户？谢谢) thanks for the favour asked, not for the contact: a bare thanks
(``bare_thanks``) is not a closing when its reply asked for something (a ``request_cue`` phrase)
with no invitation after the request, and no thanks is one right after a question unless the
question is the invitation (还有其他问题吗？谢谢). Only the last turn that carries content, or a
turn after it, holds the closing thanks (see :func:`closes_contact`).
"""

from __future__ import annotations

import re

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    Component,
    Hit,
    agent_turns,
    components_outcome,
    customer_turns,
    text_breaks,
    units,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.textmatch import Match
from calmline.monitor.types import Turn

_SENTENCE_END = text_breaks("。．.!！?？~～\n")
_CLAUSE_END = re.compile(r"[,，、;；]")
_QUESTION = ("?", "？")
_TRAILING = " \t,，、;；:：~～!！。.)）]】"


def closes_contact(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a thanks hit thanks for the contact rather than ending a request or a question.

    Only the last turn that carries content, or a turn after it, closes: a thank-you for
    information in the turn before ("OK, I will report it. Thank you for your feedback.",
    then the agent's answer) is said mid-conversation. A later turn that only takes leave
    (:func:`_wraps_up`: a goodbye with a few words of address) adds no content: the thanks
    before it still closes. A bare thank-you (``bare_thanks``: 谢谢,
    "thank you") that ends a reply which asked the customer for something anywhere in it
    (请您私信提供…, "please send us your number … we will inform you … Thank you!") thanks for
    that favour, unless the reply invites further contact after the request (a plea for
    understanding, ``not_request``, and the call's 请您先挂机, ``hang_up``, ask for no favour:
    请您先挂机再见保持电话畅通感谢您 closes). A thank-you that
    names what it thanks for (感谢您对我们的支持, "thanks for your support") is a closing even
    after a request or a suggestion; none is one right after a question. A chat system's own
    end-of-session message (``system_end``: 由于您在3分钟内没有任何回应，系统已经自动结束对话了…)
    carries no content of the agent's (:func:`carries_content`): the agent's thanks just before
    it close."""
    agents = agent_turns(ctx)
    content = [t for t in agents if carries_content(ctx, practice, t.text)]
    later = [t for t in content if t.index > hit.turn.index]
    if later and not all(_wraps_up(ctx, practice, t.text) for t in later):
        return False
    bare = {p.text for p in practice.phrase_list("bare_thanks")}
    if hit.match.phrase in bare:
        before_all = hit.turn.text[: hit.match.start_char]
        cues = practice.phrase_list("request_cue")
        asked = ctx.matcher.find(before_all, cues, fuzzy_threshold=100) if cues else []
        # the agent's own doing is no request: 小U会留意查询私信的, 小沃已私信您
        asked = [m for m in asked if not _own_doing(before_all, m.start_char)]
        # a plea for understanding asks for nothing ("Hope you can understand. Thank you!"), nor
        # does the call's 请您先挂机: the thanks after 再见 still closes
        pleas = [*practice.phrase_list("not_request"), *practice.phrase_list("hang_up")]
        if pleas and asked:
            spans = ctx.matcher.find(before_all, pleas, fuzzy_threshold=100)
            asked = [m for m in asked if not _inside(m, spans)]
        if asked:
            # the invitation must come after the last request, or hold it (如有问题您可以随时私信
            # 我们，谢谢), or go on into it in the same clause ("for any question, you can send us
            # a private message"): 如仍需帮助可再次发起会话，…麻烦对小美的服务进行评价，谢谢
            # thanks for the rating
            invites = ctx.matcher.find(
                before_all, practice.phrase_list("invite"), fuzzy_threshold=100
            )
            if not invites:
                return False
            end, last = invites[-1].end_char, asked[-1]
            return end >= last.end_char or not (
                _CLAUSE_END.search(before_all, end, last.start_char)
                or _SENTENCE_END.search(before_all, end, last.start_char)
            )
    before = hit.turn.text[: hit.match.start_char].rstrip(" \t,，、;；:：")
    asked = before.endswith(_QUESTION)
    parts = _SENTENCE_END.split(before.rstrip(_TRAILING + "?？"))
    window = int(practice.threshold("request_window_chars", 40))
    sentence = parts[-1][-window:] if parts else ""
    if not sentence.strip():
        return True
    clause = _CLAUSE_END.split(sentence)[-1]
    if ctx.matcher.find(clause, practice.phrase_list("invite"), fuzzy_threshold=100):
        return True  # 还有其他问题吗？感谢您的来电: thanks after the invitation closes the call
    # a thank-you that names what it thanks for (感谢您对我们的支持, "thanks for your patience")
    # closes even after a request; a bare one closes unless it ends a question
    return not asked


_OWN_DOING = re.compile(r"(?:会|将|已|正在)[^,，。.!！?？;；]{0,6}$")
"""A Mandarin marker of the agent's own undertaking or report right before a request word (小U会
留意, 小沃已私信您): the agent's doing, not a request. English states the doer ("I suggest you"
is a request), so the marker is read in Mandarin only."""


def _own_doing(text: str, at: int) -> bool:
    clause = _CLAUSE_END.split(_SENTENCE_END.split(text[:at])[-1])[-1]
    return bool(_OWN_DOING.search(clause))


def _wraps_up(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether an agent turn only takes leave: it says goodbye or ends the call and holds at most
    ``wrap_up_max_units`` units besides (女士那这边呢就先不打扰您了祝您生活愉快请您先挂机再见 after
    非常感谢您的来电…: the thanks before it still closes the call)."""
    most = practice.threshold("wrap_up_max_units", 0.0)
    return (
        most > 0
        and content_units(ctx, practice, text) <= most
        and says_goodbye_in(ctx, practice, text)
    )


def says_goodbye(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a farewell hit is a goodbye, not a phrase of another sense that holds it
    (``not_farewell``: "take care of this business some other day" holds "take care")."""
    others = practice.phrase_list("not_farewell")
    if not others:
        return True
    return not _inside(hit.match, ctx.matcher.find(hit.turn.text, others, fuzzy_threshold=100))


def _inside(m: Match, spans: list[Match]) -> bool:
    """Whether ``m`` lies within one of ``spans`` (matches in the same text)."""
    return any(s.start_char <= m.start_char and m.end_char <= s.end_char for s in spans)


def _leads_into_request(
    ctx: DetectorContext, practice: PracticeRubric, text: str, m: Match
) -> bool:
    """Whether the invitation ``m`` in ``text`` is the condition of a request for the customer's
    details that follows it in its sentence (``invite_request``: "If you need any help, could you
    please provide your broadband account via private message"): it asks, it does not invite."""
    requests = practice.phrase_list("invite_request")
    if not requests:
        return False
    rest = _SENTENCE_END.split(text[m.end_char :])[0].lstrip(" \t,，、:：")
    found = ctx.matcher.find(rest, requests, fuzzy_threshold=100) if rest else []
    return any(f.start_char == 0 for f in found)


def invites_back(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether an invitation hit invites further contact (:func:`_leads_into_request`)."""
    return not _leads_into_request(ctx, practice, hit.turn.text, hit.match)


def invites_in(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether ``text`` holds an ``invite`` phrase that invites further contact."""
    invites = practice.phrase_list("invite")
    found = ctx.matcher.find(text, invites, fuzzy_threshold=100) if invites else []
    return any(not _leads_into_request(ctx, practice, text, m) for m in found)


COMPONENTS = (
    Component("thanks", "closing_thanks", "a thank-you", accept=closes_contact),
    Component(
        "invite", "closing_invite", "an invitation to get back in touch", accept=invites_back
    ),
    Component("farewell", "closing_farewell", "a warm goodbye", accept=says_goodbye),
)


def _min_units(practice: PracticeRubric) -> float:
    return practice.threshold("content_min_units", 0.0)


def _goodbye_phrases(practice: PracticeRubric) -> list:
    """The goodbyes and the words that end a phone call (``hang_up``: 请您先挂机)."""
    return [*practice.phrase_list("farewell"), *practice.phrase_list("hang_up")]


def says_goodbye_in(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether ``text`` says goodbye or ends the call (:func:`_goodbye_phrases`), a phrase of
    another sense that holds a goodbye's words left out (``not_farewell``, :func:`says_goodbye`)."""
    found = ctx.matcher.find(text, _goodbye_phrases(practice), fuzzy_threshold=100)
    others = practice.phrase_list("not_farewell")
    spans = ctx.matcher.find(text, others, fuzzy_threshold=100) if others and found else []
    return any(not _inside(m, spans) for m in found)


def content_units(ctx: DetectorContext, practice: PracticeRubric, text: str) -> int:
    """Units of ``text`` besides goodbyes, backchannels and the words that end a phone call
    (``hang_up``: 请您先挂机; see the module docstring)."""
    phrases = _goodbye_phrases(practice)
    turn_taking = ctx.rubric.practices.get("let_finish")
    if turn_taking is not None:
        phrases += turn_taking.phrase_list("backchannel")
    rest = list(text)
    for m in ctx.matcher.find(text, phrases, fuzzy_threshold=100):
        rest[m.start_char : m.end_char] = [" "] * (m.end_char - m.start_char)
    return units("".join(rest), ctx.language)


def carries_content(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether an agent turn counts among the closing turns: ``content_min_units`` units besides
    goodbyes and backchannels, and not a chat system's own end-of-session message
    (``system_end``), which the agent did not say."""
    if content_units(ctx, practice, text) < _min_units(practice):
        return False
    ends = practice.phrase_list("system_end")
    return not (ends and ctx.matcher.find(text, ends, fuzzy_threshold=100))


def closing_turns(ctx: DetectorContext, practice: PracticeRubric) -> tuple[Turn, ...]:
    """The agent turns searched for the closing (see the module docstring)."""
    agents = agent_turns(ctx)
    if not agents:
        return ()
    n = max(1, int(practice.threshold("closing_turns", 2)))
    content = [i for i, t in enumerate(agents) if carries_content(ctx, practice, t.text)]
    first = content[-n] if len(content) >= n else (content[0] if content else len(agents) - n)
    first = max(0, first)
    last_content = agents[content[-1]] if content else agents[-1]
    since = last_content.end - practice.threshold("closing_s", 30.0)
    window = [t for t in agents[first:] if t.end >= since]
    # the customer raising something again (a new question, a complaint) after an agent turn
    # means that turn did not close the contact: the closing comes after the customer's last
    # matter (a short "no, that's all, thanks" is no new matter)
    reopen = practice.threshold("reopen_min_units", 0.0)
    if reopen > 0 and len(window) > 1:
        raised = [
            c.index
            for c in customer_turns(ctx)
            if c.index > window[0].index and units(c.text, ctx.language) >= reopen
        ]
        if raised:
            window = [t for t in window if t.index > raised[-1]] or window[-1:]
    return _declined_invitation(ctx, practice, agents, content, window) + tuple(window)


def _declined_invitation(
    ctx: DetectorContext,
    practice: PracticeRubric,
    agents: tuple[Turn, ...],
    content: list[int],
    window: list[Turn],
) -> tuple[Turn, ...]:
    """The agent turn before ``window`` that opened the closing with an invitation the customer
    declined (还有其他可以帮您的吗 - 嗯没有了; "anything else?" - "no, that's all"), when it is
    among the agent's last ``invite_turns`` turns that carry content: the wrap-up after it (a
    last detail, the rating request, the goodbye) pushed it out of the window, but the customer's
    answer shows the closing had begun there. ``()`` when there is none."""
    lookback = int(practice.threshold("invite_turns", 0))
    declined = practice.phrase_list("declined")
    invites = practice.phrase_list("invite")
    if lookback <= 0 or not declined or not invites or not window:
        return ()
    lead = practice.threshold("declined_lead_units", 2.0)
    earlier = [agents[i] for i in content[-lookback:] if agents[i].index < window[0].index]
    for turn in reversed(earlier):
        if not ctx.matcher.find(turn.text, invites):
            continue
        later = [t for t in agents if t.index > turn.index]
        until = later[0].index if later else None
        replies = [
            c
            for c in customer_turns(ctx)
            if c.index > turn.index and (until is None or c.index < until)
        ]
        for reply in replies:
            hit = next(iter(ctx.matcher.find(reply.text, declined, fuzzy_threshold=100)), None)
            if hit is not None and units(reply.text[: hit.start_char], ctx.language) <= lead:
                return (turn,)
        return ()
    return ()


def closing_anchor(
    ctx: DetectorContext, practice: PracticeRubric, turns: tuple[Turn, ...]
) -> Turn | None:
    """The closing turn a coaching quotes: the last that carries content (``content_min_units``
    units besides backchannels and goodbyes) or says a closing phrase (…祝您生活愉快请您先挂机再见),
    not a trailing 嗯, 好的 or 那女士 after it, nor a chat system's end-of-session message
    (``system_end``), which the agent did not say."""
    phrases = [p for c in COMPONENTS for p in practice.phrase_list(c.lexicon)]
    ends = practice.phrase_list("system_end")
    least = max(1.0, _min_units(practice))

    def says_something(t: Turn) -> bool:
        if ends and ctx.matcher.find(t.text, ends, fuzzy_threshold=100):
            return False
        if content_units(ctx, practice, t.text) >= least:
            return True
        return bool(phrases and ctx.matcher.find(t.text, phrases, fuzzy_threshold=100))

    said = [t for t in turns if says_something(t)]
    return said[-1] if said else (turns[-1] if turns else None)


@register("closing")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    turns = closing_turns(ctx, practice)
    return components_outcome(
        ctx,
        practice_id,
        practice,
        turns,
        COMPONENTS,
        incomplete_kind="closing_incomplete",
        where="closing",
        anchor=closing_anchor(ctx, practice, turns),
    )
