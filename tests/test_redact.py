"""PII redaction: detection on word sequences (zh and en, digits and spoken forms), reports
(markers, redaction list, scrubbed quotes, unchanged scores, exports), audio, and the real
pipeline on the two planted-PII sample calls."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import wave

import numpy as np
import pytest

from calmline.monitor.audio import audio_from_array, load_audio
from calmline.monitor.redact import (
    PII_KINDS,
    AudioSpan,
    audio_spans,
    classify_digits,
    cn_id_check_char,
    find_pii,
    is_cn_id,
    luhn_ok,
    redact_audio,
    redact_report,
    redact_text,
    redact_words,
    write_redacted_wav,
)
from calmline.monitor.report import (
    SCHEMA_VERSION,
    report_from_dict,
    report_to_dict,
    report_to_json,
    to_vtt,
    write_rttm,
)
from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import (
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    Turn,
    Word,
)
from tests.conftest import SAMPLES
from tests.pii import digit_runs, long_runs, transcript_strings, vtt_text_lines

# --- leak checks (an independent digit reader: tests/pii.py) --------------------------------


def leaks(text: str, value: str, piece: int = 4) -> list[str]:
    """Digit runs in ``text`` holding ``value`` or any ``piece``-digit part of it."""
    parts = {value[i : i + piece] for i in range(len(value) - piece + 1)}
    value = value.upper().rstrip("X")
    return [r for r in digit_runs(text) if value in r or any(p in r for p in parts)]


def strings(data, skip=("call_id", "path")):
    """Every string in a report's JSON form (ids and file paths are not transcript text)."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k not in skip:
                yield from strings(v, skip)
    elif isinstance(data, list):
        for v in data:
            yield from strings(v, skip)
    elif isinstance(data, str):
        yield data


# --- word sequences ---------------------------------------------------------------------------


def words(*texts: str, step: float = 0.4) -> list[Word]:
    return [Word(round(i * step, 3), round(i * step + 0.3, 3), t, 0.9) for i, t in enumerate(texts)]


FOUND = [
    # Mandarin: digits split over tokens, with text in the same token
    (("我的手机号是138", "0013", "8000。"), "phone", "13800138000", (0, 2)),
    # Mandarin spoken digits, split
    (("我的号码是一三八", "零零一三", "八零零零"), "phone", "13800138000", (0, 2)),
    # 幺 for one and full-width digits
    (("幺三九", "１２３４", "５６７８"), "phone", "13912345678", (0, 2)),
    # landline with area code, and a 400 service number
    (("座机", "010-6275", "1234"), "phone", "01062751234", (1, 2)),
    (("热线", "400-820-8820"), "phone", "4008208820", (1, 1)),
    # English numerals and spoken digits: oh, triple, hundred
    (("call", "me", "on", "415-555-0132."), "phone", "4155550132", (3, 3)),
    (
        ("four", "one", "five", "triple", "five", "oh", "one", "three", "two"),
        "phone",
        "4155550132",
        (0, 8),
    ),
    (
        ("one", "eight", "hundred", "five", "five", "five", "one", "two", "one", "two"),
        "phone",
        "18005551212",
        (0, 9),
    ),
    (("it's", "+44", "20", "7946", "0958"), "phone", "442079460958", (1, 4)),
    # resident ID: 18 with X, X spoken as 叉, and the 15-digit legacy form
    (("身份证号码是", "11010519491231002X"), "cn_id", "11010519491231002X", (1, 1)),
    (("一一零一零五一九四九", "一二三一零零二", "叉"), "cn_id", "11010519491231002X", (0, 2)),
    (("身份证", "110105491231002"), "cn_id", "110105491231002", (1, 1)),
    # bank cards (Luhn): digits and spoken, with fillers
    (("卡号", "6222", "0212", "3456", "7894"), "bank_card", "6222021234567894", (1, 4)),
    (
        ("four", "nine", "two", "nine", "three", "eight", "one", "two", "uh", "five", "four",
         "seven", "six", "three", "one", "zero", "nine"),
        "bank_card",
        "4929381254763109",
        (0, 16),
    ),
    # e-mail: spoken en, zh 艾特 and 点, written
    (
        ("it's", "john", "dot", "smith", "at", "example", "dot", "com."),
        "email",
        "john.smith@example.com",
        (1, 7),
    ),
    (("邮箱是", "wang", "艾特", "qq", "点", "com"), "email", "wang@qq.com", (1, 5)),
    (("write", "to", "li.na_88@mail.example.cn", "please"), "email", "li.na_88@mail.example.cn",
     (2, 2)),
]  # fmt: skip


