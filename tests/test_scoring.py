"""Scorecards of the bundled sample calls match what each sample's script planted.

Times are compared with a tolerance of 1.0 s (word timings of a small Whisper model on
telephone audio, and turn boundaries from VAD, move by a few hundred milliseconds).
"""

from __future__ import annotations

import json

import pytest

from calmline.monitor.report import read_report, report_to_json, write_report
from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import Role, Severity
from tests.test_rubric import PRACTICES

TOL = 1.0
ALL = ("en_stereo_mulaw", "en_mono", "zh_stereo")


def practice(report, pid):
    return next(p for p in report.scorecard.practices if p.practice == pid)


def near(finding, start, end):
    if finding.start is None:  # about the whole call, not a moment
        return False
    return finding.start <= end + TOL and finding.end >= start - TOL


@pytest.mark.parametrize("name", ALL)
def test_every_practice_is_scored_with_evidence(analyzed, name):
    report, expected = analyzed(name)
    card = report.scorecard
    assert card is not None and card.language == expected["language"]
    assert {p.practice for p in card.practices} == PRACTICES
    assert 0 <= card.overall <= 100
    for p in card.practices:
        assert p.score is None or 0 <= p.score <= 100
        for f in p.findings:
            if f.start is None:  # a finding about the whole call has no moment
                assert f.end is None
            else:
                assert 0 <= f.start <= f.end <= report.audio.duration
            assert f.speaker and f.detail
            if p.score is not None and p.score < 80:
                assert p.coaching, f"{p.practice} scored {p.score} without coaching"


@pytest.mark.parametrize("name", ("en_stereo_mulaw", "zh_stereo"))
def test_planted_interruption_is_found(analyzed, name):
    report, expected = analyzed(name)
    event = expected["events"]["interruption"]
    hits = [
        f
        for f in practice(report, "let_finish").findings
        if f.kind == "interruption" and near(f, event["agent_start"], event["agent_start"])
    ]
    assert hits, f"interruption at {event['agent_start']:.1f} s not found"
    assert hits[0].role is Role.AGENT and hits[0].value > 0.5
    assert practice(report, "let_finish").score < 100


@pytest.mark.parametrize("name", ALL)
def test_planted_repeated_acknowledgement_is_penalised(analyzed, name):
    report, expected = analyzed(name)
    event = expected["events"]["repeated_ack"]
    hits = [
        f
        for f in practice(report, "acknowledge").findings
        if f.severity is not Severity.POSITIVE and near(f, event["start"], event["end"])
    ]
    assert hits, f"repeated acknowledgement {event['text']!r} at {event['start']:.1f} s not found"


@pytest.mark.parametrize("name", ALL)
def test_planted_acknowledgements_earn_credit(analyzed, name):
    report, expected = analyzed(name)
    positives = [
        f for f in practice(report, "acknowledge").findings if f.severity is Severity.POSITIVE
    ]
    planted = expected["events"]["acknowledgements"]
    found = [a for a in planted if any(near(f, a["start"], a["end"]) for f in positives)]
    assert len(found) >= max(1, len(planted) // 2), (planted, positives)


@pytest.mark.parametrize("name", ("en_mono", "zh_stereo"))
def test_apology_demand_is_critical_and_caps_the_score(analyzed, name):
    report, expected = analyzed(name)
    event = expected["events"]["apology_demand"]
    p = practice(report, "no_apology_demand")
    hits = [f for f in p.findings if f.severity is Severity.CRITICAL]
    assert any(near(f, event["start"], event["end"]) for f in hits), (event, hits)
    assert p.critical and p.score == 0 and p.coaching
    card = report.scorecard
    assert "no_apology_demand" in card.capped_by
    assert card.overall <= default_rubric(expected["language"]).critical_cap


def test_no_apology_demand_where_none_was_planted(analyzed):
    report, expected = analyzed("en_stereo_mulaw")
    assert expected["events"]["apology_demand"] is None
    p = practice(report, "no_apology_demand")
    assert not p.critical and p.score == 100
    assert not report.scorecard.capped_by
    # the agent's own apology counts for apologize_for_inconvenience, not against it
    assert practice(report, "apologize_for_inconvenience").score >= 80


def test_mandarin_coaching_is_in_mandarin(analyzed):
    report, _ = analyzed("zh_stereo")
    coached = [p.coaching for p in report.scorecard.practices if p.coaching]
    assert coached
    assert all(any("\u4e00" <= c <= "\u9fff" for c in text) for text in coached)


def test_rescoring_a_stored_report_needs_no_audio_or_models(analyzed, tmp_path):
    report, _ = analyzed("zh_stereo")
    path = tmp_path / "stored.json"
    write_report(report, path)
    stored = read_report(path)
    assert stored.scorecard == report.scorecard
    rubric = default_rubric("zh")
    # another rubric version: a softer cap and no apology-demand practice at all
    softer = rubric.model_copy(
        update={
            "version": "1.0.0-test",
            "critical_cap": 100.0,
            "practices": {k: v for k, v in rubric.practices.items() if k != "no_apology_demand"},
        }
    )
    rescored = score_report(stored, softer)
    card = rescored.scorecard
    assert card.rubric_version == "1.0.0-test"
    assert not card.capped_by
    assert card.overall > report.scorecard.overall
    assert json.loads(report_to_json(rescored))["schema_version"] == "1.5"
