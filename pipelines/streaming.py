"""The streaming pipeline's public names, kept where callers import them from.

The live pipeline is the package :mod:`calmline.pipelines.live` (one module per job); this
module re-exports its names, and the old private names tests reach for.
"""

from calmline.pipelines.live import (
    ENCODINGS,
    EVENT_TYPES,
    MULAW_TO_INT16,
    ROLES,
    TAIL_S,
    AsrScheduler,
    AsrWorker,
    CallMeta,
    Job,
    LiveEvent,
    Span,
    SpanEngine,
    StreamError,
    StreamingOptions,
    StreamingPipeline,
    StreamingSession,
    StreamingVad,
    Utterance,
    decode_samples,
    owner,
)

_Job = Job
_Utterance = Utterance
_owner = owner

__all__ = [
    "ENCODINGS",
    "EVENT_TYPES",
    "MULAW_TO_INT16",
    "ROLES",
    "TAIL_S",
    "AsrScheduler",
    "AsrWorker",
    "CallMeta",
    "LiveEvent",
    "Span",
    "SpanEngine",
    "StreamError",
    "StreamingOptions",
    "StreamingPipeline",
    "StreamingSession",
    "StreamingVad",
    "decode_samples",
]