@pytest.mark.parametrize(("texts", "kind", "value", "span"), FOUND)
def test_pii_is_found_across_tokens(texts, kind, value, span):
    (m,) = find_pii(words(*texts))
    assert (m.kind, m.value, (m.first_word, m.last_word)) == (kind, value, span)
    redacted = redact_text(" ".join(texts))
    assert f"[{kind.upper()}]" in redacted
    assert not leaks(redacted, value.rstrip("X"), piece=5)


NOT_PII = [
    ("three", "days"),
    ("我等了", "两个月", "了"),
    ("我等了三四天，打了五六次电话",),
    ("I", "paid", "$1,299.99", "for", "3", "phones"),
    ("一千三百八十元",),
    ("二零二三年五月十二日",),
    ("the", "meeting", "is", "at", "10:30", "on", "the", "12th"),
    ("it", "shipped", "on", "June", "11,", "2024"),  # a date, not 112024
    ("delivery", "2024-06-11", "or", "11/06/2024"),
    ("one", "two", "three", "four", "five"),  # counting: five digits
    ("look", "at", "that"),
    ("I'm", "at", "home", "dot", "dot", "dot"),
    ("oh", "I", "see", "one", "moment"),
    ("growth", "was", "15%", "or", "12,345,678", "units"),
]


@pytest.mark.parametrize("texts", NOT_PII)
def test_ordinary_numbers_are_not_pii(texts):
    assert find_pii(words(*texts)) == []


LONG_NUMBERS = [
    (("one", "two", "three", "four", "five", "six"), "123456"),  # six digits: redacted
    (("1", "2", "3", "4", "5", "6", "7"), "1234567"),  # no phone form, no context
    (("order", "number", "2024", "0611", "0001"), "202406110001"),
    (("tracking", "number", "4155550132"), "4155550132"),  # an order's digits in phone form
    (("+12345678",), "12345678"),  # no country's valid number
    (("幺二三四五六七",), "1234567"),
]


@pytest.mark.parametrize(("texts", "value"), LONG_NUMBERS)
def test_long_numbers_no_rule_names_are_redacted_as_number(texts, value):
    (m,) = find_pii(words(*texts))
    assert (m.kind, m.value) == ("number", value)
    assert "[NUMBER]" in redact_text(" ".join(texts))
    assert find_pii(words(*texts), long_numbers=False) == []  # privacy.allow_long_numbers


def test_a_long_pause_splits_a_number():
    near = [Word(0.0, 0.3, "138", 0.9), Word(0.5, 0.9, "0013", 0.9), Word(1.2, 1.6, "8000", 0.9)]
    far = [*near[:2], Word(9.0, 9.4, "8000", 0.9)]
    assert [m.kind for m in find_pii(near)] == ["phone"]
    # 1380013: seven digits in no phone form, said with no context; 8000 alone is short
    assert [(m.kind, m.value) for m in find_pii(far)] == [("number", "1380013")]
    assert find_pii(far, long_numbers=False) == []


def test_the_last_chunk_of_a_number_read_out_slowly_is_redacted_with_it():
    """A real bank call: the caller read a phone number in three chunks; Whisper gave
    "715139" and, 4.5 s later by its word times, "0787." The last chunk was left readable."""
    slow = [Word(32.3, 33.8, "715139", 0.9), Word(38.3, 39.0, "0787.", 0.9)]
    assert [m.value for m in find_pii(slow)] == ["715139", "0787"]
    assert [w.text for w in redact_words(slow)[0]] == ["[NUMBER]", "[NUMBER]."]
    # a fourth chunk continues the third; a number said long after is a new one (and short)
    more = [*slow, Word(42.0, 42.6, "5555", 0.9), Word(60.0, 60.5, "2024", 0.9)]
    assert [m.value for m in find_pii(more)] == ["715139", "0787", "5555"]
    # another word of the speaker in between ends the number
    said = [slow[0], Word(35.0, 35.3, "and", 0.9), slow[1]]
    assert [m.value for m in find_pii(said)] == ["715139"]


