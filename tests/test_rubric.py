"""Rubric files: the packaged defaults, and errors that say where a hand-edited file is wrong."""

from __future__ import annotations

import re
import string

import opencc
import pytest

from calmline.monitor.detectors import known_practices
from calmline.monitor.errors import CalmlineError
from calmline.monitor.rubric import (
    COACHING_PLACEHOLDERS,
    RubricError,
    default_rubric,
    load_rubric,
    parse_rubric,
)

PRACTICES = {
    "clear_speech",
    "let_finish",
    "gentle_control",
    "acknowledge",
    "no_apology_demand",
    "solve_problem",
    "greeting",
    "courtesy",
    "apologize_for_inconvenience",
    "paraphrase",
    "empathy",
    "no_arguing",
    "no_blame_shift",
    "no_excuses",
    "no_overpromise",
    "options",
    "closing",
}
CORE = {
    "clear_speech",
    "let_finish",
    "gentle_control",
    "acknowledge",
    "no_apology_demand",
    "solve_problem",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the packaged defaults ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_default_rubric_covers_every_practice(language):
    rubric = default_rubric(language)
    assert (rubric.rubric, rubric.version, rubric.language) == (
        "calmline-default",
        "1.1.0",
        language,
    )
    assert set(rubric.practices) == PRACTICES
    assert set(known_practices()) >= PRACTICES
    assert [pid for pid, p in rubric.practices.items() if p.critical] == ["no_apology_demand"]
    lightest_core = min(rubric.practices[p].weight for p in CORE)
    assert all(p.weight < lightest_core for pid, p in rubric.practices.items() if pid not in CORE)
    for pid, practice in rubric.practices.items():
        assert practice.enabled and practice.weight > 0, pid
        assert "default" in practice.coaching, pid
    assert rubric.stress.anger_list() and rubric.stress.complaint_list()
    assert rubric.matching.fillers


@pytest.mark.parametrize("language", ["zh", "en"])
def test_default_coaching_is_in_the_rubric_language(language):
    rubric = default_rubric(language)
    for pid, practice in rubric.practices.items():
        for kind, template in practice.coaching.items():
            assert bool(CJK.search(template)) is (language == "zh"), (pid, kind)
            names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert names <= set(COACHING_PLACEHOLDERS)


def test_default_mandarin_lexicons_are_simplified():
    to_simplified = opencc.OpenCC("t2s")
    rubric = default_rubric("zh")
    phrases = [*rubric.stress.anger_list(), *rubric.stress.complaint_list()]
    for practice in rubric.practices.values():
        for lexicon in practice.phrases:
            phrases += practice.phrase_list(lexicon)
    forms = [f for p in phrases for f in p.forms]
    assert len(forms) > 500
    assert [f for f in forms if to_simplified.convert(f) != f] == []


def test_default_thresholds_of_the_timing_practices():
    zh, en = default_rubric("zh"), default_rubric("en")
    assert zh.practices["let_finish"].thresholds["turn_transition_tolerance_s"] == 0.3
    # articulation rate excludes pauses: its band sits above the speaking-rate band
    assert zh.practices["clear_speech"].thresholds["articulation_max"] == 6.8
    assert en.practices["clear_speech"].thresholds["articulation_max"] == 7.5  # syllables/s
    assert en.practices["gentle_control"].thresholds["long_turn_s"] == 8.0
    assert {"backchannel", "retort"} <= set(en.practices["let_finish"].phrases)


def test_default_rubric_language_tags_and_unknown_language():
    assert default_rubric("zh-CN").language == "zh"
    with pytest.raises(RubricError, match="no default rubric for language 'fr'; available: zh, en"):
        default_rubric("fr")


# --- errors with file, line and key path ----------------------------------------------------

GOOD = """\
rubric: house
version: "2.1"
language: en
practices:
  acknowledge:
    name: Acknowledge
    weight: 2
    thresholds: {min_rate_per_min: 1.0}
    phrases:
      good: [I understand, {text: I see, variants: [oh I see]}]
    coaching:
      default: "At {time} say I understand."
"""


def write(tmp_path, text: str):
    path = tmp_path / "house.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path, text: str) -> RubricError:
    path = write(tmp_path, text)
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    assert isinstance(info.value, CalmlineError)
    assert str(path) in str(info.value)
    return info.value


def test_a_small_rubric_loads(tmp_path):
    rubric = load_rubric(write(tmp_path, GOOD))
    practice = rubric.practice("acknowledge")
    assert [p.forms for p in practice.phrase_list("good")] == [
        ("I understand",),
        ("I see", "oh I see"),
    ]
    assert practice.coaching_for("repeated_ack") == "At {time} say I understand."
    with pytest.raises(KeyError, match="it has: acknowledge"):
        rubric.practice("greeting")


def test_yaml_syntax_error_names_the_line(tmp_path):
    err = error_of(tmp_path, GOOD.replace("good: [I understand,", "good: [I understand"))
    (problem,) = err.problems
    assert (problem.line, problem.column) == (10, 27)
    assert "YAML syntax error" in problem.message and "expected ',' or ']'" in problem.message
    assert re.search(r"house\.yaml:10:27: YAML syntax error", str(err))
    bad = GOOD.replace("    weight: 2\n", "    weight: 2\n   thresholds: x\n")  # bad indent
    err = error_of(tmp_path, bad)
    assert err.problems[0].line == 8 and "YAML syntax error" in str(err)


def test_unknown_key_names_line_and_key_path(tmp_path):
    err = error_of(tmp_path, GOOD.replace("    weight: 2", "    wieght: 2"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (7, "practices.acknowledge.wieght")
    assert "unknown key" in problem.message
    assert re.search(r"house\.yaml:7: practices\.acknowledge\.wieght: unknown key", str(err))


def test_wrong_type_names_line_and_value(tmp_path):
    err = error_of(tmp_path, GOOD.replace("weight: 2", "weight: heavy"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (7, "practices.acknowledge.weight")
    assert "valid number" in problem.message and "'heavy'" in problem.message
    err = error_of(tmp_path, GOOD.replace("good: [I understand,", "good: [42,"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (10, "practices.acknowledge.phrases.good[0]")
    assert "valid string" in problem.message
    err = error_of(tmp_path, GOOD.replace('version: "2.1"', "version: 2.1"))
    assert err.problems[0].line == 2 and err.problems[0].key_path == "version"


def test_yes_no_booleans_get_a_hint(tmp_path):
    err = error_of(tmp_path, GOOD.replace("good: [I understand,", "good: [yes,"))
    assert "quote it" in err.problems[0].message


def test_missing_key_points_at_the_mapping(tmp_path):
    err = error_of(tmp_path, GOOD.replace("    name: Acknowledge\n", ""))
    (problem,) = err.problems
    assert problem.key_path == "practices.acknowledge.name" and problem.line == 5
    assert "required" in problem.message.lower()


def test_unknown_practice_id_lists_the_known_ones(tmp_path):
    err = error_of(tmp_path, GOOD.replace("  acknowledge:", "  acknowledgment:"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (5, "practices.acknowledgment")
    assert "unknown practice id 'acknowledgment'" in problem.message
    assert "did you mean 'acknowledge'" in problem.message
    assert all(pid in problem.message for pid in PRACTICES)
    # Lexicon-only use may skip the detector check.
    path = write(tmp_path, GOOD.replace("  acknowledge:", "  acknowledgment:"))
    assert "acknowledgment" in load_rubric(path, check_detectors=False).practices


def test_negative_weight(tmp_path):
    err = error_of(tmp_path, GOOD.replace("weight: 2", "weight: -1"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (7, "practices.acknowledge.weight")
    assert "greater than or equal to 0" in problem.message


def test_all_weights_zero(tmp_path):
    err = error_of(tmp_path, GOOD.replace("weight: 2", "weight: 0"))
    (problem,) = err.problems
    assert problem.key_path == "practices" and problem.line == 4
    assert "all enabled practices are zero" in problem.message


def test_bad_coaching_placeholder(tmp_path):
    err = error_of(tmp_path, GOOD.replace("At {time} say", "At {time} tell {customer}"))
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (12, "practices.acknowledge.coaching.default")
    assert "unknown placeholder {customer}" in problem.message
    assert "{time}, {quote}, {value}, {threshold}" in problem.message
    err = error_of(tmp_path, GOOD.replace("At {time} say", "At {time say"))
    assert "malformed template" in err.problems[0].message


def test_threshold_pairs_must_be_ordered(tmp_path):
    bad = GOOD.replace(
        "thresholds: {min_rate_per_min: 1.0}",
        "thresholds: {articulation_min: 6, articulation_max: 3}",
    )
    err = error_of(tmp_path, bad)
    (problem,) = err.problems
    assert (problem.line, problem.key_path) == (8, "practices.acknowledge.thresholds")
    assert "articulation_min (6) must not exceed articulation_max (3)" in problem.message


def test_duplicate_keys_are_refused(tmp_path):
    err = error_of(tmp_path, GOOD.replace("    weight: 2\n", "    weight: 2\n    weight: 3\n"))
    (problem,) = err.problems
    assert problem.line == 8 and "duplicate key 'weight' (first at line 7)" in problem.message


def test_several_problems_are_reported_together(tmp_path):
    bad = GOOD.replace("weight: 2", "weight: -2").replace("language: en", "language: fr")
    err = error_of(tmp_path, bad)
    assert {p.key_path for p in err.problems} == {"language", "practices.acknowledge.weight"}
    assert len(str(err).splitlines()) == 2


def test_not_a_mapping_and_missing_file(tmp_path):
    err = error_of(tmp_path, "- just\n- a list\n")
    assert "must be a mapping" in str(err)
    err = error_of(tmp_path, "")
    assert "got empty" in str(err)
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric(tmp_path / "missing.yaml")


def test_parse_rubric_names_its_source():
    with pytest.raises(RubricError, match=r"^inline:1:"):
        parse_rubric("rubric: [", source="inline")


def test_control_characters_are_a_rubric_error_not_a_crash():
    with pytest.raises(RubricError, match="special characters"):
        parse_rubric("\x8f: 1\n", source="pasted.yaml")
