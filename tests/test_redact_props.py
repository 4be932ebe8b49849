"""Property tests (hypothesis) for PII redaction: the validators, the digit tokeniser and the
arithmetic of redacted spans (whole runs, spans across word groups, idempotence).

Texts are built from digits written or spoken (en words, zh characters, ``double``), with
separators, fillers and ordinary words between them; they are read back with the independent
reader of ``tests/pii.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools

import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from calmline.monitor.digits import DigitReader, digit_spans
from calmline.monitor.redact import (
    classify_digits,
    cn_id_check_char,
    find_pii,
    is_cn_id,
    is_phone,
    luhn_ok,
    redact_text,
    redact_word_groups,
    redact_words,
)
from calmline.monitor.types import Word
from tests.pii import digit_runs, long_runs

EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ZH = "零一二三四五六七八九"
AREAS = ("110105", "310101", "440305", "510104", "330106", "120101", "210102", "420102")
"""County codes of real resident ID numbers (Beijing, Shanghai, Shenzhen, Chengdu …)."""
WORDS = ("hello", "my", "card", "number", "is", "okay", "thanks", "please", "的", "号", "是", "好")
SEPARATORS = (" ", " ", " - ", ", ", "，", "、", " uh ", " 嗯 ")

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=24)


def _luhn_reference(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def _check_digit(body: str) -> str:
    return next(str(d) for d in range(10) if _luhn_reference(body + str(d)))


# --- validators -----------------------------------------------------------------------------


@given(digit_strings)
def test_luhn_agrees_with_the_reference(digits):
    assert luhn_ok(digits) == _luhn_reference(digits)


@given(st.text(alphabet="0123456789", min_size=12, max_size=18), st.data())
def test_a_luhn_valid_card_is_a_card_and_one_wrong_digit_is_not(body, data):
    assume(body[0] != "0")
    card = body + _check_digit(body)
    assert luhn_ok(card)
    expected = "cn_id" if len(card) == 18 and is_cn_id(card) else "bank_card"
    assert classify_digits(card) == expected
    i = data.draw(st.integers(0, len(card) - 1))
    d = data.draw(st.sampled_from([c for c in "0123456789" if c != card[i]]))
    assert not luhn_ok(card[:i] + d + card[i + 1 :])  # Luhn catches every single-digit error


@st.composite
def resident_ids(draw) -> str:
    area = draw(st.sampled_from(AREAS))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date.today()))
    seq = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    first17 = f"{area}{born:%Y%m%d}{seq}"
    return first17 + cn_id_check_char(first17)


@given(resident_ids(), st.data())
def test_a_resident_id_is_cn_id_and_one_wrong_character_is_not(value, data):
    assert is_cn_id(value) and classify_digits(value) == "cn_id"
    assert [m.kind for m in find_pii([value])] == ["cn_id"]  # no context word needed
    i = data.draw(st.integers(0, 17))
    alphabet = "0123456789X" if i == 17 else "0123456789"
    c = data.draw(st.sampled_from([c for c in alphabet if c != value[i]]))
    assert not is_cn_id(value[:i] + c + value[i + 1 :])  # MOD 11-2 catches each substitution


@given(st.text(alphabet="0123456789", min_size=7, max_size=15))
def test_after_plus_only_a_valid_international_number_is_a_phone(digits):
    assume(digits[0] != "0")
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        valid = False
    assert is_phone(digits, plus=True) == (valid or is_phone(digits))


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
@settings(max_examples=60)
def test_example_numbers_of_every_region_are_phones_after_plus(region):
    example = phonenumbers.example_number(region)
    assume(example is not None)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert is_phone(e164[1:], plus=True)
    assert [m.kind for m in find_pii([e164])] == ["phone"]


# --- the tokeniser --------------------------------------------------------------------------


@st.composite
def said_digits(draw, digits: str | None = None) -> tuple[str, str]:
    """(digits, a text saying them: numerals, en words, zh characters, double/triple)."""
    if digits is None:
        digits = draw(st.text(alphabet="0123456789", min_size=1, max_size=22))
    parts: list[tuple[str, str]] = []  # (form, text)
    i = 0
    while i < len(digits):
        form = draw(st.sampled_from(["written", "en", "zh"]))
        same = len(digits) - i - len(digits[i:].lstrip(digits[i]))
        if form == "en" and same >= 2 and draw(st.booleans()):
            n = draw(st.integers(2, min(3, same)))
            parts.append(("en", f"{'double' if n == 2 else 'triple'} {EN[int(digits[i])]}"))
            i += n
            continue
        n = draw(st.integers(1, min(4, len(digits) - i)))
        chunk = digits[i : i + n]
        if form == "written":
            parts.append((form, chunk))
        elif form == "zh":
            parts.append((form, "".join(ZH[int(c)] for c in chunk)))
        else:
            parts.append((form, " ".join(EN[int(c)] for c in chunk)))
        i += n
    text = parts[0][1]
    for (f0, _), (f1, t1) in itertools.pairwise(parts):
        glue_ok = f0 != "en" and f1 != "en" and not (f0 == f1 == "written")
        sep = draw(st.sampled_from(SEPARATORS + (("",) if glue_ok else ())))
        text += sep + t1
    return digits, text


@given(said_digits())
def test_the_tokeniser_reads_every_digit_and_where_it_was_said(said):
    digits, text = said
    (span,) = digit_spans([text])
    assert span.digits == digits
    assert (span.first_word, span.start_char, span.last_word) == (0, 0, 0)
    assert span.end_char == len(text)
    heard = text.replace(" uh ", " ").replace(" 嗯 ", " ")  # the reader stops at fillers
    assert digit_runs(heard) == [digits] or "double" in text or "triple" in text


@given(st.lists(said_digits(), min_size=1, max_size=4), st.data())
def test_runs_split_at_words_and_long_pauses(runs, data):
    words: list[Word] = []
    t = 0.0
    for k, (_, text) in enumerate(runs):
        if k:
            gap = data.draw(st.sampled_from([0.1, 3.0]))
            if gap < 1:
                words.append(Word(t, t + 0.2, data.draw(st.sampled_from(WORDS[:8])), 0.9))
                t += 0.2
            t += gap
        words.append(Word(t, t + 1.0, text, 0.9))
        t += 1.0
    reader = DigitReader([w.text for w in words], [(w.start, w.end) for w in words], 2.5)
    assert [r.digits for r in reader.runs()] == [d for d, _ in runs]


# --- span arithmetic ------------------------------------------------------------------------


@st.composite
def utterances(draw) -> list[Word]:
    """Words of one speaker: ordinary words, markers of an earlier redaction and digit runs
    (one Whisper token or several), short pauses between them."""
    texts: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["word", "word", "marker", "digits"]))
        if kind == "word":
            texts.append(draw(st.sampled_from(WORDS)))
        elif kind == "marker":
            texts.append(draw(st.sampled_from(["[PHONE]", "[NUMBER]", "[CN_ID]"])))
        else:
            _, text = draw(said_digits())
            cut = draw(st.booleans())
            texts += text.split(" ") if cut else [text]
    texts = [t for t in texts if t]
    assume(texts)
    out, t = [], 0.0
    for text in texts:
        out.append(Word(round(t, 3), round(t + 0.3, 3), text, 0.9))
        t += 0.3 + draw(st.sampled_from([0.0, 0.1, 0.5]))
    return out


def _joined(words) -> str:
    return " ".join(w.text for w in words)


def _no_dates(words) -> bool:
    reader = DigitReader([w.text for w in words], [(w.start, w.end) for w in words], 2.5)
    return not any(reader.is_date(r) for r in reader.runs())


@given(utterances())
@settings(max_examples=150)
def test_no_long_run_survives_and_redaction_is_idempotent(words):
    assume(_no_dates(words))
    out, matches = redact_words(words)
    assert not long_runs(_joined(out)), _joined(out)
    again, more = redact_words(out)
    assert again == out and more == []
    # marker words keep the times of what they replace; the rest is untouched and in order
    assert out[0].start == words[0].start and max(w.end for w in out) == words[-1].end
    assert [w.start for w in out] == sorted(w.start for w in out)
    kept = [w for w in out if w in words]
    assert len(kept) + sum(m.last_word - m.first_word + 1 for m in matches) >= len(words)
    # the same holds for plain text
    text = _joined(words)
    red = redact_text(text)
    assert not long_runs(red) and redact_text(red) == red


@given(utterances())
@settings(max_examples=150)
def test_a_run_is_one_span_from_its_first_to_its_last_digit(words):
    assume(_no_dates(words))
    reader = DigitReader([w.text for w in words], [(w.start, w.end) for w in words], 2.5)
    runs = [reader.span(r) for r in reader.runs() if len(r.digits) >= 6]
    matches = find_pii(words)
    assert [(m.first_word, m.start_char, m.last_word, m.end_char) for m in matches] == [
        (s.first_word, s.start_char, s.last_word, s.end_char) for s in runs
    ]
    for a, b in itertools.pairwise(matches):
        assert (a.last_word, a.end_char) <= (b.first_word, b.start_char)  # never overlapping


@given(utterances(), st.data())
@settings(max_examples=150)
def test_groups_are_redacted_as_one_sequence(words, data):
    assume(_no_dates(words))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(words) - 1)), max_size=3)))
    groups, last = [], 0
    for c in [*cuts, len(words)]:
        if c > last:
            groups.append(words[last:c])
            last = c
    out = redact_word_groups(groups)
    assert len(out) == len(groups)
    assert not long_runs(_joined([w for g in out for w in g]))
    whole, _ = redact_words(words)
    # the same words are kept as when the sequence is redacted in one piece
    assert [w for g in out for w in g if w in words] == [w for w in whole if w in words]
    for g_in, g_out in zip(groups, out, strict=True):
        if g_out:
            assert g_out[0].start >= g_in[0].start and g_out[-1].end <= g_in[-1].end + 1e-9


@given(
    st.text(alphabet="0123456789", max_size=6),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.text(alphabet="0123456789", max_size=6),
)
def test_a_rule_on_part_of_a_run_redacts_all_of_it(before, mobile, after):
    text = " ".join(p for p in (before, "13" + mobile, after) if p)
    (m,) = find_pii([text])
    assert (m.start_char, m.end_char) == (0, len(text))
    assert m.kind != "number"
    assert redact_text(text) == f"[{m.kind.upper()}]"
