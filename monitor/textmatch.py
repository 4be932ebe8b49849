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

Mandarin recognisers often write a homophone for the character that was said (接近所能 for
竭尽所能, 道谦 for 道歉, 里解 for 理解). A window of the phrase's length whose characters read like
the phrase's is a *phonetic* match (``pypinyin``, tones ignored): every character is the phrase's
own character or one whose usual reading is the same toneless syllable, or, in phrases of at
least ``phonetic_near_min_length`` characters, a near homophone (the usual 模糊音 pairs: z/zh,
c/ch, s/sh, n/l, an/ang, en/eng, in/ing). At least half of the characters must be the phrase's
own, and characters that carry a negation, a person or an aspect (不, 没, 我, 你, 您, 了, 过,
呢 …) must be the very same character on both sides: 部 may not stand for 不, 你 for 您, nor 呢
for 了 (给我道歉了 reports an apology, 给我道歉呢 demands one). A homophone at an edge of
the window must not belong to the next word: in phrases of up to three characters it may not
touch another character of its clause on that side (这里解决 holds 里解, 女士因为 holds 士因为),
in longer ones it may not make a known two-character word with it. Phrases shorter than
``phonetic_min_length`` characters are matched as written only. English words match through
their lemma (a *normalised* match): ``apologies``, ``apologise``, ``apologizing`` and
``apology`` all read ``apologiz``; see :func:`english_lemma` for the rules. Negation words and
pronouns are never folded, so no lemma changes a negation or a person.

Every match says how it was made (:attr:`Match.kind`): ``exact`` when the transcript holds the
rubric form (the phrase or one of its listed variants, :attr:`Match.form`) as written, ignoring
only letter case, full/half width and the apostrophe's shape; ``normalised`` when it matched
after the normalisation above (Traditional characters, punctuation, fillers) or through English
lemmas; ``phonetic`` and ``fuzzy`` as described. Matching only ever looks inside the one text it
is given (a turn), so a customer's words never become the agent's.

A ``…`` inside a phrase is a gap: ``您看…还是…`` matches 您看 followed by 还是 later in the same
sentence. A match preceded within a short window of the same clause by one of the negation cues
passed to :meth:`PhraseMatcher.find` (不是说, 不需要, "I'm not saying" …) is returned with
``negated=True``; the caller decides what a negated phrase means.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, KeysView, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from calmline.monitor.rubric import MatchingRubric, PhraseEntry
from calmline.monitor.types import Turn, Word

