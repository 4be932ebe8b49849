"""PII redaction: phone numbers, Chinese resident ID numbers, bank card numbers and e-mail
addresses, in Mandarin and English transcripts, written as digits or spoken as words.

Whisper words are tokens: a number may arrive as ``"138-"``, ``"0013"``, ``"8000."``, as
``"一三八"`` ``"零零一三"``, as ``"one"`` ``"three"`` ``"eight"`` … or inside a token with other
text (``"号码是138"``). Detection therefore runs over a *speaker's whole word sequence* (across
their turns, so a number dictated in two breaths around the agent's "okay" is still one number),
cut into units: digit runs, English digit words (``zero``/``oh``/``o`` … ``nine``, ``double``,
``triple``, ``hundred`` after a digit), Mandarin digit characters (零〇一幺二两三四五六七八九),
full-width digits, Latin words and single CJK characters, separators.

Digit sequences
    Consecutive digit units joined only by separators (space, ``- – — . , ， 、 。 / ( )``), by
    at most two fillers (uh, um, 呃, 嗯 …) and by pauses of at most ``max_gap_s`` form a run.
    Money and percentages (``$1,299``, ``1,234,567``, ``15%``) and Mandarin numbers with place
    characters (十百千万: 一千三百, 两个月) are quantities and never join a run. A run shorter than
    :data:`MIN_DIGITS` (7) digits is never PII. A longer run is classified, first as a whole, then
    piece by piece (longest first, at token boundaries), by these exact rules in order:

    * ``cn_id``: 18 characters with a valid province code, birth date (1900 to this year) and
      ISO 7064 MOD 11-2 check character (``X`` spoken as x/ex/叉 is accepted at the end);
    * ``bank_card``: 13-19 digits, not starting with 0, passing the Luhn check;
    * ``cn_id``: 15 digits (legacy ID) with a valid province code and birth date, or 18 digits
      with a valid province code and birth date but a wrong check digit (a misheard digit);
    * ``phone``: Chinese mobile ``1[3-9]`` + 9 digits (optionally after 86 / 0086), or with one
      digit lost in recognition (10 digits); Chinese landline with area code (``010``/``02x`` + 8,
      ``0xxx`` + 7-8); 400/800 service numbers; North American numbers (``[2-9]xx [2-9]xx xxxx``,
      optionally after 1); international numbers after ``+``/plus (8-15 digits) or ``00``.

    The North American and near-miss mobile forms are skipped for a run named an order,
    tracking, reference, case or ticket number (订单, 单号, 快递, 工单, 编号): many 10-digit order
    numbers take that form. Where no exact rule matches, a context word in the words around
    the run decides (身份证,
    "ID number" -> ``cn_id`` for 15-18 characters; 卡号, 银行卡, card, account -> ``bank_card``
    for 12-19; 电话, 手机, phone, mobile, "my number" -> ``phone`` for 7-15, unless the run is
    named an order, tracking, case or ticket number). So a local number without an area code
    ("555 0132", 8765 4321) is redacted when it is said to be a number to call, and a
    misrecognised card or ID number still is when it is said to be one.

    A run of at least 4 digits that is part of a number redacted elsewhere in the same call
    (身份证尾号1232, "the one ending in oh one three two") is redacted as that number's kind.

E-mail addresses
    ``local @ domain`` written (``john.smith@example.com``) or spoken: ``at`` / 艾特 for ``@``;
    ``dot`` / 点 for ``.``; ``underscore`` / 下划线, ``dash`` / ``hyphen`` for ``_`` and ``-``;
    spelled letters joined. A spoken address needs a dot and a known top-level domain (com, cn,
    net, org …), so "at home" or "look at that" never match.

Marking: every PII span becomes **one marker word** (``[PHONE]``, ``[CN_ID]``, ``[BANK_CARD]``,
``[EMAIL]``) covering the times of the words it replaces (its probability is their mean); text
of the first and last word outside the span is kept around the marker (``号码是[PHONE]。``). The
report lists each span in ``CallReport.redactions`` (kind, times, speaker, role, how many words)
— never the original text. Findings' quotes, details, coaching sentences and every other
transcript-derived string are scrubbed too: the spans' original text, fresh detection, and
fragments of a redacted number or address cut by a quote's ``…``. Redaction runs after scoring
and changes no number in the scorecard.

Audio: :func:`redact_audio` silences the redacted spans (padded, on the speaker's own channel
when the channel is known) and :func:`write_redacted_wav` writes the redacted call for export.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from calmline.monitor.audio import write_wav
from calmline.monitor.types import (
    Audio,
    CallReport,
    Finding,
    Redaction,
    RoleEvidence,
    Scorecard,
    StressTrajectory,
    Word,
)

PII_KINDS: tuple[str, ...] = ("phone", "cn_id", "bank_card", "email")
"""Kinds of PII Calmline detects, in the order they are documented."""

MIN_DIGITS = 7
"""Digit runs shorter than this are never PII (quantities, prices, times, short codes)."""

MIN_FRAGMENT_DIGITS = 4
"""A run this long that is part of a number redacted elsewhere in the call is redacted too."""

MAX_GAP_S = 2.5
"""A longer pause between two words of a number or an address splits it."""


def marker(kind: str) -> str:
    """The text that stands in for a redacted span of ``kind``, e.g. ``[PHONE]``.

    Upper case, so that rich's console markup (``[bold]`` …) never takes a marker for a tag.
    """
    return f"[{kind.upper()}]"


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------

_EN_DIGITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "niner": "9",
}
_ZERO_LETTERS = {"oh", "o"}
"""Digit words that are also ordinary words: digits only beside another digit."""

_ZH_DIGITS = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "兩": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_MULTIPLIERS = {"double": 2, "triple": 3}
_FILLERS = {"uh", "um", "er", "erm", "ah", "uhm", "hmm", "mm", "呃", "嗯", "额", "啊"}
_RUN_SEPARATORS = set("-–—‐‑‒.．,，、。/()（）·")
_CHECK_X = {"x", "ex", "叉"}

_DOT_WORDS = {".", "．", "。", "dot", "点", "點"}
_CONNECTOR_WORDS = {"_", "-", "–", "underscore", "dash", "hyphen"}
_CJK_CONNECTORS = (("下", "划", "线"), ("下", "横", "线"), ("横", "杠"), ("杠",))
_AT_SIGNS = {"@", "＠"}
_TLDS = frozenset({
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "io", "ai",
    "co", "me", "tv", "cc", "app", "dev", "xyz", "top", "vip", "site", "online", "tech", "club",
    "shop", "store", "email", "mail", "cloud", "live", "life", "work", "cn", "hk", "tw", "mo",
    "jp", "kr", "sg", "us", "uk", "ca", "au", "nz", "de", "fr", "it", "es", "nl", "be", "ch",
    "at", "se", "no", "dk", "fi", "ie", "pl", "ru", "in", "br", "mx", "za",
})  # fmt: skip
"""Top-level domains a spoken address may end in (a written one may end in any)."""

_TOKEN = re.compile(
    r"(?P<num>\d+)"
    r"|(?P<latin>[A-Za-z\uff21-\uff3a\uff41-\uff5a]+(?:'[A-Za-z]+)?)"
    r"|(?P<cjk>[\u3400-\u9fff\uf900-\ufaff〇○])"
    r"|(?P<other>[^\s])"
)
_QUANTITY = re.compile(
    r"[$¥￥€£]\s?\d[\d,.]*"
    r"|\d[\d,.]*\s?(?:%|％|‰)"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
)
_PLACE_CHARS = set("十百千万亿拾佰仟萬億")


@dataclass(slots=True)
class _Unit:
    kind: str
    """``digit`` (a digit string), ``word`` (Latin word or one CJK character), ``sep``
    (punctuation) or ``qty`` (digits inside a money amount or percentage)."""
    text: str
    """Digits for ``digit``; lower-case NFKC text otherwise."""
    pos: int
    """Index of the word the unit comes from."""
    a: int
    b: int
    """Character span inside that word's text."""
    spoken: bool = False
    """A digit said as a word (one, 一 …) rather than written as a numeral."""


