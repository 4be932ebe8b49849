"""Solve the customer's real problem (为客户解决实际问题).

Four parts, each worth its ``*_points`` (they add up to 100 in the default rubrics):

* ``empathy``: 我非常理解您的心情 / "I completely understand how you feel";
* ``commitment``: 我一定竭尽所能替您解决这个问题, 我马上帮您处理 / "I will make sure this gets
  fixed", "I'll take care of this";
* ``action``: a concrete step offered (帮您退款, 给您补发 / "I'll refund", "send you a
  replacement");
* ``time_frame``: when it will happen (今天, 三个工作日内 / "within 24 hours", "by tomorrow"),
  counted only in a turn that also holds an action or a commitment, so that a stray 今天 or
  "today" is not taken for a promise of time. A time is owed only for a step the company takes
  (:func:`_time_owed`): where every step offered is the customer's own or a look-up's result
  given at once, the time part is left out and the other three make the score.

Two further lexicons feed these parts: ``undertaking`` (an action the agent takes on
itself, 帮您登记 / 为您联系商家 / "I will check it for you", "I have ordered you a new card")
counts both as a commitment and as a next step; ``customer_step`` (a step the agent tells the
customer to take, 建议您… / "please try …", and in English also said in a frame: "you can
uninstall it", :func:`~calmline.monitor.detectors.frames.customer_frame_hits`) counts as a next
step only, and so does ``others_step`` (a step the company's people or systems take or have
taken, 专员会联系您, 以便核实 / "so that we can verify", "is being handled"). An undertaking or a
commitment whose clause names someone else as the doer before it (``others``: 商家, 专员,
食安部门, "our staff", "the engineer") is that party's promise reported by the agent: a next step,
never the agent's commitment; so is, in English, that party as the subject of the agent's frame
("the director has recorded your order number",
:func:`~calmline.monitor.detectors.frames.others_frame_hits`).

Where the rubric sets ``learned_step_min`` (Mandarin), a turn no phrase credits with a step is
credited where a learned model holds one (:func:`learned_steps`; match kind ``learned``).

Missing parts are findings of their own kind (``no_empathy``, ``no_commitment``,
``no_next_step``, and ``no_time_frame`` for a next step without a time), each with its own
coaching, so the coaching never suggests a step the agent already offered. The empathy part also
takes the phrases of the ``empathy`` practice, so a feeling recognised there is not a missing
part here. Not judged without agent or customer speech.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, learned, register
from calmline.monitor.detectors.frames import (
    customer_frame_hits,
    frame_hits,
    others_frame_hits,
    plain_hits,
)
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    Hit,
    agent_turns,
    complaint_turns,
    customer_turns,
    enclosing,
    find_hits,
    hit_finding,
    outcome,
    reply_to,
    said,
    text_breaks,
    turn_finding,
    units,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.textmatch import Match
from calmline.monitor.types import Finding, Role, Severity, Turn

PARTS = (
    ("empathy", "empathy_phrase", "empathy", 20.0),
    ("commitment", "commitment", "commitment", 30.0),
    ("action", "next_step", "concrete action", 30.0),
    ("time_frame", "time_frame", "time frame", 20.0),
)


_CLAUSE_BREAK = text_breaks(",，。.!！?？;；:：~～、\n")


def clause_before(
    ctx: DetectorContext, practice: PracticeRubric, hit: Hit, lexicon: str, *, through: bool = False
) -> bool:
    """Whether the clause of ``hit`` up to the phrase (``through``: up to its end) holds a
    phrase of ``lexicon``."""
    return bool(_clause_matches(ctx, practice, hit, lexicon, through=through)[1])


def _clause_matches(
    ctx: DetectorContext, practice: PracticeRubric, hit: Hit, lexicon: str, *, through: bool
) -> tuple[str, list[Match]]:
    """The clause of ``hit`` up to the phrase (``through``: up to its end) and the phrases of
    ``lexicon`` it holds."""
    cues = practice.phrase_list(lexicon)
    if not cues:
        return "", []
    end = hit.match.end_char if through else hit.match.start_char
    clause = _CLAUSE_BREAK.split(hit.turn.text[:end])[-1]
    if not clause.strip():
        return clause, []
    return clause, ctx.matcher.find(clause, cues, fuzzy_threshold=100)


def clause_of(ctx: DetectorContext, practice: PracticeRubric, hit: Hit, lexicon: str) -> bool:
    """Whether the whole clause holding ``hit`` holds a phrase of ``lexicon``."""
    cues = practice.phrase_list(lexicon)
    if not cues:
        return False
    clause = enclosing(hit.turn.text, hit.match.start_char, hit.match.end_char, _CLAUSE_BREAK)
    return bool(ctx.matcher.find(clause, cues, fuzzy_threshold=100))


def by_others(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the clause of ``hit``, up to the phrase, names another doer (``others``; the
    agent speaks for itself again where its own subject follows well after, as after a report:
    专员会再次给您回复我这边帮您备注催一下) or makes the undertaking the purpose of a request
    (``purpose``: 请您私信…以便小编为您反馈, "so that we can verify"): a step stated, not the
    agent's commitment."""
    return (
        _said_before(ctx, practice, hit, "others")
        or _names_other(ctx, practice, hit)
        or _for_purpose(ctx, practice, hit)
    )


