"""When a practice applies to a call, and when a call needs review before anyone is coached.

**Applicability.** A practice is scored only on a call where it can be judged. Each practice
lists its conditions (:data:`calmline.monitor.rubric.Condition`) in the rubric's ``applies`` key,
or takes its default from :data:`DEFAULT_APPLIES`:

* every practice about how the agent deals with the customer needs ``two_speakers``: on a
  one-voice recording there is nobody to greet, interrupt, acknowledge or argue with, and the
  words given to "the agent" may be anyone's. Only ``clear_speech`` and ``courtesy`` judge the
  agent's own speech and apply without a customer;
* the practices that answer a problem (``solve_problem``, ``acknowledge``, ``paraphrase``,
  ``empathy``, ``apologize_for_inconvenience``, ``options``, ``no_excuses``) need a
  ``customer_problem`` (:func:`customer_problem`): a routine request from a calm customer (an
  address change, a balance) has no complaint to acknowledge, paraphrase, apologise for or
  solve. On the six Harper Valley bank calls (routine tasks, human transcripts,
  ``bench/calibrate.py``) none of them applies, and the overall scores move from 71-80 to
  96-100;
* ``gentle_control`` needs a ``long_customer_turn`` the agent then took the floor from;
* ``closing`` needs the customer to have stayed (``customer_stayed``): a chat that ends on the
  customer leaving it (离开人工会话, 88 of MUSIED's 377 chats), or a call that ends on the
  customer's words with the agent saying no more than 嗯 after them (the customer hung up or the
  recording stops mid-matter: :func:`_ends_on_customer`), or while the customer is on hold
  (:func:`_ends_on_hold`), ended before the agent could close; a Weibo thread whose last reply
  moves the matter to private messages (:func:`_moves_to_private`) had not ended,
  and coaching the agent for the thanks and the goodbye it had no turn to say blames it for the
  customer's leaving.

A practice that does not apply has no score (shown as "—"), a reason, and no weight in the
overall score (the weighted mean is taken over the practices that apply). A practice whose
detector finds nothing to judge on a call is reported the same way, with the reason its
detector's outcome gives.

**Needs review.** A call whose roles are uncertain is scored for the QA lead but carries no
coaching for the agent (a sentence that blames the wrong person does harm), and is flagged with
its reasons (:func:`review_reasons`): low role confidence, one voice, one role without words, a
very short call, or no sign of a service conversation. The thresholds are in the rubric's
``review`` section (:class:`calmline.monitor.rubric.ReviewRubric`), documented there.
"""

from __future__ import annotations

from collections.abc import Mapping

from calmline.monitor.detectors import DetectorContext, PracticeOutcome
from calmline.monitor.detectors.closing import carries_content, invites_in, says_goodbye_in
from calmline.monitor.detectors.gentle_control import DEFAULTS as CONTROL_DEFAULTS
from calmline.monitor.detectors.let_finish import FloorRules
from calmline.monitor.detectors.phrases import (
    agent_turns,
    complaint_turns,
    customer_turns,
    lexicon_hits,
)
from calmline.monitor.rubric import Condition, PracticeRubric
from calmline.monitor.types import CallReport, ReviewReason, Role, Severity, Turn

TWO_PARTY = ("two_speakers",)
PROBLEM = ("two_speakers", "customer_problem")

DEFAULT_APPLIES: Mapping[str, tuple[Condition, ...]] = {
    "clear_speech": (),
    "courtesy": (),
    "let_finish": TWO_PARTY,
    "gentle_control": ("two_speakers", "long_customer_turn"),
    "acknowledge": PROBLEM,
    "no_apology_demand": TWO_PARTY,
    "solve_problem": PROBLEM,
    "greeting": TWO_PARTY,
    "apologize_for_inconvenience": PROBLEM,
    "paraphrase": PROBLEM,
    "empathy": PROBLEM,
    "no_arguing": TWO_PARTY,
    "no_blame_shift": TWO_PARTY,
    "no_excuses": PROBLEM,
    "no_overpromise": TWO_PARTY,
    "options": PROBLEM,
    "closing": ("two_speakers", "customer_stayed"),
}
"""Conditions of each practice when its rubric entry has no ``applies`` key. A practice not
listed here applies whenever it is on two-party calls (``two_speakers``)."""