def _units(texts: Sequence[str]) -> list[_Unit]:
    out: list[_Unit] = []
    for pos, text in enumerate(texts):
        quantities = [(m.start(), m.end()) for m in _QUANTITY.finditer(text)]
        for m in _TOKEN.finditer(text):
            a, b = m.span()
            group = m.lastgroup
            token = unicodedata.normalize("NFKC", m.group()).lower()
            if group == "num":
                inside = any(qa <= a and b <= qb for qa, qb in quantities)
                digits = "".join(str(unicodedata.decimal(c, 0)) for c in m.group())
                out.append(_Unit("qty" if inside else "digit", digits, pos, a, b))
            elif group == "cjk":
                if token in _ZH_DIGITS:
                    out.append(_Unit("digit", _ZH_DIGITS[token], pos, a, b, spoken=True))
                else:
                    out.append(_Unit("word", token, pos, a, b))
            elif group == "latin":
                out.append(_Unit("word", token, pos, a, b))
            else:
                out.append(_Unit("sep", token, pos, a, b))
    # Mandarin numbers written with place characters (一千三百, 两个, 十一) are quantities.
    for i, u in enumerate(out):
        if u.kind == "digit" and u.spoken:
            before = out[i - 1] if i else None
            after = out[i + 1] if i + 1 < len(out) else None
            if any(
                n is not None and n.kind == "word" and n.text in _PLACE_CHARS and _glued(u, n)
                for n in (before, after)
            ):
                u.kind = "qty"
    return out


def _glued(x: _Unit, y: _Unit) -> bool:
    """Two units side by side in one word, nothing between them."""
    if x.pos != y.pos:
        return False
    return x.b == y.a or y.b == x.a


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83", "91",
}  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= _dt.date.today().year or not 1 <= month <= 12:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def cn_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of an 18-character resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_cn_id(value: str, *, check: bool = True) -> bool:
    """A Chinese resident ID number: 18 characters (province code, birth date, sequence,
    check character ``0-9``/``X``) or the 15-digit legacy form (two-digit birth year)."""
    value = value.upper()
    if len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X"):
        if value[:2] not in _PROVINCES:
            return False
        if not _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14])):
            return False
        return not check or cn_id_check_char(value[:17]) == value[17]
    if len(value) == 15 and value.isdigit():
        return value[:2] in _PROVINCES and _valid_date(
            1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])
        )
    return False


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_bank_card(digits: str) -> bool:
    """13-19 digits, no leading zero, Luhn-valid."""
    return 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_ok(digits)


