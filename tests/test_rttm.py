"""RTTM means who spoke when: the diarization's speaker labels and speech segments.

Roles are not speakers (three voices must not collapse into "customer") and turns are not
speech (a turn spans its speaker's pauses), as pyannote and the NIST tools read the format.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from calmline.monitor.report import (
    report_from_dict,
    report_to_dict,
    to_annotation,
    to_rttm,
    write_rttm,
)
from calmline.monitor.types import Role, RoleAssignment, SpeechSegment
from tests.test_stress import A, C, call

SEGMENTS = (
    SpeechSegment(0.0, 2.0, "SPEAKER_00"),
    SpeechSegment(2.6, 4.0, "SPEAKER_00"),  # a pause of 0.6 s inside the agent's turn
    SpeechSegment(4.5, 7.0, "SPEAKER_01"),
    SpeechSegment(6.5, 8.0, "SPEAKER_02"),  # a third voice, overlapping the second
    SpeechSegment(8.5, 10.0, "SPEAKER_01"),
)


@pytest.fixture
def report():
    spec = [
        A(0.0, 4.0, "hello this is the bank how can I help"),
        C(4.5, 7.0, "my card was declined"),
        C(6.5, 8.0, "twice today"),
        C(8.5, 10.0, "can you check it"),
    ]
    report = call(spec, language="en", attribution="embedded")
    roles = {"SPEAKER_00": Role.AGENT, "SPEAKER_01": Role.CUSTOMER, "SPEAKER_02": Role.CUSTOMER}
    return replace(
        report, segments=SEGMENTS, roles=RoleAssignment(roles=roles, method="cues", confidence=0.8)
    )


def rttm_rows(text: str) -> list[tuple[str, float, float, str]]:
    rows = []
    for line in text.splitlines():
        f = line.split()
        assert f[0] == "SPEAKER" and f[2] == "1" and len(f) == 10
        rows.append((f[1], float(f[3]), float(f[4]), f[7]))
    return rows


def test_one_line_per_segment_with_the_speaker_label(report):
    rows = rttm_rows(to_rttm(report))
    assert [(start, dur, who) for _, start, dur, who in rows] == [
        (s.start, pytest.approx(s.end - s.start, abs=1e-3), s.speaker) for s in SEGMENTS
    ]
    assert {uri for uri, *_ in rows} == {report.call_id}
    # three voices stay three speakers, whatever their roles
    assert {who for *_, who in rows} == {"SPEAKER_00", "SPEAKER_01", "SPEAKER_02"}


def test_the_export_scores_as_the_segments_themselves(report, tmp_path):
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate

    path = tmp_path / "call.rttm"
    write_rttm(report, path)
    assert path.read_text(encoding="utf-8") == to_rttm(report)
    (written,) = load_rttm(path).values()
    reference = Annotation(uri=written.uri)
    for i, s in enumerate(SEGMENTS):
        reference[Segment(s.start, s.end), i] = s.speaker
    der = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    assert der(reference, written, uem=Timeline([Segment(0.0, 10.0)])) == 0.0
    # the agent's pause (2.0-2.6 s) is not speech, though the agent's turn spans it
    assert written.label_duration("SPEAKER_00") == pytest.approx(3.4)


def test_a_stored_report_exports_the_same_rttm(report):
    # the API reads the report back from its JSON before exporting
    assert to_rttm(report_from_dict(report_to_dict(report))) == to_rttm(report)


def test_a_report_without_segments_exports_no_speech(report):
    empty = replace(report, segments=())
    assert to_rttm(empty) == ""
    assert len(to_annotation(empty)) == 0
