"""Calmline settings: one object, built once in ``main()`` / ``create_app()`` and passed down.

Environment variables use the prefix ``CALMLINE_`` and ``__`` between sections, e.g.
``CALMLINE_ASR__MODEL=small`` or ``CALMLINE_DIARIZATION__BACKEND=embedded``. A JSON file named by
``CALMLINE_SETTINGS_FILE`` (or ``--settings`` on the CLI) is read first; the environment wins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "calmline")


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "calmline")


class AudioSettings(BaseModel):
    max_duration_s: float = Field(4 * 3600.0, gt=0, description="Longest accepted call (s).")


class AsrSettings(BaseModel):
    model: str = Field(
        "bundled:base",
        description="bundled:base (multilingual, default), bundled:tiny.en (fast English), a "
        "local CTranslate2 directory, or a faster-whisper model name (downloaded).",
    )
    language: Literal["auto", "zh", "en"] = Field("auto", description="Language of the calls.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: CUDA float16 when present, else CPU int8."
    )
    compute_type: str = Field("auto", description="CTranslate2 compute type or auto.")
    cpu_threads: int = Field(0, ge=0, description="CPU threads for ASR; 0 = one per CPU core.")
    beam_size: int = Field(5, ge=1, le=20, description="Beam search width.")
    nice: int = Field(
        0,
        ge=0,
        le=19,
        description="Niceness of the threads that run Whisper (Linux): under contention, "
        "reading live audio, the alerts by sound, the VAD and the API go first; with nothing "
        "else to run, Whisper still gets every core. 0 = the process's own priority.",
    )


class VadSettings(BaseModel):
    threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability threshold.")
    min_speech_ms: int = Field(150, ge=0, description="Shorter speech is dropped (ms).")
    min_silence_ms: int = Field(300, ge=0, description="Silence that ends a speech span (ms).")
    speech_pad_ms: int = Field(60, ge=0, description="Padding on each side of speech (ms).")
    # Stereo calls (one party per channel, usually 8 kHz G.711): speech is found on each channel
    # with these, then crosstalk is removed (``crosstalk``). On the six real Harper Valley calls
    # as 8 kHz mu-law (bench/accuracy.py, bench/README.md) 0.3 / 300 / 30 give stereo DER 3.7 %
    # at collar 0.25 against the transcript segments (3.4 % with -57..-49 dBFS crosstalk) and
    # 2.4 % against the segments refined by level, where the mono values above give 6.0 %
    # (44.4 % with crosstalk) and 3.0 %: the lower threshold finds soft onsets and word ends at
    # 8 kHz (missed speech 8.9 % -> 5.9 % of the segments), the shorter padding gives back the
    # false alarm. Thresholds 0.25-0.4 with 30-60 ms padding and 300-500 ms silences are all
    # within 1.5 points of it.
    channels_threshold: float = Field(
        0.3, gt=0, lt=1, description="Stereo calls: speech probability threshold per channel."
    )
    channels_min_silence_ms: int = Field(
        300, ge=0, description="Stereo calls: silence that ends a speech span (ms)."
    )
    channels_speech_pad_ms: int = Field(
        30, ge=0, description="Stereo calls: padding on each side of speech (ms)."
    )
    # Silero's probability lags a talker's onset after silence (up to 0.5 s after a gated,
    # digitally silent line): a span's start moves back over the frames right before it where
    # the channel's own level is over its noise floor (calmline.monitor.crosstalk.refine_onsets,
    # where the figures that chose these are).
    channels_onset_shift_ms: int = Field(
        500,
        ge=0,
        description="Stereo calls: most a speech span's start moves back to the channel's own "
        "level rise (ms); 0 turns it off.",
    )
    channels_onset_margin_db: float = Field(
        6.0,
        ge=0,
        description="Stereo calls: level over the channel's noise floor that counts as its "
        "talker's onset (dB).",
    )


class CrosstalkSettings(BaseModel):
    """Stereo calls: a channel's speech counts only where it carries its own talker
    (``calmline.monitor.crosstalk``, where the figures behind each default are)."""

    enabled: bool = Field(True, description="Remove crosstalk and echo from stereo speech.")
    min_correlation: float = Field(
        0.5, gt=0, le=1, description="Cross-channel correlation at which a frame can be a copy."
    )
    min_level_gap_db: float = Field(
        6.0, ge=0, description="A copy is at least this much quieter than its source (dB)."
    )
    max_lag_ms: float = Field(
        16.0, gt=0, le=64, description="Longest delay of a copy behind its source (ms)."
    )
    floor_margin_db: float = Field(
        8.0, ge=0, description="Noise-floor stretches touching a copy are part of it (dB)."
    )


class DiarizationSettings(BaseModel):
    backend: Literal["auto", "channels", "embedded", "pyannote"] = Field(
        "auto",
        description="auto: stereo files by channel map, mono files by the embedded backend.",
    )
    # A mono recording may hold one voice (a voicemail, a read test): by default its count is
    # estimated between 1 and 2 (a phone call), and the report's speaker_count says how sure
    # that is (models/diarization_embedded.py for the figures). Raise max_speakers for
    # conference calls; set num_speakers to fix the count.
    num_speakers: int | None = Field(
        None, ge=1, description="Speakers in a mono call; null to estimate between min and max."
    )
    min_speakers: int = Field(1, ge=1, description="Lower bound when estimating.")
    max_speakers: int = Field(2, ge=1, description="Upper bound when estimating.")
    pyannote_pipeline: str = Field(
        "pyannote/speaker-diarization-community-1",
        description="pyannote pipeline: a local directory with config.yaml, or a hub name.",
    )
    pyannote_token: str | None = Field(None, description="Hub token for a gated pipeline.")


class RoleSettings(BaseModel):
    agent_channel: int = Field(0, ge=0, le=1, description="Stereo: the agent's channel.")
    agent_speaker: str | None = Field(
        None, description="Mono: force this speaker id (e.g. SPEAKER_01) to be the agent."
    )
    cue_window_s: float = Field(30.0, gt=0, description="Seconds of speech searched for cues.")


class MeasureSettings(BaseModel):
    low_conf_threshold: float = Field(
        0.5, ge=0, le=1, description="Words below this probability are low-confidence."
    )
    non_talk_min_s: float = Field(3.0, ge=0, description="Both silent longer than this (s).")
    max_turn_pause_s: float = Field(
        1.5, ge=0, description="A pause longer than this starts a new turn of the same speaker."
    )


class ScoringSettings(BaseModel):
    enabled: bool = Field(True, description="Score calls against a rubric after analysis.")
    rubrics: list[str] = Field(
        default_factory=list,
        description="Rubric YAML files; a call uses the one of its language, else the default.",
    )


class StorageSettings(BaseModel):
    data_dir: str = Field(
        default_factory=_default_data_dir,
        description="Where the SQLite database and stored audio live by default.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/calmline.db. PostgreSQL: "
        "postgresql+psycopg://user:pass@host/db.",
    )
    audio_dir: str | None = Field(None, description="Stored call audio; default <data_dir>/audio.")
    audio_url: str | None = Field(
        None,
        description="Where uploaded call audio is stored: a folder, or an fsspec URL every "
        "worker can read (file:///mnt/shared/audio, s3://bucket/calls with the `s3` extra); "
        "default the audio_dir folder.",
    )
    audio_options: dict[str, Any] = Field(
        default_factory=dict,
        description='fsspec options of audio_url, e.g. {"endpoint_url": "http://minio:9000"} '
        "for an S3-compatible store.",
    )

    @field_validator("audio_url")
    @classmethod
    def _known_audio_url(cls, v: str | None) -> str | None:
        if v and "://" in v:
            from calmline.monitor.audiostore import check_audio_url

            check_audio_url(v)
        return v

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'calmline.db'}"

    def resolved_audio_dir(self) -> Path:
        return Path(self.audio_dir) if self.audio_dir else Path(self.data_dir) / "audio"


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `calmline serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port `calmline serve` listens on.")
    max_upload_mb: float = Field(
        200.0, gt=0, description="Largest accepted upload (MB); 413 above."
    )
    load_models: bool = Field(
        True, description="Load the models at start-up (lifespan) instead of on first use."
    )
    session_ttl_s: float = Field(
        8 * 3600.0,
        gt=0,
        description="How long a page sign-in (session cookie) lasts before the key is asked "
        "again (s).",
    )
    session_secret: str | None = Field(
        None,
        description="HMAC key that signs session cookies; default: a random one per server "
        "process (a restart signs every page out). Set it when several servers share users.",
    )
    auth_recheck_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Open live feeds and ingest sockets check their key (or session) again this "
        "often and close once it is revoked or expired (s).",
    )


class JobSettings(BaseModel):
    workers: int = Field(1, ge=0, description="Analysis workers in the server; 0 = no worker.")
    max_attempts: int = Field(3, ge=1, description="Tries before a job stays failed.")
    poll_s: float = Field(0.5, gt=0, description="How often idle workers look for queued jobs (s).")
    lease_s: float = Field(
        60.0,
        ge=1.0,
        description="How long a worker holds a claimed job without renewing it (s); renewed "
        "every third of it. A job is taken over by another worker or server only when its "
        "lease has expired (its owner died or lost the database for that long).",
    )


class ExecutorSettings(BaseModel):
    """Where analyses run (``calmline.pipelines.executor``): in the server's process, or on Ray
    actors across a cluster (``docs/scale.md``)."""

    kind: Literal["inprocess", "ray"] = Field(
        "inprocess",
        description="inprocess: the server's own models, jobs.workers calls at once. ray: a "
        "pool of Ray actors that each load the models (install calmline[ray]); the server then "
        "runs one job at a time per actor (jobs.workers = 0 still means none).",
    )
    ray_address: str | None = Field(
        None,
        description="Ray cluster to join, HOST:PORT of the head (`ray start --head`) or auto; "
        "unset: a one-machine Ray started by the server.",
    )
    actors: int = Field(
        0, ge=0, description="Ray actors; 0 = as many as the cluster's CPUs (or GPUs) hold now."
    )
    cpus_per_actor: float = Field(
        1.0, gt=0, description="CPU cores Ray reserves for each actor (Whisper's threads)."
    )
    num_gpus: float = Field(
        0.0,
        ge=0,
        description="GPUs per actor: 0 = CPU actors; 1 (or 0.5 to share a GPU between two) "
        "when the cluster has GPU nodes.",
    )


LIVE_CALLS_PER_CORE = 2
"""Live calls one CPU core follows at real time with the bundled Whisper base (one CPU
transcription worker keeps up with about 4 calls on 2 cores; see bench/README.md)."""


def _default_live_calls() -> int:
    """:data:`LIVE_CALLS_PER_CORE` per CPU core this process may use, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, LIVE_CALLS_PER_CORE * cores)


