"""Planted PII of the sample calls, and whether it can be read back from a text.

The readers here are independent of ``calmline.monitor.digits``: they read digits as a
listener would hear them (numerals, en digit words, zh digit characters) and join them across
spaces and separators, so a test never grades the redactor with its own tokeniser.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

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
    """Whether ``value``, or a 7-digit stretch of it, can be read back from ``text``: every
    digit ``text`` says, joined across the words between them. Give it what can carry speech
    (a transcript, a quote, a caption), not a whole document: the times, scores and ids of a
    report's JSON joined into one stream hold any 7 digits by chance (:func:`said_pieces`)."""
    stream = digit_stream(text)
    return any(value[i : i + 7] in stream for i in range(len(value) - 6))


_NOT_SAID = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"  # a time
    r"|\b(?=[0-9a-f-]*[a-f])(?=[0-9a-f-]*[0-9])[0-9a-f]{8,}(?:-[0-9a-f]+)*\b"  # an id, a hash
)


def said_strings(data) -> list[str]:
    """The strings of a JSON document that can carry what was said, each to be read on its
    own, and the words (or texts) of each list read together, so that a number split over
    word entries or turns is still read back. Numbers (times, scores, probabilities) are
    measurements, and timestamps, ids and hashes in a string are not speech: left out."""
    pieces = [_NOT_SAID.sub(" ", s) for s in transcript_strings(data)]

    def lists(x) -> None:
        if isinstance(x, dict):
            for v in x.values():
                lists(v)
        elif isinstance(x, list | tuple):
            said = [
                w for i in x if isinstance(i, dict) for w in (i.get("word", i.get("text")),)
                if isinstance(w, str)
            ]  # fmt: skip
            if len(said) > 1:
                pieces.append(" ".join(said))
            for v in x:
                lists(v)

    lists(data)
    return pieces


def said_pieces(fmt: str, text: str) -> list[str]:
    """What a reader could read a number back from in a stored or exported ``text`` of the
    given format (``json``, ``vtt``, ``rttm``, ``csv``): each piece to be given to
    :func:`leaked` on its own."""
    if fmt == "json":
        return said_strings(json.loads(text))
    if fmt == "vtt":
        lines = vtt_text_lines(text)
        return [*lines, " ".join(lines)]
    if fmt == "rttm":
        return text.split()
    if fmt == "csv":
        return [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    raise ValueError(f"no reader for {fmt!r}")


def said_in_database(db: sqlite3.Connection) -> list[str]:
    """Every text cell of every table, a JSON one read as :func:`said_strings` reads it
    (numeric cells are measurements, never a transcript)."""
    pieces: list[str] = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in db.execute(f'SELECT * FROM "{table}"'):
            for cell in row:
                if isinstance(cell, bytes):
                    cell = cell.decode("utf-8", "replace")
                if not isinstance(cell, str):
                    continue
                try:
                    data = json.loads(cell)
                except ValueError:
                    data = None
                if isinstance(data, dict | list):
                    pieces += said_strings(data)
                else:
                    pieces.append(_NOT_SAID.sub(" ", cell))
    return pieces


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