_PHONE = re.compile(
    r"(?:0086|86)?1[3-9]\d{9}"  # Chinese mobile
    r"|0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8}"  # Chinese landline with area code
    r"|[48]00\d{7}"  # 400 / 800 service numbers
    r"|00[1-9]\d{7,13}"  # international, 00 prefix
)
_BROAD_PHONE = re.compile(
    r"1?[2-9]\d{2}[2-9]\d{6}"  # North American numbering plan
    r"|1[3-9]\d{8}"  # Chinese mobile with one digit lost in recognition
)
"""Forms that many 10-11 digit strings take: not used for a run named an order, tracking,
case or ticket number."""


def is_phone(digits: str, *, plus: bool = False, broad: bool = True) -> bool:
    """A telephone number by its digits alone (see the module docstring for the forms);
    ``plus``: the number was introduced by ``+`` or "plus" (international form); ``broad``:
    also the North American and near-miss mobile forms."""
    if not digits.isdigit():
        return False
    if plus and 8 <= len(digits) <= 15 and digits[0] != "0":
        return True
    if _PHONE.fullmatch(digits):
        return True
    return broad and _BROAD_PHONE.fullmatch(digits) is not None


def classify_digits(value: str, *, plus: bool = False, broad: bool = True) -> str | None:
    """The PII kind of a digit string by exact rules only (no context), or ``None``;
    ``broad``: see :func:`is_phone`."""
    if len(value) < MIN_DIGITS:
        return None
    if "X" in value.upper():
        return "cn_id" if is_cn_id(value) else None
    if is_cn_id(value) and len(value) == 18:
        return "cn_id"
    if is_bank_card(value):
        return "bank_card"
    if is_cn_id(value, check=False):
        return "cn_id"
    if is_phone(value, plus=plus, broad=broad):
        return "phone"
    return None


_CONTEXT_RANGES = {"cn_id": (15, 18), "bank_card": (12, 19), "phone": (7, 15)}
_CTX_ZH = {
    # 份证: the 身 of 身份证 is often lost at the start of an utterance
    "cn_id": re.compile(r"身份证|份证号|证件号|身份号|身份信息"),
    "bank_card": re.compile(r"卡号|银行卡|信用卡|借记卡|储蓄卡|银行|账号|帐号|账户|卡的号"),
    "phone": re.compile(r"电话|手机|座机|联系方式|致电|打给|拨打|回电"),
    "weak_phone": re.compile(r"号码|号是"),
    "not_phone": re.compile(r"订单|单号|快递|工单|编号|批次|型号"),
}
_CTX_EN = {
    "cn_id": re.compile(r"\b(?:id|identity|identification|resident|citizen)\b"),
    "bank_card": re.compile(
        r"\b(?:card|credit|debit|visa|mastercard|amex|unionpay|account|bank|iban)\b"
    ),
    "phone": re.compile(
        r"\b(?:phone|cell|cellphone|mobile|telephone|landline|dial|contact|callback|"
        r"call (?:me|you|us|him|her|back)|reach (?:me|you|us|him|her)|text me)\b"
    ),
    "weak_phone": re.compile(r"\b(?:(?:my|your|his|her|our|the|a) number|number is)\b"),
    "not_phone": re.compile(
        r"\b(?:order|tracking|reference|case|ticket|invoice|serial|confirmation|model|policy)\b"
    ),
}


def _context_kinds(units: Sequence[_Unit], first: int, last: int) -> set[str]:
    """Kinds that words said just before (12 words) or after (6 words) a run point to."""
    window: list[_Unit] = []
    count = 0
    for u in reversed(units[:first]):
        if u.kind == "word":
            window.insert(0, u)
            count += 1
            if count >= 12:
                break
    count = 0
    for u in units[last + 1 :]:
        if u.kind == "word":
            window.append(u)
            count += 1
            if count >= 6:
                break
    zh = "".join(u.text for u in window)
    en = " ".join(u.text for u in window)
    kinds = set()
    for kind in ("cn_id", "bank_card", "phone"):
        if _CTX_ZH[kind].search(zh) or _CTX_EN[kind].search(en):
            kinds.add(kind)
    weak = _CTX_ZH["weak_phone"].search(zh) or _CTX_EN["weak_phone"].search(en)
    negated = _CTX_ZH["not_phone"].search(zh) or _CTX_EN["not_phone"].search(en)
    if weak and not negated:
        kinds.add("phone")
    if negated and "phone" not in kinds:
        kinds.add("not_phone")
    return kinds


def _classify_by_context(value: str, kinds: set[str]) -> str | None:
    for kind in ("cn_id", "bank_card", "phone"):
        lo, hi = _CONTEXT_RANGES[kind]
        if kind in kinds and lo <= len(value) <= hi:
            if "X" in value.upper() and kind != "cn_id":
                continue
            return kind
    return None


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One PII span in a word sequence.

    ``value`` (the normalised digits or address) is for the caller's own use while redacting;
    it is never written into a report.
    """

    kind: str
    first_word: int
    start_char: int
    """Offset of the span in ``words[first_word]``'s text."""
    last_word: int
    end_char: int
    """End offset (exclusive) of the span in ``words[last_word]``'s text."""
    value: str


@dataclass(slots=True)
class _Item:
    digits: str
    first: int
    last: int
    """Unit indices (inclusive)."""


@dataclass(slots=True)
class _Run:
    items: list[_Item]
    plus: bool = False


