"""The scoring rubric: a versioned, human-editable YAML file per language.

A rubric names the practices scored, their weights and thresholds, the phrase lexicons the
detectors look for (with variants), which findings are critical, and the coaching sentences.

QA leads edit these files by hand, so a bad file must fail with a message that says where: every
problem is reported as ``FILE:LINE: key.path: what is wrong``. Line numbers come from the YAML
nodes PyYAML composes, so a pydantic error location such as
``('practices', 'acknowledge', 'weight')`` points at the line holding that key.

Shape of a rubric file::

    rubric: calmline-default
    version: "1.0.0"
    language: zh            # zh or en; Mandarin lexicons are written in Simplified characters
    critical_cap: 40        # highest overall score of a call with a critical finding
    coaching_below: 80      # practices scoring below this get a coaching sentence
    matching: {fuzzy_threshold: 88, fuzzy_min_length: 4, fillers: [嗯, 啊]}
    stress: {anger_words: [...], complaint_words: [...], ...}
    practices:
      acknowledge:
        name: 让客户知道你的重视
        weight: 3
        critical: false
        thresholds: {min_rate_per_min: 1.0}
        phrases:
          good: [我理解, {text: 我明白, variants: [我明白了]}]
        coaching:
          default: 多用“我理解”“我明白”回应客户。
          repeated_ack: "{time} 您连续说了“{quote}”……"

Coaching templates are keyed by ``default`` or by a finding kind; they may only use the
placeholders ``{time}``, ``{quote}``, ``{value}`` and ``{threshold}``.

A practice may say when it applies (``applies: [two_speakers, customer_problem]``; without the
key, the practice's default in ``calmline.monitor.applicability``), and an optional ``review``
section holds the thresholds that mark a call as needing review (``min_role_confidence``,
``min_turns``, ``min_speech_s``).
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from calmline.monitor.errors import CalmlineError

COACHING_PLACEHOLDERS = ("time", "quote", "value", "threshold", "missing", "say")
"""The only fields a coaching template may use; scoring fills the first four from one finding,
``missing`` (the elements not found, e.g. a greeting's name) and ``say`` (words suggested for
them, never words the agent already said) from the practice's detector."""

DEFAULT_RUBRIC_LANGUAGES = ("zh", "en")


def _check_template(template: str) -> str:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise ValueError(f"malformed template ({e}); write a literal brace as {{{{ or }}}}") from e
    allowed = ", ".join("{" + p + "}" for p in COACHING_PLACEHOLDERS)
    for name in fields:
        if name not in COACHING_PLACEHOLDERS:
            shown = "{" + name + "}" if name else "{}"
            raise ValueError(f"unknown placeholder {shown}; allowed: {allowed}")
    return template


CoachingTemplate = Annotated[str, AfterValidator(_check_template)]


class PhraseEntry(BaseModel):
    """A phrase with spelling / ASR variants that count as the same phrase.

    ``…`` (or ``...``) inside a phrase is a gap: ``您看…还是…`` matches 您看 followed, in the same
    sentence, by 还是.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    variants: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """The canonical text followed by its variants."""
        return (self.text, *self.variants)


def _threshold_pairs(thresholds: Mapping[str, float]) -> Iterable[tuple[str, str]]:
    """``(low, high)`` key pairs: ``x_min``/``x_max`` and ``min_x``/``max_x``."""
    for key in thresholds:
        if key.endswith("_min") and key[:-4] + "_max" in thresholds:
            yield key, key[:-4] + "_max"
        if key.startswith("min_") and "max_" + key[4:] in thresholds:
            yield key, "max_" + key[4:]


Condition = Literal["two_speakers", "customer_problem", "long_customer_turn", "customer_stayed"]
"""When a practice applies to a call (:mod:`calmline.monitor.applicability`):

