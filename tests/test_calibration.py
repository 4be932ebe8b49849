"""Calibration on real calls: routine Harper Valley calls score high, thresholds say where
they come from, and the detector rules the calibration changed.

The Harper Valley tests build each call from its human transcript and timing with
``bench/calibrate.py`` (real two-channel audio for loudness and pitch, the pipeline's own
``assemble_report``); they skip when ``../shared/data`` is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calmline.monitor.detectors import DetectorContext
from calmline.monitor.detectors.phrases import complaint_turns
from calmline.monitor.rubric import default_rubric
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import FAULT_SEVERITIES, Severity
from tests.conftest import load_bench, shared_data
from tests.test_detectors_text import CALM, A, C, call, run

REPO = Path(__file__).resolve().parents[1]

CALIBRATED = {
    "en": [
        ("stress", "agitated_level"),
        ("clear_speech", "articulation_min"),
        ("clear_speech", "articulation_max"),
        ("clear_speech", "min_loudness_dbfs"),
        ("clear_speech", "quiet_rel_db"),
        ("let_finish", "louder_db"),
        ("let_finish", "faster_ratio"),
        ("acknowledge", "min_rate_per_min"),
        ("courtesy", "min_turn_share"),
    ],
    "zh": [
        ("stress", "agitated_level"),
        ("let_finish", "louder_db"),
        ("let_finish", "faster_ratio"),
        ("acknowledge", "min_rate_per_min"),
        ("courtesy", "min_turn_share"),
    ],
}
"""Thresholds set from real-data percentiles: (section or practice, key) per rubric."""


@pytest.fixture(scope="module")
def calibrate():
    return load_bench("calibrate")


@pytest.fixture(scope="module")
def harper_valley_reports(calibrate):
    data = shared_data("calls", "harper_valley").parents[1]
    return {
        call_id: calibrate.human_report(calibrate.harper_valley_call(data, call_id))
        for call_id in calibrate.harper_valley_ids(data)
    }


# --- the six real routine calls ----------------------------------------------------------------


def test_routine_real_calls_score_high(harper_valley_reports):
    assert len(harper_valley_reports) == 6
    for call_id, report in harper_valley_reports.items():
        assert report.scorecard.overall >= 80, (call_id, report.scorecard.overall)


def test_routine_real_calls_have_no_major_finding_and_no_complaint(harper_valley_reports):
    for call_id, report in harper_valley_reports.items():
        # every practice, the turn-taking ones included: the agent's goodbye overlapping the
        # caller's last words (three of the six calls) is a closing overlap, not an interruption
        worst = [
            (p.practice, f.kind)
            for p in report.scorecard.practices
            for f in p.findings
            if f.severity in (Severity.MAJOR, Severity.CRITICAL)
        ]
        assert worst == [], call_id
        # calm callers on routine tasks: the practices that answer a complaint have nothing to
        # judge ("I lost my card, send me a new one" is a request, not a complaint)
        by_id = {p.practice: p for p in report.scorecard.practices}
        for practice in ("solve_problem", "apologize_for_inconvenience", "empathy", "options"):
            assert by_id[practice].score is None, (call_id, practice)


def test_routine_real_calls_speak_clearly_by_the_calibrated_band(harper_valley_reports):
    for call_id, report in harper_valley_reports.items():
        by_id = {p.practice: p for p in report.scorecard.practices}
        faults = [f.kind for f in by_id["clear_speech"].findings if f.severity in FAULT_SEVERITIES]
        assert faults == [], call_id


def test_human_transcript_words_take_machine_timing_when_the_counts_agree(calibrate):
    segment = {
        "start_ms": 1000,
        "duration_ms": 3000,
        "human_transcript": "hello [noise] there",
        "word_offsets_ms": [200, 900],
        "word_durations_ms": [500, 400],
    }
    start, end, words = calibrate.segment_words(segment, "t")
    assert [w.text for w in words] == ["hello", "there"]
    assert (words[0].start, words[1].end) == (1.2, 2.3)
    assert (start, end) == (1.2, 2.3)  # the spoken span, not the padded segment
    segment["human_transcript"] = "hello out there"  # three words, two timings: spread evenly
    start, end, words = calibrate.segment_words(segment, "t")
    assert (start, end) == (1.0, 4.0)
    assert [w.start for w in words] == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="segment 3"):
        calibrate.segment_words({"human_transcript": "x"}, "segment 3")


# --- thresholds say which data chose them ------------------------------------------------------


def _comment_above(lines: list[str], index: int) -> str:
    """The comment block over the key at ``index`` or over the run of keys it closes (one
    comment may document a pair such as articulation_min / articulation_max)."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    out = []
    i = index - 1
    while i >= 0 and re.match(rf"\s{{{indent}}}\w+:", lines[i]):
        i -= 1
    while i >= 0 and lines[i].strip().startswith("#"):
        out.append(lines[i])
        i -= 1
    return "\n".join(reversed(out))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_calibrated_thresholds_carry_their_percentiles(language):
    lines = (REPO / "monitor" / "rubrics" / f"default_{language}.yaml").read_text("utf-8")
    lines = lines.splitlines()
    rubric = default_rubric(language)
    for section, key in CALIBRATED[language]:
        start = next(i for i, x in enumerate(lines) if re.match(rf"\s*{section}:\s*$", x))
        at = next(i for i in range(start, len(lines)) if re.match(rf"\s+{key}:", lines[i]))
        comment = _comment_above(lines, at)
        assert "calibrate" in comment.lower(), (section, key)
        assert re.search(r"\bp\d+\b|max|min", comment), (section, key)
        value = float(lines[at].split(":", 1)[1].split("#")[0])
        loaded = (
            getattr(rubric.stress, key)
            if section == "stress"
            else rubric.practices[section].threshold(key, None)
        )
        assert loaded == pytest.approx(value), (section, key)