class _Detector:
    def __init__(
        self, texts: Sequence[str], times: Sequence[tuple[float, float]], max_gap_s: float
    ) -> None:
        self.texts = texts
        self.times = times
        self.max_gap_s = max_gap_s
        self.units = _units(texts)

    # -- helpers ------------------------------------------------------------------------------

    def gap_ok(self, i: int, j: int) -> bool:
        """Units ``i`` < ``j`` are close enough in time to belong to one number/address."""
        pi, pj = self.units[i].pos, self.units[j].pos
        if pi == pj:
            return True
        return self.times[pj][0] - self.times[pi][1] <= self.max_gap_s

    def _digit_word(self, i: int) -> str | None:
        u = self.units[i]
        if u.kind == "digit":
            return u.text
        if u.kind == "word" and u.text in _EN_DIGITS:
            if u.text in _ZERO_LETTERS and not (
                self._digitish(i - 1, -1) or self._digitish(i + 1, 1)
            ):
                return None
            return _EN_DIGITS[u.text]
        return None

    def _digitish(self, i: int, step: int) -> bool:
        """A digit, a digit word that is not also a letter, or a multiplier: the first unit
        from ``i`` on in direction ``step`` that is not a separator."""
        units = self.units
        while 0 <= i < len(units) and units[i].kind == "sep" and units[i].text in _RUN_SEPARATORS:
            i += step
        if not 0 <= i < len(units):
            return False
        u = units[i]
        if u.kind == "digit":
            return True
        return u.kind == "word" and (
            (u.text in _EN_DIGITS and u.text not in _ZERO_LETTERS) or u.text in _MULTIPLIERS
        )

    def _item_at(self, i: int) -> tuple[_Item, int] | None:
        """A digit item starting at unit ``i`` and the index after it."""
        units = self.units
        u = units[i]
        if u.kind == "word" and u.text in _MULTIPLIERS and i + 1 < len(units):
            d = self._digit_word(i + 1)
            if d is not None and len(d) == 1 and self.gap_ok(i, i + 1):
                return _Item(d * _MULTIPLIERS[u.text], i, i + 1), i + 2
            return None
        d = self._digit_word(i)
        if d is None:
            return None
        return _Item(d, i, i), i + 1

    # -- digit runs ---------------------------------------------------------------------------

    def runs(self) -> list[_Run]:
        units = self.units
        runs: list[_Run] = []
        cur: _Run | None = None
        fillers = 0
        plus_at: int | None = None
        i = 0
        while i < len(units):
            found = self._item_at(i)
            if found is not None:
                item, nxt = found
                if cur is not None and self.gap_ok(cur.items[-1].last, item.first):
                    cur.items.append(item)
                else:
                    if cur is not None:
                        runs.append(cur)
                    cur = _Run([item], plus=plus_at is not None and plus_at == i - 1)
                fillers = 0
                plus_at = None
                i = nxt
                continue
            u = units[i]
            if u.kind == "sep" and u.text in _RUN_SEPARATORS:
                pass
            elif u.text in ("+", "＋", "plus"):
                plus_at = i
                if cur is not None:
                    runs.append(cur)
                    cur = None
            elif u.kind == "word" and u.text in _FILLERS and cur is not None and fillers < 2:
                fillers += 1
            elif (
                u.kind == "word"
                and u.text == "hundred"
                and cur is not None
                and len(cur.items[-1].digits) == 1
                and self.gap_ok(cur.items[-1].last, i)
            ):
                cur.items[-1] = _Item(cur.items[-1].digits + "00", cur.items[-1].first, i)
            elif (
                u.kind == "word"
                and u.text in _CHECK_X
                and cur is not None
                and sum(len(x.digits) for x in cur.items) == 17
                and self.gap_ok(cur.items[-1].last, i)
            ):
                cur.items.append(_Item("X", i, i))
                runs.append(cur)
                cur = None
            else:
                if cur is not None:
                    runs.append(cur)
                    cur = None
                fillers = 0
                plus_at = None
            i += 1
        if cur is not None:
            runs.append(cur)
        return runs

    def digit_spans(self, kinds: set[str]) -> list[tuple[int, int, str, str]]:
        """(first unit, last unit, kind, digits) per PII number found."""
        out: list[tuple[int, int, str, str]] = []
        for run in self.runs():
            items = run.items
            total = sum(len(x.digits) for x in items)
            if total < MIN_DIGITS:
                continue
            context: set[str] | None = None

            def ctx(first: int, last: int) -> set[str]:
                nonlocal context
                if context is None:
                    context = _context_kinds(self.units, first, last)
                return context

            whole = "".join(x.digits for x in items)
            first, last = items[0].first, items[-1].last
            broad = "not_phone" not in ctx(first, last)
            kind = classify_digits(whole, plus=run.plus, broad=broad) or _classify_by_context(
                whole, ctx(first, last)
            )
            if kind is not None:
                if kind in kinds:
                    out.append((first, last, kind, whole))
                continue
            # Piece by piece at token boundaries: the longest exact match from each token on,
            # then context for the tokens left over.
            covered = [False] * len(items)
            i = 0
            while i < len(items):
                match = None
                for j in range(len(items), i, -1):
                    value = "".join(x.digits for x in items[i:j])
                    if len(value) < MIN_DIGITS:
                        break
                    k = classify_digits(value, plus=run.plus and i == 0, broad=broad)
                    if k is not None:
                        match = (j, k, value)
                        break
                if match is None:
                    i += 1
                    continue
                j, k, value = match
                if k in kinds:
                    out.append((items[i].first, items[j - 1].last, k, value))
                for x in range(i, j):
                    covered[x] = True
                i = j
            i = 0
            while i < len(items):
                if covered[i]:
                    i += 1
                    continue
                j = i
                while j < len(items) and not covered[j]:
                    j += 1
                value = "".join(x.digits for x in items[i:j])
                k = _classify_by_context(value, ctx(first, last))
                if k is not None and k in kinds and len(value) >= MIN_DIGITS:
                    out.append((items[i].first, items[j - 1].last, k, value))
                i = j
        return out

    # -- e-mail -------------------------------------------------------------------------------

    def _label_char(self, i: int) -> str | None:
        """The address characters of unit ``i`` when it can be part of a label."""
        u = self.units[i]
        if u.kind == "digit":
            return u.text
        if u.kind == "word" and u.text.isascii() and u.text.isalnum():
            if u.text in _EN_DIGITS and u.text not in _ZERO_LETTERS:
                return _EN_DIGITS[u.text]
            return u.text
        return None

    def _connector(self, i: int, step: int) -> int | None:
        """Length (in units) of a connector (dot, underscore, dash) ending/starting at ``i``."""
        units = self.units
        if not 0 <= i < len(units):
            return None
        u = units[i]
        if u.text in _DOT_WORDS or u.text in _CONNECTOR_WORDS:
            return 1
        for phrase in _CJK_CONNECTORS:
            n = len(phrase)
            lo = i if step > 0 else i - n + 1
            if lo < 0 or lo + n > len(units):
                continue
            if all(units[lo + k].text == phrase[k] for k in range(n)):
                return n
        return None

    def _label(self, i: int, step: int) -> tuple[int, str] | None:
        """A label starting (step 1) or ending (step -1) at unit ``i``: (units used, text)."""
        units = self.units
        parts: list[str] = []
        j = i
        while 0 <= j < len(units):
            c = self._label_char(j)
            if c is None:
                break
            if parts:
                prev = j - step
                joined = _glued(units[prev], units[j]) or (
                    len(self._label_char(prev) or "") == 1 and len(c) == 1
                )
                if not joined or not self.gap_ok(min(prev, j), max(prev, j)):
                    break
            parts.append(c)
            j += step
        if not parts:
            return None
        text = "".join(parts if step > 0 else reversed(parts))
        return len(parts), text

    def _connector_char(self, i: int, n: int, step: int) -> str:
        lo = i if step > 0 else i - n + 1
        text = "".join(self.units[lo + k].text for k in range(n))
        if text in _DOT_WORDS:
            return "."
        if text in ("-", "–", "dash", "hyphen", "横杠", "杠"):
            return "-"
        return "_"

    def email_spans(self) -> list[tuple[int, int, str, str]]:
        units = self.units
        out: list[tuple[int, int, str, str]] = []
        i = 0
        while i < len(units):
            u = units[i]
            anchor_end = None
            spoken = True
            if u.text in _AT_SIGNS:
                anchor_end, spoken = i, False
            elif u.kind == "word" and u.text == "at":
                anchor_end = i
            elif u.text == "艾" and i + 1 < len(units) and units[i + 1].text == "特":
                anchor_end = i + 1
            if anchor_end is None:
                i += 1
                continue
            found = self._email_at(i, anchor_end, spoken)
            if found is None:
                i += 1
                continue
            out.append(found)
            i = found[1] + 1
        return out

    def _email_at(self, a: int, b: int, spoken: bool) -> tuple[int, int, str, str] | None:
        """The address around the ``@`` (or spoken "at") in units ``a``..``b``, if any."""
        # domain: label (connector label)+, with at least one dot
        j = b + 1
        first = self._label(j, 1)
        if first is None or not self.gap_ok(b, j):
            return None
        n, text = first
        labels, seps, ends = [text], [], [j + n - 1]
        j += n
        while len(labels) < 6:
            c = self._connector(j, 1)
            if c is None or not self.gap_ok(j - 1, j):
                break
            nxt = self._label(j + c, 1)
            if nxt is None or not self.gap_ok(j + c - 1, j + c):
                break
            seps.append(self._connector_char(j, c, 1))
            n, text = nxt
            labels.append(text)
            j += c + n
            ends.append(j - 1)
        if "." not in seps:
            return None
        # the label after the last dot is the top-level domain; what follows is not address
        keep = len(seps) - seps[::-1].index(".") + 1
        labels, seps, end = labels[:keep], seps[: keep - 1], ends[keep - 1]
        tld = labels[-1]
        if not tld.isalpha() or not 2 <= len(tld) <= 24:
            return None
        if spoken and tld not in _TLDS:
            return None
        domain = labels[0] + "".join(s + lab for s, lab in zip(seps, labels[1:], strict=True))
        # local part: label (connector label)*, read backwards from the @
        k = a - 1
        local = self._label(k, -1)
        if local is None or not self.gap_ok(k, a):
            return None
        n, text = local
        parts = [text]
        start = k - n + 1
        k = start - 1
        while len(parts) < 15:
            c = self._connector(k, -1)
            if c is None or not self.gap_ok(k, k + 1):
                break
            prev = self._label(k - c, -1)
            if prev is None or not self.gap_ok(k - c, k - c + 1):
                break
            parts.insert(0, self._connector_char(k, c, -1))
            n, text = prev
            parts.insert(0, text)
            start = k - c - n + 1
            k = start - 1
        return start, end, "email", "".join(parts) + "@" + domain

    # -- fragments ----------------------------------------------------------------------------

    def fragments(
        self, values: Sequence[tuple[str, str]], taken: Sequence[PiiMatch]
    ) -> list[PiiMatch]:
        """Digit runs of :data:`MIN_FRAGMENT_DIGITS`+ digits that are part of a number in
        ``values`` ((kind, digits) redacted elsewhere in the call), outside ``taken``."""
        if not values:
            return []
        out = []
        for run in self.runs():
            digits = "".join(x.digits for x in run.items)
            if len(digits) < MIN_FRAGMENT_DIGITS:
                continue
            kind = next((k for k, v in values if digits in v), None)
            if kind is None:
                continue
            a, b = self.units[run.items[0].first], self.units[run.items[-1].last]
            if any(
                (m.first_word, m.start_char) < (b.pos, b.b)
                and (a.pos, a.a) < (m.last_word, m.end_char)
                for m in taken
            ):
                continue
            out.append(PiiMatch(kind, a.pos, a.a, b.pos, b.b, digits))
        return out

    # -- all ----------------------------------------------------------------------------------

    def find(self, kinds: set[str]) -> list[PiiMatch]:
        spans: list[tuple[int, int, str, str]] = []
        emails = self.email_spans() if "email" in kinds else []
        spans += emails
        for s in self.digit_spans(kinds):
            if not any(s[0] <= e[1] and e[0] <= s[1] for e in emails):
                spans.append(s)
        spans.sort()
        out = []
        for first, last, kind, value in spans:
            a, b = self.units[first], self.units[last]
            out.append(PiiMatch(kind, a.pos, a.a, b.pos, b.b, value))
        return out


