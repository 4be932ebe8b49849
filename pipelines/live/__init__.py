"""Live calls: audio chunks of a call in, live events out, a report at hang-up.

``session = pipeline.open_session(meta)``; ``session.accept(track, samples) -> events``;
``session.close() -> CallReport``.

Per track (one party per track: the agent's and the customer's side of a telephone call):

1. chunks are put in time order (a short reorder window), gaps are filled with silence and late
   or repeated audio is dropped, then resampled to 16 kHz with a streaming resampler (the same
   FFmpeg resampler as file decoding; chunked output equals whole-file output sample for
   sample);
2. Silero VAD runs frame by frame with its recurrent state carried across chunks, and the
   frames go through the one span engine (``calmline.models.vad_spans.SpanEngine``) that the
   batch pipeline feeds whole files through (with the stereo settings ``vad.channels_*`` when
   each track carries one party, as the batch pipeline's ``channel_speech``), so a streamed
   channel yields exactly the speech spans the batch pipeline finds in the same audio, each
   start moved back to the talker's level rise as the batch pipeline moves it (``onsets``);
   the batch pipeline's crosstalk removal (``monitor.crosstalk``) is not applied to the live
   spans yet, so where one channel carries the other party's leak the live spans keep it;
3. each closed span (an utterance) goes to one transcription worker shared by every session of
   the process (:class:`~calmline.pipelines.live.asr.AsrWorker`), which serves calls
   round-robin and packs a call's pending utterances into one recogniser window; a window never
   holds two calls' audio (see there);
4. a transcribed utterance is measured and judged at once with the rubric's detectors and
   thresholds; what they find is emitted as :class:`~calmline.pipelines.live.types.LiveEvent`.

At hang-up the utterances' spans and words go through the batch pipeline's own turns,
measurements, scoring and redaction (``BatchPipeline.assemble_report``), so a live call's report
is judged exactly like an uploaded file's. A single mixed track (both parties on one channel)
gets live transcripts, non-talk alerts and running metrics; who is the agent is only known after
diarization of the whole call, so its report is made by the batch pipeline at hang-up.

Modules: ``types`` (call facts, options, events, input samples), ``asr`` (scheduler and worker),
``pipeline`` (shared models, sessions), ``session`` (audio in, turns, events), ``transcripts``
(transcript events and their redaction), ``rules`` (the rubric's detectors on live turns),
``floor`` (interruptions), ``onsets`` (span onsets at the level rise), ``report`` (hang-up and
the stored report), ``tracks`` (per-track state).
"""

from calmline.models.vad_spans import Span, SpanEngine, StreamingVad
from calmline.monitor.audio import MULAW_TO_INT16, StreamResampler
from calmline.pipelines.live.asr import TAIL_S, AsrScheduler, AsrWorker, Job, owner
from calmline.pipelines.live.pipeline import StreamingPipeline
from calmline.pipelines.live.session import StreamingSession
from calmline.pipelines.live.types import (
    ENCODINGS,
    EVENT_TYPES,
    ROLES,
    CallMeta,
    LiveEvent,
    StreamError,
    StreamingOptions,
    Utterance,
    decode_samples,
)

__all__ = [
    "ENCODINGS",
    "EVENT_TYPES",
    "MULAW_TO_INT16",
    "ROLES",
    "TAIL_S",
    "AsrScheduler",
    "AsrWorker",
    "CallMeta",
    "Job",
    "LiveEvent",
    "Span",
    "SpanEngine",
    "StreamError",
    "StreamResampler",
    "StreamingOptions",
    "StreamingPipeline",
    "StreamingSession",
    "StreamingVad",
    "Utterance",
    "decode_samples",
    "owner",
]
