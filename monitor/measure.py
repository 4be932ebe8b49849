"""Measurements of a call: per turn, per speaker and for the whole call.

These definitions are the report schema's; every value is computed as written here.

Per turn (:class:`~calmline.monitor.types.TurnMetrics`):

- **signal**: the turn's channel (``turn.channel``, stereo calls) or else the call's only channel
  (mono) / the mean of its channels; only the samples between ``turn.start`` and ``turn.end``
  count. Frames are those of :mod:`calmline.monitor.pitch` (40 ms, 10 ms hop) whose centre lies in
  ``[turn.start, turn.end)``.
- **duration** (s): ``turn.end - turn.start``.
- **units**: syllables, as phonetics counts speaking rate. For Mandarin (language ``zh``, also
  ``cmn``/``yue`` and regional tags such as ``zh-CN``) one per Chinese character (CJK ideograph)
  and per digit in the words' text; otherwise the English syllables of the words
  (:func:`count_syllables`; punctuation-only tokens have none).
- **phonation time** (s): the time the speaker's own signal carries speech inside the turn,
  measured on the audio, not on the recogniser's word timestamps: the turn's frames within
  ``phonation_gate_db`` (35 dB) of its peak frame level (95th percentile) and above
  ``loudness_floor_dbfs``, from the first such frame to the last, minus every run of quieter
  frames longer than ``pause_min_s`` (0.25 s). Pauses do not count; short gaps inside fluent
  speech (stop closures, word boundaries) do.
- **speech_rate**: units / duration. **articulation_rate**: units / phonation time, given only
  when the phonation time is at least ``min_rate_phonation_s`` (2 s): the rate of a one-second
  phrase is the length of its few words, not a pace. Rates are characters per second
  (``rate_unit`` ``chars_per_s``) for Mandarin and syllables per second (``syllables_per_s``)
  otherwise; ``None`` when the turn has no units (or no phonation time). On six real 8 kHz
  mu-law bank calls (Harper Valley, human segment timing as reference, ``bench/articulation.py``)
  the rate from Whisper's word timestamps runs 17 % fast (median, 30 rated turns: the timestamps
  shorten speech); the signal's phonation time is 1.8 % short of the reference and the rate
  1.4 % fast (median; median absolute error 3.5 %).
- **loudness_dbfs**: RMS level over the turn's active frames, ``10*log10(mean(frame power))``
  with full scale 1 (a full-scale sine reads -3.01 dBFS); a frame's power is the mean square of
  the 10 ms block centred on it, so the frames tile the turn. Active frames are those within
  ``loudness_gate_db`` (25 dB) of the turn's peak frame level (its 95th percentile, so one click
  does not set it) and above ``loudness_floor_dbfs``, so pauses do not drag the level down.
  **loudness_rel_db**: the turn's loudness minus the median loudness of the same speaker's turns.
- **f0_median_hz**: median F0 over the turn's voiced active frames. **f0_rel_semitones**:
  ``12*log2(turn median / speaker baseline)``, the baseline being the median F0 over all voiced
  active frames of that speaker in the call. **f0_range_semitones**: ``12*log2(p90 / p10)`` of
  the turn's F0. ``None`` when fewer than ``min_voiced_frames`` (5) frames are voiced.
- **mean_word_prob**: mean recogniser probability of the turn's words; **low_conf_share**: share
  of them with probability below ``low_conf_threshold`` (0.5). ``None`` without words.
- **gap_before** (s): the turn's start minus the end of the latest-ending earlier turn (of any
  speaker; turns ordered by start). Negative when the turn starts inside another turn; ``None``
  for the first turn.
- **overlap** (s): time inside the turn where its speaker's speech segments overlap other
  speakers' segments (their union, so two overlapping segments of one other speaker are not
  counted twice). Segments, not turns: a turn spans its speaker's pauses, so a mono call whose
  diarization never overlaps has no overlap. Without segments (a turn measured alone), the
  turns' spans stand in for them.

Per call (:class:`~calmline.monitor.types.CallMetrics`):

- **duration**: the audio's duration (s).
- **talk_time**: per role, the length of the union of that role's turn spans; keys ``agent`` and
  ``customer`` always, ``unknown`` only when a turn has that role.
- **talk_ratio**: agent / (agent + customer) talk time; ``None`` when both are zero.
- **overlap_time**: total time two or more different speakers talk at once, from the speech
  segments (see :func:`overlaps`).
- **non_talk**: spans longer than ``non_talk_min_s`` (3 s) where no turn is active, including
  before the first and after the last turn; **non_talk_time** is their total.
- **turn_count**: number of turns.
- **speakers**: per speaker, in order of first turn: talk time (union of their turns), turn
  count, speech and articulation rate over all their turns that have units (total units / total
  duration or total phonation time of those turns; the articulation rate only with
  ``min_rate_phonation_s`` of phonation), median turn loudness, F0 median and
  10-90 % range over all their voiced frames, mean word probability and low-confidence share
  over all their words.

Rounding: times 3 decimals; dB, semitones, Hz and rates 2; probabilities, shares and the talk
ratio 3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from calmline.monitor.errors import ChannelMapError
from calmline.monitor.pitch import PitchOptions, frame_count, track_pitch
from calmline.monitor.spool import release
from calmline.monitor.types import (
    Audio,
    CallMetrics,
    Overlap,
    Role,
    Span,
    SpeakerMetrics,
    SpeechSegment,
    Turn,
    TurnMetrics,
    Word,
)

CHARS_PER_S = "chars_per_s"
SYLLABLES_PER_S = "syllables_per_s"
WORDS_PER_MIN = "words_per_min"
"""The English rate unit of reports written before rates were counted in syllables."""

_ZH_LANGUAGES = frozenset({"zh", "cmn", "yue"})
_CJK = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f]"
)
_DIGIT = re.compile(r"\d")
_VOWEL_RUN = re.compile(r"[aeiouy]+")
_TWO_VOWELS = re.compile(r"[^aeiouct]ia|[^aeiouqg]ua|[^aeiou]iu|[^aeioutscx]io(?!n)")
"""Vowel pairs said as two syllables (via, actual, premium, radio), not in -tia/-cia (initial,
special), qua/gua (quality, guard) or -tion/-sion/-ion endings."""
_DIGIT_SYLLABLES = (2, 1, 1, 1, 1, 1, 1, 2, 1, 1)
"""Syllables of each digit's English name (ze-ro, one, ... se-ven, eight, nine)."""
_TEEN_SYLLABLES = (1, 3, 1, 2, 2, 2, 2, 3, 2, 2)
"""ten, e-le-ven, twelve, thir-teen ... se-ven-teen, eigh-teen, nine-teen."""
_TENS_SYLLABLES = (0, 0, 2, 2, 2, 2, 2, 3, 2, 2)
"""twen-ty ... se-ven-ty, eigh-ty, nine-ty."""
_SCALES = ((10**9, 2), (10**6, 2), (1000, 2))
"""bil-lion, mil-lion, thou-sand."""
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NUMBER_SUFFIXES = frozenset({"st", "nd", "rd", "th", "s"})
"""Letters after a number that add no syllable (1st, 5th, 1990s)."""
_SAID_SIGNS = {"$": 2, "%": 2, "€": 2, "£": 2}
"""Signs read as a word after the number: dol-lars, per-cent, eu-ros, pounds (2 on average)."""
_LETTER_SYLLABLES = {"w": 3}
"""Syllables of a spelled letter's name where it is not one (W = double-u)."""
_WHOLE_WORD_SYLLABLES = {
    **dict.fromkeys(("the", "are", "were", "where", "there", "here"), 1),
    **dict.fromkeys(("mr", "mrs", "dr", "business", "every"), 2),
}
"""Common words the rules below miscount, and abbreviations said in full."""


