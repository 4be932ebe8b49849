"""Coaching from what is actually missing (issue 13, item 2).

A practice made of several elements (greeting: hello, name, offer to help; closing: thanks,
invitation, goodbye) names only the missing ones and never suggests words the agent already
said; a company name is no agent's name; a trailing "okay, bye" does not push the closing out of
its window. Over every sample's report and real customer-service dialogues, no coaching sentence
asks for words the agent said and no finding claims an exact match for words not in its quote.
"""

from __future__ import annotations

import itertools
import re

import pytest

from calmline.monitor.rubric import PhraseEntry, ReviewRubric, default_rubric
from calmline.monitor.scoring import _short, score_report
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import CallReport, Role
from tests.conftest import load_bench, shared_data
from tests.test_detectors_text import A, C, call, run

RUBRICS = {
    # The hand-built calls here are openings and closings of a few turns: coached as calls,
    # not held back as too short for coaching (the review rules are tested in
    # test_applicability).
    lang: default_rubric(lang).model_copy(
        update={"review": ReviewRubric(min_turns=0, min_speech_s=0)}
    )
    for lang in ("zh", "en")
}
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"")
_CLAUSES = re.compile(r"[,，.。!！?？;；:：、]+")


def coaching(practice_id: str, report: CallReport) -> str | None:
    scored = score_report(report, RUBRICS[report.language])
    (p,) = [p for p in scored.scorecard.practices if p.practice == practice_id]
    return p.coaching


def after_quote(text: str) -> str:
    """The part of a greeting or closing coaching sentence after the agent's quoted words."""
    return re.split(r"缺少|lacked", text, maxsplit=1)[1]


def words_already_said(report: CallReport) -> list[tuple[str, str, str]]:
    """``(practice, coaching, words)`` for every coaching sentence that suggests words the agent
    said somewhere in the call (any match kind). The agent's own words quoted back from a finding
    are not suggestions and are left out."""
    card = report.scorecard
    matcher = PhraseMatcher(RUBRICS[report.language].matching, report.language)
    agents = [t.text for t in report.turns if t.role is Role.AGENT and t.text.strip()]
    bad = []
    for p in card.practices:
        if not p.coaching:
            continue
        text = p.coaching
        quotes = {" ".join(_short(f.quote).split()) for f in p.findings if f.quote}
        for q in sorted(quotes, key=len, reverse=True):  # the agent's words quoted back
            for marked in (f"“{q}”", f'"{q}"'):
                text = text.replace(marked, "")
        for m in _QUOTED.finditer(text):
            for clause in _CLAUSES.split(m.group(1) or m.group(2)):
                clause = clause.strip(" …")
                if len(matcher.normalize(clause)) < 2:
                    continue
                entry = [PhraseEntry(text=clause)]
                if any(matcher.find(a, entry) for a in agents):
                    bad.append((p.practice, p.coaching, clause))
    return bad


def false_exact_claims(report: CallReport) -> list[str]:
    """Findings that say ``exact`` for words that are not in their quote."""
    bad = []
    for p in report.scorecard.practices:
        for f in p.findings:
            if f.phrase is None:
                continue
            in_quote = f.matched and f.quote[f.match_start : f.match_end] == f.matched
            exact_ok = f.match_kind != "exact" or (in_quote and _repeats(f.matched, f.matched_form))
            named = f"'{f.phrase}' (exact match)" not in f.detail or f.phrase in f.quote
            if not (in_quote and exact_ok and named):
                bad.append(f"{p.practice}/{f.kind}: {f.detail} | quote {f.quote!r}")
    return bad


def _repeats(words: str, form: str) -> bool:
    """Whether ``words`` are ``form`` as written, once or several times in a row (好的好的好的)."""
    plain = re.sub(r"[\W_]+", "", words.casefold())
    unit = re.sub(r"[\W_]+", "", form.casefold())
    return bool(unit) and len(plain) % len(unit) == 0 and plain == unit * (len(plain) // len(unit))


# --- greeting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "opening", "has_name"),
    [
        ("en", "Sunrise Telecom. This is David. How can I help you today?", True),
        ("en", "Hello, my name is Priya, how can I help?", True),
        ("en", "Hello, this is Harper Valley Bank, how can I help?", False),
        ("en", "Hello, thank you for calling Sunrise Telecom, how can I help?", False),
        ("zh", "您好，我是小李，很高兴为您服务", True),
        ("zh", "您好我是客服小李很高兴为您服务", True),
        ("zh", "您好，工号1023为您服务，请问有什么可以帮您", True),
        ("zh", "您好，1023号客服很高兴为您服务", True),
        ("zh", "您好，我是美团客服，请问有什么可以帮您", False),
        ("zh", "您好，我是平台客服，请问有什么可以帮您", False),
        # a role and a title, not a name (bench/labels/README.md, greeting_name)
        ("zh", "您好！我是上海联通的客服人员，请问有什么可以帮您", False),
        ("zh", "您好，我是中国电信广东客服小编，请问有什么可以帮您", False),
        ("zh", "您好，我是中国电信广东客服小美，请问有什么可以帮您", True),
        # the channel the agent answers on is no part of the name
        ("zh", "您好，我是微博小张，请问有什么可以帮您", True),
        ("zh", "您好，我是官方微博，请问有什么可以帮您", False),
        # a surname given is the agent's name, masked or not; a slip after 我姓 is not
        ("zh", "您好，我是美团客服，我姓李，很荣幸为您服务", True),
        ("zh", "您好我姓李很荣幸为您服务请问有什么需要协助的吗", True),
        ("zh", "您好我姓*请问有什么可以帮您", True),
        ("zh", "您好我姓了解嗯请问有什么可以帮您", False),
    ],
)
def test_a_name_counts_and_a_company_does_not(language, opening, has_name):
    customer = "我的订单有问题" if language == "zh" else "my card was charged twice"
    report = call(language, (A, 0.0, 5.0, opening), (C, 5.5, 9.0, customer))
    out = run("greeting", report)
    assert ("greeting_name" in [f.kind for f in out.findings]) is has_name
    text = coaching("greeting", report)
    label = RUBRICS[language].practices["greeting"].coaching["label_name"]
    if has_name:
        assert text is None or label not in after_quote(text)
    else:
        assert text is not None and label in after_quote(text)
        assert words_already_said(score_report(report, RUBRICS[language])) == []


