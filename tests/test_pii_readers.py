"""The test readers of planted numbers: they read back what could carry speech, piece by
piece, and never make a number out of a document's times, scores and ids."""

from __future__ import annotations

import json
import sqlite3

from tests.pii import leaked, said_in_database, said_pieces

PHONE = "13800138000"


def _report(turn_text: str, words: list[str]) -> dict:
    return {
        "schema_version": "1.5",
        "created_at": "2026-12-06T13:80:01.3800138+00:00",
        "job_id": "1380013f-8000-4138-a000-13800138000a",
        "turns": [
            {
                "start": 13.8,
                "end": 0.138,
                "prob": 0.0013800138,
                "text": turn_text,
                "words": [{"word": w, "start": 13.800, "end": 138.0} for w in words],
            }
        ],
        "scorecard": {"practices": [{"score": 1380013.8, "reason": "2 turns, 1.0 s to 13.6 s"}]},
    }


def test_times_scores_and_ids_are_never_read_as_a_number():
    doc = json.dumps(_report("my number is [PHONE]", ["my", "number", "is", "[PHONE]"]))
    assert leaked(doc, PHONE)  # the whole document's digits, joined, hold it by chance
    assert not any(leaked(p, PHONE) for p in said_pieces("json", doc))


def test_a_number_said_is_read_back_whole_or_split_over_words():
    whole = json.dumps(_report("call me on 138 0013 8000", ["call", "me"]))
    assert any(leaked(p, PHONE) for p in said_pieces("json", whole))
    split = json.dumps(_report("call me", ["one", "three", "eight", "0", "0", "1", "3"]))
    assert any(leaked(p, PHONE) for p in said_pieces("json", split))
    vtt = (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nagent: 一三八零\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\n零一三\n"
    )
    assert any(leaked(p, PHONE) for p in said_pieces("vtt", vtt))
    assert not any(leaked(p, PHONE) for p in said_pieces("rttm", "SPEAKER c 1 13.800 13.800 <NA>"))


def test_database_cells_are_read_as_text_and_json():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE calls (id TEXT, at TEXT, score REAL, report TEXT, note TEXT)")
    db.execute(
        "INSERT INTO calls VALUES (?, ?, ?, ?, ?)",
        ("c1", "2026-12-06 13:80:01", 1380013.8, json.dumps(_report("[PHONE]", [])), "ok"),
    )
    assert not any(leaked(p, PHONE) for p in said_in_database(db))
    db.execute("UPDATE calls SET note = 'he said 13800138000'")
    assert any(leaked(p, PHONE) for p in said_in_database(db))
