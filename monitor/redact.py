"""PII redaction: phone numbers, Chinese resident ID numbers, bank card numbers, e-mail
addresses and any other long number, in Mandarin and English transcripts, written as digits or
spoken as words.

Whisper words are tokens: a number may arrive as ``"138-"``, ``"0013"``, ``"8000."``, as
``"一三八"`` ``"零零一三"``, as ``"one"`` ``"three"`` ``"eight"`` … or inside a token with other
text (``"号码是138"``). Detection therefore runs over a *speaker's whole word sequence* (across
their turns, so a number dictated in two breaths around the agent's "okay" is still one number),
read by the digit tokeniser of :mod:`calmline.monitor.digits` (numerals, en digit words with
``oh``, ``double``, ``triple``, ``hundred``, zh digit characters with 幺 and 两).

Digit runs
    Consecutive digits joined only by separators (space, ``- – — . , ， 、 。 / ( )``), by at
    most two fillers (uh, um, 呃, 嗯 …) and by pauses of at most ``max_gap_s`` form a run.
    Money and percentages (``$1,299``, ``1,234,567``, ``15%``), Mandarin numbers with place
    characters (十百千万: 一千三百, 两个月) and written dates (``2024-06-11``, ``June 11,
    2024``) are not numbers to hide. A run shorter than :data:`MIN_DIGITS` (6) digits is never
    redacted on its own. A longer run is always redacted **whole**, from its first digit to its
    last, under one kind: the run as a whole by these exact rules in order, else by the words
    around it, else its pieces (longest first, at token boundaries) by the exact rules and the
    stretches left by context, the kind naming the most digits winning; when no rule fires on
    any part of it, as :data:`NUMBER` (unless ``long_numbers`` is off: ``privacy.
    allow_long_numbers``). A run whose kind is not among the chosen kinds is left as said.

    * ``cn_id``: 18 characters with a valid province code, birth date (1900 to this year) and
      ISO 7064 MOD 11-2 check character (python-stdnum's ``cn.ric``; ``X`` spoken as x/ex/叉 is
      accepted at the end);
    * ``bank_card``: 13-19 digits, not starting with 0, passing the Luhn check (python-stdnum);
    * ``cn_id``: 15 digits (legacy ID) with a valid province code and birth date, or 18 digits
      with a valid province code and birth date but a wrong check digit (a misheard digit);
    * ``phone``: Chinese mobile ``1[3-9]`` + 9 digits (optionally after 86 / 0086), or with one
      digit lost in recognition (10 digits); Chinese landline with area code (``010``/``02x`` + 8,
      ``0xxx`` + 7-8); 400/800 service numbers; North American numbers (``[2-9]xx [2-9]xx xxxx``,
      optionally after 1); international numbers after ``+``/plus or ``00`` that
      ``phonenumbers`` finds valid.

    The North American and near-miss mobile forms are skipped for a run named an order,
    tracking, reference, case or ticket number (订单, 单号, 快递, 工单, 编号): many 10-digit order
    numbers take that form. Context words in the words around the run (身份证, "ID number" ->
    ``cn_id`` for 15-18 characters; 卡号, 银行卡, card, account -> ``bank_card`` for 12-19; 电话,
    手机, phone, mobile, "my number" -> ``phone`` for 7-15, unless the run is named an order,
    tracking, case or ticket number) name a misrecognised card or ID number.

    A run of at least 4 digits that is part of a number redacted elsewhere in the same call
    (身份证尾号1232, "the one ending in oh one three two") is redacted as that number's kind.

E-mail addresses
    ``local @ domain`` written (``john.smith@example.com``) or spoken: ``at`` / 艾特 for ``@``;
    ``dot`` / 点 for ``.``; ``underscore`` / 下划线, ``dash`` / ``hyphen`` for ``_`` and ``-``;
    spelled letters joined. A spoken address needs a dot and a known top-level domain (com, cn,
    net, org …), so "at home" or "look at that" never match.

Marking: every PII span becomes **one marker word** (``[PHONE]``, ``[CN_ID]``, ``[BANK_CARD]``,
``[EMAIL]``, ``[NUMBER]``) covering the times of the words it replaces (its probability is their
mean); text of the first and last word outside the span is kept around the marker
(``号码是[PHONE]。``). The report lists each span in ``CallReport.redactions`` (kind, times,
speaker, role, how many words) — never the original text. Findings' quotes, details, coaching
sentences and every other transcript-derived string are scrubbed too: the spans' original text,
fresh detection, and fragments of a redacted number or address cut by a quote's ``…``.
Redaction runs after scoring and changes no number in the scorecard.

Audio: :func:`redact_audio` silences the redacted spans (a whole digit run, first word to last,
padded, on the speaker's own channel when the channel is known) and :func:`write_redacted_wav`
writes the redacted call for export.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import phonenumbers
from stdnum import luhn as _luhn
from stdnum.cn import ric as _ric

from calmline.monitor.audio import write_wav_blocks
from calmline.monitor.digits import EN_DIGITS, ZERO_LETTERS, DigitReader, Run, Unit, glued
from calmline.monitor.spool import read_span
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

NUMBER = "number"
"""The kind of a long digit run that no rule names (redacted unless long numbers are allowed)."""

MIN_DIGITS = 6
"""Digit runs shorter than this are never redacted on their own (quantities, prices, times,
short codes); a run this long or longer always is, whole: by kind, else as :data:`NUMBER`."""

MIN_FRAGMENT_DIGITS = 4
"""A run this long that is part of a number redacted elsewhere in the call is redacted too."""

MAX_GAP_S = 2.5
"""A longer pause between two words of a number or an address splits it."""

MAX_CHUNK_GAP_S = 6.0
"""A number read out in chunks (715 139 ... 0787) may pause longer than :data:`MAX_GAP_S`
between them, and Whisper's word times stretch the pause further (a real bank call: 1 s by the
human timing, 4.5 s by the word timestamps). A run of :data:`MIN_FRAGMENT_DIGITS`+ digits that
is the speaker's very next word after a redacted number (or the word before it), within this
pause, is the rest of that number and is redacted with it."""


def marker(kind: str) -> str:
    """The text that stands in for a redacted span of ``kind``, e.g. ``[PHONE]``.

    Upper case, so that rich's console markup (``[bold]`` …) never takes a marker for a tag.
    """
    return f"[{kind.upper()}]"


# --------------------------------------------------------------------------------------------
# E-mail words
# --------------------------------------------------------------------------------------------

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
        if not check:
            return True
        # python-stdnum also checks the county code against its register; a county it does
        # not know yet still passes on the province, date and check character
        return _ric.is_valid(value) or cn_id_check_char(value[:17]) == value[17]
    if len(value) == 15 and value.isdigit():
        return value[:2] in _PROVINCES and _valid_date(
            1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])
        )
    return False


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    return digits.isascii() and digits.isdigit() and _luhn.is_valid(digits)


def is_bank_card(digits: str) -> bool:
    """13-19 digits, no leading zero, Luhn-valid."""
    return 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_ok(digits)


_PHONE = re.compile(
    r"(?:0086|86)?1[3-9]\d{9}"  # Chinese mobile
    r"|0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8}"  # Chinese landline with area code
    r"|[48]00\d{7}"  # 400 / 800 service numbers
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
    if not (digits.isascii() and digits.isdigit()):
        return False
    if plus and _international(digits):
        return True
    if digits.startswith("00") and not digits.startswith("000") and _international(digits[2:]):
        return True
    if _PHONE.fullmatch(digits):
        return True
    return broad and _BROAD_PHONE.fullmatch(digits) is not None


def _international(digits: str) -> bool:
    """A valid number in international form (country code first), by ``phonenumbers``."""
    if not 7 <= len(digits) <= 15 or digits[0] == "0":
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


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


_LONGEST_RULE = 19
"""No exact rule names more digits than this (a 19-digit card): longer pieces are not tried."""

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


def _context_kinds(units: Sequence[Unit], first: int, last: int) -> set[str]:
    """Kinds that words said just before (12 words) or after (6 words) a run point to."""
    window: list[Unit] = []
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


class _Detector(DigitReader):
    """Digit runs (:class:`DigitReader`) classified as PII, and e-mail addresses."""

    def digit_spans(
        self, kinds: set[str], long_numbers: bool = True
    ) -> list[tuple[int, int, str, str]]:
        """(first unit, last unit, kind, digits) per digit run to redact: every run of
        :data:`MIN_DIGITS`+ digits, whole, by the kind a rule gives it or as :data:`NUMBER`
        (``long_numbers``); a run whose kind is not in ``kinds`` is left as it is."""
        out: list[tuple[int, int, str, str]] = []
        for run in self.runs():
            digits = run.digits
            if len(digits) < MIN_DIGITS or self.is_date(run):
                continue
            kind = self.run_kind(run)
            if kind is None and long_numbers:
                kind = NUMBER
            if kind is not None and (kind in kinds or kind == NUMBER):
                out.append((run.items[0].first, run.items[-1].last, kind, digits))
        return out

    def run_kind(self, run: Run) -> str | None:
        """The PII kind of a whole digit run, or ``None`` when no rule fires on any part of it.

        The run as a whole by exact rules, then by the words around it; else its pieces (at
        item boundaries, longest first) by exact rules and the stretches left by context: the
        kind that names the most digits (cn_id before bank_card before phone on a tie).
        """
        items = run.items
        first, last = items[0].first, items[-1].last
        context = _context_kinds(self.units, first, last)
        broad = "not_phone" not in context
        whole = run.digits
        kind = classify_digits(whole, plus=run.plus, broad=broad)
        kind = kind or _classify_by_context(whole, context)
        if kind is not None:
            return kind
        named: dict[str, int] = {}
        covered = [False] * len(items)
        i = 0
        while i < len(items):
            match = None
            value = ""
            for j in range(i + 1, len(items) + 1):
                value += items[j - 1].digits
                if len(value) > _LONGEST_RULE:
                    break
                k = classify_digits(value, plus=run.plus and i == 0, broad=broad)
                if k is not None:
                    match = (j, k, value)  # the longest piece from item i wins
            if match is None:
                i += 1
                continue
            j, k, value = match
            named[k] = named.get(k, 0) + len(value)
            covered[i:j] = [True] * (j - i)
            i = j
        i = 0
        while i < len(items):
            j = i
            while j < len(items) and not covered[j]:
                j += 1
            value = "".join(x.digits for x in items[i:j])
            k = _classify_by_context(value, context) if len(value) >= MIN_DIGITS else None
            if k is not None:
                named[k] = named.get(k, 0) + len(value)
            i = max(j, i + 1)
        if not named:
            return None
        order = ("cn_id", "bank_card", "phone")
        return max(named, key=lambda k: (named[k], -order.index(k)))

    # -- e-mail -------------------------------------------------------------------------------

    def _label_char(self, i: int) -> str | None:
        """The address characters of unit ``i`` when it can be part of a label."""
        u = self.units[i]
        if u.kind == "digit":
            return u.text
        if u.kind == "word" and u.text.isascii() and u.text.isalnum():
            if u.text in EN_DIGITS and u.text not in ZERO_LETTERS:
                return EN_DIGITS[u.text]
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
                joined = glued(units[prev], units[j]) or (
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

    def _free_runs(self, taken: Sequence[PiiMatch]) -> Iterator[tuple[str, Unit, Unit]]:
        """(digits, first unit, last unit) of every run of :data:`MIN_FRAGMENT_DIGITS`+ digits
        that overlaps no match in ``taken``, by characters: digits that share a word with a match
        but not its characters (the 5678 of 1234abc5678 after a match ending at 1234) are free."""
        for run in self.runs():
            digits = "".join(x.digits for x in run.items)
            if len(digits) < MIN_FRAGMENT_DIGITS:
                continue
            a, b = self.units[run.items[0].first], self.units[run.items[-1].last]
            if not any(
                (m.first_word, m.start_char) < (b.pos, b.b)
                and (a.pos, a.a) < (m.last_word, m.end_char)
                for m in taken
            ):
                yield digits, a, b

    def fragments(
        self, values: Sequence[tuple[str, str]], taken: Sequence[PiiMatch]
    ) -> list[PiiMatch]:
        """Digit runs of :data:`MIN_FRAGMENT_DIGITS`+ digits that are part of a number in
        ``values`` ((kind, digits) redacted elsewhere in the call), outside ``taken``."""
        if not values:
            return []
        out = []
        for digits, a, b in self._free_runs(taken):
            kind = next((k for k, v in values if digits in v), None)
            if kind is not None:
                out.append(PiiMatch(kind, a.pos, a.a, b.pos, b.b, digits))
        return out

    def continuations(self, taken: Sequence[PiiMatch]) -> list[PiiMatch]:
        """Digit runs of :data:`MIN_FRAGMENT_DIGITS`+ digits, outside ``taken``, that are the
        next word after a match in ``taken`` or the word before one, within
        :data:`MAX_CHUNK_GAP_S`: the chunks of a number read out with long pauses (each found
        chunk may have a next one)."""
        out: list[PiiMatch] = []
        while more := self._next_chunks([*taken, *out]):
            out += more
        return out

    def _next_chunks(self, taken: Sequence[PiiMatch]) -> list[PiiMatch]:
        out = []
        for digits, a, b in self._free_runs(taken):
            for m in taken:
                if m.kind == "email":
                    continue
                if a.pos == m.last_word + 1:  # the next word after the number
                    pause = self.times[a.pos][0] - self.times[m.last_word][1]
                elif b.pos == m.first_word - 1:  # the word before it
                    pause = self.times[m.first_word][0] - self.times[b.pos][1]
                else:
                    continue
                if pause <= MAX_CHUNK_GAP_S:
                    out.append(PiiMatch(m.kind, a.pos, a.a, b.pos, b.b, digits))
                    break
        return out

    # -- all ----------------------------------------------------------------------------------

    def find(self, kinds: set[str], long_numbers: bool = True) -> list[PiiMatch]:
        spans: list[tuple[int, int, str, str]] = []
        emails = self.email_spans() if "email" in kinds else []
        spans += emails
        for s in self.digit_spans(kinds, long_numbers):
            if not any(s[0] <= e[1] and e[0] <= s[1] for e in emails):
                spans.append(s)
        spans.sort()
        out = []
        for first, last, kind, value in spans:
            a, b = self.units[first], self.units[last]
            out.append(PiiMatch(kind, a.pos, a.a, b.pos, b.b, value))
        out += self.continuations(out)
        out.sort(key=lambda m: (m.first_word, m.start_char))
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
    long_numbers: bool = True,
) -> list[PiiMatch]:
    """PII spans in one speaker's word sequence (or in plain strings, which have no times).

    Args:
        words: the words in time order; strings are taken as words said without pauses.
        kinds: which kinds to look for (a subset of :data:`PII_KINDS`).
        max_gap_s: a longer pause between two words splits a number or an address.
        long_numbers: also redact a run of :data:`MIN_DIGITS`+ digits that no rule names, as
            :data:`NUMBER` (``privacy.allow_long_numbers`` off).

    Raises:
        ValueError: an unknown kind.
    """
    chosen = _check_kinds(kinds)
    texts = [w if isinstance(w, str) else w.text for w in words]
    times = [(0.0, 0.0) if isinstance(w, str) else (w.start, w.end) for w in words]
    return _Detector(texts, times, max_gap_s).find(chosen, long_numbers)


def redact_text(text: str, kinds: Iterable[str] = PII_KINDS, *, long_numbers: bool = True) -> str:
    """``text`` with every PII span found in it replaced by its marker."""
    for m in reversed(find_pii([text], kinds, long_numbers=long_numbers)):
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
    words: Sequence[Word], kinds: Iterable[str] = PII_KINDS, *, long_numbers: bool = True
) -> tuple[tuple[Word, ...], list[PiiMatch]]:
    """One speaker's words with PII replaced by marker words, and the matches found."""
    matches = find_pii(words, kinds, long_numbers=long_numbers)
    return tuple(_marked_words(words, matches)), matches


