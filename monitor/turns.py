"""Speaker-attributed words grouped into turns.

Speech segments (VAD per channel, or diarization) say who spoke when; words say what. A word is
attributed to the segment it overlaps most (stereo: only segments of its own channel). Segments of
one speaker are merged into a turn while nobody else starts talking in between and the pause is
short, so a customer who keeps talking through an interruption stays one turn and the overlap is
explicit: turns of different speakers may overlap, turns of one speaker never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from calmline.monitor.types import Role, SpeechSegment, Turn, Word


@dataclass(frozen=True, slots=True)
class TurnOptions:
    """How segments and words become turns.

    Attributes:
        max_pause_s: a speaker's pause longer than this starts a new turn even when nobody else
            spoke in between.
        word_snap_s: a word outside every segment of its speaker joins the nearest segment when
            it is at most this far away; farther words open a segment of their own.
        min_wordless_turn_s: speech with no recognised words is kept as a turn only when it lasts
            at least this long (shorter ones are coughs, clicks and line noise).
    """

    max_pause_s: float = 1.5
    word_snap_s: float = 0.5
    min_wordless_turn_s: float = 1.0


@dataclass(slots=True)
class _Block:
    speaker: str
    channel: int | None
    start: float
    end: float
    words: list[Word]


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def attribute_words(
    segments: Sequence[SpeechSegment],
    words_by_channel: dict[int | None, Sequence[Word]],
    options: TurnOptions,
) -> list[_Block]:
    """Blocks (one per segment, plus orphan words) holding the words attributed to them.

    ``words_by_channel``: key = channel for stereo (words of that channel's own transcript), or
    ``None`` for mono (one transcript, attributed across all segments).
    """
    blocks = [_Block(s.speaker, s.channel, s.start, s.end, []) for s in segments]
    for channel, words in words_by_channel.items():
        candidates = [b for b in blocks if channel is None or b.channel == channel]
        for word in words:
            best: _Block | None = None
            best_score = 0.0
            for b in candidates:
                score = _overlap(word.start, word.end, b.start, b.end)
                if score > best_score:
                    best, best_score = b, score
            if best is None:
                distance = {
                    id(b): min(abs(word.start - b.end), abs(b.start - word.end)) for b in candidates
                }
                near = [b for b in candidates if distance[id(b)] <= options.word_snap_s]
                if near:
                    best = min(near, key=lambda b: distance[id(b)])
                else:
                    speaker = _speaker_of_channel(segments, channel)
                    best = _Block(speaker, channel, word.start, word.end, [])
                    blocks.append(best)
                    candidates.append(best)
            best.words.append(word)
    for b in blocks:
        b.words.sort(key=lambda w: (w.start, w.end))
        if b.words:
            b.start = min(b.start, b.words[0].start)
            b.end = max(b.end, max(w.end for w in b.words))
    return blocks


def _speaker_of_channel(segments: Sequence[SpeechSegment], channel: int | None) -> str:
    for s in segments:
        if s.channel == channel:
            return s.speaker
    return f"channel_{channel}" if channel is not None else "SPEAKER_00"


def build_turns(
    segments: Sequence[SpeechSegment],
    words_by_channel: dict[int | None, Sequence[Word]],
    roles: dict[str, Role],
    language: str,
    duration: float,
    options: TurnOptions | None = None,
) -> tuple[Turn, ...]:
    """Group attributed words into turns, sorted by start, times inside [0, duration]."""
    options = options or TurnOptions()
    blocks = sorted(
        attribute_words(segments, words_by_channel, options), key=lambda b: (b.start, b.end)
    )
    merged: list[_Block] = []
    for b in blocks:
        last_same = next((m for m in reversed(merged) if m.speaker == b.speaker), None)
        if last_same is not None:
            someone_else_between = any(
                m.speaker != b.speaker and m.start >= last_same.end - 1e-6 and m.start < b.start
                for m in merged
            )
            pause = b.start - last_same.end
            if pause <= 0 or (not someone_else_between and pause <= options.max_pause_s):
                last_same.end = max(last_same.end, b.end)
                last_same.words.extend(b.words)
                continue
        merged.append(_Block(b.speaker, b.channel, b.start, b.end, list(b.words)))
    turns: list[Turn] = []
    joiner = "" if language == "zh" else " "
    for b in sorted(merged, key=lambda b: (b.start, b.end)):
        if not b.words and b.end - b.start < options.min_wordless_turn_s:
            continue
        words = tuple(sorted(b.words, key=lambda w: (w.start, w.end)))
        start = max(0.0, min(b.start, duration))
        end = max(start, min(b.end, duration))
        turns.append(
            Turn(
                index=len(turns),
                speaker=b.speaker,
                role=roles.get(b.speaker, Role.UNKNOWN),
                start=round(start, 3),
                end=round(end, 3),
                text=_join(words, joiner),
                words=words,
                channel=b.channel,
            )
        )
    return tuple(turns)


def _join(words: Sequence[Word], joiner: str) -> str:
    if not joiner:
        return "".join(w.text for w in words)
    return joiner.join(w.text for w in words)