class LiveSettings(BaseModel):
    max_calls: int = Field(
        default_factory=_default_live_calls,
        ge=0,
        description="Live calls followed at once; a call beyond it is refused (WebSocket close "
        "1013, try again later). Default: 2 per CPU core (what CPU transcription keeps up "
        "with); raise it on a GPU or with a smaller model (CALMLINE_LIVE__MAX_CALLS). "
        "0 = no limit.",
    )
    max_gap_s: float = Field(
        5.0,
        ge=0,
        le=600,
        description="Most silence put in for a gap in a track's media timestamps (s). A larger "
        "jump is a protocol warning (an error frame to the client, a warning in the report): "
        "the track goes on from the new timestamp after this much silence.",
    )
    reorder_window_s: float = Field(
        0.2,
        ge=0,
        le=5,
        description="How long early media waits for a missing earlier chunk before the gap "
        "counts as lost and becomes silence (s).",
    )
    key_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A Twilio stream opened without a key must send one (customParameters.key) "
        "within this long, or it is closed (s).",
    )
    max_utterance_s: float = Field(
        28.0,
        ge=2,
        le=29,
        description="An utterance is cut and transcribed after this long even if the speaker "
        "goes on (s).",
    )
    acoustic_alerts: bool = Field(
        True,
        description="Interruption alerts by sound: told from the speech spans while the agent "
        "is still talking (about 0.1 s after the interruption rule holds), before the words; "
        "withdrawn with the reason when the words show no interruption.",
    )
    beam_size: int = Field(
        1,
        ge=1,
        le=20,
        description="Beam width of live transcription (1 = greedy, about twice as fast on a CPU "
        "as asr.beam_size 5): live alerts need the words soon; the stored report of a call "
        "analysed after hang-up (live.post_call_batch) has the batch pipeline's words.",
    )
    window_s: float = Field(
        15.0,
        ge=10,
        le=30,
        description="Whisper's encoder window for live transcription (s; asr window 30). An "
        "utterance is encoded over its audio and at least this much instead of a padded 30 s "
        "window: on 2 CPU cores, Whisper base, the encoder costs 0.18 s instead of 0.74 s, so "
        "words come about twice as soon with several calls, at some cost in accuracy (real "
        "short utterances: WER 19.9 % against 18.0 %, Mandarin CER 15.3 % against 14.5 %); the "
        "stored report of a call analysed after hang-up has the full windows' words. 30 = "
        "Whisper's own (bench/README.md).",
    )
    analysis_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker threads that analyse the audio of all live calls of a server "
        "(resampling, VAD, the rules by sound), each call's in order. Threads beyond one fight "
        "over Python's interpreter lock: five calls read faster than real time took 23.2 s of "
        "CPU on one thread, 29.9 s on two, 39.8 s on forty, in about the same time (22-30 s; "
        "bench/live_ingest.py); more calls per machine come from more server processes.",
    )
    max_asr_lag_s: float = Field(
        4.0,
        ge=0,
        le=600,
        description="Most the live transcription may fall behind (s, from the end of an "
        "utterance to its words). While it is further behind, a call that starts gets its "
        "alerts by sound live (interruption, long silence) and its transcript after hang-up "
        "(the batch pipeline), and from half of it on calls in progress are shed one at a time "
        "(the newest first, its waiting utterances dropped) so that it stays within it; "
        "shown as transcript: after_call on the dashboard and counted in /metrics, instead of "
        "queueing without bound. 4 keeps the followed calls' text alerts within 3 s (p95) on "
        "a machine slowed to half its speed, 4 calls on 2 cores (8: 4.0-4.6 s), and sheds "
        "none at 4 calls at full speed (bench/README.md). 0 = never.",
    )
    post_call_batch: bool = Field(
        True,
        description="At hang-up, queue the recorded call for the batch pipeline (one analysis "
        "job) so the stored report is made from the whole call, not from the live transcript's "
        "short windows; the live report is stored meanwhile and replaced when the job is done. "
        "Needs an analysis worker (jobs.workers > 0); calls of one mixed track and calls that "
        "ended early (incomplete) keep the live report.",
    )
    batch_yield_s: float = Field(
        300.0,
        ge=0,
        le=86400,
        description="An analysis job of this server (an upload, a call analysed after "
        "hang-up) pauses between decoding windows while live transcription has an utterance "
        "waiting, so live calls keep the cores; at most this long per job (s), then it runs "
        "on. 0 = never pause. Not for analyses on Ray workers (their own cores).",
    )
    bus: Literal["auto", "local", "postgres"] = Field(
        "auto",
        description="How live events reach the other API replicas' feeds: postgres (NOTIFY/LISTEN "
        "on storage.database_url), local (one server), or auto (postgres when the store is).",
    )
    heartbeat_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="How often a replica tells the others which live calls it holds (s); a "
        "replica that starts late learns the calls in progress from it.",
    )
    replica_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Another replica's live call that no event or heartbeat has mentioned for this "
        "long (that replica stopped) is dropped from the list and its feed gets call_ended with "
        "lost: true (s).",
    )

    @model_validator(mode="after")
    def _timeout_after_heartbeats(self) -> LiveSettings:
        if self.replica_timeout_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"live.replica_timeout_s ({self.replica_timeout_s:g}) must be at least two "
                f"heartbeats (live.heartbeat_s = {self.heartbeat_s:g}): a call would be dropped "
                "between two heartbeats that list it"
            )
        return self


