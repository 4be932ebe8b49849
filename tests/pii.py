"""Planted PII of the sample calls, and whether it can be read back from a text."""

from __future__ import annotations

import json
import re

from tests.conftest import SAMPLES

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_ZH_DIGITS = str.maketrans("零〇幺一二两三四五六七八九", "0011223456789")


def digit_stream(text: str) -> str:
    """Every digit the text says, in order, whether written as digits or spoken as words."""
    words = re.findall(r"[a-z]+|[^a-z\s]", text.lower())
    out = []
    for w in words:
        if w in _DIGIT_WORDS:
            out.append(_DIGIT_WORDS[w])
        else:
            out.append("".join(c for c in w.translate(_ZH_DIGITS) if c.isdigit()))
    return "".join(out)


def leaked(text: str, value: str) -> bool:
    """Whether ``value``, or a 7-digit stretch of it, can be read back from ``text``."""
    stream = digit_stream(text)
    return any(value[i : i + 7] in stream for i in range(len(value) - 6))


def planted(name: str) -> list[dict]:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))["pii"]