_APOSTROPHES = frozenset("'’‘`´ʼ")
# After NFKC: full-width ，！？；： are ASCII already; 。、 stay as they are; … becomes "...".
_SENTENCE_BREAKS = frozenset(".!?;。！？；\n\r")
_CLAUSE_BREAKS = _SENTENCE_BREAKS | frozenset(",:，、：")
_KEPT_SYMBOLS = frozenset("%")
"""Symbols that carry meaning in a phrase (``100%``) and so are kept as characters."""
_A = "[" + "".join(sorted(_APOSTROPHES)) + "]"
_O = _A + "?"
_EN_CONTRACTIONS = (
    (re.compile(rf"\b(there|that|what){_O}s\b|\b(here|it|who|where|how){_A}s\b"), r"\1\2 is"),
    (re.compile(rf"\blet{_A}s\b"), "let us"),
    (re.compile(rf"\bi{_O}m\b"), "i am"),
    (re.compile(rf"\b(you|they){_O}re\b|\b(we){_A}re\b"), r"\1\2 are"),
    (re.compile(rf"\b(i|you|we|they){_O}ve\b"), r"\1 have"),
    (re.compile(rf"\b(you|they|that){_O}ll\b|\b(i|we|he|she|it|there){_A}ll\b"), r"\1\2 will"),
    (re.compile(rf"\bwon{_O}t\b"), "will not"),
    (re.compile(rf"\bcan{_O}t\b|\bcannot\b"), "can not"),
    (
        re.compile(
            rf"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|must|need|ai)"
            rf"n{_O}t\b|\b(\w+)n{_A}t\b"
        ),
        r"\1\2 not",
    ),
)
"""English contractions and their full forms, read alike: a recogniser writes "there's" or
"there is", "don't" or "do not" for the same sound, and a rubric phrase names one of them.
Only forms with one meaning: "he's" (is / has), "I'd" (had / would) and a noun's "'s" stay as
written. Chat text drops the apostrophe (Im, dont, cant, thats): where the bare form is no other
word it is read the same; "well", "ill", "were", "its", "lets" keep their own meaning."""
_ZH_NEGATION_CHARS = "不没别无非未莫勿"
_ZH_PERSON_CHARS = "我你您他她它们咱俺"
_ZH_GAP_NEGATION = re.compile(r"不(?![断停])|没|未|无法|莫|勿|(?<!特)别(?!的)|非(?!常)")
"""A negation in the last characters of a gap negates the phrase part after it. 不断 and 不停
(constantly) deny nothing: 网络环境也在不断变化 is 网络环境…变化."""
_GAP_NEGATION_CHARS = 3
_ZH_BOUND = ("超过",)
"""What turns a negation cue into a bound on a quantity: 最晚不会超过四小时给您回电 promises the
call back within four hours, it denies nothing."""
_ZH_PARTICLE_CHARS = "了过着吗呢吧"
"""Aspect and question particles: 给我道歉了 reports an apology, 给我道歉呢 demands one."""
_ZH_MEANING_CHARS = frozenset(_ZH_NEGATION_CHARS + _ZH_PERSON_CHARS + _ZH_PARTICLE_CHARS)
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
_PRONOUNS = (
    "i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his "
    "himself she her hers herself it its itself they them their theirs themselves im ive id ill "
    "youre youve youd youll were weve wed well theyre"
)
_EN_PERSON_WORDS = frozenset(_PRONOUNS.split())
"""Pronouns (and their contractions, apostrophes dropped) that a lemma never folds."""
_EN_LEMMA_FAMILIES = {"apology": "apologize", "apologies": "apologize"}
"""Nouns that name the act of their verb, folded onto it (``my apologies`` ≈ ``I apologize``)."""
KINDS = ("exact", "normalised", "phonetic", "fuzzy", "pattern", "learned")
"""How a phrase was matched, from the most literal to the most tolerant. ``pattern`` is not
made here: a detector's sentence frame (``detectors.frames``) found the words, quoted as heard;
nor is ``learned``: no phrase matched, a trained model (``detectors.learned``) held the part and
these words weighed most for it."""
_GAP = re.compile(r"\s*(?:…+|\.\.\.+)\s*")
_MAX_CACHE = 4096
_SHARED_FORMS: dict[tuple[str, tuple[str, ...]], dict[str, _Form | None]] = {}
"""Normalised phrase forms by (language, fillers): a lexicon is the rubric's, so every matcher
of that rubric (one per call) reads the same forms. Values are immutable; a race only makes two
threads compute one form."""


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
    """100 for an exact or normalised match; the similarity (0-100) of the toned pinyin for a
    phonetic one and of the characters or words for a fuzzy one."""
    negated: bool = False
    count: int = 1
    """How many times the phrase occurs in a row (:meth:`PhraseMatcher.find_repeats`)."""
    kind: str = "exact"
    """``exact``, ``normalised``, ``phonetic`` or ``fuzzy`` (see the module docstring)."""
    form: str = ""
    """The rubric form that matched: the phrase itself or one of its variants."""


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
    chars: frozenset[str]
    """The characters of ``parts`` (kept for ``_may_occur``, which reads them for every form
    and turn)."""


def _may_occur(held: KeysView[str], form: _Form, threshold: float) -> bool:
    """Mandarin: whether a text holding the characters ``held`` holds enough of the
    characters of ``form`` for any match (most turns hold none of most phrases). An exact
    match needs them all; a homophone half of them (``PhraseMatcher._phonetic``); a fuzzy
    window of at most ``n + 1`` characters is at least one edit away per character of the
    phrase that the text lacks."""
    present = len(form.chars & held)
    absent = len(form.chars) - present
    if not absent:
        return True
    if len(form.parts) > 1:
        return False
    return 2 * present >= len(form.chars) or (
        threshold < 100 and 100 * (1 - absent / (len(form.parts[0]) + 1)) >= threshold
    )