def test_digits_beside_a_redacted_chunk_in_the_same_word_are_redacted_too():
    """The number ends inside 1234abc5678 and the next chunk comes 3 s later: the 5678 left in
    that word is the word before the next chunk and goes with it, not left readable between
    two redacted numbers (it shares a word with the first match, not its characters)."""
    said = [
        Word(10.0, 10.4, "1234", 0.9),
        Word(10.5, 10.9, "5678,", 0.9),
        Word(11.0, 11.4, "1234abc5678", 0.9),
        Word(14.4, 14.8, "4321.", 0.9),
    ]
    assert [m.value for m in find_pii(said)] == ["123456781234", "5678", "4321"]
    assert [w.text for w in redact_words(said)[0]] == ["[NUMBER]abc[NUMBER]", "[NUMBER]."]


def test_context_names_numbers_without_an_exact_form():
    local = words("my", "number", "is", "555", "0132")
    assert [(m.kind, m.value) for m in find_pii(local)] == [("phone", "5550132")]
    assert [m.kind for m in find_pii(words("reference", "555", "0132"))] == ["number"]
    # a card number misheard by one digit fails Luhn: the word "card" still names it
    misheard = words("the", "card", "number", "is", "4229,", "3812,", "5476,", "3109.")
    assert [m.kind for m in find_pii(misheard)] == ["bank_card"]
    assert [m.kind for m in find_pii(words("4229,", "3812,", "5476,", "3109."))] == ["number"]


def test_checksums():
    assert luhn_ok("4929381254763109") and not luhn_ok("4929381254763108")
    assert cn_id_check_char("11010519491231002") == "X"
    assert is_cn_id("11010519491231002X") and is_cn_id("11010519491231002x")
    assert not is_cn_id("110105194912310021")  # wrong check character
    assert not is_cn_id("11010519491331002X")  # month 13
    assert not is_cn_id("99010519491231002X")  # no such province
    assert is_cn_id("110105491231002") and not is_cn_id("110105491232002")  # 15-digit, day 32
    assert classify_digits("110105198803151232") == "cn_id"
    assert classify_digits("6222021234567894") == "bank_card"
    assert classify_digits("13800138000") == "phone"
    assert classify_digits("1380013") is None
    assert classify_digits("123456") is None


def test_kinds_can_be_chosen_and_unknown_kinds_are_refused():
    said = words("卡号", "6222021234567894", "手机", "13800138000")
    assert [m.kind for m in find_pii(said, ["phone"])] == ["phone"]
    assert [m.kind for m in find_pii(said)] == ["bank_card", "phone"]
    with pytest.raises(ValueError, match="passport"):
        find_pii(said, ["phone", "passport"])


# --- reports ----------------------------------------------------------------------------------

A, C = Role.AGENT, Role.CUSTOMER
SPEAKER = {A: "channel_0", C: "channel_1"}


def _tokens(text: str, language: str) -> list[str]:
    if language == "zh":
        # Whisper-like Mandarin tokens: runs of digits or of digit characters, else characters
        return re.findall(
            r"[0-9]{1,4}[，。,.!?]*|[零一二三四五六七八九]{1,4}[，。]*|[^\W_]\W*|\W+", text
        )
    return text.split()


