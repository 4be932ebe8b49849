"""Digits in transcripts, written or spoken: the tokeniser under PII redaction.

Whisper words are tokens: a number may arrive as ``"138-"``, ``"0013"``, ``"8000."``, as
``"一三八"`` ``"零零一三"``, as ``"one"`` ``"three"`` ``"eight"`` … or inside a token with other
text (``"号码是138"``). A word sequence is cut into units: digit runs, English digit words
(``zero``/``oh``/``o`` … ``nine``, ``double``, ``triple``, ``hundred`` after a digit), Mandarin
digit characters (零〇一幺二两三四五六七八九), full-width digits, Latin words and single CJK
characters, separators.

Consecutive digit units joined only by separators (space, ``- – — . , ， 、 。 / ( )``), by at
most two fillers (uh, um, 呃, 嗯 …) and by pauses of at most ``max_gap_s`` form a *run*. Money
and percentages (``$1,299``, ``1,234,567``, ``15%``), Mandarin numbers with place characters
(十百千万: 一千三百, 两个月) are quantities and never join a run; written dates
(``2024-06-11``, ``June 11, 2024``) are runs that :meth:`DigitReader.is_date` names.

:func:`digit_spans` gives each run's digits and where it lies (word and character offsets).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

EN_DIGITS = {
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
ZERO_LETTERS = {"oh", "o"}
"""Digit words that are also ordinary words: digits only beside another digit."""

ZH_DIGITS = {
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
MULTIPLIERS = {"double": 2, "triple": 3}
FILLERS = {"uh", "um", "er", "erm", "ah", "uhm", "hmm", "mm", "呃", "嗯", "额", "啊"}
RUN_SEPARATORS = set("-–—‐‑‒.．,，、。/()（）·")
CHECK_X = {"x", "ex", "叉"}
PLUS = {"+", "plus"}
MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip

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
class Unit:
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


def units(texts: Sequence[str]) -> list[Unit]:
    """The units of a word sequence, in order."""
    out: list[Unit] = []
    for pos, text in enumerate(texts):
        quantities = [(m.start(), m.end()) for m in _QUANTITY.finditer(text)]
        for m in _TOKEN.finditer(text):
            a, b = m.span()
            group = m.lastgroup
            token = unicodedata.normalize("NFKC", m.group()).lower()
            if group == "num":
                inside = any(qa <= a and b <= qb for qa, qb in quantities)
                digits = "".join(str(unicodedata.decimal(c, 0)) for c in m.group())
                out.append(Unit("qty" if inside else "digit", digits, pos, a, b))
            elif group == "cjk":
                if token in ZH_DIGITS:
                    out.append(Unit("digit", ZH_DIGITS[token], pos, a, b, spoken=True))
                else:
                    out.append(Unit("word", token, pos, a, b))
            elif group == "latin":
                out.append(Unit("word", token, pos, a, b))
            else:
                out.append(Unit("sep", token, pos, a, b))
    # Mandarin numbers written with place characters (一千三百, 两个, 十一) are quantities.
    for i, u in enumerate(out):
        if u.kind == "digit" and u.spoken:
            before = out[i - 1] if i else None
            after = out[i + 1] if i + 1 < len(out) else None
            if any(
                n is not None and n.kind == "word" and n.text in _PLACE_CHARS and glued(u, n)
                for n in (before, after)
            ):
                u.kind = "qty"
    return out


def glued(x: Unit, y: Unit) -> bool:
    """Two units side by side in one word, nothing between them."""
    if x.pos != y.pos:
        return False
    return x.b == y.a or y.b == x.a


@dataclass(slots=True)
class Item:
    """Digits said as one piece: a numeral, a digit word, ``double five``, ``one hundred``."""

    digits: str
    first: int
    last: int
    """Unit indices (inclusive)."""


@dataclass(slots=True)
class Run:
    """Digit items joined by separators, fillers and short pauses."""

    items: list[Item]
    plus: bool = False
    """Introduced by ``+`` or "plus" (an international telephone number)."""

    @property
    def digits(self) -> str:
        return "".join(x.digits for x in self.items)


@dataclass(frozen=True, slots=True)
class DigitSpan:
    """One run of digits in a word sequence: its digits and where it was said."""

    digits: str
    first_word: int
    start_char: int
    """Offset of the run's first digit in ``words[first_word]``."""
    last_word: int
    end_char: int
    """End offset (exclusive) of the run's last digit in ``words[last_word]``."""
    plus: bool = False