def _check_kinds(kinds: Iterable[str]) -> set[str]:
    chosen = set(kinds)
    unknown = chosen - set(PII_KINDS)
    if unknown:
        raise ValueError(
            f"unknown PII kind(s) {sorted(unknown)}; known kinds: {', '.join(PII_KINDS)}"
        )
    return chosen


def find_pii(
    words: Sequence[Word | str],
    kinds: Iterable[str] = PII_KINDS,
    *,
    max_gap_s: float = MAX_GAP_S,
) -> list[PiiMatch]:
    """PII spans in one speaker's word sequence (or in plain strings, which have no times).

    Args:
        words: the words in time order; strings are taken as words said without pauses.
        kinds: which kinds to look for (a subset of :data:`PII_KINDS`).
        max_gap_s: a longer pause between two words splits a number or an address.

    Raises:
        ValueError: an unknown kind.
    """
    chosen = _check_kinds(kinds)
    texts = [w if isinstance(w, str) else w.text for w in words]
    times = [(0.0, 0.0) if isinstance(w, str) else (w.start, w.end) for w in words]
    return _Detector(texts, times, max_gap_s).find(chosen)


def redact_text(text: str, kinds: Iterable[str] = PII_KINDS) -> str:
    """``text`` with every PII span found in it replaced by its marker."""
    for m in reversed(find_pii([text], kinds)):
        text = text[: m.start_char] + marker(m.kind) + text[m.end_char :]
    return text