def call(language: str, *turns: tuple[Role, float, float, str]) -> CallReport:
    joiner = "" if language == "zh" else " "
    built = []
    for i, (role, start, end, text) in enumerate(turns):
        toks = _tokens(text, language)
        step = (end - start) / len(toks)
        ws = tuple(
            Word(round(start + k * step, 3), round(start + (k + 1) * step, 3), t, 0.9)
            for k, t in enumerate(toks)
        )
        built.append(
            Turn(i, SPEAKER[role], role, start, end, joiner.join(w.text for w in ws), ws,
                 channel=0 if role is A else 1)
        )  # fmt: skip
    duration = turns[-1][2] + 1.0
    talk = {r.value: sum(t.end - t.start for t in built if t.role is r) for r in (A, C)}
    return CallReport(
        call_id="pii-test",
        audio=AudioInfo("pii.wav", "wav", "pcm_s16le", 8000, 2, duration, 0),
        language=language,
        language_probability=None,
        attribution="channels",
        roles=RoleAssignment(roles={v: k for k, v in SPEAKER.items()}, method="channels"),
        segments=(),
        turns=tuple(built),
        overlaps=(),
        metrics=CallMetrics(duration, talk, 0.5, 0.0, (), 0.0, len(built), ()),
        models=(),
        timings={},
    )


ZH_PHONE, ZH_ID = "13800138000", "110105198803151232"
EN_PHONE, EN_CARD, EN_MAIL = "4155550132", "4929381254763109", "john.smith@example.com"


@pytest.fixture(scope="module")
def zh_call():
    report = call(
        "zh",
        (A, 0.5, 4.0, "您好，我是客服小李，很高兴为您服务，请问有什么可以帮您？"),
        (C, 4.5, 9.0, "我要改手机号，新的号码是一三八，零零一三，"),
        (A, 9.1, 9.5, "嗯。"),  # the agent's "mm" between two breaths of the number
        (C, 9.7, 11.0, "八零零零。"),
        (C, 12.0, 17.0, "身份证号是110105198803151232。"),
        (A, 17.5, 24.0, "好的，手机号13800138000已经登记，身份证尾号1232，感谢您的耐心，再见。"),
    )
    return score_report(report, default_rubric("zh"))


@pytest.fixture(scope="module")
def en_call():
    report = call(
        "en",
        (A, 0.5, 4.0, "Thank you for calling, my name is David, how can I help you today?"),
        (C, 4.5, 11.0, "My phone number is four one five, five five five, oh one three two."),
        (C, 11.5, 18.0, "The card is 4929 3812 5476 3109 and my email is john dot smith at "
                        "example dot com."),
        (A, 18.5, 26.0, "Let me confirm 415-555-0132 and john.smith@example.com, thank you for "
                        "your patience, have a good day."),
    )  # fmt: skip
    return score_report(report, default_rubric("en"))


PLANTED = {"zh": ((ZH_PHONE, "phone"), (ZH_ID, "cn_id")), "en": ((EN_PHONE, "phone"),
           (EN_CARD, "bank_card"))}  # fmt: skip


@pytest.mark.parametrize("name", ["zh", "en"])
def test_report_text_is_marked_and_listed(request, name):
    report = request.getfixturevalue(f"{name}_call")
    red = redact_report(report)
    text = " ".join(t.text for t in red.turns)
    for value, kind in PLANTED[name]:
        assert leaks(" ".join(t.text for t in report.turns), value), "planted in the input"
        assert not leaks(text, value)
        assert f"[{kind.upper()}]" in text
    # every redaction: a known kind, inside a turn of its speaker, covering marker words
    assert red.redactions
    for r in red.redactions:
        assert r.kind in PII_KINDS and r.word_count >= 1
        assert any(t.speaker == r.speaker and t.start <= r.start < r.end <= t.end + 3 for t in
                   red.turns)  # fmt: skip
        marked = [w for t in red.turns for w in t.words if f"[{r.kind.upper()}]" in w.text]
        assert any(w.start == r.start for w in marked)
    # turn texts are still the words joined; words keep their order and times
    joiner = "" if name == "zh" else " "
    for before, after in zip(report.turns, red.turns, strict=True):
        assert after.text == joiner.join(w.text for w in after.words)
        assert [w.start for w in after.words] == sorted(w.start for w in after.words)
        assert (after.start, after.end, after.metrics) == (before.start, before.end,
                                                           before.metrics)  # fmt: skip


def test_a_number_said_in_two_breaths_is_one_redaction(zh_call):
    red = redact_report(zh_call)
    (phone,) = [r for r in red.redactions if r.kind == "phone" and r.role is C]
    assert phone.start < 9.0 < 9.7 < phone.end  # spans the agent's 嗯 between the two turns
    assert red.turns[1].text.endswith("[PHONE]")
    assert red.turns[3].text == "[PHONE]。"
    assert phone.word_count == 3  # 一三八， 零零一三， (the agent's 嗯) 八零零零。