class WatchSettings(BaseModel):
    dir: str | None = Field(None, description="Folder watched for new call files (PBX exports).")
    pattern: str = Field(
        r"(?P<agent_id>[^_]+)_(?P<call_id>[^_]+)_(?P<started_at>\d{8}T\d{6})",
        description="Regex on the file stem giving agent_id, call_id, started_at (YYYYmmddTHHMMSS)"
        "; a sidecar <file>.json wins over it.",
    )
    poll_s: float = Field(2.0, gt=0, description="How often the folder is scanned (s).")
    settle_s: float = Field(1.0, ge=0, description="A file must be unchanged this long (s).")


class PrivacySettings(BaseModel):
    redact: bool = Field(True, description="Redact PII in stored transcripts, reports, exports.")
    kinds: list[Literal["phone", "cn_id", "bank_card", "email"]] = Field(
        default_factory=lambda: ["phone", "cn_id", "bank_card", "email"],
        description="Which kinds of PII are redacted.",
    )
    redact_audio: bool = Field(False, description="Also silence redacted words in exported audio.")
    allow_long_numbers: bool = Field(
        False,
        description="Keep digit runs of 6+ digits that no PII rule names (order numbers …); "
        "by default they are redacted as [NUMBER].",
    )

    @property
    def long_numbers(self) -> bool:
        """Whether runs of 6+ digits that no rule names are redacted (the ``long_numbers``
        argument of :mod:`calmline.monitor.redact`)."""
        return not self.allow_long_numbers


