"""Core domain types of Calmline.

One definition per concept. Times are float seconds from the start of the call; sample indices
never leave ``models/``. Everything here is a frozen, slotted dataclass so a report can be shared
between threads and serialised without surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

SAMPLE_RATE = 16_000
"""Sample rate of every decoded signal inside Calmline (Hz)."""


class Role(StrEnum):
    """Who a speaker is in the call."""

    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """Facts about the source file, before resampling."""

    path: str
    container: str
    codec: str
    sample_rate: int
    """Sample rate of the source stream (Hz)."""
    channels: int
    duration: float
    """Duration of the decoded signal (s)."""
    size_bytes: int


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """A decoded call: float32 samples at 16 kHz, channels kept."""

    samples: np.ndarray
    """float32, shape (channels, n_samples), values in [-1, 1]. For a long call a read-only
    :class:`numpy.memmap` of a temporary file (:mod:`calmline.monitor.spool`): read long
    stretches of it with ``spool.read_span`` so its pages do not stay resident."""
    info: AudioInfo
    sample_rate: int = SAMPLE_RATE

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def mono(self) -> np.ndarray:
        """Mean of the channels, float32 shape (n_samples,). A new array; for file-backed
        samples a new file-backed one, made a block at a time, with the same values."""
        from calmline.monitor.spool import is_spooled, spooled_mean

        if is_spooled(self.samples):
            return spooled_mean(self.samples)
        if self.channels == 1:
            return self.samples[0].copy()
        return self.samples.mean(axis=0, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class SpeakerCount:
    """How many voices a mono recording's diarization found, and how sure it is."""

    count: int
    """Distinct speakers in the segments."""
    estimated: bool
    """True when the count was estimated (``diarization.num_speakers`` null), False when fixed."""
    method: str
    """``cohesion`` (one voice or more, by how alike the voice in every stretch of speech is),
    ``eigengap`` (among two or more), ``fixed``, ``too_little_speech`` or ``no_speech``."""
    cohesion: float | None = None
    """Mean cosine similarity of the voice embeddings of the speech windows (0-1)."""
    threshold: float | None = None
    """Cohesion at or above which the recording is one voice."""
    confidence: float | None = None
    """0.5-1: how sure the one-voice-or-more decision is, from the cohesion's distance to the
    threshold; ``None`` when the cohesion did not decide the count."""


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A span where one speaker talks (output of VAD per channel or of diarization)."""

    start: float
    end: float
    speaker: str
    channel: int | None = None
    """Source channel for stereo attribution, ``None`` for diarized mono audio."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word (English) or token of characters (Mandarin)."""

    start: float
    end: float
    text: str
    prob: float
    """Recogniser probability of the word, 0-1."""


@dataclass(frozen=True, slots=True)
class RoleEvidence:
    """Why a speaker got a role: one cue that fired."""

    speaker: str
    cue: str
    """``channel_map``, ``lexicon``, ``first_speaker`` or ``override``."""
    detail: str
    time: float | None = None
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """Which speaker is the agent, with the evidence that decided it."""

    roles: dict[str, Role]
    method: str
    """``channels``, ``cues`` or ``override``."""
    evidence: tuple[RoleEvidence, ...] = ()
    confidence: float = 1.0
    """0-1; 1 for a channel map or an override."""


@dataclass(frozen=True, slots=True)
class TurnMetrics:
    """Measurements of one turn. ``None`` where a value cannot be measured (no voiced frames…)."""

    duration: float
    speech_rate: float | None
    """Units per turn time: zh characters per second or en words per minute (``rate_unit``)."""
    articulation_rate: float | None
    """Units per second of phonation time (pauses inside the turn excluded)."""
    rate_unit: str
    """``chars_per_s`` (Mandarin) or ``words_per_min`` (English)."""
    loudness_dbfs: float | None
    loudness_rel_db: float | None
    """Loudness relative to the speaker's own median turn loudness (dB)."""
    f0_median_hz: float | None
    f0_rel_semitones: float | None
    """Turn F0 median relative to the speaker's own baseline F0 (semitones)."""
    f0_range_semitones: float | None
    """10th-90th percentile F0 range inside the turn (semitones)."""
    mean_word_prob: float | None
    low_conf_share: float | None
    """Share of words whose probability is below the configured threshold."""
    gap_before: float | None
    """Silence between the previous turn's end and this turn's start (s); negative = overlap."""
    overlap: float
    """Time this turn overlaps turns of the other speaker(s) (s)."""