def _pieces(
    m: PiiMatch, owner: Sequence[tuple[int, int]], words: Sequence[Word]
) -> Iterator[tuple[int, int, int, PiiMatch]]:
    """Split a match over a flat word sequence into one piece per owner (turn, utterance) it
    crosses. ``owner[i]`` is (owner index, index of word ``i`` in its owner). Yields (owner, first
    and last flat word of the piece, the piece in its owner's word indices)."""
    g = m.first_word
    while g <= m.last_word:
        oi = owner[g][0]
        h = g
        while h + 1 <= m.last_word and owner[h + 1][0] == oi:
            h += 1
        a = m.start_char if g == m.first_word else 0
        b = m.end_char if h == m.last_word else len(words[h].text)
        yield oi, g, h, PiiMatch(m.kind, owner[g][1], a, owner[h][1], b, m.value)
        g = h + 1


def redact_word_groups(
    groups: Sequence[Sequence[Word]], kinds: Iterable[str] = PII_KINDS, *, long_numbers: bool = True
) -> list[tuple[Word, ...]]:
    """Consecutive groups of one speaker's words (utterances, turns) redacted as one sequence,
    so that a number said across two groups is redacted whole: each group that holds a piece
    of a span gets a marker word for its piece."""
    flat = [w for g in groups for w in g]
    owner = [(gi, wi) for gi, g in enumerate(groups) for wi in range(len(g))]
    pieces: dict[int, list[PiiMatch]] = {}
    for m in find_pii(flat, kinds, long_numbers=long_numbers):
        for gi, _, _, piece in _pieces(m, owner, flat):
            pieces.setdefault(gi, []).append(piece)
    return [
        tuple(_marked_words(g, pieces[gi])) if gi in pieces else tuple(g)
        for gi, g in enumerate(groups)
    ]


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

    def __init__(
        self, kinds: set[str], secrets: Sequence[_Secret], long_numbers: bool = True
    ) -> None:
        self.kinds = kinds
        self.long_numbers = long_numbers
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
        text = redact_text(text, self.kinds, long_numbers=self.long_numbers)
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


