"""Live speech spans start where the batch pipeline's do: each onset moved back to the
channel's own level rise (``monitor.crosstalk.refine_onsets``, ``vad.channels_onset_*``).

A stereo call streamed in 20 ms chunks gives the utterance starts of the batch pipeline's
segments (``channel_speech_spans``' spoken spans) within a millisecond, where Silero's own
onsets are later; the recogniser still hears the VAD span (``Utterance.heard``).
"""

from __future__ import annotations

import numpy as np
import pytest

from calmline.monitor.audio import load_audio
from calmline.pipelines.batch import channel_speech_spans
from calmline.pipelines.live import StreamingOptions, StreamingPipeline
from tests.conftest import SAMPLES
from tests.live_client import spans_session
from tests.test_streaming import _tracks


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions())
    yield sp
    sp.close()


def _live_spans(streaming, call_id: str, x: np.ndarray, rate: int, encoding: str):
    """Per channel, (start, end, heard) of the utterances of ``x`` streamed live."""
    session = spans_session(streaming, call_id, x, rate, encoding)
    return {
        c: [(u.start, u.end, u.heard) for u in session.utterances if u.channel == c] for c in (0, 1)
    }


@pytest.mark.parametrize("name", ["en_stereo_mulaw", "zh_stereo"])
def test_live_onsets_are_the_batch_onsets(streaming, models, settings, name):
    x, rate, encoding = _tracks(name)
    audio = load_audio(SAMPLES / f"{name}.wav")
    _, spoken = channel_speech_spans(audio.samples, models.vad(), settings)
    live = _live_spans(streaming, f"onsets-{name}", x, rate, encoding)
    moved = 0
    for c in (0, 1):
        assert live[c], f"channel {c} has closed utterances"
        batch = {round(b, 3): a for a, b in spoken[c]}
        for start, end, heard in live[c]:
            assert end in batch, f"channel {c}: live span ending at {end} is a batch span"
            assert start == pytest.approx(batch[end], abs=1e-3)
            assert start <= heard
            moved += heard - start > 0.03
    assert moved, "Silero's onset is later than the level rise somewhere in the call"