@dataclass(frozen=True, slots=True)
class Turn:
    """A stretch of speech by one speaker, with its words and measurements."""

    index: int
    speaker: str
    role: Role
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    channel: int | None = None
    metrics: TurnMetrics | None = None


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Overlap:
    """Both speakers talking at once."""

    start: float
    end: float
    speakers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SpeakerMetrics:
    speaker: str
    role: Role
    talk_time: float
    turn_count: int
    speech_rate: float | None
    articulation_rate: float | None
    rate_unit: str
    loudness_median_dbfs: float | None
    f0_median_hz: float | None
    f0_range_semitones: float | None
    mean_word_prob: float | None
    low_conf_share: float | None


@dataclass(frozen=True, slots=True)
class CallMetrics:
    duration: float
    talk_time: dict[str, float]
    """Talk time per role (s)."""
    talk_ratio: float | None
    """Agent talk time / (agent + customer talk time)."""
    overlap_time: float
    non_talk: tuple[Span, ...]
    """Spans where nobody talks for longer than the configured threshold (default 3 s)."""
    non_talk_time: float
    turn_count: int
    speakers: tuple[SpeakerMetrics, ...]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model did a stage, so a report can be reproduced."""

    kind: str
    """``asr``, ``vad``, ``diarization`` or ``embedding``."""
    name: str
    version: str
    device: str
    compute_type: str | None = None


class Severity(StrEnum):
    """How a finding counts: ``positive`` earns credit, the rest cost points."""

    POSITIVE = "positive"
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


FAULT_SEVERITIES = frozenset({Severity.MINOR, Severity.MAJOR, Severity.CRITICAL})
"""Severities of findings that cost points (faults); ``positive`` earns credit, ``info`` neither
costs nor earns."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One moment that earned or cost a practice points, with its evidence."""

    practice: str
    """Practice id from the rubric (``let_finish``, ``acknowledge`` …)."""
    kind: str
    """What was found: ``interruption``, ``phrase``, ``repeated_ack``, ``apology_demand`` …"""
    start: float | None
    end: float | None
    """The moment in the call (s); both ``None`` for a finding about the whole call (a rate or
    share measured over the call, a summary), which has no moment to jump to."""
    speaker: str
    role: Role
    quote: str
    """The words at that moment (may be empty for purely acoustic findings)."""
    value: float | None
    """The measured value (overlap seconds, rate, level, match score …)."""
    threshold: float | None
    """The rubric threshold the value was compared with."""
    severity: Severity
    detail: str
    """One line saying what was measured and against what, in English, for reviewers."""
    turn_index: int | None = None
    phrase: str | None = None
    """The rubric phrase that matched, for phrase findings."""
    weight: float = 1.0
    """Context multiplier (e.g. > 1 when the customer was agitated at that moment)."""
    match_kind: str | None = None
    """Phrase findings: how the phrase was matched, ``exact`` (the words of ``matched_form``
    as written), ``normalised``, ``phonetic`` or ``fuzzy`` (``calmline.monitor.textmatch``);
    ``None`` for findings that are not about a phrase heard."""
    matched: str | None = None
    """Phrase findings: the words heard, as they stand in ``quote``."""
    match_start: int | None = None
    match_end: int | None = None
    """Phrase findings: ``quote[match_start:match_end] == matched`` (character offsets)."""
    matched_form: str | None = None
    """Phrase findings: the rubric form that matched (``phrase`` or one of its variants)."""