# --------------------------------------------------------------------------------------------
# Redacting a word sequence
# --------------------------------------------------------------------------------------------


def _join(texts: Sequence[str], language: str) -> str:
    return ("" if language == "zh" else " ").join(texts)


def _marked_words(words: Sequence[Word], matches: Sequence[PiiMatch]) -> list[Word]:
    """``words`` with each match collapsed into one marker word (same times)."""
    out: list[Word] = []
    i = 0
    ordered = sorted(matches, key=lambda m: (m.first_word, m.start_char))
    k = 0
    while i < len(words):
        if k < len(ordered) and ordered[k].first_word == i:
            # a cluster: matches that share words are merged into one marker word
            first = i
            text = words[i].text[: ordered[k].start_char]
            last = ordered[k].last_word
            while True:
                m = ordered[k]
                text += marker(m.kind)
                last = m.last_word
                k += 1
                if k < len(ordered) and ordered[k].first_word == last:
                    text += words[last].text[m.end_char : ordered[k].start_char]
                    continue
                text += words[last].text[m.end_char :]
                break
            covered = words[first : last + 1]
            out.append(
                Word(
                    start=covered[0].start,
                    end=max(w.end for w in covered),
                    text=text,
                    prob=round(sum(w.prob for w in covered) / len(covered), 4),
                )
            )
            i = last + 1
            continue
        out.append(words[i])
        i += 1
    return out


def redact_words(
    words: Sequence[Word], kinds: Iterable[str] = PII_KINDS
) -> tuple[tuple[Word, ...], list[PiiMatch]]:
    """One speaker's words with PII replaced by marker words, and the matches found."""
    matches = find_pii(words, kinds)
    return tuple(_marked_words(words, matches)), matches


# --------------------------------------------------------------------------------------------
# Redacting a report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Secret:
    kind: str
    raw: str
    """The span's original text as it appears in a turn's text."""
    value: str
    """Normalised digits or address."""


_CUT = "…"