def test_email_and_card_kinds(en_call):
    red = redact_report(en_call)
    assert [r.kind for r in red.redactions] == [
        "phone", "bank_card", "email", "phone", "email"]  # fmt: skip
    assert "my email is [EMAIL]." in red.turns[2].text
    assert EN_MAIL not in report_to_json(red)
    only_mail = redact_report(en_call, ["email"])
    assert {r.kind for r in only_mail.redactions} == {"email"}
    assert "4929" in only_mail.turns[2].text


@pytest.mark.parametrize("name", ["zh", "en"])
def test_quotes_coaching_and_exports_carry_no_planted_number(request, name, tmp_path):
    report = request.getfixturevalue(f"{name}_call")
    quotes = [f.quote for p in report.scorecard.practices for f in p.findings]
    assert any(any(leaks(q, v) for v, _ in PLANTED[name]) for q in quotes), (
        "a finding quotes a planted number before redaction"
    )
    red = redact_report(report)
    data = report_to_dict(red)
    rttm = tmp_path / "call.rttm"
    write_rttm(red, rttm)
    vtt = to_vtt(red)
    for value, _ in PLANTED[name]:
        for s in strings(data):
            assert not leaks(s, value), s
        assert not leaks(vtt, value)
        assert value not in rttm.read_text() and value not in report_to_json(red)
    assert any("[" in q for p in red.scorecard.practices for f in p.findings for q in [f.quote])


@pytest.mark.parametrize("name", ["zh", "en"])
def test_scores_do_not_change(request, name):
    report = request.getfixturevalue(f"{name}_call")
    red = redact_report(report)
    a, b = report.scorecard, red.scorecard
    assert (a.overall, a.uncapped, a.capped_by) == (b.overall, b.uncapped, b.capped_by)
    for pa, pb in zip(a.practices, b.practices, strict=True):
        assert (pa.practice, pa.score, pa.weight, pa.critical) == (
            pb.practice, pb.score, pb.weight, pb.critical)  # fmt: skip
        keep = ("start", "end", "kind", "severity", "value", "threshold", "weight", "turn_index")
        for fa, fb in zip(pa.findings, pb.findings, strict=True):
            assert [getattr(fa, k) for k in keep] == [getattr(fb, k) for k in keep]
    assert [t.agitation for t in a.stress.turns] == [t.agitation for t in b.stress.turns]
    # and scoring the report again before redaction gives what the redacted one carries
    rescored = score_report(dataclasses.replace(report, scorecard=None), default_rubric(name))
    assert rescored.scorecard.overall == b.overall
    assert [p.score for p in rescored.scorecard.practices] == [p.score for p in b.practices]


def test_redactions_round_trip_and_old_reports_read(zh_call):
    red = redact_report(zh_call)
    data = json.loads(report_to_json(red))
    assert data["schema_version"] == SCHEMA_VERSION == "1.5"
    assert {r["kind"] for r in data["redactions"]} == {"phone", "cn_id"}
    assert set(data["redactions"][0]) == {"kind", "start", "end", "speaker", "role", "word_count"}
    assert report_from_dict(data) == red
    old = dict(data, schema_version="1.1")
    del old["redactions"]
    assert report_from_dict(old).redactions == ()


def test_redaction_is_idempotent(en_call):
    once = redact_report(en_call)
    assert redact_report(once) == once


# --- audio ------------------------------------------------------------------------------------


def test_redact_audio_silences_the_speakers_channel_only():
    sr = 8000
    t = np.arange(3 * sr) / sr
    x = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 500 * t)]).astype(np.float32) / 2
    before = x.copy()
    out = redact_audio(x, sr, [AudioSpan(1.0, 1.5, channel=1)], pad_s=0.1)
    np.testing.assert_array_equal(x, before)  # input untouched
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], x[0])  # the agent's channel is kept
    assert np.abs(out[1, int(0.9 * sr) : int(1.6 * sr)]).max() == 0.0
    np.testing.assert_array_equal(out[1, : int(0.85 * sr)], x[1, : int(0.85 * sr)])
    np.testing.assert_array_equal(out[1, int(1.65 * sr) :], x[1, int(1.65 * sr) :])
    mono = redact_audio(x[0], sr, [(0.5, 0.6)], pad_s=0.0)
    assert mono.shape == x[0].shape and np.abs(mono[int(0.5 * sr) : int(0.6 * sr)]).max() == 0


