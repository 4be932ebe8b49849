"""The report's one serialisation and its exports."""

from __future__ import annotations

import json

import pytest

from calmline.monitor.report import (
    SCHEMA_VERSION,
    ReportFormatError,
    read_report,
    report_from_dict,
    report_to_dict,
    to_vtt,
    write_report,
    write_rttm,
)


@pytest.fixture(scope="module")
def report(analyzed):
    return analyzed("en_stereo_mulaw")[0]


def test_json_round_trip_is_exact(report, tmp_path):
    path = tmp_path / "r.json"
    write_report(report, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert read_report(path) == report


def test_unknown_schema_version_is_refused(report):
    data = report_to_dict(report)
    data["schema_version"] = "99.0"
    with pytest.raises(ReportFormatError, match=r"99\.0"):
        report_from_dict(data)
    del data["turns"]
    data["schema_version"] = SCHEMA_VERSION
    with pytest.raises(ReportFormatError, match="turns"):
        report_from_dict(data)


def test_rttm_parses_back_with_pyannote(report, tmp_path):
    from pyannote.database.util import load_rttm

    path = tmp_path / "call.rttm"
    write_rttm(report, path)
    annotations = load_rttm(path)
    (annotation,) = annotations.values()
    # Who spoke when: the segments' speaker labels and spans, not roles or turns.
    assert set(annotation.labels()) == {s.speaker for s in report.segments}
    spoken = [s for s in report.segments if s.end > s.start]
    assert len(list(annotation.itertracks())) == len(spoken)
    for label in annotation.labels():
        own = sum(s.end - s.start for s in spoken if s.speaker == label)
        assert annotation.label_duration(label) == pytest.approx(own, abs=1e-2)


def test_vtt_has_a_cue_per_spoken_turn(report):
    vtt = to_vtt(report)
    assert vtt.startswith("WEBVTT\n")
    cues = [line for line in vtt.splitlines() if "-->" in line]
    assert len(cues) == sum(1 for t in report.turns if t.text and t.end > t.start)
    first = next(t for t in report.turns if t.text)
    assert f"<v {first.role.value}>{first.text}" in vtt