class _Scrubber:
    """Removes known and newly found PII from free text (quotes, details, coaching …)."""

    def __init__(self, kinds: set[str], secrets: Sequence[_Secret]) -> None:
        self.kinds = kinds
        self.secrets = sorted(
            {s for s in secrets if len(s.raw.strip()) >= 2}, key=lambda s: -len(s.raw)
        )
        self.digit_values = [(s.kind, s.value) for s in secrets if s.kind != "email"]

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        for s in self.secrets:
            if s.raw in text:
                text = text.replace(s.raw, marker(s.kind))
        text = redact_text(text, self.kinds)
        text = self._digit_fragments(text)
        return self._cut_fragments(text)

    def _digit_fragments(self, text: str) -> str:
        """Digit runs that are pieces of a redacted number (a quote cut through it)."""
        if not self.digit_values:
            return text
        detector = _Detector([text], [(0.0, 0.0)], MAX_GAP_S)
        edits = []
        for run in detector.runs():
            digits = "".join(x.digits for x in run.items)
            a = detector.units[run.items[0].first].a
            b = detector.units[run.items[-1].last].b
            at_cut = text[max(0, a - 1) : a] == _CUT or text[b : b + 1] == _CUT
            if len(digits) < 4 and not (at_cut and len(digits) >= 2):
                continue
            kind = next((k for k, v in self.digit_values if digits in v), None)
            if kind is not None:
                edits.append((a, b, kind))
        for a, b, kind in reversed(edits):
            text = text[:a] + marker(kind) + text[b:]
        return text

    def _cut_fragments(self, text: str) -> str:
        """The start or end of a redacted span left beside a quote's ``…``."""
        if _CUT not in text:
            return text
        for s in self.secrets:
            for raw in {s.raw, s.value}:
                for k in range(len(raw) - 1, 2, -1):
                    head, tail = raw[:k], raw[-k:]
                    if head + _CUT in text:
                        text = text.replace(head + _CUT, marker(s.kind) + _CUT)
                        break
                    if _CUT + tail in text:
                        text = text.replace(_CUT + tail, _CUT + marker(s.kind))
                        break
        return text


def redact_report(report: CallReport, kinds: Iterable[str] = PII_KINDS) -> CallReport:
    """A copy of ``report`` with PII replaced by markers and listed in ``redactions``.

    Each speaker's words are searched across their turns; every span becomes one marker word,
    turn texts are rebuilt, and every other string drawn from the transcript (finding quotes
    and details, coaching, role evidence, stress evidence, warnings) is scrubbed. Scores,
    times and measurements are left as they are: redaction runs after scoring.

    Raises:
        ValueError: an unknown kind.
    """
    chosen = _check_kinds(kinds)
    language = report.language
    turns = list(report.turns)
    # one word sequence per speaker, in time order: (turn position, word position)
    sequences: dict[str, list[tuple[int, int]]] = {}
    for ti, turn in enumerate(turns):
        seq = sequences.setdefault(turn.speaker, [])
        seq += [(ti, wi) for wi in range(len(turn.words))]
    per_turn: dict[int, list[PiiMatch]] = {}
    redactions: list[Redaction] = []
    secrets: list[_Secret] = []
    found: dict[str, tuple[list[Word], _Detector, list[PiiMatch]]] = {}
    for speaker, seq in sequences.items():
        seq.sort(key=lambda p: (turns[p[0]].words[p[1]].start, p))
        words = [turns[ti].words[wi] for ti, wi in seq]
        detector = _Detector([w.text for w in words], [(w.start, w.end) for w in words], MAX_GAP_S)
        found[speaker] = (words, detector, detector.find(chosen))
    # pieces of a number already redacted in this call (尾号1232, "ending in 0132")
    values = [(m.kind, m.value) for *_, ms in found.values() for m in ms if m.kind != "email"]
    for _, detector, matches in found.values():
        matches += detector.fragments(values, matches)
        matches.sort(key=lambda m: (m.first_word, m.start_char))
    for speaker, (words, _, matches) in found.items():
        seq = sequences[speaker]
        for m in matches:
            first_turn = turns[seq[m.first_word][0]]
            redactions.append(
                Redaction(
                    kind=m.kind,
                    start=words[m.first_word].start,
                    end=max(w.end for w in words[m.first_word : m.last_word + 1]),
                    speaker=speaker,
                    role=first_turn.role,
                    word_count=m.last_word - m.first_word + 1,
                )
            )
            # split the span into one piece per turn it crosses
            g = m.first_word
            while g <= m.last_word:
                ti = seq[g][0]
                h = g
                while h + 1 <= m.last_word and seq[h + 1][0] == ti:
                    h += 1
                a = m.start_char if g == m.first_word else 0
                b = m.end_char if h == m.last_word else len(words[h].text)
                piece = PiiMatch(m.kind, seq[g][1], a, seq[h][1], b, m.value)
                per_turn.setdefault(ti, []).append(piece)
                texts = [w.text for w in words[g : h + 1]]
                texts[-1] = texts[-1][:b] if len(texts) > 1 else texts[-1][a:b]
                if len(texts) > 1:
                    texts[0] = texts[0][a:]
                secrets.append(_Secret(m.kind, _join(texts, language), m.value))
                g = h + 1
    scrub = _Scrubber(chosen, secrets)
    new_turns = []
    for ti, turn in enumerate(turns):
        matches = per_turn.get(ti)
        words = tuple(_marked_words(turn.words, matches)) if matches else turn.words
        if turn.text == _join([w.text for w in turn.words], language):
            text = _join([w.text for w in words], language) if matches else turn.text
        else:
            text = scrub(turn.text) or ""
        new_turns.append(
            replace(turn, words=words, text=text) if matches or text != turn.text else turn
        )
    redactions.sort(key=lambda r: (r.start, r.end, r.speaker))
    return replace(
        report,
        turns=tuple(new_turns),
        roles=replace(
            report.roles,
            evidence=tuple(_scrub_evidence(e, scrub) for e in report.roles.evidence),
        ),
        warnings=tuple(scrub(w) or "" for w in report.warnings),
        scorecard=_scrub_scorecard(report.scorecard, scrub) if report.scorecard else None,
        redactions=tuple(report.redactions) + tuple(redactions),
    )