def test_write_redacted_wav(zh_call, tmp_path):
    red = redact_report(zh_call)
    spans = audio_spans(red)
    assert {s.channel for s in spans} == {0, 1}  # agent and customer both said numbers
    sr = 16000
    n = int(red.audio.duration * sr)
    rng = np.random.default_rng(0)
    audio = audio_from_array((rng.standard_normal((2, n)) * 0.1).clip(-1, 1), sr)
    path = write_redacted_wav(audio, red, tmp_path / "redacted.wav", pad_s=0.1)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, sr)
    back = load_audio(path).samples
    for s in spans:
        a, b = int(s.start * sr), int(s.end * sr)
        assert np.abs(back[s.channel, a:b]).max() < 1e-3
        assert np.abs(back[1 - s.channel, a:b]).max() > 0.05  # the other side is kept


# --- the real pipeline ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["en_pii", "zh_pii"])
def test_planted_pii_never_reaches_the_report_or_exports(analyzed, name, tmp_path):
    """Invariants that hold whatever Whisper hears on this CPU (it may garble the words that
    name a number, or a digit: 身份证号是 heard as 全份正号是): no digit run of six or more
    survives anywhere, and each planted number is marked where it was said, by some kind."""
    report, expected = analyzed(name)
    assert "redact" in report.timings
    data = report_to_dict(report)
    vtt = to_vtt(report)
    rttm = tmp_path / "call.rttm"
    write_rttm(report, rttm)
    texts = [*transcript_strings(data), *vtt_text_lines(vtt)]
    for s in texts:
        assert not long_runs(s), s
    for planted in expected["pii"]:
        value = planted["value"]
        for s in texts:
            assert value not in s and not leaks(s, value, piece=6), s
        assert value not in rttm.read_text()
        # the span is marked where it was said, by the customer
        hits = [r for r in report.redactions
                if r.start < planted["end"] and r.end > planted["start"]]  # fmt: skip
        assert hits, f"nothing redacted at {planted['start']}-{planted['end']} s"
        assert all(r.role is Role.CUSTOMER for r in hits)
        assert {r.kind for r in hits} <= {*PII_KINDS, "number"} - {"email"}
    customer = " ".join(t.text for t in report.turns if t.role is Role.CUSTOMER)
    assert re.search(r"\[(PHONE|CN_ID|BANK_CARD|NUMBER)\]", customer), customer


@pytest.mark.parametrize("name", ["en_stereo_mulaw", "zh_stereo", "en_mono"])
def test_complaint_calls_hold_no_pii(analyzed, name):
    """False-positive guard on real transcripts: prices, days, counts and times are kept."""
    report, _ = analyzed(name)
    assert report.redactions == ()
    assert not any("[" in t.text for t in report.turns)


def test_redaction_off_keeps_the_numbers(settings, models, analyzed):
    from calmline.pipelines.batch import BatchPipeline

    redacted, _ = analyzed("en_pii")
    off = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"redact": False})}
    )
    plain = BatchPipeline(off, models).analyze(SAMPLES / "en_pii.wav")
    assert plain.redactions == () and "redact" not in plain.timings
    customer = " ".join(t.text for t in plain.turns if t.role is Role.CUSTOMER)
    assert long_runs(customer), "the numbers the customer said are kept as heard"
    assert not re.search(r"\[(PHONE|CN_ID|BANK_CARD|NUMBER|EMAIL)\]", customer)
    # redaction changes no score (the same transcript, redacted afterwards)
    again = redact_report(plain).scorecard
    assert (again.overall, [p.score for p in again.practices]) == (
        plain.scorecard.overall, [p.score for p in plain.scorecard.practices])  # fmt: skip
    assert abs(plain.scorecard.overall - redacted.scorecard.overall) <= 15