def _expand_contractions(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``items`` (characters with the index of the original character each came from) with
    every English contraction of :data:`_EN_CONTRACTIONS` written out. The characters the two
    forms share at the start keep their indices; the rest of the full form points into the rest
    of the contraction, so a match still maps onto the words said."""
    joined = "".join(c for c, _ in items)
    for pattern, full in _EN_CONTRACTIONS:
        out: list[tuple[str, int]] = []
        at = 0
        for m in pattern.finditer(joined):
            out.extend(items[at : m.start()])
            said = items[m.start() : m.end()]
            written = m.expand(full)
            shared = 0
            while shared < min(len(said), len(written)) and said[shared][0] == written[shared]:
                shared += 1
            out.extend(said[:shared])
            rest = said[shared:] or said[-1:]
            out.extend(
                (c, rest[0][1] if k == 0 else rest[-1][1]) for k, c in enumerate(written[shared:])
            )
            at = m.end()
        if at:
            items = [*out, *items[at:]]
            joined = "".join(c for c, _ in items)
    return items


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
        self._forms = _SHARED_FORMS.setdefault((language, tuple(matching.fillers)), {})
        self._views: dict[str, tuple[_View, _View]] = {}
        self._indexes: dict[tuple[str, str], object] = {}
        self._found: dict[tuple, list[Match]] = {}

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
        phonetic: bool | None = None,
        lemmas: bool = True,
    ) -> list[Match]:
        """Every occurrence of the phrases in ``text``, in text order, without overlaps.

        Where matches overlap (``明白`` inside ``我明白了``) the longer one is kept, then the
        more literal one (exact, normalised, phonetic, fuzzy), then the better-scoring one.

        Args:
            text: transcript text (one turn).
            phrases: the lexicon; a match names the entry's canonical ``text``.
            negations: cues that negate a following phrase in the same clause.
            fuzzy_threshold: overrides the rubric's threshold for this call (e.g. stricter for
                a lexicon whose findings are critical); 100 turns fuzzy matching off.
            negation_window: overrides the rubric's window (characters for Mandarin, words
                for English) between a negation cue and the phrase.
            phonetic: overrides the rubric's ``phonetic`` switch (Mandarin homophones).
            lemmas: English: match other forms of the phrase's words (``False`` for a lexicon
                where the form of a verb decides what was meant, e.g. an imperative).
        """
        if not text or not phrases:
            return []
        # Several detectors search the same turns with the same lexicon (complaint words, the
        # empathy phrases solve_problem borrows): the answer is remembered for the matcher.
        key = (text, tuple(phrases), tuple(negations), fuzzy_threshold, negation_window)
        key += (phonetic, lemmas)
        found = self._found.get(key)
        if found is None:
            found = self._search(
                text, phrases, negations, fuzzy_threshold, negation_window, phonetic, lemmas
            )
            if len(self._found) >= _MAX_CACHE:
                self._found.clear()
            self._found[key] = found
        return list(found)

    def _search(
        self,
        text: str,
        phrases: Sequence[PhraseEntry],
        negations: Sequence[PhraseEntry],
        fuzzy_threshold: float | None,
        negation_window: int | None,
        phonetic: bool | None,
        lemmas: bool,
    ) -> list[Match]:
        full, clean = self._views_of(text)
        threshold = self.matching.fuzzy_threshold if fuzzy_threshold is None else fuzzy_threshold
        use_phonetic = self.matching.phonetic if phonetic is None else phonetic
        window = self._negation_window(negation_window)
        if self.cjk:  # the characters each view holds, for _may_occur
            held = {True: self._char_index(full).keys(), False: self._char_index(clean).keys()}
        candidates: list[tuple[int, float, Match]] = []
        for entry in phrases:
            spans: list[tuple[int, int, float, _View, str, str]] = []
            for raw in entry.forms:
                form = self._form(raw)
                if form is None:
                    continue
                view = full if form.keep_fillers else clean
                if self.cjk and not _may_occur(held[form.keep_fillers], form, threshold):
                    continue
                for s, e in self._exact(view, form.parts):
                    literal = _literal(text[view.starts[s] : view.ends[e - 1]], raw)
                    spans.append((s, e, 100.0, view, "exact" if literal else "normalised", raw))
                if len(form.parts) != 1:
                    continue
                part = form.parts[0]
                taken = [(s, e) for s, e, _, v, _, _ in spans if v is view]
                if not self.cjk and lemmas:
                    for s, e in self._lemma_matches(view, part, taken):
                        spans.append((s, e, 100.0, view, "normalised", raw))
                elif use_phonetic:
                    for s, e, score in self._phonetic(view, part, taken):
                        spans.append((s, e, score, view, "phonetic", raw))
                if threshold < 100 and self._fuzzy_eligible(part):
                    taken = [(s, e) for s, e, _, v, _, _ in spans if v is view]
                    for s, e, score in self._fuzzy(view, part, threshold, taken, lemmas):
                        spans.append((s, e, score, view, "fuzzy", raw))
            for s, e, score, view, kind, raw in spans:
                negated = bool(negations) and self._is_negated(view, s, negations, window)
                match = Match(
                    phrase=entry.text,
                    matched=text[view.starts[s] : view.ends[e - 1]],
                    start_char=view.starts[s],
                    end_char=view.ends[e - 1],
                    score=round(score, 1),
                    negated=negated,
                    kind=kind,
                    form=raw,
                )
                candidates.append((e - s, -KINDS.index(kind) * 1000 + score, match))
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
                        kind=_run_kind(text[view.starts[s] : view.ends[e - 1]], raw, count),
                        form=raw,
                    )
                    candidates.append((e - s, 100.0, match))
        return _without_overlaps(candidates)

    def words_of(self, turn: Turn, match: Match) -> list[Word]:
        """The recognised words of ``turn`` whose text covers the span of ``match`` (none
        where the turn has no words, or they cannot be located in its text)."""
        spans = _word_char_spans(turn)
        return [
            w
            for w, span in zip(turn.words, spans, strict=True)
            if span is not None and span[0] < match.end_char and span[1] > match.start_char
        ]

    def heard_prob(self, turn: Turn, match: Match) -> float | None:
        """The mean recogniser probability of the words of ``match``; ``None`` without
        recognised words (a text transcript)."""
        probs = [w.prob for w in self.words_of(turn, match)]
        return sum(probs) / len(probs) if probs else None

    def heard(self, turn: Turn, match: Match, min_prob: float) -> bool:
        """Whether the recogniser heard the words of ``match`` with a mean probability of at
        least ``min_prob``. A match without recognised words (a text transcript) counts as
        heard: there is nothing to doubt it by."""
        prob = self.heard_prob(turn, match)
        return prob is None or prob >= min_prob

    def time_span(self, turn: Turn, match: Match) -> tuple[float, float]:
        """Start and end time (s) of a match found in ``turn.text``.

        The span is mapped onto the words whose text covers it (``turn.text`` is the words
        joined with nothing for Mandarin and with spaces for English). A turn without words, or
        whose words cannot be located in its text, gets a time interpolated by character
        position inside the turn.
        """
        hit = self.words_of(turn, match)
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
        if not self.cjk:
            items = _expand_contractions(items)
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
            form = _Form(tuple(full_parts), True, frozenset("".join(full_parts)))
        else:
            form = _Form(tuple(clean_parts), False, frozenset("".join(clean_parts)))
        if len(self._forms) >= 8 * _MAX_CACHE:  # rubrics edited many times over
            self._forms.clear()
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
        """Whether the words between two parts of a gap phrase may be skipped: not too many,
        and none that negates the part after them (您的心情我不能理解 is not 您的心情…理解,
        "has not sent … to you" not "has sent … to you"); a negation further inside the gap
        belongs to what the gap holds (就是说您没有收到是吗 restates 没有收到)."""
        gap = view.text[end:nxt]
        if self.cjk:
            return nxt - end <= self.matching.gap_max_chars and not _ZH_GAP_NEGATION.search(
                gap[-_GAP_NEGATION_CHARS:]
            )
        words = gap.split()
        if len(words) > self.matching.gap_max_words:
            return False
        return not any(w.replace("'", "") in _EN_NEGATION_WORDS for w in words[-2:])

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
                if view.sentence[k] == view.sentence[end - 1]:  # never across a full stop
                    found.append((k, end))
        return found

    def _fuzzy(
        self,
        view: _View,
        part: str,
        threshold: float,
        taken: list[tuple[int, int]],
        lemmas: bool = True,
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
            if not self._plausible_slip(part, text[s:e], lemmas):
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

    def _lemma_matches(
        self, view: _View, part: str, taken: list[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """English: token windows whose lemmas are the phrase's, where the words differ."""
        wanted = part.split()
        keys = tuple(english_lemma(w) for w in wanted)
        tokens, words, lemmas = self._lemma_index(view)
        n = len(wanted)
        found = []
        for k in lemmas.get(keys[0], ()):
            if tuple(lemmas_at(words, k, n)) != keys or words[k : k + n] == wanted:
                continue
            s, e = tokens[k][0], tokens[k + n - 1][1]
            if view.sentence[s] != view.sentence[e - 1]:
                continue
            if any(s < te and e > ts for ts, te in taken):
                continue
            found.append((s, e))
        return found

    def _lemma_index(
        self, view: _View
    ) -> tuple[list[tuple[int, int]], list[str], dict[str, list[int]]]:
        """Tokens of ``view``, their words, and lemma -> token positions (cached)."""
        key = ("lemma", view.text)
        cached = self._indexes.get(key)
        if cached is None:
            tokens = _token_spans(view.text)
            words = [view.text[a:b] for a, b in tokens]
            by_lemma: dict[str, list[int]] = {}
            for k, w in enumerate(words):
                by_lemma.setdefault(english_lemma(w), []).append(k)
            cached = (tokens, words, by_lemma)
            self._remember(key, cached)
        return cached

    def _char_index(self, view: _View) -> dict[str, list[int]]:
        """Character -> positions in ``view`` (cached)."""
        key = ("chars", view.text)
        cached = self._indexes.get(key)
        if cached is None:
            cached = {}
            for k, c in enumerate(view.text):
                cached.setdefault(c, []).append(k)
            self._remember(key, cached)
        return cached

    def _remember(self, key: tuple[str, str], value) -> None:
        if len(self._indexes) >= _MAX_CACHE:
            self._indexes.clear()
        self._indexes[key] = value

    def _phonetic(
        self, view: _View, part: str, taken: list[tuple[int, int]]
    ) -> list[tuple[int, int, float]]:
        """Mandarin: windows that read like ``part`` (see the module docstring)."""
        n = len(part)
        if n < self.matching.phonetic_min_length or not _all_cjk(part):
            return []
        text = view.text
        # Half of the characters must be the phrase's own: count them per window start.
        index = self._char_index(view)
        if 2 * sum(c in index for c in set(part)) < len(set(part)):
            return []
        last = len(text) - n
        same_at: dict[int, int] = {}
        for i, c in enumerate(part):
            for pos in index.get(c, ()):
                if 0 <= pos - i <= last:
                    same_at[pos - i] = same_at.get(pos - i, 0) + 1
        if not same_at:
            return []
        readings: tuple[str, ...] | None = None
        near = n >= self.matching.phonetic_near_min_length
        found = []
        for k in sorted(same_at):
            if 2 * same_at[k] < n or same_at[k] == n:
                continue
            window = text[k : k + n]
            if view.sentence[k] != view.sentence[k + n - 1]:
                continue
            if any(k < te and k + n > ts for ts, te in taken):
                continue
            readings = readings or _phrase_readings(part)
            if not all(
                p == w or _sounds_alike(p, r, w, near)
                for p, w, r in zip(part, window, readings, strict=True)
            ):
                continue
            if not self._free_standing(view, k, part, window):
                continue
            toned = " ".join(_char_toned(c) for c in window)
            score = 100 * Levenshtein.normalized_similarity(" ".join(readings), toned)
            found.append((k, k + n, score))
        return found

    def _free_standing(self, view: _View, k: int, part: str, window: str) -> bool:
        """Whether a homophone at an edge of the window may be a slip rather than part of the
        next word. In phrases of up to three characters it must not touch another character
        of its clause on its outer side (这里解决 holds 里解, 账号的 holds 号的, 女士因为 holds
        士因为); in longer ones it must not make a known word with that character."""
        n = len(part)
        for i, outer in ((0, k - 1), (n - 1, k + n)):
            if part[i] == window[i] or outer < 0 or outer >= len(view.text):
                continue
            if view.clause[outer] != view.clause[k + i] or not _is_cjk(view.text[outer]):
                continue
            if n <= 3:
                return False
            pair = view.text[outer] + window[i] if i == 0 else window[i] + view.text[outer]
            if pair in _known_words():
                return False
        return True

    def _fuzzy_eligible(self, part: str) -> bool:
        if len(part.replace(" ", "")) < self.matching.fuzzy_min_length:
            return False
        return self.cjk or len(part.split()) >= self.matching.fuzzy_min_words

    def _plausible_slip(self, phrase: str, window: str, lemmas: bool = True) -> bool:
        """Whether ``window`` may be ``phrase`` misrecognised rather than other words.

        A recognition slip never adds a negation ("I can't guarantee" is not "I can
        guarantee") and never swaps a person ("I need to apologize" is not "you need to
        apologize", 我要道歉 is not 你要道歉). In English every word must be the phrase's word or
        a near spelling of it (5+ letters, 75% similar: apologise, inconvenient), so a short
        word is never replaced by another: one letter apart, four-letter words are mostly other
        words ("calm" is not "call", "hope" not "help").
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
        if (set(words) ^ set(wanted)) & _EN_NEGATION_WORDS:  # adds or drops one ("ever got")
            return False
        if any(
            (a in _EN_PERSON_WORDS or b in _EN_PERSON_WORDS) and a != b
            for a, b in zip(words, wanted, strict=True)
        ):  # "we'll" (well) is no slip of "will": the doer would change
            return False
        return all(
            a == b
            or (lemmas and english_lemma(a) == english_lemma(b))
            or (min(len(a), len(b)) >= 5 and Levenshtein.normalized_similarity(a, b) >= 0.75)
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
                    if self.cjk and view.text.startswith(_ZH_BOUND, k + len(cue)):
                        continue
                    # A cue may run into the phrase: 不能 + 能保证 in 我不能保证.
                    end = min(k + len(cue), start)
                    gap = view.text[end:start]
                    distance = len(gap) if self.cjk else len(gap.split())
                    if distance <= window:
                        return True
        return False


def lemmas_at(words: Sequence[str], k: int, n: int) -> list[str]:
    return [english_lemma(w) for w in words[k : k + n]]


@lru_cache(maxsize=65536)
def english_lemma(word: str) -> str:
    """A normalised English word (lower case, apostrophes dropped) reduced to its lemma key.

    Only foldings that keep what was said are made. Negation words and pronouns stay as they
    are. British spellings fold onto American ones (-ise/-ised/-ising/-isation → -ize…, -our →
    -or, in words of six letters or more); ``apology`` and ``apologies`` join ``apologize``;
    ``-ing`` is stripped (a doubled final consonant undone) and a final ``-e`` dropped, never
    leaving fewer than three letters. Tense and the third person are kept: ``apologized to
    me`` reports what happened where ``apologize to me`` demands it, and ``he apologizes`` is
    not ``apologize``. The key is not a dictionary word (``apologize`` → ``apologiz``); it only
    has to be the same for the forms of one word.
    """
    w = word.lower()
    if w in _EN_NEGATION_WORDS or w in _EN_PERSON_WORDS or not w.isalpha():
        return w
    w = _EN_LEMMA_FAMILIES.get(w, w)
    if len(w) >= 6:
        for british, american in (
            ("isation", "ization"),
            ("ising", "izing"),
            ("ised", "ized"),
            ("ises", "izes"),
            ("ise", "ize"),
            ("our", "or"),
        ):
            if w.endswith(british):
                w = w[: -len(british)] + american
                break
    stem = w
    if w.endswith("ing") and len(w) - 3 >= 3:
        stem = _undouble(w[:-3])
    if stem.endswith("e") and len(stem) > 3:
        stem = stem[:-1]
    if stem in _EN_NEGATION_WORDS or stem in _EN_PERSON_WORDS:
        return w
    return stem


def _undouble(stem: str) -> str:
    if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
        return stem[:-1]
    return stem


def _literal(found: str, form: str) -> bool:
    """Whether ``found`` is ``form`` as written (ignoring case, width, apostrophe shapes and
    runs of spaces): the test for an ``exact`` match."""
    return _plain(found) == _plain(form)


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = "".join("'" if c in _APOSTROPHES else c for c in folded)
    return " ".join(folded.split())


def _run_kind(found: str, token: str, count: int) -> str:
    """``exact`` when a run is the token said ``count`` times with only punctuation between."""
    kept = [c for c in _plain(found) if unicodedata.category(c)[0] not in "PZ"]
    return "exact" if "".join(kept) == _plain(token).replace(" ", "") * count else "normalised"


@lru_cache(maxsize=8192)
def _all_cjk(part: str) -> bool:
    return all(_is_cjk(c) for c in part)


def _is_cjk(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"


def _pypinyin():
    import pypinyin

    return pypinyin


@lru_cache(maxsize=16384)
def _char_reading(c: str) -> tuple[str, str]:
    """A character's usual toneless reading (the one a recogniser writes it for), and the same
    folded onto its near-homophone class. Rare readings are left out: 已 also reads si, 亲
    qing, and a match through them would be a coincidence, not a slip."""
    pp = _pypinyin()
    readings = pp.lazy_pinyin(c, style=pp.Style.NORMAL, errors="ignore")
    plain = readings[0] if readings and readings[0].isalpha() else ""
    return plain, _near(plain) if plain else ""


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Two-character words of pypinyin's phrase dictionary (女士, 这里 …): a partial word list,
    used to tell a homophone at a window's edge that belongs to a neighbouring word."""
    from pypinyin.phrases_dict import phrases_dict

    return frozenset(w for w in phrases_dict if len(w) == 2)