class WebhookSettings(BaseModel):
    url: str | None = Field(None, description="URL that receives signed JSON events.")
    secret: str | None = Field(None, description="HMAC-SHA256 key for the X-Calmline-Signature.")
    events: list[Literal["call.scored", "finding.critical"]] = Field(
        default_factory=lambda: ["call.scored", "finding.critical"],
        description="Events that are sent.",
    )
    max_attempts: int = Field(
        10,
        ge=1,
        description="Delivery tries per event; with the backoff doubling from backoff_s (each "
        "wait at most 5 minutes), 10 tries span about 8.5 minutes of a receiver being down.",
    )
    timeout_s: float = Field(5.0, gt=0, description="Per-try HTTP timeout (s).")
    backoff_s: float = Field(1.0, ge=0, description="First retry delay; doubles each try (s).")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Host names or IP addresses the webhook URL may use even though they are "
        "loopback, private, link-local or otherwise internal (refused by default).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        from urllib.parse import urlsplit

        if not v:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhooks.url must be an http(s) URL with a host, got {v!r}")
        return v

    @model_validator(mode="after")
    def _public_host(self) -> WebhookSettings:
        """An internal address written in the URL is refused here; host names are resolved
        and checked before every delivery (``calmline.pipelines.webhooks``)."""
        import ipaddress
        from urllib.parse import urlsplit

        if not self.url:
            return self
        host = (urlsplit(self.url).hostname or "").lower().rstrip(".")
        if host in {h.lower().strip("[]").rstrip(".") for h in self.allow_hosts}:
            return self
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            internal = host == "localhost" or host.endswith(".localhost")
        else:
            mapped = getattr(ip, "ipv4_mapped", None) or ip
            internal = not mapped.is_global or mapped.is_multicast
        if internal:
            raise ValueError(
                f"webhooks.url {self.url!r} points at an internal address ({host}); add the "
                "host to webhooks.allow_hosts to allow it"
            )
        return self