def _scrub_evidence(e: RoleEvidence, scrub: Callable[[str], str | None]) -> RoleEvidence:
    return replace(e, detail=scrub(e.detail) or "")


def _scrub_finding(f: Finding, scrub: Callable[[str | None], str | None]) -> Finding:
    return replace(
        f, quote=scrub(f.quote) or "", detail=scrub(f.detail) or "", phrase=scrub(f.phrase)
    )


def _scrub_scorecard(card: Scorecard, scrub: Callable[[str | None], str | None]) -> Scorecard:
    practices = tuple(
        replace(
            p,
            findings=tuple(_scrub_finding(f, scrub) for f in p.findings),
            coaching=scrub(p.coaching),
        )
        for p in card.practices
    )
    stress: StressTrajectory = replace(
        card.stress,
        evidence=scrub(card.stress.evidence) or "",
        turns=tuple(
            replace(t, anger_words=tuple(scrub(w) or "" for w in t.anger_words))
            for t in card.stress.turns
        ),
    )
    return replace(card, practices=practices, stress=stress)


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioSpan:
    """A stretch of audio to silence; ``channel`` ``None`` = every channel."""

    start: float
    end: float
    channel: int | None = None


AUDIO_PAD_S = 0.2
"""Silence added on each side of a redacted span: word timings of a small Whisper model are off
by a tenth of a second or two, and a half-heard digit is still a digit."""


def audio_spans(report: CallReport) -> list[AudioSpan]:
    """The report's redactions as audio spans, on the speaker's channel where it is known."""
    channel_of = {t.speaker: t.channel for t in report.turns}
    return [AudioSpan(r.start, r.end, channel_of.get(r.speaker)) for r in report.redactions]


def redact_audio(
    samples: np.ndarray,
    sample_rate: int,
    spans: Iterable[AudioSpan | tuple[float, float] | tuple[float, float, int | None]],
    *,
    pad_s: float = AUDIO_PAD_S,
    fade_s: float = 0.005,
) -> np.ndarray:
    """A copy of ``samples`` with ``spans`` silenced.

    Args:
        samples: float audio, shape (n,) or (channels, n). Not modified.
        sample_rate: rate of ``samples`` (Hz).
        spans: what to silence; a span on a channel the audio does not have silences all.
        pad_s: extra silence on each side (s).
        fade_s: linear fade into and out of the silence, so no click marks the cut (s).

    Returns:
        float32 array of the input's shape.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    x = np.array(samples, dtype=np.float32, copy=True)
    flat = x.ndim == 1
    if flat:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"expected (n,) or (channels, n) samples, got shape {x.shape}")
    n = x.shape[1]
    fade = max(1, round(fade_s * sample_rate))
    for span in spans:
        if not isinstance(span, AudioSpan):
            span = AudioSpan(*span)
        a = max(0, int(np.floor((span.start - pad_s) * sample_rate)))
        b = min(n, int(np.ceil((span.end + pad_s) * sample_rate)))
        if b <= a:
            continue
        gain = np.ones(n, dtype=np.float32)
        gain[a:b] = 0.0
        lo = max(0, a - fade)
        gain[lo:a] = np.minimum(gain[lo:a], np.linspace(1.0, 0.0, a - lo, dtype=np.float32))
        hi = min(n, b + fade)
        gain[b:hi] = np.minimum(gain[b:hi], np.linspace(0.0, 1.0, hi - b, dtype=np.float32))
        channels = (
            [span.channel]
            if span.channel is not None and 0 <= span.channel < x.shape[0]
            else range(x.shape[0])
        )
        for c in channels:
            x[c] *= gain
    return x[0] if flat else x


def write_redacted_wav(
    audio: Audio, report: CallReport, path: str | os.PathLike[str], *, pad_s: float = AUDIO_PAD_S
) -> Path:
    """Write ``audio`` with the report's redacted spans silenced as 16-bit PCM WAV.

    The file keeps the call's channels at Calmline's decoding rate (16 kHz). Returns the path.
    """
    silenced = redact_audio(audio.samples, audio.sample_rate, audio_spans(report), pad_s=pad_s)
    return write_wav(silenced, audio.sample_rate, path)


__all__ = [
    "AUDIO_PAD_S",
    "MAX_GAP_S",
    "MIN_DIGITS",
    "PII_KINDS",
    "AudioSpan",
    "PiiMatch",
    "audio_spans",
    "classify_digits",
    "cn_id_check_char",
    "find_pii",
    "is_bank_card",
    "is_cn_id",
    "is_phone",
    "luhn_ok",
    "marker",
    "redact_audio",
    "redact_report",
    "redact_text",
    "redact_words",
    "write_redacted_wav",
]
