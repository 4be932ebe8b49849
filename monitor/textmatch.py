"""Phrase matching that survives real transcripts.

ASR output is not the rubric's spelling: it comes in full-width or half-width forms, Traditional or
Simplified characters, with fillers (嗯, 啊, um, uh) and punctuation in odd places, and with small
recognition slips. Both the transcript and the rubric phrases go through the same normalisation:

1. Unicode NFKC (full-width letters, digits and punctuation fold to their ASCII forms) and case
   folding;
2. Traditional → Simplified (OpenCC ``t2s``) for Mandarin;
3. punctuation and symbols become separators: ignored in Mandarin, a word break in English;
   apostrophes are dropped so ``don't`` and ``don’t`` both read ``dont``; commas, full stops and
   the like also close a clause (negation never reaches across a clause);
4. the rubric's fillers are removed, unless the phrase itself contains one (``uh-huh``, ``嗯嗯``).

Every character of the normalised text keeps the index of the original character it came from,
so a match is reported as a span of the original text and can be mapped onto the turn's words
and so onto times. English matches respect word boundaries (``sorry`` does not match in
``sorrowful``); Mandarin has no spaces, so Mandarin phrases are matched as substrings.

Fuzzy matching catches recognition slips in phrases of at least ``fuzzy_min_length``
characters (and, in English, ``fuzzy_min_words`` words: one-word near misses are mostly other
forms of the word, guarantees for guarantee). rapidfuzz ``partial_ratio`` finds texts holding
something close to the phrase, then windows (Mandarin: the phrase's length ±1 characters;
English: as many words as the phrase) are scored with the normalised Levenshtein similarity
``100 · (1 − edits / longer length)``. Levenshtein rather than the indel ratio because the
indel ratio rewards cutting a wrong last character off the window, so the reported span would
miss the slip. One wrong character costs a 3-character phrase 33 points and a 9-character
phrase 11: with the default threshold of 88 only phrases of 9 or more characters survive a
one-character slip. Short phrases that recognisers get wrong belong in the rubric as explicit
``variants``. A window that adds a negation (不, 没, "not", "can't" …), swaps a person (我/你/您,
"I"/"you") or, in English, replaces a word by another rather than misspelling it is never a
match: those change what was said.

A ``…`` inside a phrase is a gap: ``您看…还是…`` matches 您看 followed by 还是 later in the same
sentence. A match preceded within a short window of the same clause by one of the negation cues
passed to :meth:`PhraseMatcher.find` (不是说, 不需要, "I'm not saying" …) is returned with
``negated=True``; the caller decides what a negated phrase means.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from calmline.monitor.rubric import MatchingRubric, PhraseEntry
from calmline.monitor.types import Turn

_APOSTROPHES = frozenset("'’‘`´ʼ")
# After NFKC: full-width ，！？；： are ASCII already; 。、 stay as they are; … becomes "...".
_SENTENCE_BREAKS = frozenset(".!?;。！？；\n\r")
_CLAUSE_BREAKS = _SENTENCE_BREAKS | frozenset(",:，、：")
_KEPT_SYMBOLS = frozenset("%")
"""Symbols that carry meaning in a phrase (``100%``) and so are kept as characters."""
_ZH_NEGATION_CHARS = "不没别无非未莫勿"
_ZH_PERSON_CHARS = "我你您他她它们咱俺"
_EN_NEGATION_WORDS = frozenset(
    {
        "not",
        "no",
        "never",
        "nobody",
        "nothing",
        "none",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "wont",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "havent",
        "hasnt",
        "hadnt",
        "aint",
    }
)
"""Normalised (apostrophes dropped) negation words a fuzzy window may not add."""
_GAP = re.compile(r"\s*(?:…+|\.\.\.+)\s*")
_MAX_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Match:
    phrase: str
    """The rubric phrase (canonical text) that matched."""
    matched: str
    """The text as it appears in the transcript."""
    start_char: int
    end_char: int
    """Span in the text passed to :meth:`PhraseMatcher.find`."""
    score: float
    """100 for an exact (normalised) match, lower for fuzzy ones."""
    negated: bool = False
    count: int = 1
    """How many times the phrase occurs in a row (:meth:`PhraseMatcher.find_repeats`)."""


@dataclass(frozen=True, slots=True)
class _View:
    """Normalised text with, per character, where it came from and which clause it is in."""

    text: str
    starts: tuple[int, ...]
    """Index in the original text of the character each normalised character came from."""
    ends: tuple[int, ...]
    """End (exclusive) in the original text of that character."""
    clause: tuple[int, ...]
    sentence: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Form:
    parts: tuple[str, ...]
    """Normalised text of the phrase; more than one part when it has ``…`` gaps."""
    keep_fillers: bool
    """Match against the text with fillers kept (the phrase contains a filler)."""


def _is_ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def is_cjk_language(language: str) -> bool:
    """Whether ``language`` is written without spaces between words (Mandarin, Cantonese)."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary in ("zh", "cmn", "yue", "zho", "chi")