# --- rules the calibration changed -------------------------------------------------------------


def _ctx(report):
    rubric = default_rubric(report.language)
    return DetectorContext(
        report=report,
        rubric=rubric,
        matcher=PhraseMatcher(rubric.matching, rubric.language),
        stress=CALM,
    )


def test_losing_ones_own_card_is_a_request_not_a_complaint():
    own = call("en", (C, 0.0, 3.0, "hi i lost my debit card can you send me a new one"))
    assert complaint_turns(_ctx(own)) == ()
    theirs = call("en", (C, 0.0, 3.0, "you lost my package and nobody called me back"))
    assert len(complaint_turns(_ctx(theirs))) == 1


def test_trailing_okay_bye_does_not_push_the_invitation_out_of_the_closing():
    report = call(
        "en",
        (C, 0.0, 3.0, "i would like to reset my password"),
        (A, 3.5, 6.0, "okay is there anything else i can help you with"),
        (C, 6.5, 8.0, "no that's all thank you"),
        (A, 8.5, 10.5, "okay thank you for calling have a great day"),
        (C, 11.0, 12.0, "you as well bye"),
        (A, 12.2, 13.5, "okay okay bye bye"),
    )
    out = run("closing", report)
    assert out.score == 100.0
    assert "closing_invite" in [f.kind for f in out.findings]


def test_a_third_partys_promise_is_a_next_step_not_the_agents_commitment():
    theirs = run(
        "solve_problem",
        call(
            "zh",
            (C, 0.0, 3.0, "吃了你们的菜肚子疼"),
            (A, 3.5, 7.0, "食安部门会专门为您处理这个问题"),
        ),
    )
    kinds = [f.kind for f in theirs.findings]
    assert "next_step" in kinds and "commitment" not in kinds
    mine = run(
        "solve_problem",
        call("zh", (C, 0.0, 3.0, "吃了你们的菜肚子疼"), (A, 3.5, 6.0, "我这边马上帮您联系商家")),
    )
    assert "commitment" in [f.kind for f in mine.findings]
    airline = run(
        "solve_problem",
        call(
            "en",
            (C, 0.0, 3.0, "my flight was cancelled"),
            (A, 3.5, 7.0, "the airline will handle the issue for you"),
        ),
    )
    assert "commitment" not in [f.kind for f in airline.findings]
    # the company's own staff who will handle it commit for it (labels en0539, en1493, en1561)
    staff = run(
        "solve_problem",
        call(
            "en",
            (C, 0.0, 3.0, "my internet is not working"),
            (A, 3.5, 7.0, "our staff will handle the issue for you"),
        ),
    )
    assert "commitment" in [f.kind for f in staff.findings]


def test_ordinary_words_of_service_count():
    helped = run(
        "solve_problem",
        call(
            "en",
            (C, 0.0, 3.0, "i lost my credit card can you send me a new one"),
            (A, 3.5, 5.0, "i sure can"),
        ),
    )
    assert "commitment" in [f.kind for f in helped.findings]
    polite = run(
        "courtesy",
        call(
            "en",
            (C, 0.0, 3.0, "i need a new checkbook"),
            (A, 3.5, 7.0, "sure i'd be happy to help you with that and what is your address"),
        ),
    )
    assert polite.score == 100.0


def test_a_confirming_question_that_echoes_the_customer_is_a_paraphrase():
    echo = call("zh", (C, 0.0, 3.0, "我点的是如意生煎"), (A, 3.5, 5.0, "如意生煎是吗"))
    assert [f.kind for f in run("paraphrase", echo).findings] == ["paraphrase"]
    # the same tag on a question that brings a new detail is no paraphrase
    new = call("zh", (C, 0.0, 3.0, "我点的是如意生煎"), (A, 3.5, 5.0, "您是在美团下的单对吗"))
    assert "paraphrase" not in [f.kind for f in run("paraphrase", new).findings]
