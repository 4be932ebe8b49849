"""Planted PII of the sample calls, and whether it can be read back from a text.

The readers here are independent of ``calmline.monitor.digits``: they read digits as a
listener would hear them (numerals, en digit words, zh digit characters) and join them across
spaces and separators, so a test never grades the redactor with its own tokeniser.
"""

from __future__ import annotations

import json
import re

from tests.conftest import SAMPLES

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_ZH_DIGITS = str.maketrans("零〇幺一二两三四五六七八九", "0011223456789")
_SPOKEN = {**_DIGIT_WORDS, **{c: c.translate(_ZH_DIGITS) for c in "零〇幺一二两三四五六七八九"}}
_JOINERS = set("-,.，、。()/") | {"double", "triple"}

LONG_RUN = 6
"""A run of this many digits or more must never survive redaction (issue 11)."""


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


def digit_runs(text: str) -> list[str]:
    """Digits as a listener would hear them: numerals and spoken digits (en words, zh
    characters), joined across spaces and ``- , . ， 、 。 ( ) /`` and double/triple."""
    tokens = re.findall(r"[0-9０-９]+|[a-z]+|[\u4e00-\u9fff]|\S", text.lower())
    runs, cur = [], ""
    for tok in tokens:
        if tok.isdigit():
            cur += "".join(str(int(c)) for c in tok)
        elif tok in _SPOKEN:
            cur += _SPOKEN[tok]
        elif tok in _JOINERS:
            continue
        else:
            if cur:
                runs.append(cur)
            cur = ""
    if cur:
        runs.append(cur)
    return runs


def long_runs(text: str, n: int = LONG_RUN) -> list[str]:
    """Digit runs of ``n`` digits or more in ``text``."""
    return [r for r in digit_runs(text) if len(r) >= n]


def leaked(text: str, value: str) -> bool:
    """Whether ``value``, or a 7-digit stretch of it, can be read back from ``text``."""
    stream = digit_stream(text)
    return any(value[i : i + 7] in stream for i in range(len(value) - 6))


def transcript_strings(data, skip=("call_id", "path", "audio", "models", "calmline_version")):
    """Every string in a report's JSON form that comes from what was said (ids, file paths
    and model names are not)."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k not in skip:
                yield from transcript_strings(v, skip)
    elif isinstance(data, list | tuple):
        for v in data:
            yield from transcript_strings(v, skip)
    elif isinstance(data, str):
        yield data


def vtt_text_lines(vtt: str) -> list[str]:
    """The caption lines of a WebVTT file (no header, cue numbers or timings)."""
    return [
        line
        for line in vtt.splitlines()
        if line.strip() and "-->" not in line and line != "WEBVTT" and not line.strip().isdigit()
    ]


def planted(name: str) -> list[dict]:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))["pii"]