# --- whole digit runs (issue 11) --------------------------------------------------------------


def test_a_run_is_redacted_whole_when_a_rule_fires_on_part_of_it():
    # Whisper heard 身份证号是110105198803151232 as 全份正号是1010…32: the mobile-number form
    # inside the run must not leave the digits around it readable
    assert redact_text("1010 13800138000 32") == "[PHONE]"
    assert redact_text("全份正号是1010 13800138000 32。") == "全份正号是[PHONE]。"
    said = "my number is four one five five five five zero one three two nine nine"
    assert redact_text(said) == "my number is [PHONE]"
    assert redact_text(said.replace("my number is ", "")) == "[PHONE]"
    mixed = "卡号 4929 three eight one two 五四七六 double three 1 0 9"
    assert not [r for r in digit_runs(redact_text(mixed)) if r]


def test_a_resident_id_is_cn_id_without_the_word():
    for value in ("110105198803151232", "11010519491231002X"):
        assert [m.kind for m in find_pii(words("it's", value))] == ["cn_id"]
    spoken = words(*"一一零一零五一九八八零三一五一二三二")  # one character a word
    assert [(m.kind, m.value) for m in find_pii(spoken)] == [("cn_id", "110105198803151232")]


def test_international_numbers_are_validated():
    assert [m.kind for m in find_pii(words("+44", "20", "7946", "0958"))] == ["phone"]
    assert [m.kind for m in find_pii(words("plus", "86", "138", "0013", "8000"))] == ["phone"]
    assert [m.kind for m in find_pii(words("0044", "20", "7946", "0958"))] == ["phone"]
    # eight to fifteen digits after + are no longer a phone number by themselves
    assert [m.kind for m in find_pii(words("+", "999", "1234", "5678"))] == ["number"]
    assert [m.kind for m in find_pii(words("+", "999", "1234", "5678"), ["phone"])] == ["number"]
    assert find_pii(words("+", "999", "1234", "5678"), long_numbers=False) == []


def test_audio_is_silenced_over_the_whole_run(tmp_path):
    """The misheard ID of the issue: every word of the run is silenced, not only the part a
    rule named (its first and last digits were audible before)."""
    report = call(
        "zh",
        (A, 0.5, 4.0, "您好，请问有什么可以帮您？"),
        (C, 4.5, 10.0, "全份正号是1010，13800138000，32。谢谢。"),
    )
    red = redact_report(report)
    said = [w for w in report.turns[1].words if any(c.isdigit() for c in w.text)]
    assert len(said) == 5 and said[0].text.startswith("1010")
    (span,) = audio_spans(red)
    assert (span.start, span.end, span.channel) == (said[0].start, said[-1].end, 1)
    sr = 16000
    n = int(red.audio.duration * sr)
    rng = np.random.default_rng(1)
    audio = audio_from_array((rng.standard_normal((2, n)) * 0.1).clip(-1, 1), sr)
    back = load_audio(write_redacted_wav(audio, red, tmp_path / "r.wav", pad_s=0.0)).samples
    for w in said:
        assert np.abs(back[1, int(w.start * sr) : int(w.end * sr)]).max() < 1e-3, w
    thanks = report.turns[1].words[-1]
    assert np.abs(back[1, int(thanks.start * sr) + 1 : int(thanks.end * sr)]).max() > 0.05


def _inject(session, track: str, start: float, end: float, said: str) -> None:
    """An utterance of ``track`` transcribed as the words of ``said``: what the transcription
    worker hands the session (words spread over the utterance)."""
    from calmline.pipelines.live import Utterance

    texts = said.split()
    step = (end - start) / len(texts)
    ws = tuple(
        Word(round(start + k * step, 3), round(start + (k + 1) * step, 3), t, 0.9)
        for k, t in enumerate(texts)
    )
    tr = session.tracks[track]
    with session._lock:
        utt = Utterance(len(session.utterances), track, tr.role, tr.channel, start, end, end, 0)
        session.utterances.append(utt)
        session._join_turn(utt)
        session._pending += 1
    session._transcribed(utt, ws, None)


