"""Who holds the floor, and who cut in on whom: the interruption rule of ``docs/interruptions.md``.

The rule reads speech *segments* (VAD per channel, diarization, or a reference's timing), never
turns: a turn spans its speaker's pauses, so a turn-level rule sees talking-over where nobody
spoke at once, and times a backchannel that was merged into a later turn seconds too early.

Terms (Brady 1968, Heldner & Edlund 2010):

- a **stretch** (talk spurt) is one speaker's speech, their segments joined across silences of at
  most ``join_gap_s``; it carries the words said in it when they are known;
- B **interrupts** A when a stretch of B starts while A is speaking (A's stretch began more than
  ``simultaneous_start_s`` earlier), B is not resuming after a pause of their own (B's previous
  stretch ended at most ``resume_pause_s`` before, and A started in that pause: B holds the floor
  and goes on over A), the two stretches overlap by at least ``min_overlap_s``, B's lasts at
  least ``min_speech_s`` (shorter speech is a backchannel or a false start by its duration), holds
  a recognised word when words are known, and is not a backchannel by its words (at most
  ``backchannel_max_words`` words, all of them backchannel phrases or fillers). The
  interruption's seconds are the overlap of B's stretch with A's stretch under way at B's onset.

B starting in a silence of A's cuts nobody off, and A resuming over B after a pause of A's own
is A going on with their turn: neither is an interruption.

**Closing overlaps** are not interruptions either (Schegloff & Sacks 1973; Jefferson 1973,
1986): where the words are known and a lexicon of closing components (thanks and goodbyes) is
given, an overlap is excused when A's words from B's onset on are nothing but a thank-you or a
goodbye (B started at a possible completion; what B overlaps is A's terminal courtesy), or when
B's stretch is nothing but a thank-you and a goodbye, A's stretch ends before B's (A completes
their turn under it rather than going on over it), and A's next stretch, if any, opens nothing
new (at most ``backchannel_max_words`` words, or closing words only).

The same rule runs on both directions (agent on customer, customer on agent) and on references
(``bench/accuracy.py``), so a detection and a reference event mean the same thing.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from calmline.monitor.types import SpeechSegment, Word


@dataclass(frozen=True, slots=True)
class InterruptionRule:
    """Thresholds of the interruption rule (sources in ``docs/interruptions.md``).

    Attributes:
        join_gap_s: A speaker's segments this close or closer are one stretch. 0: only
            touching or overlapping segments join; the pipeline's VAD already bridges silences
            under about 0.4 s (300 ms minimum silence plus 60 ms padding each side), except a
            talker's own pause of 0.2 s or more that the other party starts in, where a stereo
            call's segments are cut (:mod:`calmline.monitor.pauses`); a reference's own
            segmentation is taken as it stands.
        simultaneous_start_s: Two speakers starting within this of each other start together
            (Schegloff 2000: simultaneous starts are not interruptions).
        resume_pause_s: A pause of one's own up to this keeps the floor: going on over someone
            who started in it is resuming, not interrupting (Jefferson 1989's "standard
            maximum" silence of about 1 s).
        min_overlap_s: Least overlap of the interrupter's stretch with the interrupted
            speaker's speech (Schegloff 2000: overlap is resolved within a beat or two; a
            terminal overlap lasts a syllable or two).
        min_speech_s: Shortest stretch that can take the floor; shorter ones are backchannels
            or false starts by their duration.
        backchannel_max_words: Most words in a backchannel by its words.
    """

    join_gap_s: float = 0.0
    simultaneous_start_s: float = 0.2
    resume_pause_s: float = 1.0
    min_overlap_s: float = 0.5
    min_speech_s: float = 1.0
    backchannel_max_words: int = 3


@dataclass(frozen=True, slots=True)
class Stretch:
    """One speaker's speech, segments joined across short silences.

    Attributes:
        speaker: Speaker label.
        start: Onset (s).
        end: Offset (s).
        words: The words said in it, in time order; ``None`` when not transcribed (a reference
            timing without words), ``()`` when transcribed and nothing was recognised.
    """

    speaker: str
    start: float
    end: float
    words: tuple[Word, ...] | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Interruption:
    """One interruption under the rule.

    Attributes:
        speaker: Who cut in (B).
        interrupted: Who held the floor (A).
        start: B's onset (s).
        end: End of the overlap (s).
        overlap: Seconds B's stretch and A's stretch under way at B's onset overlap (from
            segments).
        stretch: B's stretch.
        held_since: Start of A's stretch under way at B's onset (s).
    """

    speaker: str
    interrupted: str
    start: float
    end: float
    overlap: float
    stretch: Stretch
    held_since: float


def stretches(
    segments: Iterable[SpeechSegment],
    words_by_speaker: Mapping[str, Sequence[Word]] | None,
    join_gap_s: float,
    word_snap_s: float = 0.5,
) -> dict[str, list[Stretch]]:
    """Each speaker's stretches in time order (disjoint: overlapping segments of one speaker
    join).

    Args:
        segments: Speech segments of any speakers, any order.
        words_by_speaker: Each speaker's words; a word belongs to the stretch it overlaps most,
            else the nearest one of its speaker within ``word_snap_s`` (the turns' own snap,
            :class:`calmline.monitor.turns.TurnOptions`), else to none. ``None``: words unknown
            (stretches get ``words=None``).
        join_gap_s: Segments of one speaker this close or closer are joined.
        word_snap_s: Farthest a word outside every stretch may lie from the one it joins (s).
    """
    spans: dict[str, list[list[float]]] = {}
    for seg in sorted(segments, key=lambda s: (s.start, s.end)):
        if seg.end <= seg.start:
            continue
        own = spans.setdefault(seg.speaker, [])
        if own and seg.start - own[-1][1] <= join_gap_s:
            own[-1][1] = max(own[-1][1], seg.end)
        else:
            own.append([seg.start, seg.end])
    out: dict[str, list[Stretch]] = {}
    for speaker, own in spans.items():
        if words_by_speaker is None:
            out[speaker] = [Stretch(speaker, a, b) for a, b in own]
            continue
        bins: list[list[Word]] = [[] for _ in own]
        starts = [a for a, _ in own]
        for w in words_by_speaker.get(speaker, ()):
            k = _nearest(own, starts, w.start, w.end, word_snap_s)
            if k is not None:
                bins[k].append(w)
        out[speaker] = [
            Stretch(speaker, a, b, tuple(sorted(ws, key=lambda w: (w.start, w.end))))
            for (a, b), ws in zip(own, bins, strict=True)
        ]
    return out


def _nearest(
    spans: Sequence[Sequence[float]], starts: Sequence[float], start: float, end: float, snap: float
) -> int | None:
    """Index of the span (sorted, disjoint) a word ``[start, end]`` overlaps most, else the
    closest one within ``snap``, else ``None``."""
    k = bisect_right(starts, end)  # spans [0, k) start before the word ends
    candidates = [k] if k < len(spans) else []
    for i in range(k - 1, -1, -1):  # every span overlapping the word, and the last one before
        candidates.append(i)
        if spans[i][1] <= start:
            break
    best, best_key = None, (snap + 1e-9, 0.0)
    for i in candidates:
        a, b = spans[i]
        overlap = max(0.0, min(b, end) - max(a, start))
        distance = 0.0 if overlap > 0 else min(abs(start - b), abs(a - end))
        key = (distance, -overlap)
        if key < best_key:
            best, best_key = i, key
    return best


def find_interruptions(
    speech: Mapping[str, Sequence[Stretch]],
    rule: InterruptionRule,
    is_backchannel: Callable[[Stretch], bool] | None = None,
    is_closing: Callable[[Sequence[Word]], bool] | None = None,
) -> list[Interruption]:
    """Every interruption under ``rule``, in time order.

    Args:
        speech: Each speaker's stretches in time order (:func:`stretches`).
        rule: Thresholds.
        is_backchannel: Whether a stretch's words are nothing but backchannel phrases and
            fillers (called only for stretches with words, at most
            ``rule.backchannel_max_words`` of them); ``None``: no lexicon, words never make a
            backchannel.
        is_closing: Whether some words (never empty) are nothing but a closing's thanks and
            goodbyes (:func:`closing_overlap`); ``None``: no lexicon, no overlap is excused as
            a closing one.
    """
    found = []
    starts = {speaker: [a.start for a in own] for speaker, own in speech.items()}
    for speaker, own in speech.items():
        for i, s in enumerate(own):
            previous = own[i - 1] if i else None
            event = _judge(speaker, previous, s, speech, starts, rule, is_backchannel, is_closing)
            if event is not None:
                found.append(event)
    return sorted(found, key=lambda e: (e.start, e.speaker))


def _judge(
    speaker: str,
    previous: Stretch | None,
    s: Stretch,
    speech: Mapping[str, Sequence[Stretch]],
    starts: Mapping[str, Sequence[float]],
    rule: InterruptionRule,
    is_backchannel: Callable[[Stretch], bool] | None,
    is_closing: Callable[[Sequence[Word]], bool] | None = None,
) -> Interruption | None:
    """The interruption that stretch ``s`` of ``speaker`` makes, if any."""
    if s.duration < rule.min_speech_s or _resumes(speaker, previous, s.start, starts, rule):
        return None
    if s.words is not None:
        if not s.words:
            return None  # nothing recognised: nothing shows a word was said
        if (
            is_backchannel is not None
            and len(s.words) <= rule.backchannel_max_words
            and is_backchannel(s)
        ):
            return None
    best: Interruption | None = None
    for other, theirs in speech.items():
        if other == speaker:
            continue
        k = _speaking(theirs, starts[other], s.start, rule.simultaneous_start_s)
        if k is None:
            continue
        holding = theirs[k]
        lo, hi = max(holding.start, s.start), min(holding.end, s.end)
        if hi - lo + 1e-9 < rule.min_overlap_s:
            continue
        after = theirs[k + 1] if k + 1 < len(theirs) else None
        if is_closing is not None and closing_overlap(s, holding, after, rule, is_closing):
            continue
        event = Interruption(speaker, other, s.start, hi, hi - lo, s, holding.start)
        if best is None or event.overlap > best.overlap:
            best = event
    return best


def _speaking(
    theirs: Sequence[Stretch], starts: Sequence[float], t: float, lead: float
) -> int | None:
    """Index of their stretch under way at ``t`` that began more than ``lead`` earlier, if any
    (one speaker's stretches are disjoint: only the last one starting by ``t`` can hold it)."""
    k = bisect_right(starts, t) - 1
    if k >= 0 and theirs[k].end > t and t - theirs[k].start > lead:
        return k
    return None


def closing_overlap(
    s: Stretch,
    held: Stretch,
    after: Stretch | None,
    rule: InterruptionRule,
    is_closing: Callable[[Sequence[Word]], bool],
) -> bool:
    """Whether B's stretch ``s`` overlaps A's stretch ``held`` in a closing, not as a cut-in.

    Conversation analysis places the overlap of a call's last exchanges outside interruption:
    the closing section (Schegloff & Sacks 1973) is opened by a pre-closing ("anything else I
    can help you with?" / "no, that's all") and ended by the terminal exchange of thanks and
    goodbyes, whose parts routinely overlap; Jefferson (1973, 1986) shows a next speaker
    starting at a possible completion of the current turn while the current speaker adds a
    courtesy ("thank you very much") as orderly, not interruptive. Two forms, the same in both
    directions:

    1. A's words from B's onset on (a word belongs to where its midpoint lies; a word whose
       midpoint lies within ``rule.simultaneous_start_s`` before the onset started together
       with B, as two speakers' onsets do) are nothing but closing words: B started at a
       possible completion, and what B talks over is A's thank-you or goodbye.
    2. B's stretch is nothing but closing words ("thank you for calling, have a great day"),
       A's stretch ends no later than B's (A completes their turn under B's goodbye instead of
       going on over it), and A's next stretch, if any, opens nothing new: it holds at most
       ``rule.backchannel_max_words`` words ("you too, bye") or closing words only. A goodbye
       said over someone who keeps talking, or who comes back to say more, stays an
       interruption.

    Needs words on both stretches; a reference timing without words is never excused.

    Args:
        s: B's stretch (the one that would interrupt).
        held: A's stretch under way at B's onset.
        after: A's next stretch after ``held``, ``None`` if there is none.
        rule: Thresholds (``backchannel_max_words``).
        is_closing: Whether some words (never empty) are closing words only.
    """
    if s.words is None or held.words is None:
        return False
    # a word whose middle lies within ``simultaneous_start_s`` before B's onset started
    # together with B: B came in at the completion before it ("that'll be all. | Thank you")
    onset = s.start - rule.simultaneous_start_s
    rest = [w for w in held.words if (w.start + w.end) / 2 >= onset]
    if rest and is_closing(rest):
        return True
    if not s.words or not is_closing(s.words) or held.end > s.end:
        return False
    if after is None or not after.words:
        return True
    return len(after.words) <= rule.backchannel_max_words or is_closing(after.words)


def _resumes(
    speaker: str,
    previous: Stretch | None,
    t: float,
    starts: Mapping[str, Sequence[float]],
    rule: InterruptionRule,
) -> bool:
    """Whether an onset at ``t`` ends a pause of the speaker's own that held the floor: their
    previous stretch ended at most ``resume_pause_s`` before ``t`` and someone else started
    in that pause (so the speaker resumes over them, not the other way round)."""
    if previous is None or t - previous.end > rule.resume_pause_s:
        return False
    for other, theirs in starts.items():
        if other == speaker:
            continue
        k = bisect_left(theirs, previous.end)
        if k < len(theirs) and theirs[k] < t:
            return True
    return False
