"""Call audio: recordings decoded to float32 at 16 kHz with their damage found
(:mod:`~calmline.monitor.audio.load`, :mod:`~calmline.monitor.audio.checks`), samples in memory
and WAV out (:mod:`~calmline.monitor.audio.arrays`), and the conversions that recorded files and
live tracks share (:mod:`~calmline.monitor.audio.codecs`: resampling, G.711)."""

from calmline.monitor.audio.arrays import audio_from_array, write_wav, write_wav_blocks
from calmline.monitor.audio.codecs import MULAW_TO_INT16, StreamResampler, resample
from calmline.monitor.audio.load import AUDIO_SUFFIXES, LoadOptions, load_audio, probe_audio

__all__ = [
    "AUDIO_SUFFIXES",
    "MULAW_TO_INT16",
    "LoadOptions",
    "StreamResampler",
    "audio_from_array",
    "load_audio",
    "probe_audio",
    "resample",
    "write_wav",
    "write_wav_blocks",
]