@lru_cache(maxsize=16384)
def _char_toned(c: str) -> str:
    pp = _pypinyin()
    out = pp.lazy_pinyin(c, style=pp.Style.TONE3, neutral_tone_with_five=True, errors="ignore")
    return out[0] if out else c


@lru_cache(maxsize=4096)
def _phrase_readings(part: str) -> tuple[str, ...]:
    """The toned reading of each character of a Mandarin phrase, read as a phrase (so a
    character with several readings gets the one it has in this phrase)."""
    pp = _pypinyin()
    out = pp.lazy_pinyin(part, style=pp.Style.TONE3, neutral_tone_with_five=True)
    if len(out) != len(part):
        return tuple(_char_toned(c) for c in part)
    return tuple(out)


def _near(syllable: str) -> str:
    """A toneless syllable folded onto its 模糊音 class (zh→z, ch→c, sh→s, l→n, -ang→-an,
    -eng→-en, -ing→-in)."""
    s = syllable
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s[:1] == "l":
        s = "n" + s[1:]
    if s.endswith(("ang", "eng", "ing")):
        s = s[:-1]
    return s


def _sounds_alike(phrase_char: str, reading: str, char: str, near: bool) -> bool:
    """Whether ``char`` may stand for ``phrase_char`` (read ``reading``) as a homophone."""
    if not _is_cjk(char):
        return False
    if phrase_char in _ZH_MEANING_CHARS or char in _ZH_MEANING_CHARS:
        return False  # a negation or a person is never replaced by a homophone
    toneless = reading.rstrip("012345")
    plain, folded = _char_reading(char)
    if not plain:
        return False
    return toneless == plain or (near and _near(toneless) == folded)


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