_POWER_FLOOR = 1e-10
"""Mean-square floor so digital silence has a finite level (-100 dBFS)."""

_SPAN_TOL = 1e-9
"""Slack when turning times into frame indices, so 1.0 s / 0.01 s lands on frame 100."""


@dataclass(frozen=True, slots=True)
class MeasureOptions:
    """Settings of :func:`measure`.

    Attributes:
        low_conf_threshold: Words with a recogniser probability below this are low-confidence.
        non_talk_min_s: Silences longer than this (s) are reported as non-talk spans.
        pause_min_s: Runs of quiet frames (signal) or gaps between words longer than this (s)
            are pauses, excluded from phonation time. 0.25 s is the usual lower bound of a
            silent pause in speaking-rate studies (Goldman-Eisler; Quené 2008).
        phonation_gate_db: Frames more than this many dB below the turn's peak frame level
            are quiet (pause) in its phonation time. On the Harper Valley calls' turns of 2 s or
            more, gates of 25 / 30 / 35 / 40 dB put the rate a median 5.0 / 2.4 / 1.1 / 0.4 %
            above the human timing's (soft word ends counted as pauses at narrow gates); 35 dB
            keeps them without reaching down to the noise of a poorer line.
        min_rate_phonation_s: Shortest phonation time (s) for an articulation rate. On the
            Harper Valley reference segments, stretches under 2 s range up to 9.5 syllables/s
            (phrases of a few short words), those of 2 s or more to 6.5.
        loudness_gate_db: Frames more than this many dB below the turn's peak frame level are
            not counted in its loudness or F0.
        loudness_floor_dbfs: Frames below this level (dBFS) never count (digital silence).
        min_voiced_frames: Fewest voiced frames for an F0 value of a turn or a speaker.
        pitch: Settings of the F0 estimator.
    """

    low_conf_threshold: float = 0.5
    non_talk_min_s: float = 3.0
    pause_min_s: float = 0.25
    phonation_gate_db: float = 35.0
    min_rate_phonation_s: float = 2.0
    loudness_gate_db: float = 25.0
    loudness_floor_dbfs: float = -70.0
    min_voiced_frames: int = 5
    pitch: PitchOptions = field(default_factory=PitchOptions)