def redact_report(
    report: CallReport, kinds: Iterable[str] = PII_KINDS, *, long_numbers: bool = True
) -> CallReport:
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
        found[speaker] = (words, detector, detector.find(chosen, long_numbers))
    # pieces of a number already redacted in this call (尾号1232, "ending in 0132")
    values = [(m.kind, m.value) for *_, ms in found.values() for m in ms if m.kind != "email"]
    for _, detector, matches in found.values():
        matches += detector.fragments(values, matches)
        matches += detector.continuations(matches)
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
            # one piece per turn the span crosses
            for ti, g, h, piece in _pieces(m, seq, words):
                per_turn.setdefault(ti, []).append(piece)
                a, b = piece.start_char, piece.end_char
                texts = [w.text for w in words[g : h + 1]]
                texts[-1] = texts[-1][:b] if len(texts) > 1 else texts[-1][a:b]
                if len(texts) > 1:
                    texts[0] = texts[0][a:]
                secrets.append(_Secret(m.kind, _join(texts, language), m.value))
    scrub = _Scrubber(chosen, secrets, long_numbers)
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
    quote = scrub(f.quote) or ""
    matched = scrub(f.matched)
    start = f.match_start
    if matched is not None and (start is None or quote[start : start + len(matched)] != matched):
        start = quote.find(matched)  # a marker before the words shifted them
    if matched is None or start is None or start < 0:
        start = None
    return replace(
        f,
        quote=quote,
        detail=scrub(f.detail) or "",
        phrase=scrub(f.phrase),
        matched=matched,
        match_start=start,
        match_end=None if start is None or matched is None else start + len(matched),
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
    offset: int = 0,
) -> np.ndarray:
    """A copy of ``samples`` with ``spans`` silenced.

    Args:
        samples: float audio, shape (n,) or (channels, n). Not modified.
        sample_rate: rate of ``samples`` (Hz).
        spans: what to silence; a span on a channel the audio does not have silences all.
        pad_s: extra silence on each side (s).
        fade_s: linear fade into and out of the silence, so no click marks the cut (s).
        offset: index in the call of ``samples``' first sample, when ``samples`` is one block of
            a longer call (span times stay call times; blocks silence exactly what the whole
            call would).

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
        # the silence and its fades in call samples, then clipped to this block
        a0 = max(0, int(np.floor((span.start - pad_s) * sample_rate)))
        b0 = int(np.ceil((span.end + pad_s) * sample_rate))
        if b0 <= a0 or b0 + fade <= offset or a0 - fade >= offset + n:
            continue
        gain = np.ones(n, dtype=np.float32)
        ramp_in = np.linspace(1.0, 0.0, fade, endpoint=False, dtype=np.float32)
        ramp_out = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
        _apply(gain, a0 - fade - offset, ramp_in)
        _apply(gain, a0 - offset, np.zeros(b0 - a0, dtype=np.float32))
        _apply(gain, b0 - offset, ramp_out)
        channels = (
            [span.channel]
            if span.channel is not None and 0 <= span.channel < x.shape[0]
            else range(x.shape[0])
        )
        for c in channels:
            x[c] *= gain
    return x[0] if flat else x


def _apply(gain: np.ndarray, at: int, values: np.ndarray) -> None:
    """``gain[at:at+len(values)] = min(gain, values)``, with the part outside ``gain`` dropped."""
    lo, hi = max(0, at), min(gain.size, at + values.size)
    if hi > lo:
        np.minimum(gain[lo:hi], values[lo - at : hi - at], out=gain[lo:hi])


REDACT_BLOCK_S = 60.0
"""Block length (s) in which :func:`write_redacted_wav` silences and writes a call."""


def write_redacted_wav(
    audio: Audio, report: CallReport, path: str | os.PathLike[str], *, pad_s: float = AUDIO_PAD_S
) -> Path:
    """Write ``audio`` with the report's redacted spans silenced as 16-bit PCM WAV.

    The file keeps the call's channels at Calmline's decoding rate (16 kHz). The call is
    silenced and written :data:`REDACT_BLOCK_S` at a time, so a 4-hour call (whose samples may be
    a file-backed spool) never sits in memory whole. Returns the path.
    """
    spans = audio_spans(report)
    samples = audio.samples if audio.samples.ndim == 2 else audio.samples[None, :]
    n, step = samples.shape[1], max(1, int(REDACT_BLOCK_S * audio.sample_rate))

    def blocks():
        for i in range(0, max(n, 1), step):
            j = min(n, i + step)
            block = np.stack([read_span(ch, i, j) for ch in samples])
            yield redact_audio(block, audio.sample_rate, spans, pad_s=pad_s, offset=i)

    return write_wav_blocks(blocks(), samples.shape[0], audio.sample_rate, path)


__all__ = [
    "AUDIO_PAD_S",
    "MAX_GAP_S",
    "MIN_DIGITS",
    "NUMBER",
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
    "redact_word_groups",
    "redact_words",
    "write_redacted_wav",
]