SERVICE_LEXICONS = (("greeting", "offer_help"), ("closing", "invite"))
"""Rubric lexicons whose phrases mark a service conversation (an offer to help, an invitation
to get back in touch), searched in every turn: "how can I help", 很高兴为您服务, "anything else I
can help you with" are not small talk. (A name cue is not one: 我是 and "this is" are.)"""


def conditions(practice_id: str, practice: PracticeRubric) -> tuple[Condition, ...]:
    """The practice's conditions: its rubric ``applies`` key, else its default."""
    if practice.applies is not None:
        return practice.applies
    return DEFAULT_APPLIES.get(practice_id, TWO_PARTY)


def speaker_count(report: CallReport) -> int:
    """Distinct speakers in the speech segments, else in the turns that hold words."""
    speakers = {s.speaker for s in report.segments}
    if not speakers:
        speakers = {t.speaker for t in report.turns if t.text.strip()}
    return len(speakers)


def not_applicable(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> str | None:
    """Why the practice does not apply to the call, or ``None`` when it does."""
    for condition in conditions(practice_id, practice):
        reason = _failed(ctx, condition, practice)
        if reason is not None:
            return reason
    return None


def _failed(ctx: DetectorContext, condition: Condition, practice: PracticeRubric) -> str | None:
    if condition == "two_speakers":
        n = speaker_count(ctx.report)
        if n < 2:
            voices = "one voice" if n == 1 else "no voice"
            return f"{voices} in the recording: no customer to judge it on"
        if not agent_turns(ctx):
            return "the agent said nothing the recogniser heard"
        if not any(t.text.strip() for t in customer_turns(ctx)):
            return "the customer said nothing the recogniser heard"
        return None
    if condition == "customer_problem":
        if customer_problem(ctx):
            return None
        return (
            "no customer problem heard (no complaint or anger words, customer agitation never "
            f"reached {ctx.rubric.stress.agitated_level:g}, no feeling recognised and no trouble "
            "apologised for by the agent)"
        )
    if condition == "long_customer_turn":
        long_s = practice.threshold("long_turn_s", CONTROL_DEFAULTS["long_turn_s"])
        if _took_floor_after_long_turn(ctx, practice, long_s):
            return None
        return f"no customer turn of {long_s:g} s or more that the agent took the floor after"
    if condition == "customer_stayed":
        if _customer_left(ctx, practice):
            return "the customer left the chat before the agent could close it"
        if _timed_out(ctx, practice):
            return (
                "the customer stopped answering: the chat ended on the system's timeout "
                "message while the agent was still on the matter, before it could close"
            )
        turns, said = _content_turns(ctx, practice)
        if _ends_on_customer(ctx, practice, turns, said):
            return (
                "the call ends on the customer's words, the agent saying no more than a "
                "backchannel after them: it ended (or the recording stops) before the agent "
                "could close"
            )
        if _ends_on_hold(ctx, practice, turns, said):
            return (
                "the recording stops while the customer is on hold (the agent's last words "
                "ask them to wait): the call had not ended"
            )
        if _moves_to_private(ctx, practice, turns, said):
            return (
                "the thread goes on in private messages (the agent's last reply asks for the "
                "customer's details there): the contact had not ended"
            )
        return None
    raise ValueError(f"unknown applicability condition {condition!r}")


def _worded_turns(ctx: DetectorContext) -> list[Turn]:
    """The call's turns with words, in time order."""
    return sorted((t for t in ctx.report.turns if t.text.strip()), key=lambda t: t.start)


def _customer_left(ctx: DetectorContext, practice: PracticeRubric) -> bool:
    """Whether the call's last turn is the customer's and says they left the chat (the
    practice's ``customer_left`` phrases: 离开人工会话)."""
    left = practice.phrase_list("customer_left")
    turns = _worded_turns(ctx)
    if not left or not turns or turns[-1].role is not Role.CUSTOMER:
        return False
    return bool(ctx.matcher.find(turns[-1].text, left, fuzzy_threshold=100))


def _timed_out(ctx: DetectorContext, practice: PracticeRubric) -> bool:
    """Whether a chat ended on its system's message for the customer's silence (the practice's
    ``system_end`` phrases: 由于您在3分钟内没有任何回应，系统已经自动结束对话了) while the agent was
    still on the matter: none of the agent's turns since the customer's last words thanks,
    invites or says goodbye (the closing's ``thanks``, ``invite``, ``farewell`` and ``hang_up``
    phrases: 在线转接哦，您看可以吗 - 亲亲，请问还在线吗 - the timeout). The customer left by going
    silent, as one who leaves the chat (:func:`_customer_left`) does; an agent that had begun
    to close before the timeout (请问还有其他问题吗, 感谢您的耐心) is judged on it. 119 of MUSIED's
    365 tune dialogues end on the timeout message; 104 of them were coached for a thanks and a
    goodbye on lines such as 小美联系商家沟通处理呢."""
    ends = practice.phrase_list("system_end")
    turns = _worded_turns(ctx)
    if not ends or not turns or turns[-1].role is not Role.AGENT:
        return False
    if not ctx.matcher.find(turns[-1].text, ends, fuzzy_threshold=100):
        return False
    customers = [i for i, t in enumerate(turns) if t.role is Role.CUSTOMER]
    since = turns[customers[-1] + 1 : -1] if customers else turns[:-1]
    kinds = ("thanks", "invite", "farewell", "hang_up")
    return not _says(ctx, practice, since, kinds, Role.AGENT)


def _content_turns(ctx: DetectorContext, practice: PracticeRubric) -> tuple[list[Turn], list[int]]:
    """The call's turns with words, in time order, and the indices of those among them that
    carry content (:func:`carries_content`: more than backchannels and goodbyes)."""
    turns = _worded_turns(ctx)
    return turns, [i for i, t in enumerate(turns) if carries_content(ctx, practice, t.text)]


def _ends_on_customer(
    ctx: DetectorContext, practice: PracticeRubric, turns: list[Turn], said: list[int]
) -> bool:
    """Whether the call ends on the customer's words: the last turn that carries content (the
    closing's ``content_min_units`` besides backchannels and goodbyes, :func:`carries_content`)
    is the customer's, and neither it nor a customer turn after it takes leave (none of the
    closing's ``thanks``, ``farewell`` or ``declined`` phrases: 好谢谢, 再见, 没有了 leave the
    agent its turn to close, and a closing it does not say then is its own), and the agent's
    last turn before it holds no goodbye (:func:`says_goodbye_in`: an agent that said
    祝您生活愉快 before the customer's last question had closed). The customer hung
    up or the recording stops mid-matter: of MUSIED's 173 tune phone calls, 27 end so, most cut
    in mid-sentence (然后五百之后他不给他跟我讲了…) or mid-complaint while the agent hums 嗯;
    coaching such an agent for the thanks and the goodbye it had no turn to say blames it for
    the cut. A Weibo thread that ends on the customer's post (605 of the 1,950 Mandarin and 296
    of the 1,005 English tune threads) ended with no reply to close. ``turns`` and ``said``:
    :func:`_content_turns`."""
    if not said or turns[said[-1]].role is not Role.CUSTOMER:
        return False
    if _takes_leave(ctx, practice, turns[said[-1] :]):
        return False
    # the agent had closed before the customer's last words (祝您生活愉快请您先挂断电话 - 哦就是
    # 你们再联系我是吧 - 哦好的): its closing was said, and is judged
    agent = [t for t in turns[: said[-1]] if t.role is Role.AGENT]
    return not (agent and says_goodbye_in(ctx, practice, agent[-1].text))


def _takes_leave(
    ctx: DetectorContext,
    practice: PracticeRubric,
    turns: list[Turn],
    kinds: tuple[str, ...] = ("thanks", "farewell", "declined"),
) -> bool:
    """Whether a customer turn among ``turns`` takes leave: one of the closing's phrases of
    ``kinds`` (好谢谢, 再见, 没有了, 不用了, 我挂了)."""
    return _says(ctx, practice, turns, kinds, Role.CUSTOMER)


def _says(
    ctx: DetectorContext,
    practice: PracticeRubric,
    turns: list[Turn],
    kinds: tuple[str, ...],
    role: Role,
) -> bool:
    """Whether a turn of ``role`` among ``turns`` holds one of the practice's phrases of
    ``kinds``."""
    phrases = [p for kind in kinds for p in practice.phrase_list(kind)]
    said = [t.text for t in turns if t.role is role]
    return bool(phrases) and any(ctx.matcher.find(x, phrases, fuzzy_threshold=100) for x in said)


def _ends_on_hold(
    ctx: DetectorContext, practice: PracticeRubric, turns: list[Turn], said: list[int]
) -> bool:
    """Whether the last turn that carries content is the agent's and puts the customer on hold
    (the practice's ``hold`` phrases: 您听到音乐后不要挂机, 您稍等我再去帮您拨打一下, "one moment
    please") with no words of an ending in it (``hold_not``: 耐心稍等 and 回电 wait for a call
    back, 再见 takes leave): the recording stops in the hold. 14 of MUSIED's 365 tune dialogues
    end so (7 calls, 7 chats); their closing was coached on the hold request. Not when the
    customer says goodbye or declines after it (我就不用了 - 我挂了: :func:`_takes_leave`): the
    call ended, and the agent's closing is judged; a customer's 好谢谢 there agrees to wait.
    ``turns`` and ``said``: :func:`_content_turns`."""
    hold = practice.phrase_list("hold")
    if not hold:
        return False
    if not said or turns[said[-1]].role is not Role.AGENT:
        return False
    text = turns[said[-1]].text
    if not ctx.matcher.find(text, hold, fuzzy_threshold=100):
        return False
    if _takes_leave(ctx, practice, turns[said[-1] + 1 :], ("farewell", "declined")):
        return False
    ending = practice.phrase_list("hold_not")
    return not (ending and ctx.matcher.find(text, ending, fuzzy_threshold=100))


def _moves_to_private(
    ctx: DetectorContext, practice: PracticeRubric, turns: list[Turn], said: list[int]
) -> bool:
    """Whether the last turn that carries content is the agent's and asks the customer to go on
    in private messages (the practice's ``private_message`` phrases: 请您私信提供…, 烦请您以私信
    方式…, "please provide … via private message"), with no invitation or goodbye in it (如有疑
    问可随时私信我们，祝您愉快 closes the thread; "If you need any help, could you please provide
    …" asks: :func:`~calmline.monitor.detectors.closing.invites_in`): a Weibo thread whose last
    reply moves the matter there has not ended where the public thread stops, and coaching its
    thanks and goodbye blames the agent for a contact that goes on. ``turns`` and ``said``:
    :func:`_content_turns`."""
    moved = practice.phrase_list("private_message")
    if not moved or not said or turns[said[-1]].role is not Role.AGENT:
        return False
    text = turns[said[-1]].text
    if not ctx.matcher.find(text, moved, fuzzy_threshold=100):
        return False
    farewells = practice.phrase_list("farewell")
    if farewells and ctx.matcher.find(text, farewells, fuzzy_threshold=100):
        return False
    return not invites_in(ctx, practice, text)


def customer_problem(ctx: DetectorContext) -> bool:
    """Whether the customer raised a problem: a customer turn with complaint or anger words
    or agitated (:func:`~calmline.monitor.detectors.phrases.complaint_turns`), or, where the
    customer's words escaped those lexicons, the agent recognising the customer's feeling
    (the ``empathy`` practice's phrases: "I completely understand how frustrating this is",
    理解您的心情), which is said to an upset customer only, or apologising for the trouble the
    customer met (``apologize_for_inconvenience``'s ``trouble_caused``: 给您带来不便, 不好的体验,
    "sorry for the inconvenience"). A bare apology is not such a sign: "sorry for the wait" and
    不好意思 are routine courtesy.

    On the STC-3 threads whose first post is marked by hand (``bench/labels/complaints.py``),
    this function over the whole thread found the threads that raise a problem with recall 0.78
    -> 0.84 on the held-out draw in English (precision 0.95 unchanged) and 0.78 -> 0.81 in
    Mandarin (precision 0.90 -> 0.91) once the apology for the trouble caused counts; on the
    draw the complaint words grew from, 0.81 -> 0.88 (English, precision 0.93 -> 0.94) and 0.85
    -> 0.88 (Mandarin, precision 1.00 -> 0.98). A customer who writes 敢不敢给我一点2g稳定信号
    or "Can you provide stable 2G network?" uses no complaint word; the agent's apology shows
    the problem."""
    if complaint_turns(ctx):
        return True
    agents = agent_turns(ctx)
    signs = (("empathy", "good"), ("apologize_for_inconvenience", "trouble_caused"))
    for practice_id, lexicon in signs:
        practice = ctx.rubric.practices.get(practice_id)
        if practice is None or not practice.phrase_list(lexicon):
            continue
        if lexicon_hits(ctx, agents, practice, lexicon):
            return True
    return False


def _took_floor_after_long_turn(
    ctx: DetectorContext, practice: PracticeRubric, long_s: float
) -> bool:
    """Whether an agent turn starts after a customer turn of ``long_s`` or more began (beyond
    the turn-transition tolerance) and before the customer's next turn."""
    tolerance = FloorRules.of(ctx.rubric, practice).tolerance
    customers = sorted(ctx.turns_of(Role.CUSTOMER), key=lambda t: t.start)
    agents = ctx.turns_of(Role.AGENT)
    for i, c in enumerate(customers):
        if c.end - c.start < long_s:
            continue
        until = customers[i + 1].start if i + 1 < len(customers) else float("inf")
        if any(c.start + tolerance < a.start < until for a in agents):
            return True
    return False


def nothing_to_judge(outcome: PracticeOutcome) -> str:
    """The reason for a practice that applies but whose detector found nothing to judge."""
    if outcome.findings and all(f.severity is Severity.INFO for f in outcome.findings):
        return "every moment it could judge is counted under another practice (see the findings)"
    return "the call gives nothing to judge it on"


def review_reasons(ctx: DetectorContext) -> tuple[ReviewReason, ...]:
    """Why the call's roles or kind are uncertain (empty when they are not)."""
    report, review = ctx.report, ctx.rubric.review
    reasons: list[ReviewReason] = []
    roles = report.roles
    if roles.confidence < review.min_role_confidence:
        reasons.append(
            ReviewReason(
                "low_role_confidence",
                f"the agent was identified with confidence {roles.confidence:.2f} "
                f"(method {roles.method}, threshold {review.min_role_confidence:g})",
            )
        )
    n = speaker_count(report)
    if n < 2:
        reasons.append(
            ReviewReason(
                "one_speaker",
                f"{'one voice' if n == 1 else 'no voice'} in the recording: no second party",
            )
        )
    else:
        silent = [
            role.value
            for role in (Role.AGENT, Role.CUSTOMER)
            if not any(t.text.strip() for t in ctx.turns_of(role))
        ]
        if silent:
            reasons.append(
                ReviewReason("one_role", f"no words heard from the {' or the '.join(silent)}")
            )
    worded = [t for t in report.turns if t.text.strip()]
    talk = sum(
        float(report.metrics.talk_time.get(r.value, 0.0)) for r in (Role.AGENT, Role.CUSTOMER)
    )
    if len(worded) < review.min_turns or talk < review.min_speech_s:
        reasons.append(
            ReviewReason(
                "short_call",
                f"{len(worded)} turn(s) with words and {talk:.1f} s of speech (at least "
                f"{review.min_turns} turns and {review.min_speech_s:g} s expected of a call)",
            )
        )
    if not _service_cues(ctx) and not customer_problem(ctx):
        reasons.append(
            ReviewReason(
                "not_service",
                "no sign of a service conversation: nobody offered help or invited further "
                "contact, and no customer problem was heard",
            )
        )
    return tuple(reasons)


def _service_cues(ctx: DetectorContext) -> bool:
    """Whether anyone said a phrase of the :data:`SERVICE_LEXICONS` (roles may be wrong, so
    every turn is searched)."""
    phrases = [
        entry
        for practice_id, lexicon in SERVICE_LEXICONS
        if practice_id in ctx.rubric.practices
        for entry in ctx.rubric.practices[practice_id].phrase_list(lexicon)
    ]
    if not phrases:
        return True  # nothing to look for: do not call the conversation unknown
    return any(ctx.matcher.find(t.text, phrases) for t in ctx.report.turns if t.text.strip())