class DigitReader:
    """Units and digit runs of a word sequence (texts and their times)."""

    def __init__(
        self, texts: Sequence[str], times: Sequence[tuple[float, float]], max_gap_s: float
    ) -> None:
        self.texts = texts
        self.times = times
        self.max_gap_s = max_gap_s
        self.units = units(texts)

    def gap_ok(self, i: int, j: int) -> bool:
        """Units ``i`` < ``j`` are close enough in time to belong to one number/address."""
        pi, pj = self.units[i].pos, self.units[j].pos
        if pi == pj:
            return True
        return self.times[pj][0] - self.times[pi][1] <= self.max_gap_s

    def digit_word(self, i: int) -> str | None:
        """The digits unit ``i`` stands for, if it is a numeral or a digit word."""
        u = self.units[i]
        if u.kind == "digit":
            return u.text
        if u.kind == "word" and u.text in EN_DIGITS:
            if u.text in ZERO_LETTERS and not (self.digitish(i - 1, -1) or self.digitish(i + 1, 1)):
                return None
            return EN_DIGITS[u.text]
        return None

    def digitish(self, i: int, step: int) -> bool:
        """A digit, a digit word that is not also a letter, or a multiplier: the first unit
        from ``i`` on in direction ``step`` that is not a separator."""
        units_ = self.units
        while 0 <= i < len(units_) and units_[i].kind == "sep" and units_[i].text in RUN_SEPARATORS:
            i += step
        if not 0 <= i < len(units_):
            return False
        u = units_[i]
        if u.kind == "digit":
            return True
        return u.kind == "word" and (
            (u.text in EN_DIGITS and u.text not in ZERO_LETTERS) or u.text in MULTIPLIERS
        )

    def item_at(self, i: int) -> tuple[Item, int] | None:
        """A digit item starting at unit ``i`` and the index after it."""
        units_ = self.units
        u = units_[i]
        if u.kind == "word" and u.text in MULTIPLIERS and i + 1 < len(units_):
            d = self.digit_word(i + 1)
            if d is not None and len(d) == 1 and self.gap_ok(i, i + 1):
                return Item(d * MULTIPLIERS[u.text], i, i + 1), i + 2
            return None
        d = self.digit_word(i)
        if d is None:
            return None
        return Item(d, i, i), i + 1

    def runs(self) -> list[Run]:
        """Every digit run, in order."""
        units_ = self.units
        runs: list[Run] = []
        cur: Run | None = None
        fillers = 0
        plus_at: int | None = None
        i = 0
        while i < len(units_):
            found = self.item_at(i)
            if found is not None:
                item, nxt = found
                if cur is not None and self.gap_ok(cur.items[-1].last, item.first):
                    cur.items.append(item)
                else:
                    if cur is not None:
                        runs.append(cur)
                    cur = Run([item], plus=plus_at is not None and plus_at == i - 1)
                fillers = 0
                plus_at = None
                i = nxt
                continue
            u = units_[i]
            if u.kind == "sep" and u.text in RUN_SEPARATORS:
                pass
            elif u.text in PLUS:
                plus_at = i
                if cur is not None:
                    runs.append(cur)
                    cur = None
            elif u.kind == "word" and u.text in FILLERS and cur is not None and fillers < 2:
                fillers += 1
            elif (
                u.kind == "word"
                and u.text == "hundred"
                and cur is not None
                and len(cur.items[-1].digits) == 1
                and self.gap_ok(cur.items[-1].last, i)
            ):
                cur.items[-1] = Item(cur.items[-1].digits + "00", cur.items[-1].first, i)
            elif (
                u.kind == "word"
                and u.text in CHECK_X
                and cur is not None
                and len(cur.digits) == 17
                and self.gap_ok(cur.items[-1].last, i)
            ):
                cur.items.append(Item("X", i, i))
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

    def span(self, run: Run) -> DigitSpan:
        """Where ``run`` lies in the word sequence."""
        a, b = self.units[run.items[0].first], self.units[run.items[-1].last]
        return DigitSpan(run.digits, a.pos, a.a, b.pos, b.b, run.plus)

    def is_date(self, run: Run) -> bool:
        """A date written with numerals: ``2024-06-11``, ``11/06/2024``, ``June 11, 2024``."""
        items = run.items
        if any(self.units[x.first].spoken or x.first != x.last for x in items):
            return False
        parts = [x.digits for x in items]
        if len(parts) == 2 and len(parts[0]) <= 2 and len(parts[1]) == 4:
            before = self.units[items[0].first - 1] if items[0].first else None
            month = MONTHS.get(before.text) if before and before.kind == "word" else None
            return month is not None and _date(int(parts[1]), month, int(parts[0]))
        if len(parts) != 3 or not all(1 <= len(p) <= 4 for p in parts):
            return False
        if self.units[items[0].first].pos != self.units[items[-1].last].pos:
            return False  # written as one token, as dates are
        y, m, d = (int(p) for p in parts)
        if len(parts[0]) == 4 and len(parts[1]) <= 2 and len(parts[2]) <= 2:
            return _date(y, m, d)
        if len(parts[2]) == 4 and len(parts[0]) <= 2 and len(parts[1]) <= 2:
            return _date(d, m, y) or _date(d, y, m)
        return False

    def trailing_run(self) -> bool:
        """The words end in a digit run that a next word could continue (only separators,
        fillers, a multiplier or ``+`` after its last digit)."""
        for i in range(len(self.units) - 1, -1, -1):
            u = self.units[i]
            if (u.kind == "sep" and u.text in RUN_SEPARATORS) or u.text in FILLERS:
                continue
            if u.text in MULTIPLIERS or u.text in PLUS:
                return True
            return self.digit_word(i) is not None
        return False

    def leading_run(self) -> bool:
        """The words start with what could continue a digit run said before them."""
        for u in self.units:
            if u.kind == "sep" and u.text in RUN_SEPARATORS:
                continue
            if u.kind == "word" and u.text in FILLERS:
                continue
            if u.kind == "word" and (u.text in MULTIPLIERS or u.text in CHECK_X):
                return True
            return u.kind == "digit" or (
                u.kind == "word" and (u.text in EN_DIGITS or u.text == "hundred")
            )
        return False


def _date(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2099 or not 1 <= month <= 12:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def digit_spans(texts: Sequence[str], max_gap_s: float = 2.5) -> list[DigitSpan]:
    """Every digit run in a word sequence said without pauses (written dates included)."""
    reader = DigitReader(texts, [(0.0, 0.0)] * len(texts), max_gap_s)
    return [reader.span(run) for run in reader.runs()]


__all__ = [
    "CHECK_X",
    "EN_DIGITS",
    "FILLERS",
    "MULTIPLIERS",
    "RUN_SEPARATORS",
    "ZERO_LETTERS",
    "ZH_DIGITS",
    "DigitReader",
    "DigitSpan",
    "Item",
    "Run",
    "Unit",
    "digit_spans",
    "glued",
    "units",
]
