"""Which speaker is the agent.

Stereo calls: the channel map decides. Mono calls: cues — the greeting and self-introduction
lexicon (zh and en) in each speaker's first words, and who speaks first — each recorded as
evidence so a QA lead can see why, and overridable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from calmline.monitor.types import Role, RoleAssignment, RoleEvidence, SpeechSegment, Word

DEFAULT_AGENT_CUES: Mapping[str, tuple[str, ...]] = {
    "zh": (
        "您好",
        "你好",
        "我是",
        "工号",
        "客服",
        "很高兴为您服务",
        "请问有什么可以帮您",
        "有什么可以帮您",
        "感谢您的来电",
        "欢迎致电",
    ),
    "en": (
        "thank you for calling",
        "thanks for calling",
        "my name is",
        "this is",
        "speaking",
        "how can i help",
        "how may i help",
        "how can i assist",
        "customer service",
        "customer support",
        "welcome to",
    ),
}


@dataclass(frozen=True, slots=True)
class RoleOptions:
    """Cues for assigning the agent role in mono calls.

    Attributes:
        agent_cues: phrases per language that an agent says when opening a call.
        cue_window_s: only a speaker's first this-many seconds of speech are searched.
        cue_weight: score of each distinct cue phrase found.
        first_speaker_weight: score for speaking first (agents usually open the call).
        agent_speaker: force this speaker id to be the agent (override).
    """

    agent_cues: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_AGENT_CUES)
    )
    cue_window_s: float = 30.0
    cue_weight: float = 1.0
    first_speaker_weight: float = 0.5
    agent_speaker: str | None = None


def normalize(text: str) -> str:
    """NFKC, lower case, punctuation to spaces, collapsed spaces (full-width folds to ASCII)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith(("P", "S")) else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def roles_from_channels(
    speakers_by_channel: Mapping[int, str], agent_channel: int
) -> RoleAssignment:
    """Stereo: the agent's channel is given, every other channel is the customer."""
    roles: dict[str, Role] = {}
    evidence = []
    for channel, speaker in sorted(speakers_by_channel.items()):
        role = Role.AGENT if channel == agent_channel else Role.CUSTOMER
        roles[speaker] = role
        evidence.append(
            RoleEvidence(speaker, "channel_map", f"channel {channel} is the {role.value}")
        )
    return RoleAssignment(roles, "channels", tuple(evidence), 1.0)


def roles_from_cues(
    segments: Sequence[SpeechSegment],
    words: Sequence[Word],
    language: str,
    options: RoleOptions | None = None,
) -> RoleAssignment:
    """Mono: score each speaker on opening cues; the best-scoring speaker is the agent.

    Words are attributed to speakers by their midpoint falling in a segment.
    """
    options = options or RoleOptions()
    speakers: list[str] = []
    for s in sorted(segments, key=lambda s: s.start):
        if s.speaker not in speakers:
            speakers.append(s.speaker)
    if not speakers:
        return RoleAssignment({}, "cues", (), 0.0)
    if options.agent_speaker is not None:
        roles = {s: Role.AGENT if s == options.agent_speaker else Role.CUSTOMER for s in speakers}
        evidence = (
            RoleEvidence(options.agent_speaker, "override", "agent speaker set by configuration"),
        )
        return RoleAssignment(roles, "override", evidence, 1.0)

    scores = dict.fromkeys(speakers, 0.0)
    evidence: list[RoleEvidence] = []
    first = speakers[0]
    scores[first] += options.first_speaker_weight
    evidence.append(
        RoleEvidence(
            first, "first_speaker", "speaks first", segments[0].start, options.first_speaker_weight
        )
    )
    cues = options.agent_cues.get(language) or tuple(
        c for lang_cues in options.agent_cues.values() for c in lang_cues
    )
    normalized_cues = [(c, normalize(c)) for c in cues]
    for speaker in speakers:
        own = [s for s in segments if s.speaker == speaker]
        start = min(s.start for s in own)
        own_words = [
            w
            for w in words
            if w.start < start + options.cue_window_s
            and any(s.start <= (w.start + w.end) / 2 <= s.end for s in own)
        ]
        if not own_words:
            continue
        joiner = "" if language == "zh" else " "
        text = normalize(joiner.join(w.text for w in own_words))
        padded = f" {text} "
        for cue, norm in normalized_cues:
            found = (norm in text) if language == "zh" else (f" {norm} " in padded)
            if found:
                scores[speaker] += options.cue_weight
                evidence.append(
                    RoleEvidence(
                        speaker, "lexicon", f"said {cue!r}", own_words[0].start, options.cue_weight
                    )
                )
    ranked = sorted(speakers, key=lambda s: (-scores[s], speakers.index(s)))
    agent = ranked[0]
    roles = {s: Role.AGENT if s == agent else Role.CUSTOMER for s in speakers}
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    # two cue phrases more than the other speaker is certain; speaking first alone is a guess
    confidence = (scores[agent] - runner_up) / (2 * options.cue_weight)
    return RoleAssignment(roles, "cues", tuple(evidence), round(min(1.0, confidence), 3))