def _for_purpose(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the clause of ``hit``, up to its end, makes it the purpose of a request
    (``purpose``), and no undertaking of the agent's own is joined after the purpose
    (``speaks_again``: "… so that we can transfer your problem to our staff and we will feed
    back the results to you": the feedback is promised)."""
    clause, found = _clause_matches(ctx, practice, hit, "purpose", through=True)
    return bool(found) and not _speaks_again(
        ctx, practice, clause[max(m.end_char for m in found) :]
    )


def _names_other(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a frame's own words name another doer right after the agent's subject (我同事会给您
    重新审核, 我们专员会给您回电: the colleague's step, said with 我 / 我们 opening the frame);
    我们将有专人为您跟进 is the agent's own undertaking."""
    if hit.match.kind != "pattern":
        return False
    words = hit.turn.text[hit.match.start_char : hit.match.end_char]
    subjects = [e.text for e in practice.phrase_list("frame_subject")]
    head = next((s for s in sorted(subjects, key=len, reverse=True) if words.startswith(s)), "")
    rest = _OTHER_FILLER.sub("", words[len(head) :], count=1)
    others = practice.phrase_list("others")
    if not (head and others):
        return False
    return any(m.start_char == 0 for m in ctx.matcher.find(rest, others, fuzzy_threshold=100))


_OTHER_FILLER = re.compile(r"^(?:的|这个|这边的|那个)")
"""What may stand between the agent's subject and the other doer it names (我们这个专员)."""


def asked(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the clause asks about the step rather than offering it (``asking``: 请问…是否…
    给您处理, "did they contact you"): no step and no commitment. As for a report
    (:func:`hearsay`), the question ends where, well after it, the agent names itself as the
    doer: 您是否可以告知一下绑定的号码…可以吗我给您查一下咱们订单 offers the look-up."""
    return _said_before(ctx, practice, hit, "asking")


HEARSAY_RESUME_CHARS = 8
"""Characters after a report (他说…) past which the agent's own subject (我, 小美 …) speaks for
the agent again: an unpunctuated call transcript runs the report and the agent's own offer into
one clause (商家表示…新鲜的…我帮您做一个升级处理)."""


def hearsay(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the clause, up to the phrase, reports what someone else said (``reported``:
    商家是说会给您退款, 客服说是…商家给您联系, "the merchant said they would refund"): neither the
    agent's commitment nor a step taken in this contact. The report ends where, well after it
    (``HEARSAY_RESUME_CHARS``), the agent names itself as the doer again (``frame_subject``):
    他说…食材是新鲜的…我帮您升级处理 is the agent's own offer; 商家说我们会退款 stays a report."""
    return _said_before(ctx, practice, hit, "reported")


def _said_before(ctx: DetectorContext, practice: PracticeRubric, hit: Hit, lexicon: str) -> bool:
    """Whether the clause of ``hit``, up to the phrase, holds a phrase of ``lexicon`` that the
    agent's own subject (``frame_subject``) does not follow by more than
    ``HEARSAY_RESUME_CHARS``."""
    cues = practice.phrase_list(lexicon)
    if not cues:
        return False
    before = _CLAUSE_BREAK.split(hit.turn.text[: hit.match.start_char])[-1]
    found = ctx.matcher.find(before, cues, fuzzy_threshold=100) if before.strip() else []
    if not found:
        return False
    # the subject may open the hit itself (a frame: 我帮您…升级)
    clause = before + hit.turn.text[hit.match.start_char : hit.match.end_char]
    last = max(f.end_char for f in found)
    if _speaks_again(ctx, practice, clause[last:]):
        return False
    after = clause[last + HEARSAY_RESUME_CHARS :]
    subjects = practice.phrase_list("frame_subject")
    return not (after.strip() and ctx.matcher.find(after, subjects, fuzzy_threshold=100))


def _conditional(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the step is offered on a condition in its clause (``conditional``: 如需沃妹为您
    反映问题，可私信…; "if you need us to feed back the issue, please …"): done only if the
    customer asks for it. A condition closed by 的话 before the step (如果您需要的话我们可以帮您
    发一个) leaves the offer after it standing, as a comma does."""
    before, found = _clause_matches(ctx, practice, hit, "conditional", through=False)
    return any("的话" not in before[f.end_char :] for f in found)


def _company_handles(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether a general commitment (``commitment``: handling, dealing with or following up the
    matter) is said of the company's own people (``company_staff``: "our staff will deal with the
    network problem", "our staff will follow up and handle the problem", "the director will
    verify and address your problem"): the company commits, as with "we will" (labels en0539,
    en1493, en1561, en1582). Their concrete steps ("our staff will contact you") stay next steps
    only, and so does work reported under way ("our staff is currently handling your problem",
    en1204: a step in progress, no promise). The staff must be the ones who will do it
    (``_WILL`` between them and the commitment's end): "have you contacted our staff … and asked
    them to fix the problem for you?" asks about the customer's doing."""
    if not _said_before(ctx, practice, hit, "company_staff"):
        return False
    before, staff = _clause_matches(ctx, practice, hit, "company_staff", through=False)
    said = hit.turn.text[hit.match.start_char : hit.match.end_char]
    return bool(_WILL.search(before[max(m.end_char for m in staff) :] + said))


_WILL = re.compile(r"\bwill\b|'ll\b", re.IGNORECASE)


def _speaks_again(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether ``text`` joins an undertaking of the agent's own (``speaks_again``: "and we
    will") to what came before it in the clause."""
    cues = practice.phrase_list("speaks_again")
    return bool(cues and text.strip() and ctx.matcher.find(text, cues, fuzzy_threshold=100))


def not_a_step(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """A customer step that is none: advice for the future (``not_step``: 建议您以后注意, "in the
    future"), the customer's own past action echoed (``customer_done``: 您已经申请理赔了是吧), the
    words of an invitation to get back in touch (the closing's ``invite``: "for any question,
    you can send us a private message", "if you have any problem, you can contact the editor"):
    they invite future contact and take no step on the matter; or the words that send the
    customer to deal with another party alone (``no_blame_shift``'s ``bad``: 我只能是建议您与商家
    联系进行沟通, 您自行联系商家): a blame shift, not a solution offered; or steps whose sentence
    goes on to have the result sent back to the agent (``send_back``: "please enter banben,
    choose the second item and send it to me"): a request for information."""
    return (
        clause_of(ctx, practice, hit, "not_step")
        or clause_before(ctx, practice, hit, "customer_done")
        or _inside(ctx, hit, "closing", "invite")
        or _inside(ctx, hit, "no_blame_shift", "bad")
        or _sends_back(ctx, practice, hit)
    )


def _sends_back(ctx: DetectorContext, practice: PracticeRubric, hit: Hit) -> bool:
    """Whether the sentence of ``hit``, after it, asks for the result to be sent to the agent
    (``send_back``)."""
    cues = practice.phrase_list("send_back")
    if not cues:
        return False
    text = hit.turn.text
    stop = _SENTENCE_BREAK.search(text, hit.match.end_char)
    rest = text[hit.match.end_char : stop.start() if stop else len(text)]
    return bool(rest.strip()) and bool(ctx.matcher.find(rest, cues, fuzzy_threshold=100))


def _phrases_of(ctx: DetectorContext, practice_id: str, lexicon: str, text: str) -> list[Match]:
    """The phrases of another practice's ``lexicon`` said in ``text`` (none when the rubric
    lacks the practice or the lexicon)."""
    other = ctx.rubric.practices.get(practice_id)
    if other is None or not other.phrase_list(lexicon):
        return []
    return ctx.matcher.find(text, other.phrase_list(lexicon), fuzzy_threshold=100)


def _invitations(ctx: DetectorContext, text: str) -> list[Match]:
    """The closing's invitations to get back in touch (``invite``) said in ``text``."""
    return _phrases_of(ctx, "closing", "invite", text)


def _inside(ctx: DetectorContext, hit: Hit, practice_id: str, lexicon: str) -> bool:
    """Whether ``hit``'s words overlap a phrase of another practice's ``lexicon``."""
    return any(
        m.start_char < hit.match.end_char and hit.match.start_char < m.end_char
        for m in _phrases_of(ctx, practice_id, lexicon, hit.turn.text)
    )


def _done(hit: Hit) -> bool:
    """Whether a plain undertaking's verb is reported done (小美查询到, 我们核实了一下,
    我联系这个商家了): a step taken, not one committed to. 了 may follow the verb's short object in
    its clause; 了解 is another verb (我联系商家了解一下)."""
    after = hit.turn.text[hit.match.end_char :]
    return after[:1] in ("了", "到", "过") or bool(_DONE_AFTER_OBJECT.match(after))


_DONE_AFTER_OBJECT = re.compile(r"[^，,。.!！?？;；：:\s了]{1,5}了(?!解)")
"""A verb's short object, then 了 (这个商家了): the action reported done."""


_SENTENCE_BREAK = text_breaks("。.!！?？;；\n")


def _sentence_of(text: str, at: int) -> int:
    """The index of the sentence holding ``at``; empty sentences (``; ;`` in a chat, ``！！``)
    do not count, so a step and its time across them stay neighbours."""
    return sum(1 for part in _SENTENCE_BREAK.split(text[:at])[:-1] if part.strip())


def _after_invitation(ctx: DetectorContext, hit: Hit) -> bool:
    """Whether ``hit`` follows an invitation to get back in touch in its sentence (the
    closing's ``invite``: 如理赔不成功可以及时联系我们协助您处理; 后续如果不满意，可以再次
    进线，小美会为您解决问题; "if you have any problem, contact us any time and we will help"):
    the help it names waits on a later contact, a conditional offer the guideline calls no
    commitment and no step (zh1394). An invitation's words that go on into a request for
    details before the promise (您可以随时私信小沃提供您的手机号码，小沃会在收到您的信息后尽快与您
    联系; "if you need any help, please provide your account so we can verify it") ask for this
    matter's details: the promise after them stands."""
    text = hit.turn.text
    starts = [m.end() for m in _SENTENCE_BREAK.finditer(text, 0, hit.match.start_char)]
    sentence = text[starts[-1] if starts else 0 : hit.match.start_char]
    invites = _invitations(ctx, sentence)
    return any(not _ASKS_DETAILS.search(sentence, m.start_char) for m in invites)


def _topic(hit: Hit) -> bool:
    """Whether a step's words are the topic or the condition of what follows, not an action
    taken: 的话 right after them (跟商家沟通的话这边…不太好这个情况对吗 asks about the talk with
    the merchant; 退款的话需要您… states what a refund needs). A 的话 that ends the turn
    (我也会帮您做一个催促的话) is a filler and leaves the step standing."""
    text, end = hit.turn.text, hit.match.end_char
    return text.startswith("的话", end) and bool(text[end + 2 :].strip(" ，,。.!！?？~～"))


_ASKS_DETAILS = re.compile(r"提供|\bprovide\b|\bsend us\b|\btell us\b", re.IGNORECASE)
"""Said between an invitation's first word and the promise (随时私信小沃提供您的手机号码; "if
you need any help, please provide your account so we can verify it"): a request for this
matter's details, not an invitation to come back."""


def bound_to_step(
    ctx: DetectorContext, practice: PracticeRubric, time: Hit, steps: list[Hit]
) -> bool:
    """Whether the time expression ``time`` says when one of ``steps`` (the agent's actions and
    commitments in its turn) happens: it lies in a step's sentence or the sentence after it (我马上
    帮您申请退款，三个工作日内原路返回) or leads straight into the agent's own step (…。24小时
    之内给您回电), its sentence is not a question (您是今天下的单吗, "did they reply today?"; a
    closing ``tag_question`` that only asks consent, 您看可以吗, "okay?",
    does not make it one), and its clause does not ask the customer to act (``time_customer_cue``:
    请您稍后留意, "please call back tomorrow": the time of the customer's action; 请 inside a word
    of ``time_not_customer_cue``, 申请 or 请问, asks nothing of the customer), unless the
    customer is asked to wait a stated while (``time_wait``: 您稍等3-5分钟 while the agent calls
    the merchant: the time the agent's step takes). A clause about a notice (``time_notice``:
    稍后您会收到评价短信, the chat's 稍后通过短信给您发送查询路径 of the app's progress page) gives
    the time the notice arrives, not the time of a step."""
    if not steps:
        return False
    text = time.turn.text
    at = time.match.start_char
    sentence = _sentence_of(text, at)
    near = any(0 <= sentence - _sentence_of(text, h.match.start_char) <= 1 for h in steps)
    # the time leads straight into the agent's own step (24小时之内给您回电): its own step, even
    # where the step phrase found in the turn is an earlier one (a phrase is found once a turn)
    if not near and not _AGENT_STEP_NEXT.match(text, time.match.end_char):
        return False
    rest = _SENTENCE_BREAK.search(text, time.match.end_char)
    if rest is not None and rest.group(0) in "?？" and not _tag_only(ctx, practice, time, rest):
        return False
    if clause_of(ctx, practice, time, "time_notice"):
        return False
    clause = _clause_to(time)
    waits = practice.phrase_list("time_wait")
    if waits and ctx.matcher.find(clause, waits, fuzzy_threshold=100):
        return True
    # the time leads straight into the agent's own step (稍等马上为您转接): the agent's time
    if _AGENT_STEP_NEXT.match(text, time.match.end_char):
        return True
    cues = practice.phrase_list("time_customer_cue")
    if not cues:
        return True
    found = ctx.matcher.find(clause, cues, fuzzy_threshold=100)
    # a cue inside a word that asks nothing of the customer (请 in 申请, 请问) is no request
    words = ctx.matcher.find(
        clause, practice.phrase_list("time_not_customer_cue"), fuzzy_threshold=100
    )
    # the agent's own subject after the request starts the agent's clause where ASR text has no
    # comma: 您稍等一下我马上为您处理 (the time is the agent's, not the customer's wait)
    subjects = practice.phrase_list("frame_subject")
    until = len(clause) - (time.match.end_char - at)  # the time's start in ``clause``
    return not [
        c
        for c in found
        if not any(w.start_char <= c.start_char and c.end_char <= w.end_char for w in words)
        and not ctx.matcher.find(clause[c.end_char : until], subjects, fuzzy_threshold=100)
    ]


def _clause_to(hit: Hit) -> str:
    """The clause of ``hit``'s turn up to the end of its match (…，您稍等两到三分钟)."""
    text, at = hit.turn.text, hit.match.start_char
    return _CLAUSE_BREAK.split(text[:at])[-1] + text[at : hit.match.end_char]


def waits_after_step(
    ctx: DetectorContext,
    practice: PracticeRubric,
    times: Sequence[Hit],
    steps_by_turn: dict[int, list[Hit]],
) -> list[Hit]:
    """Stated waits (``time_wait``: 那您耐心等待两到三分钟) in an agent turn with no step of its
    own, right after the agent's turn that offered a step the customer only agreed to (我去帮您联
    系一下商家…您看可以吗 - 可以: every customer turn between holds at most
    ``wait_consent_units``): the time that step takes, said a turn later. In a chat the
    offer may take several lines in a row (小美给你联系商家协商部分退款 / 亲亲您看可以吗 -
    可以 - 亲亲您稍等1-3分钟): the step may be in any of them."""
    waits = practice.phrase_list("time_wait")
    most = practice.threshold("wait_consent_units", 0.0)
    if not waits or most <= 0:
        return []
    found = []
    for h in times:
        if h.turn.index in steps_by_turn:
            continue
        if not ctx.matcher.find(_clause_to(h), waits, fuzzy_threshold=100):
            continue
        before = [t for t in ctx.report.turns if t.index < h.turn.index and t.text.strip()]
        agents = [k for k, t in enumerate(before) if t.role is Role.AGENT]
        if not agents:
            continue
        agent = offer = agents[-1]
        while offer > 0 and before[offer - 1].role is Role.AGENT:
            offer -= 1
        if not any(t.index in steps_by_turn for t in before[offer : agent + 1]):
            continue
        if all(units(t.text, ctx.language) <= most for t in before[agent + 1 :]):
            found.append(h)
    return found


_AGENT_STEP_NEXT = re.compile(r"(?:就|会|再|去|来|这边)?(?:为您|帮您|给您|替您|为你|帮你|给你)")
"""What opens the agent's own step right after a time (马上为您转接, 稍后就给您回电)."""


def answers_when(ctx: DetectorContext, practice: PracticeRubric, time: Hit) -> bool:
    """Whether the time expression answers the customer's question about when or how long
    (``when_question``: 多长时间 -> 四个小时内的先生; 等多久 -> 1-3个工作日; "how long will it
    take?" -> "five to seven business days"): it states a while with its number (当天, 马上
    name none: 什么时候跟我沟通 -> 从当天晚上到… is a past), the customer's turn is the one just
    before the agent's, and the time's sentence is no question of its own (一天是吧 repeats the
    customer's time to check it)."""
    asks = practice.phrase_list("when_question")
    text = time.turn.text
    said = text[max(0, time.match.start_char - _NUMBER_BEFORE) : time.match.end_char]
    if not asks or not _NUMBER.search(said):
        return False
    before = next((t for t in reversed(ctx.report.turns) if t.index < time.turn.index), None)
    if before is None or before.role is not Role.CUSTOMER:
        return False
    if not ctx.matcher.find(before.text, asks, fuzzy_threshold=100):
        return False
    end = _SENTENCE_BREAK.search(text, time.match.end_char)
    tail = text[time.match.end_char : end.end() if end else len(text)]
    return not any(q in tail for q in _ASKING_TAIL)


_NUMBER = re.compile(
    r"[0-9０-９一二两三四五六七八九十半几]"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|an?)\b",
    re.IGNORECASE,
)
_NUMBER_BEFORE = 6
"""Characters before a time phrase searched for its number (四个|小时内, 1-3个|工作日)."""
_ASKING_TAIL = ("?", "？", "吗", "吧", "呢")
"""What makes the sentence after a time a question (四个小时是吗, 一天是吧, 24小时内对吧)."""


def offered_as_question(ctx: DetectorContext, practice: PracticeRubric, step: Hit) -> bool:
    """Whether the sentence of the agent's ``step`` ends by asking the customer's consent to it
    (a ``tag_question`` last: 在线转接哦，亲亲，您看可以吗; 呃升级专员您看可以吗; "I can send a
    new card, okay?"): an offer the labelling guideline counts as a commitment too. Not when the
    question asks the customer to do something after the step (``offer_not``: 专员会给您回电您注
    意接听好吗, 辛苦您申请一下…可以吗, "please keep your phone on, okay?") or another doer takes
    it (``offer_others`` in its sentence: 会有相关的工作人员给您回电…好吗 is the staff's step, as
    the guideline reads it; the caller also leaves out what :func:`by_others` names)."""
    text = step.turn.text
    stop = _SENTENCE_BREAK.search(text, step.match.end_char)
    end = stop.end() if stop is not None and stop.group() in ("?", "？") else None
    tail = text[step.match.end_char : end if end is not None else (stop.start() if stop else None)]
    if not _ends_with_tag(ctx, practice, tail):
        return False
    starts = [m.end() for m in _SENTENCE_BREAK.finditer(text, 0, step.match.start_char)]
    sentence = text[starts[-1] if starts else 0 : step.match.end_char] + tail
    avoid = practice.phrase_list("offer_not") + practice.phrase_list("offer_others")
    return not (avoid and ctx.matcher.find(sentence, avoid, fuzzy_threshold=100))


def _tag_only(ctx: DetectorContext, practice: PracticeRubric, time: Hit, mark: re.Match) -> bool:
    """Whether the question mark ending the time's sentence asks only for the customer's
    consent: what follows the time ends with a ``tag_question`` (我帮您转接，请您稍等1-2分钟，
    您看可以吗？ / "I'll call you back tomorrow, okay?")."""
    return _ends_with_tag(ctx, practice, time.turn.text[time.match.end_char : mark.start()])


def _ends_with_tag(ctx: DetectorContext, practice: PracticeRubric, text: str) -> bool:
    """Whether ``text`` (normalised) is or ends with a ``tag_question`` (您看可以吗, "okay"), a
    whole word of it in English: "…on facebook?" does not end in "ok"."""
    norm = ctx.matcher.normalize
    tail = norm(text)
    tags = {norm(f) for f in practice.phrase_forms("tag_question")}
    sep = "" if ctx.matcher.cjk else " "
    return any(t and (tail == t or tail.endswith(sep + t)) for t in tags)


def merged(hits: list[Hit], more: list[Hit]) -> list[Hit]:
    """``hits`` and ``more`` in call order, the first of each turn only: one credit finding
    per turn and part shows the moment, and keeps later turns under the findings cap."""
    seen: set[int] = set()
    out = []
    for h in sorted(hits + more, key=lambda h: (h.turn.index, h.match.start_char)):
        if h.turn.index not in seen:
            seen.add(h.turn.index)
            out.append(h)
    return out


def learned_steps(
    ctx: DetectorContext,
    practice: PracticeRubric,
    agents: Sequence[Turn],
    hits: dict[str, list[Hit]],
    offered: Callable[[Hit], bool],
) -> list[Hit]:
    """Credit a next step in the agent's turns no phrase credits with one, where the learned
    model of the call's language (:mod:`~calmline.monitor.detectors.learned`) gives the turn a
    step with at least ``learned_step_min`` probability (0 or absent: phrases only); return the
    steps added. The evidence is the words that weigh most for it (match kind ``learned``); no
    credit where those words are negated (``negation`` in or just before them), ask about the
    step or report someone else's words (as for a phrase), are advice for later, the
    customer's own past action or an invitation to get back in touch (:func:`not_a_step`), or the
    purpose of a request (``purpose``: 以便…为您解决), nor where they send the customer to deal
    with another party alone (``no_blame_shift``'s ``bad``: 只能建议您与商家联系沟通一下). The
    model only adds: a step a phrase credits stays credited."""
    minimum = practice.threshold("learned_step_min", 0.0)
    model = learned.model_for(ctx.language) if minimum > 0 else None
    if model is None or "action" not in model.parts:
        return []
    negations = practice.phrase_list("negation")
    credited = {h.turn.index for h in hits["action"]}
    added = []
    for turn in agents:
        if turn.index in credited:
            continue
        prob = model.probability(turn.text, "action")
        if prob < minimum:
            continue
        a, b = model.evidence(turn.text, "action")
        if a >= b:
            continue
        words = turn.text[a:b]
        near = turn.text[max(0, a - NEGATION_LOOKBACK) : b]
        if negations and ctx.matcher.find(near, negations, fuzzy_threshold=100):
            continue
        # the context rules read the clause up to the phrase: up to the end of the words here,
        # so that a cue inside them (商家说…) counts
        end = Hit(turn, Match(words, words, b, b, 0.0, kind="learned"), 0.0, 0.0)
        if (
            not offered(end)
            or not_a_step(ctx, practice, end)
            or clause_before(ctx, practice, end, "purpose", through=True)
        ):
            continue
        m = Match(words, words, a, b, round(100 * prob, 1), kind="learned")
        if _inside(ctx, Hit(turn, m, 0.0, 0.0), "no_blame_shift", "bad"):
            continue
        start, stop = ctx.matcher.time_span(turn, m)
        added.append(Hit(turn, m, start, stop))
    hits["action"] = merged(hits["action"], added)
    return added


NEGATION_LOOKBACK = 4
"""Characters before a learned credit's words searched for a negation (没办法帮您处理)."""


@register("solve_problem")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    customers = customer_turns(ctx)
    if not agents or not customers:
        return NOT_JUDGED
    negations = practice.phrase_list("negation")
    hits = {
        lexicon: find_hits(ctx, agents, practice.phrase_list(lexicon), negations=negations)
        for lexicon, *_ in PARTS
    }
    undertakings = find_hits(ctx, agents, practice.phrase_list("undertaking"), negations=negations)
    steps = find_hits(ctx, agents, practice.phrase_list("customer_step"), negations=negations)
    others_steps = find_hits(ctx, agents, practice.phrase_list("others_step"), negations=negations)
    steps = [h for h in steps + others_steps if not not_a_step(ctx, practice, h)]
    # the same steps said in a frame ("you can uninstall it", "please remove the SIM card"),
    # and another party's step in the agent's frame ("the director has recorded your order"),
    # in turns no listed step credits
    for framed in (customer_frame_hits, others_frame_hits):
        listed = {h.turn.index for h in steps}
        found = [
            h
            for h in framed(ctx, agents, practice)
            if h.turn.index not in listed and not not_a_step(ctx, practice, h)
        ]
        steps += found
        if framed is others_frame_hits:
            others_steps += found

    def offered(h: Hit) -> bool:
        # a question about a step (请问…是否给您处理), a step someone else was heard to promise
        # (商家是说会给您退款), the help an invitation promises (如有疑问可以再次进线，小美会为您
        # 解决问题) or a step offered on a condition in its clause (``conditional``: 如需沃妹为您
        # 反映问题，可私信…; the step after the comma stands: 如需协助，请私信…小沃帮您反馈核实)
        # is neither a step nor a commitment
        return (
            not asked(ctx, practice, h)
            and not hearsay(ctx, practice, h)
            and not _conditional(ctx, practice, h)
            and not _after_invitation(ctx, h)
            and not _topic(h)
        )

    for part in ("commitment", "action"):
        hits[part] = [h for h in hits[part] if offered(h)]
    own_steps = list(hits["action"])
    undertakings = [h for h in undertakings if offered(h)]
    steps = [h for h in steps if offered(h)]
    # the company's steps, which owe the customer a time (see :func:`_time_owed`)
    company = own_steps + undertakings + [h for h in steps if h in others_steps]
    # another party's promise, reported by the agent, is a next step only; the company's own
    # people handling the matter commit for it (see :func:`_company_handles`)
    reported = [
        h
        for h in hits["commitment"]
        if by_others(ctx, practice, h) and not _company_handles(ctx, practice, h)
    ] + [h for h in undertakings if by_others(ctx, practice, h)]
    steps += reported
    undertakings = [h for h in undertakings if h not in reported]
    hits["commitment"] = merged([h for h in hits["commitment"] if h not in reported], undertakings)
    hits["action"] = merged(hits["action"], undertakings + steps)
    # a sentence frame credits a part only in turns no listed phrase credits for it: the
    # listed phrase is the more literal evidence; a general verb (处理, "handle") commits to
    # dealing with the matter without naming a step
    frames = [h for h in frame_hits(ctx, agents, practice) if offered(h)]
    concrete = [h for h in frame_hits(ctx, agents, practice, concrete=True) if offered(h)]
    plain = [h for h in plain_hits(ctx, agents, practice) if offered(h)]
    fits = {
        # an action reported done (小美查询到…, 我们核实了一下) was a step, not a commitment
        "commitment": [
            h
            for h in frames + [h for h in plain if not _done(h)]
            if not by_others(ctx, practice, h)
        ],
        "action": concrete + plain,
    }
    company += reported + concrete + plain
    for part, fit in fits.items():
        credited = {h.turn.index for h in hits[part]}
        hits[part] = merged(hits[part], [h for h in fit if h.turn.index not in credited])
    # a step of the agent's own offered as a question (在线转接，您看可以吗; "I can transfer you
    # to the card team, okay?") undertakes it once the customer agrees: a commitment as well
    hits["commitment"] = merged(
        hits["commitment"],
        [
            h
            for h in own_steps + concrete
            if offered_as_question(ctx, practice, h) and not by_others(ctx, practice, h)
        ],
    )
    # a feeling recognised in the words of the empathy practice counts here too: one thing said
    # is one credit, never a fault in one practice and a credit in the other
    felt = ctx.rubric.practices.get("empathy")
    if felt is not None and felt.enabled:
        also = find_hits(
            ctx, agents, felt.phrase_list("good"), negations=felt.phrase_list("negation")
        )
    else:
        also = []
    hits["empathy"] = merged(hits["empathy"], also)
    times = hits["time_frame"]
    # a time is bound to the agent's step, or to the outcome the customer will see (到账)
    outcomes = find_hits(ctx, agents, practice.phrase_list("outcome"), negations=negations)
    steps_by_turn: dict[int, list[Hit]] = {}
    for h in hits["action"] + hits["commitment"] + outcomes:
        steps_by_turn.setdefault(h.turn.index, []).append(h)
    hits["time_frame"] = merged(
        [
            h
            for h in hits["time_frame"]
            if bound_to_step(ctx, practice, h, steps_by_turn.get(h.turn.index, []))
            or answers_when(ctx, practice, h)
        ],
        [],
    )
    hits["time_frame"] = merged(
        hits["time_frame"], waits_after_step(ctx, practice, times, steps_by_turn)
    )
    # the result of a look-up given to the customer (经核实…, "your balance is …") is a step
    # taken; a time inside it (今天的缴费记录) was bound to nothing above
    results = find_hits(ctx, agents, practice.phrase_list("result"), negations=negations)
    hits["action"] = merged(hits["action"], results)
    # an outcome with its time (理赔会在1-3个工作日到您的余额里, "it will arrive by Monday") is
    # the company's step stated with its due date
    timed = {
        (h.turn.index, _sentence_of(h.turn.text, h.match.start_char)) for h in hits["time_frame"]
    }
    credited = {h.turn.index for h in hits["action"]}
    timed_outcomes = [
        h
        for h in outcomes
        if h.turn.index not in credited
        and (h.turn.index, _sentence_of(h.turn.text, h.match.start_char)) in timed
    ]
    hits["action"] = merged(hits["action"], timed_outcomes)
    company += timed_outcomes
    # a step in words no phrase lists, where the learned model holds one; its time as any other
    modelled = learned_steps(ctx, practice, agents, hits, offered)
    company += modelled
    if modelled:
        steps_of = {h.turn.index: [h] for h in modelled}
        timed_turns = {h.turn.index for h in hits["time_frame"]}
        hits["time_frame"] = merged(
            hits["time_frame"],
            [
                h
                for h in times
                if h.turn.index in steps_of
                and h.turn.index not in timed_turns
                and bound_to_step(ctx, practice, h, steps_of[h.turn.index])
            ],
        )

    findings: list[Finding] = []
    score = 0.0
    owed = _time_owed(hits, company)
    worth: dict[str, float] = {}
    for lexicon, kind, label, default_points in PARTS:
        points = worth[lexicon] = practice.threshold(f"{lexicon}_points", default_points)
        if hits[lexicon]:
            score += points
        for h in hits[lexicon]:
            findings.append(
                hit_finding(
                    ctx,
                    practice_id,
                    kind,
                    h,
                    Severity.POSITIVE,
                    f"agent offered {label}: {said(h)}; +{points:g} points for the call",
                )
            )
    complaints = complaint_turns(ctx)
    anchor = (reply_to(ctx, complaints[0]) if complaints else None) or agents[-1]
    if not hits["empathy"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_empathy",
                anchor,
                Severity.MINOR,
                "agent did not recognise the customer's feelings (no empathy phrase)",
            )
        )
    if not hits["commitment"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_commitment",
                anchor,
                Severity.MINOR,
                "agent never committed to solving the problem (no commitment phrase)",
            )
        )
    if not hits["action"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_next_step",
                anchor,
                Severity.MINOR,
                "agent offered no concrete next step (no action phrase)",
            )
        )
    elif not hits["time_frame"] and owed:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_time_frame",
                hits["action"][0].turn,
                Severity.MINOR,
                "agent offered a next step without a time frame",
            )
        )
    total, time_points = sum(worth.values()), worth["time_frame"]
    if not owed and total > time_points:
        # the time part is not owed: the other parts make the whole score
        score *= total / (total - time_points)
    return outcome(score, findings)


def _time_owed(hits: dict[str, list[Hit]], company: list[Hit]) -> bool:
    """Whether the call owes the customer a time frame: a time was given, no step was offered
    (the missing step is the fault), or one of the steps is the company's to take (a refund, a
    call back, a matter handed on: ``company``). Where every step offered is the customer's own
    ("you can check it in the language settings", 建议您重启一下) or the result of a look-up
    given at once ("your balance is 89 dollars"), nothing is left to wait for: the time part is
    left out of the score, which the other three parts make, and no ``no_time_frame`` is
    charged."""
    return bool(hits["time_frame"]) or not hits["action"] or bool(company)