ALERT_KINDS = (
    "interruption",
    "apology_demand",
    "repeated_ack",
    "agent_louder",
    "agent_faster",
    "agitation_rising",
    "non_talk",
)
"""Live events that are supervisor alerts (``docs/live.md``); ``acknowledgement`` is a credit."""
AlertKind = Literal[
    "interruption",
    "apology_demand",
    "repeated_ack",
    "agent_louder",
    "agent_faster",
    "agitation_rising",
    "non_talk",
]
ALERT_THRESHOLD_FIELDS = {
    "interruption": ("overlap_s",),
    "agent_louder": ("loudness_rel_db",),
    "agent_faster": ("rate_ratio",),
    "agitation_rising": ("agitation",),
}
"""Numbers of an alert's payload that ``alerts.thresholds`` may set a minimum for."""


class AlertSettings(BaseModel):
    """Which live events become supervisor alerts, how long they are kept, and when they are
    quiet (``calmline.api.alerts``)."""

    kinds: list[AlertKind] = Field(
        default_factory=lambda: list(ALERT_KINDS), description="Live events that alert."
    )
    min_severity: Literal["info", "minor", "major", "critical"] = Field(
        "info", description="Alerts below this severity are not raised."
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Minimum of a payload number, "<kind>.<field>": value, e.g. '
        '{"interruption.overlap_s": 1.0, "agitation_rising.agitation": 0.7}.',
    )
    keep_hours: float = Field(
        24.0, gt=0, le=24 * 366, description="Alerts are kept this long, then deleted (h)."
    )
    hold_kinds: list[AlertKind] = Field(
        default_factory=lambda: ["non_talk"],
        description="Alerts that are quiet while the agent has announced a hold.",
    )
    # Hold phrases: "稍等" is in 985 of the 15,806 agent lines of MUSIED (real Mandarin service
    # calls, 6.2 %), "等一下" in 207; "one moment" is the hold of the Harper Valley calls. English
    # phrases are matched as whole words ("hold on", never "holder").
    hold_phrases: dict[Literal["en", "zh"], list[str]] = Field(
        default_factory=lambda: {
            "en": [
                "on hold",
                "please hold",
                "hold on",
                "hold the line",
                "one moment",
                "just a moment",
                "a moment please",
                "bear with me",
                "one second",
                "just a second",
            ],
            "zh": ["稍等", "稍候", "等一下", "等一等"],
        },
        description="What an agent says to announce a hold, per language.",
    )
    hold_max_s: float = Field(
        180.0,
        ge=0,
        le=3600,
        description="A hold ends when the agent speaks again, at the latest this long after "
        "the announcement (s); 0 = holds never quiet alerts.",
    )

    @field_validator("thresholds")
    @classmethod
    def _threshold_keys(cls, v: dict[str, float]) -> dict[str, float]:
        for key in v:
            kind, _, name = key.partition(".")
            if name not in ALERT_THRESHOLD_FIELDS.get(kind, ()):
                known = [f"{k}.{f}" for k, fs in ALERT_THRESHOLD_FIELDS.items() for f in fs]
                raise ValueError(f"alerts.thresholds: unknown {key!r}; one of {known}")
        return v