* ``two_speakers``: two voices, an agent's and a customer's, both with words;
* ``customer_problem``: the customer raised a problem or complained (complaint or anger words,
  or agitation at the stress section's ``agitated_level``), or the agent recognised the
  customer's feeling (an ``empathy`` phrase);
* ``long_customer_turn``: the customer spoke for the practice's ``long_turn_s`` or more and the
  agent then took the floor;
* ``customer_stayed``: the call does not end on the customer leaving a chat (the practice's
  ``customer_left`` phrases in the last turn, the customer's: 离开人工会话), nor on the chat
  system's timeout message for the customer's silence (a ``system_end`` phrase in the last turn)
  with no ``thanks``, ``invite``, ``farewell`` or ``hang_up`` phrase in the agent's turns since
  the customer's last words, nor on the customer's words: the last turn that carries content is
  the customer's and takes no leave (no ``thanks``, ``farewell`` or ``declined`` phrase of the
  practice in it or after it) after an agent turn that said no goodbye (``farewell``,
  ``hang_up``), nor in a hold: the last turn that carries content is the agent's and holds a
  ``hold`` phrase and no ``hold_not`` phrase, and no customer turn after it says goodbye or
  declines (a ``farewell`` or ``declined`` phrase: 我挂了), nor on a reply that moves the matter
  to private messages: the last turn that carries content is the agent's, holds a
  ``private_message`` phrase and no ``farewell`` phrase or ``invite`` phrase (one that leads
  straight into an ``invite_request`` does not count).
"""


class PracticeRubric(BaseModel):
    """One practice: how it is detected and scored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Display name in the rubric's language.")
    description: str = ""
    weight: float = Field(1.0, ge=0)
    enabled: bool = True
    critical: bool = False
    """A critical finding of this practice caps the call's overall score."""
    thresholds: dict[str, float] = Field(default_factory=dict)
    phrases: dict[str, tuple[str | PhraseEntry, ...]] = Field(default_factory=dict)
    """Named lexicons, e.g. ``good``, ``bad``, ``demand``, ``negation``."""
    coaching: dict[str, CoachingTemplate] = Field(default_factory=dict)
    """``default`` plus optional per finding kind; ``{time}``, ``{quote}``, ``{value}``,
    ``{threshold}`` are filled from the finding the sentence is about."""
    applies: tuple[Condition, ...] | None = None
    """The conditions under which the practice is scored; on a call that fails one it is not
    applicable (no score, the reason shown). ``None``: the practice's default
    (:data:`calmline.monitor.applicability.DEFAULT_APPLIES`); ``[]``: always."""

    @field_validator("thresholds")
    @classmethod
    def _ordered_pairs(cls, thresholds: dict[str, float]) -> dict[str, float]:
        for low, high in _threshold_pairs(thresholds):
            if thresholds[low] > thresholds[high]:
                raise ValueError(
                    f"{low} ({thresholds[low]:g}) must not exceed {high} ({thresholds[high]:g})"
                )
        return thresholds

    def threshold(self, key: str, default: float) -> float:
        return float(self.thresholds.get(key, default))

    def phrase_list(self, key: str) -> tuple[PhraseEntry, ...]:
        """The lexicon ``key`` as entries (plain strings become entries without variants)."""
        return tuple(
            p if isinstance(p, PhraseEntry) else PhraseEntry(text=p)
            for p in self.phrases.get(key, ())
        )

    def phrase_forms(self, key: str) -> tuple[str, ...]:
        """Every form of the lexicon ``key``'s phrases: each text followed by its variants."""
        return tuple(form for entry in self.phrase_list(key) for form in entry.forms)

    def coaching_for(self, kind: str | None) -> str | None:
        """The template for a finding kind, else the ``default`` one, else ``None``."""
        if kind is not None and kind in self.coaching:
            return self.coaching[kind]
        return self.coaching.get("default")


class MatchingRubric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fuzzy_threshold: float = Field(88.0, ge=50, le=100)
    """rapidfuzz score (0-100) at or above which a near-miss counts as the phrase."""
    min_word_prob: float = Field(0.5, ge=0, le=1)
    """Mean recogniser probability the words of a phrase must reach to be evidence against
    someone: a customer's complaint or anger word (which makes the problem practices apply) or
    an agent's fault phrase (which costs points). Below it a word is as likely misheard as said
    (Whisper heard "you as well, bye" as "What's wrong?" at 0.33-0.35): a complaint word does
    not count, and a fault is reported for the QA lead to hear, not charged. Text transcripts
    carry no probability and always count."""
    fuzzy_min_length: int = Field(4, ge=1)
    """Phrases shorter than this (characters) match exactly only."""
    fuzzy_min_words: int = Field(2, ge=1)
    """English phrases of fewer words match exactly only (one-word near misses are mostly other
    forms of the word: guarantees, guaranteed)."""
    fillers: tuple[str, ...] = ()
    """Filler words ignored when matching (嗯, 啊, um, uh …)."""
    negation_window_chars: int = Field(6, ge=0)
    """Mandarin: most characters between a negation cue and the phrase it negates."""
    negation_window_words: int = Field(4, ge=0)
    """English: most words between a negation cue and the phrase it negates."""
    gap_max_chars: int = Field(30, ge=1)
    """Mandarin: widest gap a ``…`` in a phrase may stand for (characters)."""
    gap_max_words: int = Field(15, ge=1)
    """English: widest gap a ``…`` in a phrase may stand for (words)."""
    phonetic: bool = True
    """Mandarin: match homophones of a phrase (接近所能 for 竭尽所能) through pinyin."""
    phonetic_min_length: int = Field(2, ge=2)
    """Mandarin: shortest phrase (characters) matched through homophones."""
    phonetic_near_min_length: int = Field(4, ge=2)
    """Mandarin: shortest phrase (characters) that also admits near homophones (z/zh, n/l,
    in/ing …)."""


class StressRubric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    loudness_db_full: float = Field(6.0, gt=0)
    """Loudness above the customer's baseline that counts as fully agitated (dB)."""
    pitch_st_full: float = Field(4.0, gt=0)
    """Pitch above baseline that counts as fully agitated (semitones)."""
    rate_ratio_full: float = Field(1.3, gt=1)
    """Articulation rate ratio over baseline that counts as fully agitated."""
    weights: dict[str, float] = Field(
        default_factory=lambda: {"loudness": 0.35, "pitch": 0.25, "rate": 0.15, "words": 0.25}
    )
    anger_words: tuple[str | PhraseEntry, ...] = ()
    complaint_words: tuple[str | PhraseEntry, ...] = ()
    """Customer words that say something went wrong (not necessarily angrily): the context in
    which an apology, empathy or a paraphrase is expected from the agent."""
    complaint_negations: tuple[str | PhraseEntry, ...] = ()
    """Phrases that say there is no problem ("no problem", "not an issue", 没有不满意): a
    complaint or anger word inside one raises none. Phrases, not bare cues: "no refund" and
    "no money back" are complaints."""
    question_complaints: tuple[str | PhraseEntry, ...] = ()
    """Complaint words that ask (为什么): none in a turn that ends by asking the agent to
    confirm what the customer said (``confirming_tails``): 为什么都是先走的那个…在省内的时候先走省内
    流量，是不是 asks how a package works; 为什么没有给我返呢 complains."""
    confirming_tails: tuple[str | PhraseEntry, ...] = ()
    """How a question that asks to confirm ends (是不是, 对吧, 是吗), at the very end of the turn
    (trailing punctuation and 啊, 呀, 呢 aside)."""
    agitated_level: float = Field(0.5, ge=0, le=1)
    """Agitation at or above which the customer counts as agitated (context for detectors)."""
    change_threshold: float = Field(0.1, ge=0, le=1)
    """Start-to-end change beyond which a call is de-escalated or escalated."""

    def anger_list(self) -> tuple[PhraseEntry, ...]:
        return _entries(self.anger_words)

    def complaint_list(self) -> tuple[PhraseEntry, ...]:
        return _entries(self.complaint_words)

    def complaint_negation_list(self) -> tuple[PhraseEntry, ...]:
        return _entries(self.complaint_negations)

    def question_complaint_list(self) -> tuple[PhraseEntry, ...]:
        return _entries(self.question_complaints)

    def confirming_tail_list(self) -> tuple[PhraseEntry, ...]:
        return _entries(self.confirming_tails)


def _entries(items: Iterable[str | PhraseEntry]) -> tuple[PhraseEntry, ...]:
    return tuple(p if isinstance(p, PhraseEntry) else PhraseEntry(text=p) for p in items)


class ReviewRubric(BaseModel):
    """When a call's roles or kind are too uncertain to coach the agent on it: the call is
    scored for the QA lead and marked *needs review*, with no coaching."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_role_confidence: float = Field(0.5, ge=0, le=1)
    """Lowest role confidence (mono calls, roles from cues) that is not reviewed. With the
    default cue weights the confidence moves in steps of 0.25: 0.25 is speaking first and
    nothing else (or one opening phrase against the other speaker speaking first), a guess;
    0.75 is an opening phrase and speaking first, 1.0 two phrases or more. 0.5 keeps every
    assignment backed by an opening phrase and reviews the guesses."""
    min_turns: int = Field(4, ge=0)
    """Fewest turns with words: the shortest service exchange is a greeting, a request, an
    answer and a reply. The six Harper Valley bank calls (routine tasks) have 11 to 27."""
    min_speech_s: float = Field(10.0, ge=0)
    """Least speech (agent + customer talk time, s). The six Harper Valley calls hold 20 to
    46 s of speech (7 s and more per side); a clip under 10 s is a fragment, not a call."""


class Rubric(BaseModel):
    """A whole rubric file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: str = Field(min_length=1, description="Rubric name.")
    version: str = Field(min_length=1)
    language: Literal["zh", "en"]
    critical_cap: float = Field(40.0, ge=0, le=100)
    """Highest overall score a call with a critical finding can get."""
    coaching_below: float = Field(80.0, ge=0, le=100)
    """Practices scoring below this get a coaching sentence."""
    matching: MatchingRubric = MatchingRubric()
    stress: StressRubric = StressRubric()
    review: ReviewRubric = ReviewRubric()
    practices: dict[str, PracticeRubric]

    @field_validator("practices")
    @classmethod
    def _some_weight(cls, practices: dict[str, PracticeRubric]) -> dict[str, PracticeRubric]:
        if not practices:
            raise ValueError("no practices: a rubric must score at least one practice")
        if all(p.weight == 0 for p in practices.values() if p.enabled):
            raise ValueError(
                "the weights of all enabled practices are zero; at least one must be positive"
            )
        return practices

    def practice(self, practice_id: str) -> PracticeRubric:
        """The practice ``practice_id``; ``KeyError`` naming the known ids when absent."""
        try:
            return self.practices[practice_id]
        except KeyError:
            raise KeyError(
                f"practice {practice_id!r} is not in rubric {self.rubric} {self.version}; "
                f"it has: {', '.join(self.practices)}"
            ) from None

    def enabled_practices(self) -> dict[str, PracticeRubric]:
        return {pid: p for pid, p in self.practices.items() if p.enabled}


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RubricProblem:
    """One thing wrong with a rubric file."""

    message: str
    key_path: str = ""
    """Dotted path of the key, e.g. ``practices.acknowledge.phrases.good[2]``."""
    line: int | None = None
    """1-based line in the file, when known."""
    column: int | None = None

    def format(self, source: str) -> str:
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.key_path:
            return f"{where}: {self.key_path}: {self.message}"
        return f"{where}: {self.message}"


class RubricError(CalmlineError):
    """A rubric file cannot be used. ``problems`` lists every problem found, with lines."""

    def __init__(self, source: str, problems: Sequence[RubricProblem]) -> None:
        self.source = str(source)
        self.problems = tuple(problems)
        super().__init__("\n".join(p.format(self.source) for p in self.problems))


def load_rubric(path: str | Path, *, check_detectors: bool = True) -> Rubric:
    """Read and validate a rubric file.

    Args:
        path: the YAML file.
        check_detectors: require a registered detector for every practice id (turn off only for
            rubrics used outside scoring, e.g. a lexicon-only tool).

    Raises:
        RubricError: unreadable file, YAML syntax error, or a rubric that does not validate; the
            message names the file, the line and the key path of each problem.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RubricError(source, [RubricProblem(f"cannot read the file: {e}")]) from e
    return parse_rubric(text, source=source, check_detectors=check_detectors)


def default_rubric(language: str) -> Rubric:
    """The packaged ``calmline-default`` rubric for ``zh`` or ``en`` (``zh-CN`` … accepted)."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    if primary in ("cmn", "zho", "chi"):
        primary = "zh"
    if primary not in DEFAULT_RUBRIC_LANGUAGES:
        raise RubricError(
            f"default_{language}.yaml",
            [
                RubricProblem(
                    f"no default rubric for language {language!r}; "
                    f"available: {', '.join(DEFAULT_RUBRIC_LANGUAGES)}"
                )
            ],
        )
    resource = resources.files("calmline.monitor").joinpath("rubrics", f"default_{primary}.yaml")
    return parse_rubric(resource.read_text(encoding="utf-8"), source=str(resource))


def parse_rubric(text: str, *, source: str = "<rubric>", check_detectors: bool = True) -> Rubric:
    """Validate rubric YAML ``text``; ``source`` names it in error messages."""
    root, data = _compose(text, source)
    problems = _duplicate_keys(root)
    if problems:
        raise RubricError(source, problems)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise RubricError(
            source,
            [
                RubricProblem(
                    f"a rubric must be a mapping of keys (rubric, version, …); got {kind}",
                    line=_line(root),
                )
            ],
        )
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as e:
        raise RubricError(source, _problems_from_validation(e, root)) from None
    if check_detectors:
        problems = _unknown_practices(rubric, root)
        if problems:
            raise RubricError(source, problems)
    return rubric


MAX_RUBRIC_CHARS = 262_144
"""Longest rubric text read (characters); the packaged rubrics are about 33 000."""
MAX_YAML_DEPTH = 32
"""Deepest nesting of mappings and lists in a rubric (the packaged rubrics nest 5 deep)."""
MAX_YAML_ALIASES = 100
"""Most ``*alias`` references in a rubric."""
MAX_YAML_NODES = 50_000
"""Most YAML values (keys, scalars, lists, mappings) in a rubric, also once its aliases are
expanded (the packaged rubrics have about 2 000): bounds what one alias-heavy file ("billion
laughs") can make the validator walk."""


class _LimitExceeded(yaml.MarkedYAMLError):
    """A rubric's YAML passes one of the limits above (raised while it is composed)."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounded nesting and alias count, and no recursive aliases.

    PyYAML composes ``a: &a [*a]`` into a node that contains itself and expands nested aliases
    without limit; a rubric needs neither.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._open_anchors: dict[str, bool] = {}
        """Anchor -> whether its latest definition is still being composed."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        self._values += 1
        if self._values > MAX_YAML_NODES:
            raise _LimitExceeded(None, None, f"more than {MAX_YAML_NODES} values", event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _LimitExceeded(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases", event.start_mark
                )
            if self._open_anchors.get(event.anchor):
                raise _LimitExceeded(None, None, _recursive(event.anchor), event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise _LimitExceeded(
                None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors[anchor] = True
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors[anchor] = False


def _check_expansion(root: yaml.Node | None) -> None:
    """Refuse a document that, once its aliases are expanded, has more than
    :data:`MAX_YAML_NODES` values or nests deeper than :data:`MAX_YAML_DEPTH` (aliases inside
    aliases multiply both). Walks each distinct node once, without recursion."""
    if root is None:
        return
    measured: dict[int, tuple[int, int]] = {}  # node -> (values, depth) when expanded
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in measured:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if not children_done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in measured)
            continue
        size = 1 + sum(measured[id(c)][0] for c in children)
        depth = 1 + max((measured[id(c)][1] for c in children), default=0)
        if size > MAX_YAML_NODES:
            raise _LimitExceeded(
                None,
                None,
                f"more than {MAX_YAML_NODES} values once its aliases are expanded",
                node.start_mark,
            )
        if depth > MAX_YAML_DEPTH:
            raise _LimitExceeded(
                None,
                None,
                f"nested more than {MAX_YAML_DEPTH} levels deep once its aliases are expanded",
                node.start_mark,
            )
        measured[id(node)] = (size, depth)


def _compose(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    if len(text) > MAX_RUBRIC_CHARS:
        raise RubricError(
            source,
            [
                RubricProblem(
                    f"the rubric is {len(text)} characters long, more than the "
                    f"{MAX_RUBRIC_CHARS} accepted"
                )
            ],
        )
    try:
        root, data = _load(text)
    except _LimitExceeded as e:
        raise RubricError(source, [_at(f"YAML refused: {e.problem}", e.problem_mark)]) from None
    except yaml.MarkedYAMLError as e:
        what = " ".join(str(x) for x in (e.context, e.problem) if x)
        mark = e.problem_mark or e.context_mark
        raise RubricError(source, [_at(f"YAML syntax error: {what}", mark)]) from None
    except yaml.YAMLError as e:  # e.g. a control character the YAML reader refuses
        raise RubricError(source, [RubricProblem(f"YAML error: {e}")]) from None
    return root, data


def _at(message: str, mark: yaml.Mark | None) -> RubricProblem:
    """A problem at a YAML mark (1-based line and column), or without a place."""
    return RubricProblem(
        message,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def _load(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose and construct ``text`` within the limits above.

    With libyaml, its event stream is checked against the limits first and it composes the
    document (tens of milliseconds for the largest rubric accepted). A document it cannot read
    is read again by the pure-Python loader, whose error messages rubric errors have always
    quoted; that loader holds the same limits while it composes.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            _check_events(yaml.parse(text, Loader=fast))
            return _compose_with(fast(text))
        except _LimitExceeded:
            raise
        except yaml.MarkedYAMLError as e:
            if "maximum nesting depth" in str(e.problem):  # libyaml's own limit, hit first
                too_deep = f"nested more than {MAX_YAML_DEPTH} levels deep"
                raise _LimitExceeded(None, None, too_deep, e.problem_mark) from None
        except yaml.YAMLError:
            pass
    return _compose_with(_BoundedLoader(text))


def _compose_with(loader: Any) -> tuple[yaml.Node | None, Any]:
    try:
        root = loader.get_single_node()
        _check_expansion(root)
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def _check_events(events: Iterable[yaml.Event]) -> None:
    """The limits of :class:`_BoundedLoader` on a parser's event stream (nothing composed)."""
    depth = aliases = values = 0
    open_anchors: dict[str, bool] = {}
    anchors: list[str | None] = []  # of the collections being read
    for event in events:
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor = anchors.pop()
            if anchor is not None:
                open_anchors[anchor] = False
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        values += 1
        if values > MAX_YAML_NODES:
            raise _LimitExceeded(None, None, f"more than {MAX_YAML_NODES} values", event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise _LimitExceeded(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases", event.start_mark
                )
            if open_anchors.get(event.anchor):
                raise _LimitExceeded(None, None, _recursive(event.anchor), event.start_mark)
            continue
        if depth + 1 > MAX_YAML_DEPTH:
            raise _LimitExceeded(
                None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark
            )
        is_collection = isinstance(event, yaml.CollectionStartEvent)
        if event.anchor is not None:
            open_anchors[event.anchor] = is_collection
        if is_collection:
            depth += 1
            anchors.append(event.anchor)


def _recursive(anchor: str) -> str:
    return f"alias *{anchor} refers to a value that contains it (a recursive structure)"


def _line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None, path: str = "") -> list[RubricProblem]:
    """PyYAML keeps the last of two equal keys silently; an edited rubric must not."""
    problems: list[RubricProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            sub = f"{path}.{name}" if path else name
            if name in seen:
                problems.append(
                    RubricProblem(
                        f"duplicate key {name!r} (first at line {_line(seen[name])})",
                        key_path=sub,
                        line=_line(key),
                    )
                )
            seen[name] = key
            problems += _duplicate_keys(value, sub)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{path}[{i}]")
    return problems


_UNION_TAG = re.compile(r"^(str|int|float|bool|PhraseEntry|[a-z-]+\[.*\])$")


def _locate(root: yaml.Node | None, loc: Sequence[str | int]) -> tuple[str, int | None, str]:
    """Key path, line and the YAML node kind for a pydantic error location.

    Pydantic puts the member of a union into the location (``…, 0, 'str'``); those parts are
    not keys of the file and are skipped.
    """
    node, line, parts = root, _line(root), []
    for item in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(item, str):
            pair = next(((k, v) for k, v in node.value if str(k.value) == item), None)
            if pair is None:
                if _UNION_TAG.match(item):
                    continue
                parts.append(item)  # a missing key: point at the mapping that lacks it
                break
            parts.append(item)
            line, node = _line(pair[0]), pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int):
            if item >= len(node.value):
                break
            parts.append(f"[{item}]")
            node = node.value[item]
            line = _line(node)
        elif isinstance(item, str) and _UNION_TAG.match(item):
            continue
        else:
            parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    path = "".join(p if p.startswith("[") else f".{p}" for p in parts).lstrip(".")
    kind = type(node).__name__ if node is not None else ""
    return path, line, kind


def _problems_from_validation(
    error: ValidationError, root: yaml.Node | None
) -> list[RubricProblem]:
    grouped: dict[str, list[tuple[dict[str, Any], int | None, str]]] = {}
    for err in error.errors(include_url=False):
        path, line, kind = _locate(root, err["loc"])
        grouped.setdefault(path, []).append((err, line, kind))
    problems = []
    for path, errs in grouped.items():
        kind = errs[0][2]
        # Of the two branches of ``str | PhraseEntry`` keep the one the YAML node looks like.
        keep = [
            e
            for e in errs
            if not (kind == "MappingNode" and "str" in e[0]["loc"])
            and not (kind == "ScalarNode" and "PhraseEntry" in e[0]["loc"])
        ] or errs
        for err, line, _ in keep:
            problems.append(RubricProblem(_message(err), key_path=path, line=line))
    return problems


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling and indentation)"
    value = err.get("input")
    if isinstance(value, bool) and err["type"] == "string_type":
        return f"{msg} (got {value}: YAML reads yes/no/on/off/true/false as booleans; quote it)"
    if err["type"].endswith("_type") or err["type"].endswith("_parsing"):
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{msg} (got {shown})"
    return msg


def _unknown_practices(rubric: Rubric, root: yaml.Node | None) -> list[RubricProblem]:
    # Imported here: the detector package imports this module.
    from calmline.monitor.detectors import known_practices

    known = known_practices()
    problems = []
    for pid in rubric.practices:
        if pid in known:
            continue
        close = difflib.get_close_matches(pid, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        path, line, _ = _locate(root, ("practices", pid))
        problems.append(
            RubricProblem(
                f"unknown practice id {pid!r}{hint}; known practices: {', '.join(known)}",
                key_path=path,
                line=line,
            )
        )
    return problems