@contextlib.contextmanager
def _live_session(settings, pipeline, call_id: str, events: list):
    """A live English call whose events go to ``events``, both tracks 14 s into silence."""
    from calmline.pipelines.live import CallMeta, StreamingPipeline

    sp = StreamingPipeline(settings, batch=pipeline)
    try:
        session = sp.open_session(
            CallMeta(call_id=call_id, agent_id="a1", language="en"), on_event=events.append
        )
        silence = np.zeros(8000 * 14, dtype=np.float32)
        for track in ("agent", "customer"):
            session.accept(track, silence)
        yield session
    finally:
        sp.close()


def test_live_feed_redacts_a_number_said_across_two_utterances(settings, pipeline):
    """A card number said in two breaths goes out redacted whole: the first utterance is held
    back until the second shows where the run ends; a run nobody continues is released once
    the speaker has been silent for longer than the pause that splits a number."""
    events = []
    with _live_session(settings, pipeline, "live-held", events) as session:

        def said():
            return [e.data["text"] for e in events if e.type == "transcript"]

        _inject(session, "customer", 1.0, 3.0, "my card number is four nine two nine")
        assert said() == []  # held: the run may go on
        assert session.snapshot()["transcript"] == []
        rest = "three eight one two five four seven six three one zero nine."
        _inject(session, "customer", 3.8, 7.0, rest)
        assert said() == ["my card number is [BANK_CARD]"]  # the second may go on too
        session.accept("agent", np.zeros(160, dtype=np.float32))  # the call moves on
        first, second = said()
        assert second == "[BANK_CARD]."
        assert not digit_runs(first + " " + second)
        _inject(session, "customer", 8.0, 9.5, "and my phone is one three eight")
        assert len(said()) == 2
        session.accept("agent", np.zeros(160, dtype=np.float32))
        assert said()[2] == "and my phone is one three eight"  # three digits: nothing to hide
        report = session.close()
    assert [r.kind for r in report.redactions] == ["bank_card"]
    texts = " ".join(t.text for t in report.turns)
    assert "[BANK_CARD]" in texts and not long_runs(texts)


def test_live_feed_redacts_the_last_chunk_of_a_number_read_out_slowly(settings, pipeline):
    """The chunk said after a pause longer than a number's own (a real caller: "715 139 …
    0787") goes out redacted too: its utterance is redacted with the one before it."""
    events = []
    with _live_session(settings, pipeline, "live-slow", events) as session:
        _inject(session, "customer", 1.0, 3.0, "my phone number is seven one five one three nine")
        session.accept("agent", np.zeros(160, dtype=np.float32))  # released after the pause
        _inject(session, "customer", 7.5, 8.5, "zero seven eight seven.")
        session.accept("agent", np.zeros(160, dtype=np.float32))
        texts = [e.data["text"] for e in events if e.type == "transcript"]
        report = session.close()
    assert len(texts) == 2
    assert not digit_runs(texts[1]) and texts[1].startswith("[")
    assert not re.search(r"\b(?:zero|seven|eight)\b", texts[1])
    kinds = [r.kind for r in report.redactions]
    assert len(kinds) == 2 and kinds[0] == kinds[1]


def test_calmlines_own_times_in_a_finding_survive_redaction():
    """A finding's detail names the turns' times ("21.4 s to 54.4 s"): written as a range of
    digits they read as one long number and were redacted as [NUMBER]."""
    from tests.test_detectors_text import A, C, call

    report = call(
        "en",
        (A, 20.0, 21.4, "Hello, this is Anna, how can I help you?"),
        (C, 22.0, 40.0, "My card was charged twice for the same order last week."),
        (A, 40.5, 48.0, "I have refunded the second charge. Is there anything else?"),
        (C, 48.5, 50.0, "No, that's all."),
        (A, 50.5, 54.4, "Okay, bye bye."),
    )
    red = redact_report(score_report(report, default_rubric("en")))
    found = [f for p in red.scorecard.practices for f in p.findings]
    (closing,) = [f for f in found if f.kind == "closing_incomplete"]
    assert re.search(r"\d+\.\d s to 54\.4 s\)", closing.detail)
    assert "[NUMBER]" not in closing.detail