class Settings(BaseSettings):
    """Everything Calmline can be told. See the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="CALMLINE_", env_nested_delimiter="__", extra="ignore"
    )

    cache_dir: str = Field(
        default_factory=_default_cache_dir,
        description="Where bundled models are unpacked and downloaded models are kept.",
    )
    audio: AudioSettings = AudioSettings()
    asr: AsrSettings = AsrSettings()
    vad: VadSettings = VadSettings()
    crosstalk: CrosstalkSettings = CrosstalkSettings()
    diarization: DiarizationSettings = DiarizationSettings()
    roles: RoleSettings = RoleSettings()
    measure: MeasureSettings = MeasureSettings()
    scoring: ScoringSettings = ScoringSettings()
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    jobs: JobSettings = JobSettings()
    executor: ExecutorSettings = ExecutorSettings()
    watch: WatchSettings = WatchSettings()
    live: LiveSettings = LiveSettings()
    privacy: PrivacySettings = PrivacySettings()
    webhooks: WebhookSettings = WebhookSettings()
    alerts: AlertSettings = AlertSettings()

    @classmethod
    def load(cls, file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Settings from a JSON file (optional), then the environment, then ``overrides``."""
        file = file or os.environ.get("CALMLINE_SETTINGS_FILE")
        base: dict[str, Any] = {}
        if file:
            base = json.loads(Path(file).read_text(encoding="utf-8"))
        env = cls()  # environment and defaults
        merged = _deep_merge(base, env.model_dump(exclude_unset=True))
        merged = _deep_merge(merged, overrides)
        return cls(**merged)


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
