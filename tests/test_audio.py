"""Audio input: every format a call arrives in decodes to float32 16 kHz with channels kept, and
every unusable file fails with a typed error that names it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_factory import (
    overwrite_middle,
    set_flac_total_samples,
    set_wav_data_size,
    tones,
    truncate,
    write_audio,
    write_png,
    write_video_only,
    write_wav_declaring_more,
    write_wav_header_only,
)

from calmline.monitor.audio import LoadOptions, audio_from_array, load_audio, resample
from calmline.monitor.errors import (
    AudioCorruptError,
    AudioDecodeError,
    AudioEmptyError,
    AudioMissingError,
    AudioTooLongError,
    AudioZeroLengthError,
    NotAudioError,
    TooManyChannelsError,
)
from calmline.monitor.types import SAMPLE_RATE

DURATION = 1.5
AMPLITUDE = 0.5
TONE_RMS = AMPLITUDE / np.sqrt(2)
FREQS = (440.0, 1000.0)  # channel 0, channel 1

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"  # FFmpeg's name for the MP4/M4A demuxer

# (encoder, extension, source rate, container, codec reported, lossless,
#  decoded duration minus nominal: (min, max) in s)
# Lossy bounds: MP3 with LAME's gapless header and Opus with its pre-skip are trimmed to within
# a frame; AAC keeps up to one frame of padding (1024 samples, 0.128 s at 8 kHz).
FORMATS = [
    ("pcm_u8", "wav", 11025, "wav", "pcm_u8", True, (-0.001, 0.001)),
    ("pcm_s16le", "wav", 8000, "wav", "pcm_s16le", True, (-0.001, 0.001)),
    ("pcm_s16le", "wav", 22050, "wav", "pcm_s16le", True, (-0.001, 0.001)),
    ("pcm_s24le", "wav", 48000, "wav", "pcm_s24le", True, (-0.001, 0.001)),
    ("pcm_s32le", "wav", 44100, "wav", "pcm_s32le", True, (-0.001, 0.001)),
    ("pcm_f32le", "wav", 16000, "wav", "pcm_f32le", True, (-0.001, 0.001)),
    ("pcm_mulaw", "wav", 8000, "wav", "pcm_mulaw", True, (-0.001, 0.001)),
    ("pcm_alaw", "wav", 8000, "wav", "pcm_alaw", True, (-0.001, 0.001)),
    ("flac", "flac", 22050, "flac", "flac", True, (-0.001, 0.001)),
    ("flac", "flac", 48000, "flac", "flac", True, (-0.001, 0.001)),
    ("libmp3lame", "mp3", 44100, "mp3", "mp3", False, (-0.03, 0.06)),
    ("libmp3lame", "mp3", 8000, "mp3", "mp3", False, (-0.03, 0.06)),
    ("libopus", "ogg", 48000, "ogg", "opus", False, (-0.03, 0.03)),
    ("libopus", "ogg", 8000, "ogg", "opus", False, (-0.03, 0.03)),
    ("aac", "m4a", 44100, MP4, "aac", False, (-0.03, 0.15)),
    ("aac", "m4a", 8000, MP4, "aac", False, (-0.03, 0.15)),
]


def _id(fmt: tuple) -> str:
    return f"{fmt[0]}-{fmt[2]}"


def _peak_hz(x: np.ndarray) -> float:
    """Strongest frequency of a 16 kHz signal (Hz)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[np.argmax(spectrum)])