def test_greeting_coaching_names_only_the_missing_element():
    report = call("zh", (A, 0.0, 4.0, "您好，我是美团客服小王"), (C, 4.5, 8.0, "我的外卖还没到"))
    text = after_quote(coaching("greeting", report))
    labels = RUBRICS["zh"].practices["greeting"].coaching
    assert labels["label_offer_help"] in text
    assert labels["label_hello"] not in text and labels["label_name"] not in text
    assert "很高兴为您服务" in text and "您好" not in text


# --- closing --------------------------------------------------------------------------------


def test_closing_coaching_does_not_ask_for_the_thanks_that_was_said():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的快递还没收到"),
        (A, 4.5, 9.0, "我马上帮您催一下，今天之内给您回电"),
        (C, 9.5, 11.0, "好的"),
        (A, 11.5, 15.0, "感谢您的耐心，还有其他问题随时联系我们"),
    )
    text = after_quote(coaching("closing", report))
    labels = RUBRICS["zh"].practices["closing"].coaching
    assert labels["label_farewell"] in text
    assert labels["label_thanks"] not in text and labels["label_invite"] not in text
    assert words_already_said(score_report(report, RUBRICS["zh"])) == []


def test_a_trailing_bye_does_not_push_the_closing_out_of_the_window():
    report = call(
        "en",
        (C, 0.0, 4.0, "my new card never arrived"),
        (A, 4.5, 10.0, "I have ordered you a replacement card, it will arrive within five days"),
        (C, 10.5, 12.0, "great"),
        (A, 12.5, 17.0, "Thank you for your patience. Is there anything else I can help you with?"),
        (C, 17.5, 19.0, "no that's all"),
        (A, 19.5, 20.0, "okay"),
        (C, 20.2, 20.6, "thanks"),
        (A, 20.8, 21.5, "okay, bye"),
    )
    out = run("closing", report)
    assert out.score == 100.0
    assert {"closing_thanks", "closing_invite", "closing_farewell"} <= {
        f.kind for f in out.findings
    }


def test_next_step_without_time_frame_is_coached_for_the_time_only():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的订单送错了"),
        (A, 4.5, 9.0, "我一定尽力帮您，帮您申请退款"),
    )
    out = run("solve_problem", report)
    assert "no_time_frame" in [f.kind for f in out.findings]
    scored = score_report(report, RUBRICS["zh"])
    assert words_already_said(scored) == []


# --- every sample, real dialogues ------------------------------------------------------------

SAMPLES = ("zh_stereo", "en_stereo_mulaw", "en_mono", "zh_pii", "en_pii")


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_coach_no_said_words_and_claim_no_false_exact_match(analyzed, name):
    report, _ = analyzed(name)
    assert report.scorecard is not None
    assert words_already_said(report) == []
    assert false_exact_claims(report) == []


def _dialogues(source: str, limit: int) -> list[tuple[str, list[tuple[Role, str]]]]:
    """The first ``limit`` dialogues of a real data set, read by ``bench/text_eval.py``."""
    text_eval = load_bench("text_eval")
    data = shared_data("text").parent
    read = {
        "musied": lambda: text_eval.musied(data),
        "stc3_zh": lambda: text_eval.stc3(data, "zh"),
        "stc3_en": lambda: text_eval.stc3(data, "en"),
    }[source]
    return [(d.language, list(d.lines)) for d in itertools.islice(read(), limit)]


def _as_call(language: str, lines: list[tuple[Role, str]]) -> CallReport:
    t, turns = 0.0, []
    for role, text in lines:
        units = len(text) / 4.0 if language == "zh" else len(text.split()) / 2.5
        turns.append((role, t, t + max(0.5, units), text))
        t += max(0.5, units) + 0.3
    return call(language, *turns)


@pytest.mark.shared_data
@pytest.mark.parametrize("source", ["musied", "stc3_zh", "stc3_en"])
def test_real_dialogues_coach_no_said_words_and_claim_no_false_exact_match(source):
    dialogues = _dialogues(source, 150)
    said, exact, coached = [], [], 0
    for language, lines in dialogues:
        if not any(r is Role.AGENT for r, _ in lines):
            continue
        report = score_report(_as_call(language, lines), RUBRICS[language])
        coached += sum(1 for p in report.scorecard.practices if p.coaching)
        said += words_already_said(report)
        exact += false_exact_claims(report)
    assert coached > 0
    assert said == [], said[:5]
    assert exact == [], exact[:5]


@pytest.mark.parametrize(
    "opening",
    [
        # Whisper on a real 8 kHz bank call heard "How can I help you today?" like this
        "Hello, this is Harper Valley National Bank. My name is Michael. "
        "How's it going to help you today?",
        "Hi, this is Anna. What can I help you with today?",
    ],
)
def test_an_offer_to_help_heard_in_other_words_is_no_missing_offer(opening):
    report = call("en", (A, 0.0, 5.0, opening), (C, 5.5, 9.0, "I lost my card"))
    kinds = [f.kind for f in run("greeting", report).findings]
    assert "greeting_offer" in kinds
    assert "greeting_incomplete" not in kinds
