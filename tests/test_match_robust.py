"""ASR-robust, meaning-safe phrase matching (issue 13, item 1).

Homophones written by the recogniser (接近所能 for 竭尽所能, 道谦, 保歉, 里解) and other forms of
English words ("apologies", "apologising") still match, each match says how it was made
(exact, normalised, phonetic, fuzzy) and where the words heard lie in the finding's quote, and
no tolerant match adds or removes a negation, changes the person or credits the customer.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from calmline.monitor.cli import print_scorecard
from calmline.monitor.redact import redact_report
from calmline.monitor.report import report_from_dict, report_to_dict
from calmline.monitor.rubric import MatchingRubric, PhraseEntry, default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.textmatch import KINDS, PhraseMatcher, english_lemma
from calmline.monitor.types import Finding
from tests.test_detectors_text import A, C, call, run


def P(text: str, *variants: str) -> PhraseEntry:
    return PhraseEntry(text=text, variants=variants)


@pytest.fixture(scope="module")
def zh() -> PhraseMatcher:
    return PhraseMatcher(default_rubric("zh").matching, "zh")


@pytest.fixture(scope="module")
def en() -> PhraseMatcher:
    return PhraseMatcher(default_rubric("en").matching, "en")


def check_evidence(f: Finding) -> None:
    """A phrase finding names its match kind and the words heard, found in its quote."""
    assert f.match_kind in KINDS
    assert f.matched and f.quote[f.match_start : f.match_end] == f.matched
    if f.match_kind == "exact":  # the listed form is in the quote as written
        assert f.matched.casefold() == f.matched_form.casefold()
        if f.matched_form != f.phrase:
            assert f"'{f.phrase}' (exact match)" not in f.detail
    assert f"'{f.matched}'" in f.detail


def phrase_findings(outcome) -> list[Finding]:
    found = [f for f in outcome.findings if f.phrase is not None]
    for f in found:
        check_evidence(f)
    return found


# --- Mandarin homophones --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "heard"),
    [
        (
            "我一定接近所能替您解决这个问题",
            "我一定竭尽所能替您解决这个问题",
            "我一定接近所能替您解决这个问题",
        ),
        ("真的非常抱歉，向您道谦", "向您道歉", "向您道谦"),
        ("保歉，让您久等了", "抱歉", "保歉"),
        ("我很保歉", "很抱歉", "很保歉"),
        ("嗯我里解您的意思", "我理解", "我里解"),
    ],
)
def test_homophones_match_phonetically(zh, text, phrase, heard):
    (m,) = zh.find(text, [P(phrase)])
    assert (m.kind, m.matched, m.phrase) == ("phonetic", heard, phrase)
    assert text[m.start_char : m.end_char] == heard


def test_two_character_homophones_inside_other_words_do_not_match(zh):
    assert zh.find("这里解决不了", [P("理解")]) == []  # 这里 + 解决
    assert zh.find("您的账号的问题", [P("好的")]) == []  # 账号 + 的


def test_homophones_never_change_negation_or_person(zh):
    assert zh.find("部归我管", [P("不归我管")]) == []  # 部 (bu) is no 不
    assert zh.find("你里解", [P("我理解")]) == []
    assert zh.find("我里解您的心情", [P("你理解")]) == []
    assert zh.find("理解你的心情", [P("理解您的心情")]) == []  # 你 is not 您
    assert zh.find("我非常不里解您的心情", [P("我非常理解您的心情")]) == []
    # A negation before a homophone still negates it.
    (m,) = zh.find("我不里解您的心情", [P("理解您的心情")], negations=[P("不")])
    assert (m.kind, m.matched, m.negated) == ("phonetic", "里解您的心情", True)


def test_phonetic_matching_can_be_switched_off(zh):
    assert zh.find("向您道谦", [P("向您道歉")], phonetic=False) == []
    rubric = MatchingRubric(phonetic=False)
    assert PhraseMatcher(rubric, "zh").find("向您道谦", [P("向您道歉")]) == []


def test_commitment_heard_as_a_homophone_is_credited():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的快递一直没收到"),
        (A, 4.5, 9.0, "我一定接近所能替您解决这个问题"),
    )
    out = run("solve_problem", report)
    (f,) = [f for f in phrase_findings(out) if f.kind == "commitment"]
    assert f.match_kind == "phonetic" and f.matched == "我一定接近所能替您解决这个问题"
    assert "no_commitment" not in [g.kind for g in out.findings]


@pytest.mark.parametrize(
    ("practice", "text", "heard"),
    [
        ("apologize_for_inconvenience", "真是很保歉，让您久等了", "很保歉"),
        ("apologize_for_inconvenience", "我们向您道谦", "向您道谦"),
        ("acknowledge", "嗯我里解", "我里解"),
    ],
)
def test_slipped_apology_and_acknowledgement_are_credited(practice, text, heard):
    report = call("zh", (C, 0.0, 4.0, "你们送错了，太慢了"), (A, 4.5, 8.0, text))
    found = phrase_findings(run(practice, report))
    assert any(f.matched == heard and f.match_kind == "phonetic" for f in found)


def test_customer_words_never_become_the_agents():
    report = call(
        "zh",
        (C, 0.0, 4.0, "你们至少说句很保歉吧，向我道谦"),
        (A, 4.5, 8.0, "您的订单号是多少"),
    )
    assert phrase_findings(run("apologize_for_inconvenience", report)) == []
    report = call("en", (C, 0.0, 4.0, "my apologies for calling late"), (A, 4.5, 8.0, "go on"))
    assert phrase_findings(run("apologize_for_inconvenience", report)) == []


# --- English lemmas -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["apologize", "apologise", "apologizing", "apologising", "apologies", "apology"]
)
def test_apology_forms_share_a_lemma(word):
    assert english_lemma(word) == english_lemma("apologize")


def test_lemmas_keep_negation_person_and_tense():
    for word in ("not", "cannot", "dont", "never", "you", "your", "yours", "i", "we"):
        assert english_lemma(word) == word
    assert english_lemma("apologized") != english_lemma("apologize")
    assert english_lemma("apologizes") != english_lemma("apologize")


def test_other_forms_of_english_words_match_as_normalised(en):
    (m,) = en.find("Our apologies for any inconvenience", [P("apologize for any inconvenience")])
    assert (m.kind, m.matched) == ("normalised", "apologies for any inconvenience")
    (m,) = en.find("I'm apologising for the inconvenience", [P("apologize for the inconvenience")])
    assert m.kind == "normalised" and m.matched == "apologising for the inconvenience"
    # Tense is kept: a report of what happened is not the phrase.
    assert en.find("they apologized to me", [P("apologize to me")], fuzzy_threshold=100) == []


def test_apologies_credit_an_apology_but_apologizing_is_no_demand():
    report = call(
        "en",
        (C, 0.0, 4.0, "my card was charged twice"),
        (A, 4.5, 9.0, "apologies for any inconvenience this has caused"),
    )
    found = phrase_findings(run("apologize_for_inconvenience", report))
    assert [f.match_kind for f in found] == ["normalised"]
    report = call(
        "en",
        (C, 0.0, 4.0, "the courier was rude"),
        (A, 4.5, 9.0, "I see, and he kept apologizing to me about it"),
    )
    out = run("no_apology_demand", report)
    assert out.score == 100.0 and out.findings == ()


# --- honest evidence ------------------------------------------------------------------------


def test_a_listed_variant_is_not_claimed_as_the_phrase():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的订单送错了"),
        (A, 4.5, 9.0, "您先听我说,我帮您登记一下"),
    )
    (f,) = [f for f in phrase_findings(run("solve_problem", report)) if f.kind == "next_step"]
    assert (f.phrase, f.matched, f.matched_form, f.match_kind) == (
        "帮您反馈",
        "帮您登记",
        "帮您登记",
        "exact",
    )
    assert "'帮您反馈' (exact match)" not in f.detail and "'帮您登记'" in f.detail


def test_empathy_evidence_names_the_words_said():
    report = call(
        "en",
        (C, 0.0, 4.0, "this is a disaster, my account is locked"),
        (A, 4.5, 9.0, "Okay. Okay. Okay. I know this is stressful"),
    )
    (f,) = phrase_findings(run("empathy", report))
    assert f.matched == "I know this is stressful" and f.phrase == "I see why you're worried"
    assert "'I see why you're worried' (exact match)" not in f.detail


def test_offsets_point_into_a_cut_quote():
    text = "我先跟您说明一下情况，这边查到您的订单，我非常理解您的心晴，马上帮您处理好吗"
    report = call("zh", (C, 0.0, 4.0, "东西坏了"), (A, 4.5, 20.0, text))
    (f,) = [f for f in phrase_findings(run("solve_problem", report)) if f.kind == "empathy_phrase"]
    assert f.quote.startswith("…") and f.matched == "我非常理解您的心晴"
    assert f.match_kind == "phonetic"  # 晴 reads like 情


def test_findings_carry_match_fields_through_a_report_and_old_reports_still_read():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的快递一直没收到，气死了"),
        (A, 4.5, 9.0, "非常保歉，我一定接近所能替您解决这个问题"),
    )
    scored = score_report(report, default_rubric("zh"))
    data = json.loads(json.dumps(report_to_dict(scored), ensure_ascii=False))
    back = report_from_dict(data)
    assert back.scorecard == scored.scorecard
    kinds = {
        f.match_kind for p in back.scorecard.practices for f in p.findings if f.phrase is not None
    }
    assert "phonetic" in kinds
    # A report written before these fields existed reads back with them unset.
    for p in data["scorecard"]["practices"]:
        for f in p["findings"]:
            for key in ("match_kind", "matched", "match_start", "match_end", "matched_form"):
                f.pop(key)
    old = report_from_dict(data)
    assert all(
        f.match_kind is None and f.matched is None
        for p in old.scorecard.practices
        for f in p.findings
    )


def test_redaction_keeps_the_offsets_pointing_at_the_words_heard():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我的快递一直没收到"),
        (A, 4.5, 12.0, "您的电话13812345678对吧，非常保歉，我马上帮您处理"),
    )
    redacted = redact_report(score_report(report, default_rubric("zh")))
    found = [
        f for p in redacted.scorecard.practices for f in p.findings if f.match_kind is not None
    ]
    assert any(f.match_kind == "phonetic" and f.matched == "非常保歉" for f in found)
    for f in found:
        assert "13812345678" not in f.quote + (f.matched or "")
        if f.matched is not None and f.match_start is not None:
            assert f.quote[f.match_start : f.match_end] == f.matched


def test_cli_scorecard_shows_the_words_heard_and_how_they_matched():
    report = call(
        "zh",
        (C, 0.0, 4.0, "你们这什么破服务"),
        (A, 4.5, 9.0, "你先给我道谦，不然没法处理"),
    )
    console = Console(record=True, width=200)
    print_scorecard(score_report(report, default_rubric("zh")), console)
    shown = console.export_text()
    assert "你先给我道谦" in shown and "(phonetic)" in shown


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("好的女士因为这边系统出了问题", "是因为"),  # 士 belongs to 女士
        ("亲，您可以私信我们", "请您"),  # 亲 reads qing only rarely
        ("您反映的问题已收悉", "您反映的问题是"),  # 已 reads si only rarely
        ("确实给您添麻烦那还有其他问题吗", "给您添麻烦了"),  # 那 starts the next clause
    ],
)
def test_coincidental_homophones_seen_in_real_replies_do_not_match(zh, text, phrase):
    assert [m for m in zh.find(text, [P(phrase)]) if m.kind == "phonetic"] == []


def test_no_match_reaches_across_a_full_stop(en):
    assert en.find("I have sent the email. You can try it", [P("email you")]) == []
    assert [m.matched for m in en.find("I will email you today", [P("email you")])] == ["email you"]


def test_homophones_never_change_an_aspect_particle(zh):
    # 给我道歉了 (they apologised) is told apart from 给我道歉呢 (a demand): 呢 is no 了.
    assert zh.find("不但退款还得给我道歉呢", [P("给我道歉了")]) == []
    report = call("zh", (C, 0.0, 4.0, "你们态度太差"), (A, 4.5, 8.0, "不但退款还得给我道歉呢"))
    assert run("no_apology_demand", report).score == 0.0