def is_mandarin(language: str) -> bool:
    """Whether rates of ``language`` are counted in characters (``zh``, ``zh-CN``, ``cmn`` …)."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary in _ZH_LANGUAGES


def rate_unit(language: str) -> str:
    """``chars_per_s`` for Mandarin, ``syllables_per_s`` otherwise."""
    return CHARS_PER_S if is_mandarin(language) else SYLLABLES_PER_S


def count_units(words: Sequence[Word], language: str) -> int:
    """Rate units (syllables) in ``words``: CJK characters and digits for Mandarin, else
    English syllables (:func:`count_syllables`)."""
    if is_mandarin(language):
        return sum(len(_CJK.findall(w.text)) + len(_DIGIT.findall(w.text)) for w in words)
    return sum(count_syllables(w.text) for w in words)


def count_syllables(word: str) -> int:
    """Syllables of one English word, by rule (no dictionary).

    Vowel letter groups (``y`` counts after a consonant) make syllables; then a silent final
    ``e``, a silent ``-ed`` (not after ``t``/``d``) and ``-es`` (not after a sibilant) are taken
    off (a consonant before ``-le`` keeps it: ``table``), and the vowel pairs said as two
    (``via``, ``radio``, ``actual``, ``premium``) add one. Contractions count their
    base word, plus one for a syllabic ``n't`` (``didn't``, ``isn't``). Numbers in digits
    count as said (``$89`` = eigh-ty nine dol-lars; long digit runs digit by digit); an
    all-capital short token is spelled (``ATM`` = 3). Rules, not a dictionary: some words are
    off by one (``maybe``, ``buying``, ``fire``), which over a stretch of a dozen syllables or
    more moves a rate by a few percent.

    Args:
        word: one token as recognised (punctuation allowed).

    Returns:
        0 for a token without letters or digits, else at least 1.
    """
    token = word.strip()
    digits = _numbers_syllables(token)
    letters = "".join(c for c in token if c.isalpha() or c == "'")
    if not letters.strip("'") or (digits and letters.lower() in _NUMBER_SUFFIXES):
        return digits
    if letters.isupper() and 2 <= len(letters) <= 4 and letters.isalpha():
        return digits + sum(_LETTER_SYLLABLES.get(c, 1) for c in letters.lower())
    return digits + _word_syllables(letters.lower())


def _numbers_syllables(token: str) -> int:
    """Syllables of the numbers written in digits in ``token``, as they are said: ``$89`` is
    eigh-ty nine dol-lars (5); a run of five or more digits without separators (an account or
    phone number) is read digit by digit; decimals are read digit by digit after "point"."""
    total = 0
    for m in _NUMBER.finditer(token):
        whole, _, decimals = m.group().partition(".")
        plain = whole.replace(",", "")
        if len(plain) >= 5 and "," not in whole:
            total += sum(_DIGIT_SYLLABLES[int(c)] for c in plain)
        elif len(whole) == 4 and 1100 <= int(plain) <= 1999:
            # a year, said in pairs: nine-teen nine-ty; 1905 nine-teen oh five; 1900 ... hun-dred
            high, low = divmod(int(plain), 100)
            tail = 2 if low == 0 else _integer_syllables(low) + (1 if low < 10 else 0)
            total += _integer_syllables(high) + tail
        else:
            total += _integer_syllables(int(plain))
        if decimals:
            total += 1 + sum(_DIGIT_SYLLABLES[int(c)] for c in decimals)
    if total:
        total += sum(n for sign, n in _SAID_SIGNS.items() if sign in token)
    return total


def _integer_syllables(n: int) -> int:
    """Syllables of ``n`` said in English words (one hun-dred thir-ty five = 6)."""
    if n == 0:
        return _DIGIT_SYLLABLES[0]
    total = 0
    for scale, syllables in _SCALES:
        if n >= scale:
            total += _integer_syllables(n // scale) + syllables
            n %= scale
    if n >= 100:
        total += _DIGIT_SYLLABLES[n // 100] + 2  # hun-dred
        n %= 100
    if n >= 20:
        total += _TENS_SYLLABLES[n // 10] + (_DIGIT_SYLLABLES[n % 10] if n % 10 else 0)
    elif n >= 10:
        total += _TEEN_SYLLABLES[n - 10]
    elif n > 0:
        total += _DIGIT_SYLLABLES[n]
    return total


def _word_syllables(w: str) -> int:
    """Syllables of a lower-case word of letters and apostrophes (``count_syllables``)."""
    extra = 0
    if w.endswith("n't"):
        base = w[:-3]
        extra = 1 if base and (base[-1] not in "aeiouy" or base.endswith("ve")) else 0
        w = base or "not"
    w = w.split("'")[0] or "x"
    if w in _WHOLE_WORD_SYLLABLES:
        return _WHOLE_WORD_SYLLABLES[w] + extra
    # y opens a word as a consonant (yes, you)
    core = "#" + w[1:] if w[0] == "y" else w
    groups = _VOWEL_RUN.findall(core)
    n = len(groups)
    if n > 1:
        silent_e = w.endswith("e") and not w.endswith(("le", "ee", "ye", "oe"))
        if silent_e or (w.endswith("le") and len(w) > 2 and w[-3] in "aeiouy"):
            n -= 1  # silent final e (make, time), not -le after a consonant (table)
        elif w.endswith("ed") and len(w) > 3 and w[-3] not in "tdaeiou":
            n -= 1  # called, helped; wanted, needed keep it
        elif (
            w.endswith("es")
            and len(w) > 3
            and w[-3] not in "aeiouy"
            and not w.endswith(("ses", "xes", "zes", "ches", "shes", "ges", "ces"))
        ):
            n -= 1  # makes, times; boxes, places keep it
    n += len(_TWO_VOWELS.findall(core))
    return max(1, n) + extra


def phonation_time(words: Sequence[Word], pause_min_s: float = 0.25) -> float:
    """Time spent speaking (s) by the words' timestamps: first word start to last word end,
    minus pauses.

    Not what :func:`measure` uses: Whisper's word timestamps shorten speech (19 % on the
    Harper Valley calls, more on short turns), so the articulation rate is measured on the
    signal. Kept to compare the two (``bench/articulation.py``).

    Args:
        words: The words, in time order.
        pause_min_s: Gaps between consecutive words longer than this are pauses.

    Returns:
        Phonation time in seconds; 0.0 without words.
    """
    if not words:
        return 0.0
    starts = np.array([w.start for w in words], dtype=np.float64)
    ends = np.array([w.end for w in words], dtype=np.float64)
    # A word may end after the next one starts (aligner jitter); the gap runs from the latest
    # end so far, so overlapping words never produce a negative pause.
    reached = np.maximum.accumulate(ends)
    gaps = starts[1:] - reached[:-1]
    total = float(reached[-1] - starts[0])
    return max(0.0, total - float(gaps[gaps > pause_min_s].sum()))


def overlaps(speech: Sequence[SpeechSegment] | Sequence[Turn]) -> tuple[Overlap, ...]:
    """Spans where two or more different speakers talk at once.

    Adjacent or touching overlap stretches are merged into one span; a speaker's own segments
    overlapping each other do not count.

    Args:
        speech: The call's speech segments (VAD per channel or diarization), any order. A
            report's overlaps come from its segments, never its turns: a turn spans its
            speaker's pauses, so turns overlap where nobody spoke at once. (Turns are accepted
            where no segments exist.)

    Returns:
        Overlaps in time order; ``speakers`` lists everyone talking in the span, the one who
        started talking first first.
    """
    spans, speakers = _overlap_spans(speech)
    return tuple(
        Overlap(start=_r(s, 3), end=_r(e, 3), speakers=who)
        for (s, e), who in zip(spans, speakers, strict=True)
    )


def measure(
    audio: Audio,
    turns: Sequence[Turn],
    language: str,
    options: MeasureOptions | None = None,
    segments: Sequence[SpeechSegment] | None = None,
) -> tuple[tuple[Turn, ...], CallMetrics]:
    """Measure every turn and the call (definitions in this module's docstring).

    F0 and frame levels are computed once per signal, over the frames the turns cover.

    Args:
        audio: The decoded call.
        turns: The call's turns (any order); their ``metrics`` are ignored.
        language: Language of the call (``zh``, ``en`` …); picks the rate unit.
        options: Measurement settings.
        segments: The call's speech segments, which overlaps are measured on; ``None``: the
            turns' spans stand in for them.

    Returns:
        The turns, in the given order, with ``metrics`` filled (new objects), and the call
        metrics.

    Raises:
        ChannelMapError: A turn names a channel the audio does not have.
    """
    options = options or MeasureOptions()
    turns = tuple(turns)
    unit = rate_unit(language)
    scale = 1.0  # both units are per second
    frames = _analyse(audio, turns, options)

    starts = np.array([t.start for t in turns], dtype=np.float64)  # (turns,)
    ends = np.array([t.end for t in turns], dtype=np.float64)  # (turns,)
    gaps = _gaps_before(starts, ends)
    speech = tuple(segments) if segments is not None else turns
    turn_overlap = _overlap_with_others(turns, starts, ends, speech)

    speaker_order = list(dict.fromkeys(turns[i].speaker for i in _time_order(starts)))
    loud: list[float | None] = []
    voiced: list[np.ndarray] = []  # per turn: float32 (voiced frames,) Hz
    phonation: list[float] = []  # per turn: seconds of the speaker's own speech
    for turn in turns:
        level, f0 = frames.of(turn)
        loud.append(_loudness(level, options))
        phonation.append(_phonation(level, frames.hop_s, options))
        voiced.append(f0[_active(level, options) & ~np.isnan(f0)])

    by_speaker = {s: [i for i, t in enumerate(turns) if t.speaker == s] for s in speaker_order}
    loud_median = {
        s: _median([loud[i] for i in idx if loud[i] is not None]) for s, idx in by_speaker.items()
    }
    speaker_f0 = {s: np.concatenate([voiced[i] for i in idx]) for s, idx in by_speaker.items()}
    baseline = {
        s: float(np.median(v)) if v.size >= options.min_voiced_frames else None
        for s, v in speaker_f0.items()
    }

    measured = []
    for i, turn in enumerate(turns):
        units = count_units(turn.words, language)
        duration = turn.end - turn.start
        f0_med, f0_range = _f0_stats(voiced[i], options.min_voiced_frames)
        base, ref_loud = baseline[turn.speaker], loud_median[turn.speaker]
        metrics = TurnMetrics(
            duration=_r(duration, 3),
            speech_rate=_rate(units, duration, scale),
            articulation_rate=_articulation(units, phonation[i], scale, options),
            rate_unit=unit,
            loudness_dbfs=_r(loud[i], 2),
            loudness_rel_db=(
                _r(loud[i] - ref_loud, 2) if loud[i] is not None and ref_loud is not None else None
            ),
            f0_median_hz=_r(f0_med, 2),
            f0_rel_semitones=(
                _r(12.0 * math.log2(f0_med / base), 2)
                if f0_med is not None and base is not None
                else None
            ),
            f0_range_semitones=_r(f0_range, 2),
            mean_word_prob=_r(_mean_prob(turn.words), 3),
            low_conf_share=_r(_low_share(turn.words, options.low_conf_threshold), 3),
            gap_before=_r(gaps[i], 3),
            overlap=_r(turn_overlap[i], 3),
        )
        measured.append(replace(turn, metrics=metrics))

    speakers = []
    for s in speaker_order:
        idx = by_speaker[s]
        words = [w for i in idx for w in turns[i].words]
        units = np.array([count_units(turns[i].words, language) for i in idx])
        # Turns without a recognised unit say nothing about the pace; their time is left out.
        spoken = [i for i, u in zip(idx, units, strict=True) if u > 0]
        f0_med, f0_range = _f0_stats(speaker_f0[s], options.min_voiced_frames)
        speakers.append(
            SpeakerMetrics(
                speaker=s,
                role=turns[idx[0]].role,
                talk_time=_r(_length(_union(starts[idx], ends[idx])), 3),
                turn_count=len(idx),
                speech_rate=_rate(
                    int(units.sum()), float((ends[spoken] - starts[spoken]).sum()), scale
                ),
                articulation_rate=_articulation(
                    int(units.sum()), sum(phonation[i] for i in spoken), scale, options
                ),
                rate_unit=unit,
                loudness_median_dbfs=_r(loud_median[s], 2),
                f0_median_hz=_r(f0_med, 2),
                f0_range_semitones=_r(f0_range, 2),
                mean_word_prob=_r(_mean_prob(words), 3),
                low_conf_share=_r(_low_share(words, options.low_conf_threshold), 3),
            )
        )

    return tuple(measured), _call_metrics(audio, turns, starts, ends, speakers, options, speech)


# --- call level -------------------------------------------------------------------------------


def _call_metrics(
    audio: Audio,
    turns: tuple[Turn, ...],
    starts: np.ndarray,
    ends: np.ndarray,
    speakers: list[SpeakerMetrics],
    options: MeasureOptions,
    speech: Sequence[SpeechSegment] | Sequence[Turn],
) -> CallMetrics:
    duration = audio.duration
    roles = np.array([t.role.value for t in turns], dtype=object)
    talk = {}
    for role in (Role.AGENT, Role.CUSTOMER, Role.UNKNOWN):
        mine = roles == role.value
        if role is Role.UNKNOWN and not mine.any():
            continue
        talk[role.value] = _length(_union(starts[mine], ends[mine]))
    both = talk[Role.AGENT.value] + talk[Role.CUSTOMER.value]
    ratio = talk[Role.AGENT.value] / both if both > 0 else None

    spans, _ = _overlap_spans(speech)
    anyone = _union(np.clip(starts, 0.0, duration), np.clip(ends, 0.0, duration))
    silence_starts = np.concatenate([[0.0], anyone[:, 1]])
    silence_ends = np.concatenate([anyone[:, 0], [duration]])
    long_ = (silence_ends - silence_starts) > options.non_talk_min_s
    non_talk = tuple(
        Span(start=_r(s, 3), end=_r(e, 3))
        for s, e in zip(silence_starts[long_], silence_ends[long_], strict=True)
    )
    return CallMetrics(
        duration=_r(duration, 3),
        talk_time={k: _r(v, 3) for k, v in talk.items()},
        talk_ratio=_r(ratio, 3),
        overlap_time=_r(_length(spans), 3),
        non_talk=non_talk,
        non_talk_time=_r(float((silence_ends[long_] - silence_starts[long_]).sum()), 3),
        turn_count=len(turns),
        speakers=tuple(speakers),
    )


def _overlap_spans(
    turns: Sequence[SpeechSegment] | Sequence[Turn],
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Merged spans where >= 2 speakers talk, float64 shape (k, 2), and who talks in each, from
    speech segments (or turns: anything with ``start``, ``end`` and ``speaker``)."""
    names = list(dict.fromkeys(t.speaker for t in turns))
    unions = [
        _union(
            np.array([t.start for t in turns if t.speaker == s], dtype=np.float64),
            np.array([t.end for t in turns if t.speaker == s], dtype=np.float64),
        )
        for s in names
    ]
    if len(names) < 2:
        return np.zeros((0, 2)), []
    bounds = np.unique(np.concatenate([u.ravel() for u in unions]))  # (b,)
    mids = 0.5 * (bounds[:-1] + bounds[1:])  # elementary segments' midpoints, (b - 1,)
    # active[s, k]: speaker s talks in elementary segment k; since[s, k]: when that stretch began.
    active = np.zeros((len(names), mids.size), dtype=bool)
    since = np.full((len(names), mids.size), np.inf)
    for row, u in enumerate(unions):
        j = np.searchsorted(u[:, 0], mids, side="right") - 1
        inside = (j >= 0) & (mids < u[np.maximum(j, 0), 1])
        active[row] = inside
        since[row, inside] = u[j[inside], 0]
    multi = active.sum(axis=0) >= 2
    if not multi.any():
        return np.zeros((0, 2)), []
    seg = np.stack([bounds[:-1][multi], bounds[1:][multi]], axis=1)
    # Elementary segments share their boundaries, so consecutive multi-speaker segments touch
    # and merge into one overlap.
    spans = _union(seg[:, 0], seg[:, 1])
    group = np.searchsorted(spans[:, 0], seg[:, 0], side="right") - 1
    who: list[tuple[str, ...]] = []
    for g in range(spans.shape[0]):
        cols = np.flatnonzero(multi)[group == g]
        first = np.where(active[:, cols], since[:, cols], np.inf).min(axis=1)  # (speakers,)
        order = [r for r in np.lexsort((np.arange(len(names)), first)) if np.isfinite(first[r])]
        who.append(tuple(names[r] for r in order))
    return spans, who


def _gaps_before(starts: np.ndarray, ends: np.ndarray) -> list[float | None]:
    order = _time_order(starts)
    latest = np.maximum.accumulate(ends[order])  # latest end among turns up to each one
    gaps: list[float | None] = [None] * starts.size
    for pos in range(1, order.size):
        gaps[order[pos]] = float(starts[order[pos]] - latest[pos - 1])
    return gaps


def _overlap_with_others(
    turns: tuple[Turn, ...],
    starts: np.ndarray,
    ends: np.ndarray,
    speech: Sequence[SpeechSegment] | Sequence[Turn],
) -> np.ndarray:
    """Per turn, seconds inside it where its speaker's speech overlaps the union of other
    speakers' speech, float64 (turns,)."""
    out = np.zeros(len(turns))
    names = np.array([x.speaker for x in speech], dtype=object)
    lo_all = np.array([x.start for x in speech], dtype=np.float64)
    hi_all = np.array([x.end for x in speech], dtype=np.float64)
    for s in dict.fromkeys(t.speaker for t in turns):
        mine = names == s
        both = _intersect(_union(lo_all[mine], hi_all[mine]), _union(lo_all[~mine], hi_all[~mine]))
        for i in (i for i, t in enumerate(turns) if t.speaker == s):
            lo = np.maximum(both[:, 0], starts[i])
            hi = np.minimum(both[:, 1], ends[i])
            out[i] = float(np.clip(hi - lo, 0.0, None).sum())
    return out


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted disjoint span sets (a linear merge), float64 shape (k, 2)."""
    out: list[tuple[float, float]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if hi > lo:
            out.append((lo, hi))
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _time_order(starts: np.ndarray) -> np.ndarray:
    """Indices of turns by start time; ties keep the given order."""
    return np.argsort(starts, kind="stable")


def _union(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Union of intervals as sorted disjoint spans, float64 shape (k, 2). Touching spans merge."""
    keep = ends > starts
    s, e = np.asarray(starts, dtype=np.float64)[keep], np.asarray(ends, dtype=np.float64)[keep]
    if s.size == 0:
        return np.zeros((0, 2))
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.concatenate([[True], s[1:] > reach[:-1]])
    heads = np.flatnonzero(new)
    return np.stack([s[heads], np.maximum.reduceat(e, heads)], axis=1)


def _length(spans: np.ndarray) -> float:
    return float((spans[:, 1] - spans[:, 0]).sum()) if spans.size else 0.0


# --- signal level -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _FrameTracks:
    """Frame level and F0 of each analysed signal, on one frame grid from the call's start."""

    hop_s: float
    level: dict[int | None, np.ndarray]
    """Per signal key (channel, ``None`` = mono / mix): float32 (frames,) level (dBFS) of the
    hop-long block centred on each frame; -inf where not analysed."""
    f0: dict[int | None, np.ndarray]
    """Per signal key: float32 (frames,) Hz, NaN unvoiced or unanalysed."""

    def of(self, turn: Turn) -> tuple[np.ndarray, np.ndarray]:
        """Level and F0 of the frames whose centre lies in the turn, each float32 (frames,)."""
        level = self.level[turn.channel]
        a, b = _frame_range(turn.start, turn.end, self.hop_s, level.size)
        return level[a:b], self.f0[turn.channel][a:b]


def _analyse(audio: Audio, turns: tuple[Turn, ...], options: MeasureOptions) -> _FrameTracks:
    sr = audio.sample_rate
    hop = options.pitch.hop_samples(sr)
    n_frames = frame_count(audio.samples.shape[1], sr, options.pitch)
    level: dict[int | None, np.ndarray] = {}
    f0: dict[int | None, np.ndarray] = {}
    for key in dict.fromkeys(t.channel for t in turns):
        x = _signal(audio, key)
        level[key] = np.full(n_frames, -np.inf, dtype=np.float32)
        f0[key] = np.full(n_frames, np.nan, dtype=np.float32)
        ranges = np.array(
            [_frame_range(t.start, t.end, hop / sr, n_frames) for t in turns if t.channel == key],
            dtype=np.float64,
        )
        # turn by turn-union: only the samples under turns (and their context) are read, and
        # of a file-backed call (calmline.monitor.spool) they are let go of after each range
        p = options.pitch
        # track_pitch reads its octave and short-run context around a range, and whole frames
        context = round(p.octave_window_s / p.hop_s) + p.min_voiced_frames + 1
        reach = p.frame_samples(sr) + context * hop
        for a, b in _union(ranges[:, 0], ranges[:, 1]).astype(np.int64):
            level[key][a:b] = _block_levels(x, int(a), int(b), hop)
            f0[key][a:b] = track_pitch(x, sr, options.pitch, int(a), int(b)).f0
            release(x, max(0, int(a) * hop - reach), int(b) * hop + reach)
    return _FrameTracks(hop_s=hop / sr, level=level, f0=f0)


def _block_levels(x: np.ndarray, first: int, stop: int, hop: int) -> np.ndarray:
    """Level of the hop-long blocks centred on frames ``first .. stop - 1``.

    Loudness is measured on these non-overlapping blocks rather than on the 40 ms pitch frames
    so that the frames of a turn add up to exactly its samples: overlapping frames would count
    the half-empty frames at every word's edges and pull the level down.

    Returns:
        float32, shape (stop - first,): ``10*log10(mean square)`` per block (dBFS).
    """
    lo, hi = first * hop - hop // 2, stop * hop - hop // 2
    seg = np.zeros(hi - lo, dtype=np.float64)
    a, b = max(lo, 0), min(hi, x.shape[0])
    if b > a:
        seg[a - lo : b - lo] = x[a:b]
    power = np.square(seg).reshape(stop - first, hop).mean(axis=1)
    return (10.0 * np.log10(np.maximum(power, _POWER_FLOOR))).astype(np.float32)


def _signal(audio: Audio, channel: int | None) -> np.ndarray:
    """The samples a turn on ``channel`` is measured on, float32 (n,)."""
    if channel is None:
        return audio.samples[0] if audio.channels == 1 else audio.mono()
    if not 0 <= channel < audio.channels:
        raise ChannelMapError(f"a turn is on channel {channel}; the audio has {audio.channels}")
    return audio.samples[channel]


def _frame_range(start: float, end: float, hop_s: float, n_frames: int) -> tuple[int, int]:
    """Frames ``[a, b)`` whose centre ``i * hop_s`` lies in ``[start, end)``."""
    a = math.ceil(start / hop_s - _SPAN_TOL)
    b = math.ceil(end / hop_s - _SPAN_TOL)
    return min(max(a, 0), n_frames), min(max(b, 0), n_frames)


def _active(level: np.ndarray, options: MeasureOptions) -> np.ndarray:
    """Frames of a turn that count for loudness and F0, bool (frames,)."""
    valid = level > options.loudness_floor_dbfs
    if not valid.any():
        return valid
    peak = np.percentile(level[valid], 95)
    return valid & (level >= peak - options.loudness_gate_db)


def _phonation(level: np.ndarray, hop_s: float, options: MeasureOptions) -> float:
    """Seconds of a turn in which its speaker speaks, from its frame levels (dBFS, float32
    (frames,)): the frames from the first to the last within ``phonation_gate_db`` of the peak
    (95th percentile) and above the floor, less runs of quieter frames longer than
    ``pause_min_s``. 0.0 when no frame is above the floor."""
    valid = level > options.loudness_floor_dbfs
    if not valid.any():
        return 0.0
    peak = np.percentile(level[valid], 95)
    loud = np.flatnonzero(valid & (level >= peak - options.phonation_gate_db))
    quiet = np.ones(loud[-1] - loud[0] + 1, dtype=bool)
    quiet[loud - loud[0]] = False
    # runs of quiet frames: +1 where one starts, -1 one past where it ends
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    pauses = lengths[lengths * hop_s > options.pause_min_s + _SPAN_TOL]
    return float((quiet.size - pauses.sum()) * hop_s)


def _loudness(level: np.ndarray, options: MeasureOptions) -> float | None:
    active = _active(level, options)
    if not active.any():
        return None
    power = np.power(10.0, level[active].astype(np.float64) / 10.0)
    return float(10.0 * np.log10(power.mean()))


def _f0_stats(f0: np.ndarray, min_frames: int) -> tuple[float | None, float | None]:
    """Median (Hz) and 10-90 % range (semitones) of voiced F0 values, float32 (frames,)."""
    if f0.size < max(1, min_frames):
        return None, None
    p10, p50, p90 = np.percentile(f0.astype(np.float64), [10, 50, 90])
    return float(p50), float(12.0 * np.log2(p90 / p10))


# --- words and numbers ------------------------------------------------------------------------


def _articulation(
    units: int, phonation_s: float, scale: float, options: MeasureOptions
) -> float | None:
    """Units per phonation time, or ``None`` under ``min_rate_phonation_s`` of phonation."""
    if phonation_s < options.min_rate_phonation_s - _SPAN_TOL:
        return None
    return _rate(units, phonation_s, scale)


def _rate(units: int, seconds: float, scale: float) -> float | None:
    if units == 0 or seconds <= 0:
        return None
    return _r(scale * units / seconds, 2)


def _mean_prob(words: Sequence[Word]) -> float | None:
    return float(np.mean([w.prob for w in words])) if words else None


def _low_share(words: Sequence[Word], threshold: float) -> float | None:
    if not words:
        return None
    return float(np.mean([w.prob < threshold for w in words]))


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _r(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