def _band_db(x: np.ndarray, hz: float) -> float:
    """Level of ``x`` around ``hz`` (dB, arbitrary reference)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    band = spectrum[np.abs(freqs - hz) <= 10]
    return float(20 * np.log10(band.max() + 1e-12))


def _db(a: float, b: float) -> float:
    return float(20 * np.log10(a / b))


def _middle(x: np.ndarray) -> np.ndarray:
    """The central second: away from codec priming at the start and padding at the end."""
    return x[..., SAMPLE_RATE // 4 : SAMPLE_RATE // 4 + SAMPLE_RATE]


@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
@pytest.mark.parametrize("fmt", FORMATS, ids=[_id(f) for f in FORMATS])
def test_formats_decode_to_16k_with_channels_kept(tmp_path: Path, fmt: tuple, channels: int):
    encoder, ext, rate, container, codec, lossless, (lo, hi) = fmt
    path = write_audio(
        tmp_path / f"call.{ext}", tones(FREQS[:channels], DURATION, rate, AMPLITUDE), rate, encoder
    )

    audio = load_audio(path)

    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 2 and audio.samples.shape[0] == channels
    assert audio.samples.flags.c_contiguous
    assert audio.sample_rate == SAMPLE_RATE
    assert lo <= audio.duration - DURATION <= hi
    assert np.abs(audio.samples).max() <= 1.0
    info = audio.info
    assert (info.path, info.container, info.codec) == (str(path), container, codec)
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration == pytest.approx(audio.duration, abs=0.001)
    assert info.size_bytes == path.stat().st_size

    middle = _middle(audio.samples)
    tolerance_db = 1.0 if lossless else 3.0
    for ch in range(channels):
        rms = float(np.sqrt(np.mean(middle[ch] ** 2)))
        assert abs(_db(rms, TONE_RMS)) <= tolerance_db, f"channel {ch}: rms {rms:.3f}"
        # channel order kept, and no channel leaks into the other
        assert _peak_hz(middle[ch]) == pytest.approx(FREQS[ch], abs=2)
        other = FREQS[1 - ch]
        assert _band_db(middle[ch], FREQS[ch]) - _band_db(middle[ch], other) > 30
    if lossless:
        # sample-accurate: the decoded file equals the source resampled the same way
        reference = resample(tones(FREQS[:channels], DURATION, rate, AMPLITUDE), rate)
        n = min(reference.shape[1], audio.samples.shape[1])
        error = np.abs(audio.samples[:, :n] - reference[:, :n]).max()
        # 8-bit and G.711 quantise coarsely; 16 bits and up are near exact
        assert error < (0.05 if codec in {"pcm_u8", "pcm_mulaw", "pcm_alaw"} else 0.001)


@pytest.mark.parametrize("encoder", ["pcm_mulaw", "pcm_alaw"])
def test_pbx_g711_stereo_8k_keeps_agent_and_customer_apart(tmp_path: Path, encoder: str):
    """The PBX case: G.711 8 kHz stereo, agent on the left, a silent customer on the right."""
    samples = tones((440.0, None), 3.0, 8000, AMPLITUDE)
    path = write_audio(tmp_path / "pbx.wav", samples, 8000, encoder)

    audio = load_audio(path)

    assert audio.samples.shape == (2, 3 * SAMPLE_RATE)
    assert (audio.info.codec, audio.info.sample_rate, audio.info.channels) == (encoder, 8000, 2)
    left, right = _middle(audio.samples)
    assert _peak_hz(left) == pytest.approx(440, abs=2)
    assert abs(_db(float(np.sqrt(np.mean(left**2))), TONE_RMS)) < 0.5
    # G.711 silence decodes to the smallest step, about -78 dBFS for mu-law
    assert np.sqrt(np.mean(right**2)) < 1e-3


def test_float_wav_beyond_full_scale_is_clipped(tmp_path: Path):
    path = write_audio(tmp_path / "loud.wav", tones((440.0,), 1.0, 16000, 1.5), 16000, "pcm_f32le")
    audio = load_audio(path)
    assert np.abs(audio.samples).max() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- bad input


def _assert_names(excinfo: pytest.ExceptionInfo, path: Path) -> None:
    assert str(path) in str(excinfo.value)
    assert excinfo.value.path == str(path)


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioMissingError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_directory(tmp_path: Path):
    with pytest.raises(NotAudioError, match="directory") as excinfo:
        load_audio(tmp_path)
    _assert_names(excinfo, tmp_path)


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioEmptyError, match="0 bytes") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


@pytest.mark.parametrize("name", ["notes.txt", "notes.wav", "notes.mp3"])
def test_text_file_is_not_audio(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text("Customer called about an invoice.\n" * 50)
    with pytest.raises(NotAudioError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


@pytest.mark.parametrize("size", [7, 5_000, 200_000])
def test_random_bytes_are_not_audio(tmp_path: Path, size: int):
    path = tmp_path / "blob.wav"
    path.write_bytes(np.random.default_rng(size).integers(0, 256, size, np.uint8).tobytes())
    with pytest.raises(NotAudioError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_png_is_not_audio(tmp_path: Path):
    path = write_png(tmp_path / "logo.png")
    with pytest.raises(NotAudioError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_video_without_audio_is_not_audio(tmp_path: Path, ext: str):
    path = write_video_only(tmp_path / f"screen.{ext}")
    with pytest.raises(NotAudioError, match=r"no audio stream.*video") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_wav_header_without_samples_is_zero_length(tmp_path: Path):
    path = write_wav_header_only(tmp_path / "silent.wav")
    with pytest.raises(AudioZeroLengthError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_wav_cut_short_of_its_header_is_corrupt(tmp_path: Path):
    path = write_wav_declaring_more(
        tmp_path / "cut.wav", tones((440.0, 1000.0), 1.0, 8000), 8000, declared_s=3.0
    )
    with pytest.raises(AudioCorruptError, match=r"declares 3\.00 s.*holds 1\.00 s") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_wav_header_declaring_audio_with_none_is_corrupt(tmp_path: Path):
    path = write_wav_header_only(tmp_path / "cut.wav")
    set_wav_data_size(path, 8000 * 2 * 60)
    with pytest.raises(AudioCorruptError, match="holds none") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


# Every format cut in half or with bytes overwritten in the middle. What FFmpeg does, and so what
# the loader checks, differs per format:
#   WAV cut: FFmpeg clamps the length to the bytes present   -> header data size vs file size
#   MP3 cut: decodes the first half without error             -> Xing frame count vs decoded
#   MP3 / AAC damaged: the decoder rejects a packet           -> decode error
#   FLAC cut: the last frame is incomplete                    -> decode error
#   FLAC damaged: frames failing CRC are dropped silently     -> STREAMINFO length vs decoded
#   Ogg cut: ends at the last whole page without error        -> no end-of-stream page
#   Ogg damaged: pages failing CRC are dropped silently       -> last granule vs decoded
#   M4A cut (index at the end): cannot be opened              -> file starts as MP4
#   M4A cut (index first): the decoder hits the cut           -> decode error
DAMAGE = [
    ("pcm_s16le", "wav", 8000, None, "cut"),
    ("pcm_mulaw", "wav", 8000, None, "cut"),
    ("libmp3lame", "mp3", 44100, None, "cut"),
    ("libmp3lame", "mp3", 44100, None, "overwrite"),
    ("flac", "flac", 22050, None, "cut"),
    ("flac", "flac", 22050, None, "overwrite"),
    ("libopus", "ogg", 48000, None, "cut"),
    ("libopus", "ogg", 48000, None, "overwrite"),
    ("aac", "m4a", 44100, None, "cut"),
    ("aac", "m4a", 44100, {"movflags": "faststart"}, "cut"),
    ("aac", "m4a", 44100, None, "overwrite"),
]


@pytest.mark.parametrize(
    ("encoder", "ext", "rate", "muxer_options", "damage"),
    DAMAGE,
    ids=[f"{d[0]}{'-faststart' if d[3] else ''}-{d[4]}" for d in DAMAGE],
)
def test_truncated_or_damaged_files_are_corrupt(
    tmp_path: Path, encoder: str, ext: str, rate: int, muxer_options: dict | None, damage: str
):
    path = write_audio(
        tmp_path / f"call.{ext}",
        tones(FREQS, 3.0, rate),
        rate,
        encoder,
        muxer_options=muxer_options,
    )
    load_audio(path)  # intact, it decodes
    if damage == "cut":
        truncate(path, 0.5)
    else:
        overwrite_middle(path, 0.3)
    with pytest.raises(AudioCorruptError) as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_ogg_cut_is_reported_as_missing_its_end(tmp_path: Path):
    path = write_audio(tmp_path / "call.ogg", tones(FREQS, 3.0, 48000), 48000, "libopus")
    truncate(path, 0.9)
    with pytest.raises(AudioCorruptError, match="end-of-stream"):
        load_audio(path)


def test_small_damage_to_an_mp3_is_corrupt(tmp_path: Path):
    path = write_audio(tmp_path / "call.mp3", tones(FREQS, 3.0, 44100), 44100, "libmp3lame")
    overwrite_middle(path, 0.02)
    with pytest.raises(AudioCorruptError, match="decoding failed after"):
        load_audio(path)


# Documented recoveries: nothing in these files says audio is missing, so what they hold is
# decoded.


def test_mp3_without_length_header_cut_decodes_what_it_holds(tmp_path: Path):
    path = write_audio(
        tmp_path / "cbr.mp3",
        tones(FREQS, 3.0, 8000),
        8000,
        "libmp3lame",
        muxer_options={"write_xing": "0"},
    )
    whole = load_audio(path).duration
    truncate(path, 0.5)
    audio = load_audio(path)
    assert audio.duration == pytest.approx(whole / 2, abs=0.1)
    assert _peak_hz(_middle(audio.samples)[1]) == pytest.approx(1000, abs=2)


def test_unfinalised_streaming_wav_decodes_what_it_holds(tmp_path: Path):
    path = write_audio(tmp_path / "live.wav", tones(FREQS, 2.0, 8000), 8000, "pcm_s16le")
    set_wav_data_size(path, 0xFFFFFFFF)
    assert load_audio(path).duration == pytest.approx(2.0, abs=0.001)


def test_overwritten_pcm_decodes_at_full_length(tmp_path: Path):
    path = write_audio(tmp_path / "call.wav", tones(FREQS, 2.0, 8000), 8000, "pcm_s16le")
    overwrite_middle(path, 0.3)
    assert load_audio(path).duration == pytest.approx(2.0, abs=0.001)


def test_nan_in_float_wav_is_corrupt(tmp_path: Path):
    samples = tones(FREQS, 1.0, 16000)
    samples[0, 100] = np.nan
    path = write_audio(tmp_path / "nan.wav", samples, 16000, "pcm_f32le")
    with pytest.raises(AudioCorruptError, match="NaN") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


# ----------------------------------------------------------------------------- limits


def test_longer_than_limit(tmp_path: Path):
    path = write_audio(tmp_path / "pbx.wav", tones(FREQS, 3.0, 8000), 8000, "pcm_mulaw")
    with pytest.raises(AudioTooLongError, match=r"limit is 1\.0 s") as excinfo:
        load_audio(path, LoadOptions(max_duration_s=1.0))
    _assert_names(excinfo, path)


def test_declared_length_refuses_before_decoding(tmp_path: Path):
    """A FLAC declaring 3 h but holding 1.5 s: refused on its declaration, not by decoding."""
    path = write_audio(tmp_path / "long.flac", tones(FREQS, 1.5, 8000), 8000, "flac")
    set_flac_total_samples(path, 8000 * 3 * 3600)
    with pytest.raises(AudioTooLongError, match=r"declares 10800\.0 s") as excinfo:
        load_audio(path, LoadOptions(max_duration_s=3600))
    _assert_names(excinfo, path)
    # under the default 4 h limit the same file is what it is: cut short of its declaration
    with pytest.raises(AudioCorruptError, match="declares"):
        load_audio(path)


def test_undeclared_length_is_refused_while_decoding(tmp_path: Path):
    """A FLAC that does not declare its length (streamed encoder) is stopped at the limit."""
    path = write_audio(tmp_path / "stream.flac", tones(FREQS, 3.0, 8000), 8000, "flac")
    set_flac_total_samples(path, 0)
    assert load_audio(path).duration == pytest.approx(3.0, abs=0.001)
    with pytest.raises(AudioTooLongError, match="decoding stopped") as excinfo:
        load_audio(path, LoadOptions(max_duration_s=1.0))
    _assert_names(excinfo, path)


@pytest.mark.parametrize(("encoder", "ext"), [("aac", "m4a"), ("libmp3lame", "mp3")])
def test_codec_padding_does_not_trip_the_limit(tmp_path: Path, encoder: str, ext: str):
    path = write_audio(tmp_path / f"call.{ext}", tones(FREQS, 1.5, 8000), 8000, encoder)
    assert load_audio(path, LoadOptions(max_duration_s=1.5)).duration >= 1.5 - 0.03


@pytest.mark.parametrize(
    ("encoder", "ext", "channels"), [("flac", "flac", 3), ("pcm_s16le", "wav", 6)]
)
def test_more_than_two_channels(tmp_path: Path, encoder: str, ext: str, channels: int):
    path = write_audio(
        tmp_path / f"multi.{ext}", tones((440.0,) * channels, 0.5, 8000), 8000, encoder
    )
    with pytest.raises(TooManyChannelsError, match=f"{channels} channels") as excinfo:
        load_audio(path)
    _assert_names(excinfo, path)


def test_channel_limit_is_configurable(tmp_path: Path):
    path = write_audio(tmp_path / "stereo.wav", tones(FREQS, 0.5, 8000), 8000, "pcm_s16le")
    with pytest.raises(TooManyChannelsError):
        load_audio(path, LoadOptions(max_channels=1))


@pytest.mark.parametrize("kwargs", [{"max_duration_s": 0}, {"max_channels": 0}])
def test_load_options_reject_nonsense(kwargs: dict):
    with pytest.raises(ValueError):
        LoadOptions(**kwargs)


def test_unreadable_file(tmp_path: Path):
    path = write_audio(tmp_path / "locked.wav", tones(FREQS, 0.5, 8000), 8000, "pcm_s16le")
    path.chmod(0)
    try:
        with open(path, "rb"):
            pytest.skip("running with privileges that ignore file permissions (root)")
    except PermissionError:
        pass
    try:
        with pytest.raises(AudioDecodeError, match="permission denied") as excinfo:
            load_audio(path)
        _assert_names(excinfo, path)
    finally:
        path.chmod(0o644)


def test_every_error_is_an_audio_decode_error():
    for cls in (
        AudioMissingError,
        AudioEmptyError,
        NotAudioError,
        AudioCorruptError,
        AudioZeroLengthError,
        AudioTooLongError,
        TooManyChannelsError,
    ):
        assert issubclass(cls, AudioDecodeError)


# ----------------------------------------------------------------------------- arrays


def test_audio_from_array_resamples_and_copies():
    source = tones(FREQS, 1.0, 8000)
    before = source.copy()
    audio = audio_from_array(source, 8000, name="live")
    assert audio.samples.shape == (2, SAMPLE_RATE)
    assert (audio.info.path, audio.info.sample_rate, audio.info.channels) == ("live", 8000, 2)
    assert _peak_hz(audio.samples[0]) == pytest.approx(440, abs=2)
    assert _peak_hz(audio.samples[1]) == pytest.approx(1000, abs=2)
    np.testing.assert_array_equal(source, before)

    at_16k = tones(FREQS, 1.0, SAMPLE_RATE)
    wrapped = audio_from_array(at_16k)
    at_16k[:] = 0  # the caller's later writes must not reach the Audio
    assert np.abs(wrapped.samples).max() > 0.4


def test_audio_from_array_mono_vector():
    vector = tones((440.0,), 0.5, SAMPLE_RATE)[0]
    audio = audio_from_array(vector)
    assert audio.samples.shape == (1, vector.size)


@pytest.mark.parametrize(
    ("samples", "error"),
    [
        (np.zeros((3, 100), np.float32), TooManyChannelsError),
        (np.zeros((1, 0), np.float32), AudioZeroLengthError),
        (np.zeros((1, 2, 3), np.float32), AudioDecodeError),
    ],
    ids=["three-channels", "empty", "3d"],
)
def test_audio_from_array_rejects(samples: np.ndarray, error: type[Exception]):
    with pytest.raises(error, match="<array>"):
        audio_from_array(samples)


def test_resample_keeps_channels_apart_and_shape():
    x = tones((440.0, None), 1.0, 44100)
    y = resample(x, 44100)
    assert y.dtype == np.float32 and y.shape[0] == 2
    assert abs(y.shape[1] - SAMPLE_RATE) <= 2
    assert _peak_hz(y[0]) == pytest.approx(440, abs=2)
    assert np.abs(y[1]).max() == 0.0  # silence stays silence: nothing mixed in

    one = resample(x[0], 44100, 8000)
    assert one.ndim == 1 and abs(one.size - 8000) <= 2

    same = resample(x, 44100, 44100)
    np.testing.assert_array_equal(same, x)
    assert same is not x

    assert resample(np.zeros((2, 0), np.float32), 8000).shape == (2, 0)
    with pytest.raises(ValueError):
        resample(x, 0)