@dataclass(frozen=True, slots=True)
class PracticeScore:
    practice: str
    name: str
    """Display name in the call's language."""
    score: float | None
    """0-100; ``None`` when the practice could not be judged on this call."""
    weight: float
    findings: tuple[Finding, ...]
    coaching: str | None
    """One sentence the agent can act on, in the call's language, quoting the moment."""
    critical: bool = False
    """True when a critical finding of this practice capped the call's score."""
    faults: int = 0
    """Findings that cost points (severity ``minor``, ``major`` or ``critical``)."""
    credits: int = 0
    """Findings that earned credit (severity ``positive``); ``info`` findings are neither."""
    applicable: bool = True
    """False when the practice does not apply to this call (``score`` is then ``None``): it
    shows as "—" with ``reason`` and does not move the overall score."""
    reason: str | None = None
    """Why the practice does not apply (no customer problem, one voice …); ``None`` when it
    applies."""


@dataclass(frozen=True, slots=True)
class TurnStress:
    """Customer agitation of one customer turn, relative to the customer's own calm reference
    (their 25th-percentile turn: an angry customer's median turn is an angry one)."""

    turn_index: int
    start: float
    end: float
    agitation: float
    """0 (calm) to 1 (very agitated)."""
    loudness_rel_db: float | None
    f0_rel_semitones: float | None
    rate_rel: float | None
    """Articulation rate / the customer's calm-reference articulation rate."""
    anger_words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StressTrajectory:
    """How the customer's agitation moved over the call."""

    turns: tuple[TurnStress, ...]
    start_level: float | None
    """Mean agitation of customer turns in the first third of the call."""
    end_level: float | None
    """Mean agitation of customer turns in the last third of the call."""
    change: float | None
    """end_level - start_level (negative = calmer)."""
    result: str
    """``de-escalated``, ``escalated``, ``steady`` or ``insufficient`` (too few customer turns)."""
    evidence: str


@dataclass(frozen=True, slots=True)
class ReviewReason:
    """Why a call's roles or kind are uncertain enough that a QA lead should look first."""

    code: str
    """``low_role_confidence``, ``one_speaker``, ``one_role``, ``short_call`` or
    ``not_service``."""
    detail: str
    """One line for the reviewer, with the measured value and the threshold."""


@dataclass(frozen=True, slots=True)
class Scorecard:
    rubric: str
    rubric_version: str
    language: str
    overall: float
    """0-100: weighted mean of the practice scores, capped by critical findings."""
    uncapped: float
    capped_by: tuple[str, ...]
    """Practices whose critical findings capped ``overall``."""
    practices: tuple[PracticeScore, ...]
    stress: StressTrajectory
    needs_review: bool = False
    """True when who is the agent, or whether this is a service call at all, is uncertain:
    the call is scored for the QA lead, but no practice carries coaching for the agent."""
    review_reasons: tuple[ReviewReason, ...] = ()
    """Why the call needs review; empty when it does not."""


@dataclass(frozen=True, slots=True)
class Redaction:
    """One span of personal data removed from the transcript (never its text)."""

    kind: str
    """``phone``, ``cn_id``, ``bank_card`` or ``email``."""
    start: float
    end: float
    speaker: str
    role: Role
    word_count: int
    """Recognised words the span covered (now one marker word such as ``[phone]``)."""


@dataclass(frozen=True, slots=True)
class CallReport:
    """The result of analysing one call. Serialised by ``calmline.monitor.report``."""

    call_id: str
    audio: AudioInfo
    language: str
    language_probability: float | None
    attribution: str
    """``channels`` (stereo channel map) or the diarization backend name."""
    roles: RoleAssignment
    segments: tuple[SpeechSegment, ...]
    turns: tuple[Turn, ...]
    overlaps: tuple[Overlap, ...]
    metrics: CallMetrics
    models: tuple[ModelInfo, ...]
    timings: dict[str, float]
    """Seconds spent per stage."""
    warnings: tuple[str, ...] = field(default=())
    scorecard: Scorecard | None = None
    """Practice scores; ``None`` until the report is scored with a rubric."""
    redactions: tuple[Redaction, ...] = ()
    """PII spans replaced by markers in the transcript (``calmline.monitor.redact``)."""
    incomplete: bool = False
    """True when the call's audio stopped before the call ended (a live stream whose client
    disconnected without a stop message): the report covers only the audio received."""
    speaker_count: SpeakerCount | None = None
    """Mono calls: how many voices the diarization found and how sure it is; ``None`` for
    stereo calls (one party per channel) and backends that do not say."""