def _t2s_converter():
    import opencc

    try:
        return opencc.OpenCC("t2s")
    except Exception:  # older OpenCC builds want the config file name
        return opencc.OpenCC("t2s.json")


class PhraseMatcher:
    """Finds rubric phrases in transcript text.

    One matcher belongs to one rubric (its ``matching`` section and language); it caches the
    normalised phrases and texts it has seen, so keep it for a call (or a batch) and drop it
    after.
    """

    def __init__(self, matching: MatchingRubric, language: str) -> None:
        self.matching = matching
        self.language = language
        self.cjk = is_cjk_language(language)
        self._t2s = _t2s_converter() if self.cjk else None
        self._fillers = tuple(
            sorted(
                {f for f in (self._normalize(x).text for x in matching.fillers) if f},
                key=len,
                reverse=True,
            )
        )
        self._filler_words = frozenset(self._fillers)
        self._forms: dict[str, _Form | None] = {}
        self._views: dict[str, tuple[_View, _View]] = {}

    # --- public --------------------------------------------------------------------------

    def normalize(self, text: str) -> str:
        """``text`` as the matcher sees it (fillers removed)."""
        return self._views_of(text)[1].text

    def find(
        self,
        text: str,
        phrases: Sequence[PhraseEntry],
        *,
        negations: Sequence[PhraseEntry] = (),
        fuzzy_threshold: float | None = None,
        negation_window: int | None = None,
    ) -> list[Match]:
        """Every occurrence of the phrases in ``text``, in text order, without overlaps.

        Where matches overlap (``明白`` inside ``我明白了``) the longer one is kept, then the
        better-scoring one.

        Args:
            text: transcript text (one turn).
            phrases: the lexicon; a match names the entry's canonical ``text``.
            negations: cues that negate a following phrase in the same clause.
            fuzzy_threshold: overrides the rubric's threshold for this call (e.g. stricter for
                a lexicon whose findings are critical); 100 turns fuzzy matching off.
            negation_window: overrides the rubric's window (characters for Mandarin, words
                for English) between a negation cue and the phrase.
        """
        if not text or not phrases:
            return []
        full, clean = self._views_of(text)
        threshold = self.matching.fuzzy_threshold if fuzzy_threshold is None else fuzzy_threshold
        window = self._negation_window(negation_window)
        candidates: list[tuple[int, float, Match]] = []
        for entry in phrases:
            spans: list[tuple[int, int, float, _View]] = []
            for raw in entry.forms:
                form = self._form(raw)
                if form is None:
                    continue
                view = full if form.keep_fillers else clean
                for s, e in self._exact(view, form.parts):
                    spans.append((s, e, 100.0, view))
                if threshold < 100 and len(form.parts) == 1:
                    part = form.parts[0]
                    if self._fuzzy_eligible(part):
                        taken = [(s, e) for s, e, _, v in spans if v is view]
                        for s, e, score in self._fuzzy(view, part, threshold, taken):
                            spans.append((s, e, score, view))
            for s, e, score, view in spans:
                negated = bool(negations) and self._is_negated(view, s, negations, window)
                match = Match(
                    phrase=entry.text,
                    matched=text[view.starts[s] : view.ends[e - 1]],
                    start_char=view.starts[s],
                    end_char=view.ends[e - 1],
                    score=round(score, 1),
                    negated=negated,
                )
                candidates.append((e - s, score, match))
        return _without_overlaps(candidates)

    def find_repeats(self, text: str, tokens: Sequence[PhraseEntry], min_count: int) -> list[Match]:
        """Runs of one token said ``min_count`` or more times in a row (好好好, okay okay okay).

        Punctuation between the repetitions (好，好，好) and fillers (好嗯好好) do not break a
        run. ``Match.count`` is the run length.
        """
        if not text or not tokens or min_count < 1:
            return []
        full, clean = self._views_of(text)
        candidates: list[tuple[int, float, Match]] = []
        for entry in tokens:
            for raw in entry.forms:
                form = self._form(raw)
                if form is None or len(form.parts) != 1:
                    continue
                view = full if form.keep_fillers else clean
                for s, e, count in self._runs(view, form.parts[0], min_count):
                    match = Match(
                        phrase=entry.text,
                        matched=text[view.starts[s] : view.ends[e - 1]],
                        start_char=view.starts[s],
                        end_char=view.ends[e - 1],
                        score=100.0,
                        count=count,
                    )
                    candidates.append((e - s, 100.0, match))
        return _without_overlaps(candidates)

    def time_span(self, turn: Turn, match: Match) -> tuple[float, float]:
        """Start and end time (s) of a match found in ``turn.text``.

        The span is mapped onto the words whose text covers it (``turn.text`` is the words
        joined with nothing for Mandarin and with spaces for English). A turn without words, or
        whose words cannot be located in its text, gets a time interpolated by character
        position inside the turn.
        """
        spans = _word_char_spans(turn)
        hit = [
            w
            for w, span in zip(turn.words, spans, strict=True)
            if span is not None and span[0] < match.end_char and span[1] > match.start_char
        ]
        if hit:
            return min(w.start for w in hit), max(w.end for w in hit)
        n = max(len(turn.text), 1)
        dur = turn.end - turn.start
        start = turn.start + dur * min(match.start_char, n) / n
        end = turn.start + dur * min(match.end_char, n) / n
        return round(start, 3), round(max(end, start), 3)

    # --- normalisation -------------------------------------------------------------------

    def _views_of(self, text: str) -> tuple[_View, _View]:
        views = self._views.get(text)
        if views is None:
            full = self._normalize(text)
            views = (full, self._drop_fillers(full))
            if len(self._views) >= _MAX_CACHE:
                self._views.clear()
            self._views[text] = views
        return views

    def _normalize(self, text: str) -> _View:
        items: list[tuple[str, int]] = []
        for i, ch in enumerate(text):
            items.extend((c, i) for c in unicodedata.normalize("NFKC", ch).casefold())
        if self._t2s is not None and items:
            joined = "".join(c for c, _ in items)
            converted = self._t2s.convert(joined)
            if len(converted) == len(joined):
                items = [(c, i) for c, (_, i) in zip(converted, items, strict=True)]
            else:  # a phrase conversion changed the length: convert one character at a time
                items = [(self._t2s.convert(c)[:1] or c, i) for c, i in items]
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        clause: list[int] = []
        sentence: list[int] = []
        clause_id = sentence_id = 0
        pending_space = False
        for c, i in items:
            if c in _APOSTROPHES:
                continue
            if c.isspace():
                pending_space = True
                continue
            if unicodedata.category(c)[0] in "PSZC" and c not in _KEPT_SYMBOLS:
                if c in _SENTENCE_BREAKS:
                    sentence_id += 1
                if c in _CLAUSE_BREAKS:
                    clause_id += 1
                pending_space = True
                continue
            # Mandarin drops separators, except between two Latin words or numbers.
            if (
                pending_space
                and out
                and (not self.cjk or (_is_ascii_alnum(out[-1]) and _is_ascii_alnum(c)))
            ):
                out.append(" ")
                starts.append(i)
                ends.append(i)
                clause.append(clause_id)
                sentence.append(sentence_id)
            pending_space = False
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
            clause.append(clause_id)
            sentence.append(sentence_id)
        return _View("".join(out), tuple(starts), tuple(ends), tuple(clause), tuple(sentence))

    def _drop_fillers(self, view: _View) -> _View:
        if not self._fillers:
            return view
        keep: list[int] = []
        text = view.text
        if self.cjk:
            k = 0
            while k < len(text):
                filler = next((f for f in self._fillers if text.startswith(f, k)), None)
                if filler is not None:
                    k += len(filler)
                    continue
                keep.append(k)
                k += 1
        else:
            first = True
            for a, b in _token_spans(text):
                if text[a:b] in self._filler_words:
                    continue
                if not first:
                    keep.append(-a - 1)  # a space before this token, placed at the token
                keep.extend(range(a, b))
                first = False
        chars, starts, ends, clause, sentence = [], [], [], [], []
        for k in keep:
            if k < 0:
                a = -k - 1
                chars.append(" ")
                starts.append(view.starts[a])
                ends.append(view.starts[a])
                clause.append(view.clause[a])
                sentence.append(view.sentence[a])
            else:
                chars.append(text[k])
                starts.append(view.starts[k])
                ends.append(view.ends[k])
                clause.append(view.clause[k])
                sentence.append(view.sentence[k])
        return _View("".join(chars), tuple(starts), tuple(ends), tuple(clause), tuple(sentence))

    def _form(self, raw: str) -> _Form | None:
        if raw in self._forms:
            return self._forms[raw]
        full_parts, clean_parts = [], []
        for piece in _GAP.split(raw):
            full = self._normalize(piece)
            clean = self._drop_fillers(full)
            if full.text.strip():
                full_parts.append(full.text.strip())
                clean_parts.append(clean.text.strip())
        form: _Form | None
        if not full_parts:
            form = None
        elif full_parts != clean_parts:
            form = _Form(tuple(full_parts), keep_fillers=True)
        else:
            form = _Form(tuple(clean_parts), keep_fillers=False)
        self._forms[raw] = form
        return form

    # --- matching ------------------------------------------------------------------------

    def _bounded(self, text: str, s: int, e: int) -> bool:
        """Whether ``text[s:e]`` starts and ends on word boundaries."""
        before = text[s - 1] if s > 0 else None
        after = text[e] if e < len(text) else None
        return self._edge_ok(text[s], before) and self._edge_ok(text[e - 1], after)

    def _edge_ok(self, edge: str, neighbour: str | None) -> bool:
        if neighbour is None:
            return True
        if self.cjk:
            return not (_is_ascii_alnum(edge) and _is_ascii_alnum(neighbour))
        return not (edge.isalnum() and neighbour.isalnum())

    def _occurrences(self, view: _View, part: str, start: int = 0) -> Iterable[int]:
        k = view.text.find(part, start)
        while k >= 0:
            if self._bounded(view.text, k, k + len(part)):
                yield k
            k = view.text.find(part, k + 1)

    def _gap_ok(self, view: _View, end: int, nxt: int) -> bool:
        if self.cjk:
            return nxt - end <= self.matching.gap_max_chars
        return len(view.text[end:nxt].split()) <= self.matching.gap_max_words

    def _exact(self, view: _View, parts: tuple[str, ...]) -> list[tuple[int, int]]:
        found = []
        for k in self._occurrences(view, parts[0]):
            end = k + len(parts[0])
            for part in parts[1:]:
                nxt = next(
                    (
                        j
                        for j in self._occurrences(view, part, end)
                        if view.sentence[j] == view.sentence[k]
                    ),
                    None,
                )
                if nxt is None or not self._gap_ok(view, end, nxt):
                    break
                end = nxt + len(part)
            else:
                found.append((k, end))
        return found

    def _fuzzy(
        self, view: _View, part: str, threshold: float, taken: list[tuple[int, int]]
    ) -> list[tuple[int, int, float]]:
        text = view.text
        # Cheap gate first: most texts hold nothing close to the phrase.
        if fuzz.partial_ratio(part, text, score_cutoff=max(threshold - 10, 0)) == 0:
            return []
        windows: list[tuple[int, int]] = []
        if self.cjk:
            n = len(part)
            for size in (n - 1, n, n + 1):
                if size < 1:
                    continue
                windows += [(k, k + size) for k in range(len(text) - size + 1)]
        else:  # English: as many words as the phrase, compared word by word below
            tokens = _token_spans(text)
            n = len(part.split())
            windows = [(tokens[k][0], tokens[k + n - 1][1]) for k in range(len(tokens) - n + 1)]
        scored = []
        for s, e in windows:
            if view.sentence[s] != view.sentence[e - 1]:
                continue
            if text[s] == " " or text[e - 1] == " ":
                continue
            if not self._plausible_slip(part, text[s:e]):
                continue
            score = 100 * Levenshtein.normalized_similarity(part, text[s:e])
            if threshold <= score < 100:
                scored.append((s, e, score))
        # Best window first; one window per place, none over an exact match.
        scored.sort(key=lambda x: (-x[2], abs((x[1] - x[0]) - len(part)), x[0]))
        chosen: list[tuple[int, int, float]] = []
        for s, e, score in scored:
            if any(s < te and e > ts for ts, te in taken) or any(
                s < ce and e > cs for cs, ce, _ in chosen
            ):
                continue
            chosen.append((s, e, score))
        return chosen

    def _fuzzy_eligible(self, part: str) -> bool:
        if len(part.replace(" ", "")) < self.matching.fuzzy_min_length:
            return False
        return self.cjk or len(part.split()) >= self.matching.fuzzy_min_words

    def _plausible_slip(self, phrase: str, window: str) -> bool:
        """Whether ``window`` may be ``phrase`` misrecognised rather than other words.

        A recognition slip never adds a negation ("I can't guarantee" is not "I can
        guarantee") and never swaps a person ("I need to apologize" is not "you need to
        apologize", 我要道歉 is not 你要道歉). In English every word must be the phrase's word or
        a near spelling of it (4+ letters, 75% similar: apologise, inconvenient), so a short
        word is never replaced by another.
        """
        if self.cjk:
            if any(c in window and c not in phrase for c in _ZH_NEGATION_CHARS):
                return False
            return Counter(c for c in window if c in _ZH_PERSON_CHARS) == Counter(
                c for c in phrase if c in _ZH_PERSON_CHARS
            )
        words, wanted = window.split(), phrase.split()
        if len(words) != len(wanted):
            return False
        if (set(words) - set(wanted)) & _EN_NEGATION_WORDS:
            return False
        return all(
            a == b or (min(len(a), len(b)) >= 4 and Levenshtein.normalized_similarity(a, b) >= 0.75)
            for a, b in zip(words, wanted, strict=True)
        )

    def _runs(self, view: _View, token: str, min_count: int) -> list[tuple[int, int, int]]:
        text = view.text
        sep = "" if self.cjk else " "
        runs = []
        k = 0
        while k < len(text):
            if not (text.startswith(token, k) and self._bounded(text, k, k + len(token))):
                k += 1
                continue
            count, end, p = 1, k + len(token), k + len(token)
            while True:
                q = p + len(sep) if text.startswith(sep, p) else p
                if text.startswith(token, q) and self._bounded(text, q, q + len(token)):
                    count += 1
                    end = p = q + len(token)
                else:
                    break
            if count >= min_count:
                runs.append((k, end, count))
                k = end
            else:
                k += 1
        return runs

    def _negation_window(self, override: int | None) -> int:
        if override is not None:
            return override
        if self.cjk:
            return self.matching.negation_window_chars
        return self.matching.negation_window_words

    def _is_negated(
        self, view: _View, start: int, negations: Sequence[PhraseEntry], window: int
    ) -> bool:
        for entry in negations:
            for raw in entry.forms:
                form = self._form(raw)
                if form is None or len(form.parts) != 1:
                    continue
                cue = form.parts[0]
                lo = max(0, start - len(cue) - (window + 1) * (1 if self.cjk else 24))
                for k in self._occurrences(view, cue, lo):
                    if k >= start:
                        break
                    if view.clause[k] != view.clause[start]:
                        continue
                    # A cue may run into the phrase: 不能 + 能保证 in 我不能保证.
                    end = min(k + len(cue), start)
                    gap = view.text[end:start]
                    distance = len(gap) if self.cjk else len(gap.split())
                    if distance <= window:
                        return True
        return False


def _token_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _without_overlaps(candidates: list[tuple[int, float, Match]]) -> list[Match]:
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2].start_char))
    chosen: list[Match] = []
    for _, _, m in candidates:
        if any(m.start_char < c.end_char and m.end_char > c.start_char for c in chosen):
            continue
        chosen.append(m)
    return sorted(chosen, key=lambda m: (m.start_char, m.end_char))


def _word_char_spans(turn: Turn) -> list[tuple[int, int] | None]:
    """Where each word's text sits in ``turn.text``, or ``None`` where it cannot be found."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for w in turn.words:
        token = w.text.strip()
        i = turn.text.find(token, cursor) if token else -1
        if i < 0:
            spans.append(None)
            continue
        spans.append((i, i + len(token)))
        cursor = i + len(token)
    return spans
