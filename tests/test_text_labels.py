"""The hand-labelled phrase-detector set (``bench/labels``) and ``bench/text_eval.py --labels``:
the label files are well formed, split by dialogue and hold references (no utterance text), the
references resolve to the data sets' lines with their fingerprints, the scoring counts right,
and the mode runs Calmline's detectors over labelled lines."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import load_bench, shared_data

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LABELS = REPO / "bench" / "labels"
REFERENCE_FIELDS = {
    "id",
    "language",
    "source",
    "dialogue",
    "line",
    "split",
    "position",
    "fingerprint",
    "stratum",
    "labels",
    "note",
}


text_eval = load_bench("text_eval")


@functools.cache
def _sample():
    """``bench/labels/sample.py`` (it imports ``text_eval`` from ``bench/``), loaded once: the
    draws share the dialogues it reads."""
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("calmline_bench_sample", LABELS / "sample.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _committed() -> list[dict]:
    return [
        json.loads(line)
        for language in ("zh", "en")
        for line in (LABELS / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _record(rid: str, text: str, labels: list[str], *, split="dev", context="", line=1) -> dict:
    return {
        "id": rid,
        "language": "zh",
        "source": "unit",
        "dialogue": rid,
        "line": line,
        "split": split,
        "stratum": "random_unit",
        "position": "1/1",
        "context": context,
        "text": text,
        "next": "",
        "labels": labels,
    }


def test_label_files_are_large_enough_valid_and_split_by_dialogue():
    zh = text_eval.load_labels(languages=("zh",))
    en = text_eval.load_labels(languages=("en",))
    assert len(zh) >= 660 and len(en) >= 510
    records = zh + en
    assert len({r["id"] for r in records}) == len(records)
    assert len({(r["source"], r["dialogue"], r["line"]) for r in records}) == len(records)
    split_of: dict[tuple[str, str], set] = {}
    for r in records:
        family = r["source"].split("/")[0]
        family = "stc3" if family.startswith("stc3") else family
        split_of.setdefault((family, r["dialogue"].split(":")[0]), set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values()), "a dialogue in both dev and test"
    assert {r["split"] for r in records} == {"dev", "test"}


def test_load_labels_names_the_file_and_line_of_a_bad_record(tmp_path):
    good = _record("zh0001", "非常抱歉", ["apologize_for_inconvenience"])
    bad = _record("zh0002", "您好", ["greeting:hello_there"])
    (tmp_path / "zh.jsonl").write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"zh\.jsonl:2"):
        text_eval.load_labels(tmp_path, ("zh",))


def test_cohen_kappa_known_values():
    k = text_eval.cohen_kappa
    # observed 0.75, chance 0.5*0.25 + 0.5*0.75 = 0.5 -> 0.5
    assert k([True, True, False, False], [True, False, False, False]) == 0.5
    assert k([True, False], [True, False]) == 1.0
    assert k([True, False], [False, True]) == -1.0
    assert k([False, False], [False, False]) is None
    assert k([True, True], [True, True]) == 1.0


def test_precision_recall_counts_and_minimum_positives():
    records = [_record(f"r{i}", "x", ["empathy"] if i < 6 else []) for i in range(10)]
    predicted = {f"r{i}": ({"empathy"} if i in (0, 1, 2, 7) else set()) for i in range(10)}
    s = text_eval.precision_recall(records, predicted)["empathy"]
    assert (s["positives"], s["fired"], s["tp"], s["fp"], s["fn"]) == (6, 4, 3, 1, 3)
    assert (s["precision"], s["recall"]) == (0.75, 0.5)
    few = text_eval.precision_recall(records[:4], predicted)["empathy"]
    assert few["positives"] == 4 and few["precision"] is None and few["recall"] is None


def test_labels_mode_runs_the_detectors_and_the_two_passes(tmp_path):
    records = [
        _record(
            "zh0001", "非常抱歉给您带来不便", ["apologize_for_inconvenience"], context="餐里有头发"
        ),
        _record("zh0002", "好的请您稍等", [], context="我要退款"),
        _record(
            "zh0003", "我理解您的心情", ["ack_phrase", "empathy"], split="test", context="太过分了"
        ),
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    (tmp_path / "zh.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = [
        {**records[0], "labels": ["apologize_for_inconvenience"]},
        {**records[1], "labels": []},
    ]
    second.append({**records[2], "labels": ["empathy"]})
    (tmp_path / "pass2.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in second) + "\n", encoding="utf-8"
    )
    rep = text_eval.labels_report(None, tmp_path, ("zh",))
    zh = rep["languages"]["zh"]
    assert zh["utterances"] == {"dev": 2, "test": 1, "random": 3}
    apology = zh["scores"]["dev"]["apologize_for_inconvenience"]
    assert (apology["positives"], apology["tp"], apology["fp"]) == (1, 1, 0)
    assert zh["scores"]["dev"]["solve_problem:commitment"]["fp"] == 0
    agreement = rep["agreement"]
    assert agreement["items"] == 3
    assert agreement["elements"]["apologize_for_inconvenience"]["kappa"] == 1.0
    assert agreement["elements"]["ack_phrase"] == {"first": 1, "second": 0, "kappa": 0.0}
    assert agreement["elements"]["options"]["kappa"] is None
    # pass2.jsonl's excuse labels predate the tightened guideline: pass2_excuse.jsonl reports them
    assert "excuse" not in agreement["elements"]
    assert agreement["languages"]["zh"]["items"] == 3


def test_an_element_pass_is_judged_against_the_first_pass_before_adjudication(tmp_path):
    """pass2_excuse.jsonl rows carry the first pass's labels as they were before the two passes
    were adjudicated: kappa compares the two independent passes, not the second pass with labels
    that were corrected from it, and covers the judged elements only."""
    records = [
        _record("zh0001", "因为系统原因无法退款", ["excuse"], context="为什么不给退款"),
        _record("zh0002", "这边给您申请退款", [], context="我要退款"),
        _record("zh0003", "我们只是平台，商家才是责任方", ["excuse", "blame_shift"]),
        _record("zh0004", "好的请您稍等", [], context="我要投诉"),
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    (tmp_path / "zh.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    both = ["excuse", "blame_shift"]
    second = [
        {"id": "zh0001", "elements": both, "first": ["excuse"], "labels": ["excuse"]},
        {"id": "zh0002", "elements": both, "first": [], "labels": []},
        # adjudicated to the second pass's reading: the first pass had blame_shift only
        {"id": "zh0003", "elements": both, "first": ["blame_shift"], "labels": both},
        {"id": "zh0004", "elements": both, "first": [], "labels": []},
    ]
    (tmp_path / "pass2_excuse.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in second), encoding="utf-8"
    )
    rep = text_eval.labels_report(None, tmp_path, ("zh",))
    assert "agreement" not in rep
    ag = rep["agreement_excuse"]
    assert ag["items"] == 4 and set(ag["elements"]) == {"excuse", "blame_shift"}
    # first pass excuse on zh0001 only, second on zh0001 and zh0003: observed 0.75, chance 0.5
    assert ag["elements"]["excuse"] == {"first": 1, "second": 2, "kappa": 0.5}
    assert ag["elements"]["blame_shift"]["kappa"] == 1.0


@pytest.mark.skipif(not (DATA / "calls").exists(), reason="../shared/data is absent")
def test_labelled_lines_are_the_lines_of_the_data_sets():
    """Records from the small data sets (Harper Valley, MobileCS) point at their exact line."""
    records = [
        r
        for r in text_eval.load_labels()
        if r["source"].split("/")[0] in ("harper_valley", "mobilecs")
    ]
    assert len(records) >= 40
    dialogues = text_eval.labelled_dialogues(DATA, records)  # raises on a mismatch
    assert len(dialogues) == len({(r["source"], r["dialogue"]) for r in records})


def test_committed_label_files_hold_references_and_no_text():
    """The data sets' licences forbid redistributing their texts: a committed record is a
    reference plus a fingerprint, and nothing in it is long enough to be an utterance."""
    records = _committed()
    assert len(records) >= 1170
    for r in records:
        assert set(r) <= REFERENCE_FIELDS, f"{r['id']}: {sorted(set(r) - REFERENCE_FIELDS)}"
        assert re.fullmatch(r"[0-9a-f]{12}", r["fingerprint"]), r["id"]
        assert isinstance(r["line"], int) and re.fullmatch(r"\d+/\d+", r["position"])
        assert len(r.get("note", "")) <= 60, r["id"]
        short = [k for k in REFERENCE_FIELDS - {"note", "labels"} if k in r]
        assert all(len(str(r[k])) <= 40 for k in short), r["id"]
    ids = {r["id"] for r in records}
    for name in ("pass2.jsonl", "pass2_excuse.jsonl"):
        second = LABELS / name
        if second.exists():
            for line in second.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    assert set(row) <= {"id", "labels", "elements", "first"}, line[:40]
                    assert row["id"] in ids, line[:40]


def test_labels_mode_without_the_data_exits_2_naming_what_it_needs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "text_eval.py"), "--labels", "--data", tmp_path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "references" in done.stderr and "../shared/data" in done.stderr
    with pytest.raises(text_eval.LabelTextsMissing, match="zh0001"):
        text_eval.labels_report(None)


def test_every_fingerprint_matches_the_shared_data():
    shared_data("text")
    records = text_eval.load_labels()
    resolved = text_eval.resolve_texts(records, DATA)  # raises naming a drifted record
    assert [r["id"] for r in resolved] == [r["id"] for r in records]
    for r in resolved:
        assert text_eval.fingerprint(r["text"]) == r["fingerprint"]
        assert r["text"] and isinstance(r["context"], str)
        assert r["next"] == "" or r["next"][:3] in ("A: ", "C: ")


def test_a_drifted_line_stops_the_labels_mode_naming_the_record(tmp_path):
    shared_data("text")
    record = next(r for r in text_eval.load_labels(languages=("zh",)) if r["id"] == "zh0002")
    drifted = json.dumps({**record, "fingerprint": "0" * 12}, ensure_ascii=False)
    (tmp_path / "zh.jsonl").write_text(drifted + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"label zh0002: line 8 of .* has changed"):
        text_eval.labels_report(DATA, tmp_path, ("zh",))
    text = text_eval.resolve_texts([record], DATA)[0]["text"]
    with pytest.raises(ValueError, match=r"label zh0002: .* not the record's text"):
        text_eval.labelled_dialogues(DATA, [{**record, "text": text + "。"}])
    beyond = {**record, "line": 10_000}
    with pytest.raises(ValueError, match=r"label zh0002: .* has only \d+ lines"):
        text_eval.labelled_dialogues(DATA, [beyond])


def test_sample_draws_the_committed_references():
    """``sample.py`` writes references and fingerprints, and its draw is the committed set."""
    shared_data("text")
    sample = _sample()
    drawn = [
        r
        for lang in ("zh", "en")
        for batch in sorted(sample.DRAWS)
        for r in sample.DRAWS[batch](DATA, lang)
    ]
    committed = [{k: v for k, v in r.items() if k not in ("labels", "note")} for r in _committed()]
    assert drawn == committed


def test_second_batch_is_fresh_dev_lines():
    """The second batch (``sample.py --batch 2``) holds only ``dev`` lines, none of the first
    draw, each drawn once, in its own strata."""
    shared_data("text")
    sample = _sample()
    for lang in ("zh", "en"):
        first = {sample.line_id(r) for r in sample.draw(DATA, lang)}
        second = sample.draw_batch2(DATA, lang)
        ids = [sample.line_id(r) for r in second]
        assert second and len(set(ids)) == len(ids) and not first & set(ids)
        assert all(r["split"] == "dev" for r in second)
        assert all(r["stratum"].startswith(sample.BATCH2_PREFIXES) for r in second)


def test_third_batch_is_fresh_dev_lines_aimed_at_its_cues():
    """The third batch (``sample.py --batch 3``): ``dev`` lines, none of the first two batches,
    each drawn once; its English thank-yous are never among a dialogue's last two agent lines."""
    shared_data("text")
    sample = _sample()
    for lang in ("zh", "en"):
        third = sample.draw_batch3(DATA, lang)
        _fresh_dev_batch(sample, lang, third, 3, sample.BATCH3_PREFIX)
        for r in third:
            if r["stratum"] == "cue3_midthanks":
                assert (
                    r["source"].startswith("stc3_en") and sample._rank_from_end(r["position"]) >= 2
                )


def test_sample_writes_texts_only_outside_the_repository(tmp_path):
    shared_data("text")
    script = [sys.executable, str(LABELS / "sample.py"), "--data", str(DATA)]
    inside = LABELS / "todo-test.jsonl"
    done = subprocess.run(
        [*script, "--pass2-todo", str(inside)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "inside the repository" in done.stderr
    assert not inside.exists()
    out = tmp_path / "todo.jsonl"
    done = subprocess.run(
        [*script, "--pass2-todo", str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    todo = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(todo) == 100 and all(r["text"] and r["labels"] is None for r in todo)
    assert set(todo[0]) == {"id", "language", "position", "context", "text", "next", "labels"}


def test_fourth_batch_is_fresh_dev_lines_aimed_at_its_cues():
    """The fourth batch (``sample.py --batch 4``): ``dev`` lines, none of the first three
    batches, each drawn once; its English thank-yous are among a Weibo thread's last two agent
    lines, and the ``_replied`` ones are answered by the customer."""
    shared_data("text")
    sample = _sample()
    for lang in ("zh", "en"):
        fourth = sample.draw_batch4(DATA, lang)
        _fresh_dev_batch(sample, lang, fourth, 4, sample.BATCH4_PREFIX)
        thanks = [r for r in fourth if r["stratum"].startswith("cue4_thanks")]
        assert all(
            r["source"].startswith("stc3_en") and sample._rank_from_end(r["position"]) < 2
            for r in thanks
        )
        assert bool(thanks) == (lang == "en")


def test_fifth_batch_is_fresh_dev_lines_aimed_at_its_cues():
    """The fifth batch (``sample.py --batch 5``): ``dev`` lines, none of the first four
    batches, each drawn once, from neither SwDA nor the Harper Valley calls; its ``cue5_last``
    lines are the last agent line of their dialogue."""
    shared_data("text")
    sample = _sample()
    for lang in ("zh", "en"):
        fifth = sample.draw_batch5(DATA, lang)
        _fresh_dev_batch(sample, lang, fifth, 5, sample.BATCH5_PREFIX, at_least=60)
        assert not any(r["source"].startswith(("swda", "harper")) for r in fifth)
        last = [r for r in fifth if r["stratum"] == "cue5_last"]
        assert len(last) == 20 and all(sample._rank_from_end(r["position"]) == 0 for r in last)


def test_sixth_batch_is_fresh_dev_lines_with_a_random_part():
    """The sixth batch (``sample.py --batch 6``): ``dev`` lines, none of the first five
    batches, each drawn once, from neither SwDA nor the Harper Valley calls; its random part is
    drawn from every data set left, not only from lines that match a cue."""
    shared_data("text")
    sample = _sample()
    for lang, n_random in (("zh", 40), ("en", 30)):
        sixth = sample.draw_batch6(DATA, lang)
        _fresh_dev_batch(sample, lang, sixth, 6, sample.BATCH6_PREFIX, at_least=60)
        assert not any(r["source"].startswith(("swda", "harper")) for r in sixth)
        random_part = [r for r in sixth if r["stratum"] == "cue6_random"]
        assert len(random_part) == n_random
        if lang == "zh":
            assert {r["source"].split("/")[0] for r in random_part} >= {"musied", "stc3_cn"}


def test_seventh_batch_is_fresh_mandarin_dev_lines_with_a_random_part():
    """The seventh batch (``sample.py --batch 7``): Mandarin ``dev`` lines only, none of the
    first six batches, each drawn once, half of them or more uniform over the lines left."""
    shared_data("text")
    sample = _sample()
    seventh = sample.draw_batch7(DATA, "zh")
    _fresh_dev_batch(sample, "zh", seventh, 7, sample.BATCH7_PREFIX, at_least=80)
    assert not any(r["source"].startswith(("swda", "harper")) for r in seventh)
    assert sum(r["stratum"] == "cue7_random" for r in seventh) == 50
    assert sample.draw_batch7(DATA, "en") == []


def test_eighth_batch_is_fresh_english_dev_lines_with_a_random_part():
    """The eighth batch (``sample.py --batch 8``): English ``dev`` lines of STC-3 only, none of
    the first seven batches, each drawn once, with its uniform part, its reasons and its
    times."""
    shared_data("text")
    sample = _sample()
    eighth = sample.draw_batch8(DATA, "en")
    _fresh_dev_batch(sample, "en", eighth, 8, sample.BATCH8_PREFIX, at_least=65)
    assert all(r["source"].startswith("stc3_en") for r in eighth)
    assert Counter(r["stratum"] for r in eighth) == {
        "cue8_random": 30,
        "cue8_excuse": 20,
        "cue8_time": 15,
    }
    assert sample.draw_batch8(DATA, "zh") == []


def test_ninth_batch_is_fresh_mandarin_openings_and_endings():
    """The ninth batch (``sample.py --batch 9``): Mandarin ``dev`` lines only, none of the first
    eight batches, each drawn once; a ``cue9_first_<set>`` line is one of the agent's first two
    lines of a dialogue of that data set, a ``cue9_last_<set>`` line one of its last two."""
    shared_data("text")
    sample = _sample()
    ninth = sample.draw_batch9(DATA, "zh")
    _fresh_dev_batch(sample, "zh", ninth, 9, sample.BATCH9_PREFIX, at_least=50)
    for r in ninth:
        _, end, name = r["stratum"].split("_", 2)
        assert r["source"].split("/")[0] == name
        rank, total = (int(x) for x in r["position"].split("/"))
        assert rank <= 2 if end == "first" else total - rank < 2
    assert sample.draw_batch9(DATA, "en") == []


def test_tenth_batch_is_fresh_english_openings_and_endings():
    """The tenth batch (``sample.py --batch 10``): English ``dev`` STC-3 lines only, none of
    the first nine batches, each drawn once; 20 among the agent's first two lines of a thread and
    20 among its last two."""
    shared_data("text")
    sample = _sample()
    tenth = sample.draw_batch10(DATA, "en")
    _fresh_dev_batch(sample, "en", tenth, 10, sample.BATCH10_PREFIX, at_least=40)
    for r in tenth:
        assert r["source"].startswith("stc3_en")
        rank, total = (int(x) for x in r["position"].split("/"))
        assert rank <= 2 if r["stratum"] == "cue10_first_stc3_en" else total - rank < 2
    assert sum(r["stratum"] == "cue10_first_stc3_en" for r in tenth) == 20
    assert sample.draw_batch10(DATA, "zh") == []


def test_eleventh_batch_is_fresh_dev_lines_with_a_random_part_in_both_languages():
    """The eleventh batch (``sample.py --batch 11``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first ten batches, each drawn once; its uniform part, Mandarin
    lines with a step word and English lines with an acknowledging word."""
    zh, en = _fresh_dev_pair(11, zh_at_least=55, en_at_least=45)
    assert Counter(r["stratum"] for r in zh + en) == {
        "cue11_random": 70,
        "cue11_step": 15,
        "cue11_ack": 15,
    }


def test_twelfth_batch_is_fresh_dev_lines_that_confirm_or_name_a_time():
    """The twelfth batch (``sample.py --batch 12``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first eleven batches, each drawn once; Mandarin lines that restate
    or confirm, English lines with a time word."""
    zh, en = _fresh_dev_pair(12, zh_at_least=30, en_at_least=30)
    assert {r["stratum"] for r in zh} == {"cue12_paraphrase"}
    assert {r["stratum"] for r in en} == {"cue12_time"}


def test_thirteenth_batch_is_fresh_endings_times_commitments_and_reasons():
    """The thirteenth batch (``sample.py --batch 13``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twelve batches, each drawn once; a ``cue13_last_<set>`` line
    is one of the agent's last two lines of a dialogue of that data set, the other strata hold
    their cue words."""
    zh, en = _fresh_dev_pair(13, zh_at_least=55, en_at_least=40)
    for r in zh + en:
        if "_last_" in r["stratum"]:
            assert r["source"].split("/")[0] == r["stratum"].split("_", 2)[2]
            rank, total = (int(x) for x in r["position"].split("/"))
            assert total - rank < 2
    assert Counter(r["stratum"] for r in zh + en) == {
        "cue13_last_musied": 10,
        "cue13_last_stc3_cn": 10,
        "cue13_time": 20,
        "cue13_commit": 15,
        "cue13_last_stc3_en": 20,
        "cue13_excuse": 20,
    }


def test_fourteenth_batch_is_fresh_dev_lines_with_a_reason_word():
    """The fourteenth batch (``sample.py --batch 14``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirteen batches, each drawn once, 30 per language, each
    with a reason word."""
    zh, en = _fresh_dev_pair(14, zh_at_least=30, en_at_least=30)
    assert {r["stratum"] for r in zh + en} == {"cue14_excuse"}


def test_fifteenth_batch_is_a_fresh_uniform_draw_in_both_languages():
    """The fifteenth batch (``sample.py --batch 15``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first fourteen batches, each drawn once, uniform (40 Mandarin, 30
    English)."""
    zh, en = _fresh_dev_pair(15, zh_at_least=40, en_at_least=30)
    assert {r["stratum"] for r in zh + en} == {"cue15_random"}


def test_sixteenth_batch_is_fresh_dev_lines_that_name_another_party_or_dispute():
    """The sixteenth batch (``sample.py --batch 16``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first fifteen batches, each drawn once (35 Mandarin, 30 English),
    each line naming another party or questioning the customer as its stratum's cue says."""
    zh, en = _fresh_dev_pair(16, zh_at_least=35, en_at_least=30)
    sample = _sample()
    for lang, batch in (("zh", zh), ("en", en)):
        cues = {name: re.compile(rx, re.I) for name, rx, _ in sample.BATCH16_CUES[lang]}
        assert Counter(r["stratum"] for r in batch) == {
            name: n for name, _, n in sample.BATCH16_CUES[lang]
        }
        texts = text_eval.resolve_texts([dict(r, labels=[]) for r in batch], DATA)
        assert all(cues[r["stratum"]].search(r["text"]) for r in texts)


def test_seventeenth_batch_is_fresh_dev_lines_with_a_reason_word_and_an_english_random_part():
    """The seventeenth batch (``sample.py --batch 17``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first sixteen batches, each drawn once: 25 Mandarin and 30 English
    lines with a reason word, and 15 English lines drawn uniformly."""
    zh, en = _fresh_dev_pair(17, zh_at_least=25, en_at_least=45)
    assert Counter(r["stratum"] for r in zh) == {"cue17_excuse": 25}
    assert Counter(r["stratum"] for r in en) == {"cue17_excuse": 30, "cue17_random": 15}


def test_eighteenth_batch_is_fresh_mandarin_restatements_and_undertakings():
    """The eighteenth batch (``sample.py --batch 18``): Mandarin ``dev`` lines of MUSIED, STC-3
    and MobileCS only, none of the first seventeen batches, each drawn once: 25 with a restating
    or confirming word and 20 with an undertaking's word; no English line."""
    shared_data("text")
    sample = _sample()
    zh = sample.draw_batch18(DATA, "zh")
    _fresh_dev_batch(sample, "zh", zh, 18, sample.BATCH18_PREFIX, at_least=45)
    assert Counter(r["stratum"] for r in zh) == {"cue18_paraphrase": 25, "cue18_commit": 20}
    assert not any(r["source"].startswith(("swda", "harper")) for r in zh)
    assert sample.draw_batch18(DATA, "en") == []


def test_nineteenth_batch_is_fresh_english_times_and_a_random_part():
    """The nineteenth batch (``sample.py --batch 19``): English ``dev`` lines of STC-3 only (no
    SwDA, no Harper Valley), none of the first eighteen batches, each drawn once: 20 with a time
    word and 20 drawn uniformly; no Mandarin line."""
    shared_data("text")
    sample = _sample()
    en = sample.draw_batch19(DATA, "en")
    _fresh_dev_batch(sample, "en", en, 19, sample.BATCH19_PREFIX, at_least=40)
    assert Counter(r["stratum"] for r in en) == {"cue19_time": 20, "cue19_random": 20}
    assert all(r["source"].startswith("stc3_en") for r in en)
    assert sample.draw_batch19(DATA, "zh") == []


def test_twentieth_batch_is_fresh_dev_lines_with_reason_time_and_thanks_words():
    """The twentieth batch (``sample.py --batch 20``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first nineteen batches, each drawn once: Mandarin lines with a
    reason, a time and a thanks word (20, 20, 15), English lines with a reason and a thanks word
    (20, 20)."""
    zh, en = _fresh_dev_pair(20, zh_at_least=55, en_at_least=40)
    assert Counter(r["stratum"] for r in zh) == {
        "cue20_excuse": 20,
        "cue20_time": 20,
        "cue20_thanks": 15,
    }
    assert Counter(r["stratum"] for r in en) == {"cue20_excuse": 20, "cue20_thanks": 20}


def test_twenty_first_batch_is_fresh_restatements_choices_times_and_a_uniform_part():
    """The twenty-first batch (``sample.py --batch 21``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty batches, each drawn once: Mandarin lines with a
    restating or confirming word, a word of choice and a uniform part (20, 15, 20), English lines
    with a time word, a word of choice and a uniform part (15, 15, 15)."""
    zh, en = _fresh_dev_pair(21, zh_at_least=55, en_at_least=45)
    assert Counter(r["stratum"] for r in zh) == {
        "cue21_paraphrase": 20,
        "cue21_options": 15,
        "cue21_random": 20,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue21_time": 15,
        "cue21_options": 15,
        "cue21_random": 15,
    }


def test_twenty_second_batch_is_fresh_closing_and_acknowledging_words():
    """The twenty-second batch (``sample.py --batch 22``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-one batches, each drawn once: lines with a closing
    word and lines with an acknowledging word in each language (25 and 20)."""
    zh, en = _fresh_dev_pair(22, zh_at_least=45, en_at_least=45)
    assert Counter(r["stratum"] for r in zh) == {"cue22_closing": 25, "cue22_ack": 20}
    assert Counter(r["stratum"] for r in en) == {"cue22_closing": 25, "cue22_ack": 20}


def test_twenty_third_batch_is_fresh_phone_lines_and_english_steps():
    """The twenty-third batch (``sample.py --batch 23``): ``dev`` lines, none of the first
    twenty-two batches, each drawn once: Mandarin lines of phone calls only (MUSIED phone calls
    30, MobileCS the 6 its dev half has left), English lines with a step word and a uniform part
    (30, 15)."""
    shared_data("text")
    sample = _sample()
    zh, en = (sample.DRAWS[23](DATA, lang) for lang in ("zh", "en"))
    _fresh_dev_batch(sample, "zh", zh, 23, sample.BATCH23_PREFIX, at_least=36)
    _fresh_dev_batch(sample, "en", en, 23, sample.BATCH23_PREFIX, at_least=45)
    assert Counter((r["stratum"], r["source"]) for r in zh) == {
        ("cue23_phone", "musied/Phone Conversations"): 30,
        ("cue23_mobilecs", "mobilecs"): 6,
    }
    assert Counter(r["stratum"] for r in en) == {"cue23_step": 30, "cue23_random": 15}
    assert all(r["source"].startswith("stc3_en") for r in en)


def test_twenty_fourth_batch_is_fresh_times_reasons_and_a_uniform_part():
    """The twenty-fourth batch (``sample.py --batch 24``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-three batches, each drawn once: lines with a time
    word, lines with a reason or another party's word and a uniform part (15, 10, 10) in each
    language."""
    zh, en = _fresh_dev_pair(24, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue24_time": 15,
        "cue24_blame": 10,
        "cue24_random": 10,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue24_time": 15,
        "cue24_excuse": 10,
        "cue24_random": 10,
    }


def test_twenty_fifth_batch_is_fresh_ends_restatements_acknowledgements_and_a_uniform_part():
    """The twenty-fifth batch (``sample.py --batch 25``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-four batches, each drawn once: in Mandarin one of the
    agent's last two lines of a MUSIED dialogue or an STC-3 thread (8 each), lines with a
    restating word (12) and a uniform part (7); in English lines with an acknowledging word (12),
    one of the agent's first two and one of its last two lines of an STC-3 thread (8 each) and a
    uniform part (7). An end stratum's line is one of the two ends of its dialogue."""
    zh, en = _fresh_dev_pair(25, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue25_last_musied": 8,
        "cue25_last_stc3_cn": 8,
        "cue25_paraphrase": 12,
        "cue25_random": 7,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue25_ack": 12,
        "cue25_first_stc3_en": 8,
        "cue25_last_stc3_en": 8,
        "cue25_random": 7,
    }
    _end_strata_hold_ends(zh + en)


def test_twenty_sixth_batch_is_fresh_commitments_steps_times_and_a_uniform_part():
    """The twenty-sixth batch (``sample.py --batch 26``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-five batches, each drawn once: Mandarin lines with a
    commitment word, a time word and a uniform part (15, 10, 10), English lines with a step word,
    a time word and a uniform part (15, 10, 10)."""
    zh, en = _fresh_dev_pair(26, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue26_commit": 15,
        "cue26_time": 10,
        "cue26_random": 10,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue26_step": 15,
        "cue26_time": 10,
        "cue26_random": 10,
    }


def test_twenty_seventh_batch_is_fresh_reasons_ends_times_and_a_uniform_part():
    """The twenty-seventh batch (``sample.py --batch 27``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-six batches, each drawn once: in Mandarin lines with
    a reason word (14), one of the agent's last two lines of a MUSIED dialogue or an STC-3 thread
    (6 each) and a uniform part (9); in English lines with a reason word (15), a time word (10)
    and a uniform part (10). An end stratum's line is one of the last two of its dialogue."""
    zh, en = _fresh_dev_pair(27, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue27_excuse": 14,
        "cue27_last_musied": 6,
        "cue27_last_stc3_cn": 6,
        "cue27_random": 9,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue27_excuse": 15,
        "cue27_time": 10,
        "cue27_random": 10,
    }
    _end_strata_hold_ends(zh)


def test_twenty_eighth_batch_is_fresh_restatements_thanks_steps_ends_and_a_uniform_part():
    """The twenty-eighth batch (``sample.py --batch 28``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-seven batches, each drawn once: in Mandarin lines
    with a restating word (12), a commitment word (10), one of the agent's last two lines of a
    MUSIED dialogue (6) and a uniform part (7); in English lines with a thank-you (12), one of
    the agent's last two lines of an STC-3 thread (8), a step word (8) and a uniform part (7)."""
    zh, en = _fresh_dev_pair(28, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue28_paraphrase": 12,
        "cue28_commit": 10,
        "cue28_last_musied": 6,
        "cue28_random": 7,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue28_thanks": 12,
        "cue28_last_stc3_en": 8,
        "cue28_step": 8,
        "cue28_random": 7,
    }
    _end_strata_hold_ends(zh + en)


def test_twenty_ninth_batch_is_fresh_times_reasons_blame_arguing_and_a_uniform_part():
    """The twenty-ninth batch (``sample.py --batch 29``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-eight batches, each drawn once: in Mandarin lines
    with a time word (8), another party's word (9), an arguing word (8), a restating word (5) and
    a uniform part (5); in English lines with a time word (12), a reason word (10), another
    party's word (6) and a uniform part (7)."""
    zh, en = _fresh_dev_pair(29, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue29_time": 8,
        "cue29_blame": 9,
        "cue29_argue": 8,
        "cue29_paraphrase": 5,
        "cue29_random": 5,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue29_time": 12,
        "cue29_excuse": 10,
        "cue29_blame": 6,
        "cue29_random": 7,
    }


def test_thirtieth_batch_is_fresh_reasons_ends_undertakings_times_and_a_uniform_part():
    """The thirtieth batch (``sample.py --batch 30``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first twenty-nine batches, each drawn once: in Mandarin lines with
    a reason word (9), an undertaking word (8), one of the agent's last two lines of a Weibo
    thread (6) and of a MUSIED dialogue (6), and a uniform part (6); in English lines with a
    reason word (10), a time word (8), an acknowledging word (6), one of the agent's last two
    lines of a thread (5) and a uniform part (6)."""
    zh, en = _fresh_dev_pair(30, zh_at_least=35, en_at_least=35)
    assert Counter(r["stratum"] for r in zh) == {
        "cue30_excuse": 9,
        "cue30_commit": 8,
        "cue30_last_stc3_cn": 6,
        "cue30_last_musied": 6,
        "cue30_random": 6,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue30_excuse": 10,
        "cue30_time": 8,
        "cue30_ack": 6,
        "cue30_last_stc3_en": 5,
        "cue30_random": 6,
    }
    for r in zh + en:
        if "_last_" in r["stratum"]:
            rank, n = map(int, r["position"].split("/"))
            assert n - rank < 2, r["id"]


def test_thirty_first_batch_is_fresh_times_restatements_offers_ends_and_a_uniform_part():
    """The thirty-first batch (``sample.py --batch 31``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty batches, each drawn once: in Mandarin lines with a
    time word (9), a restating word (9), one of the agent's last two lines of a MUSIED dialogue
    (6) and of a Weibo thread (5), and a uniform part (6); in English lines with an offering word
    (10), a time word (9 asked, the 7 undrawn dev lines that hold one), an acknowledging word
    (5), one of the agent's last two lines of a thread (5) and a uniform part (6)."""
    zh, en = _fresh_dev_pair(31, zh_at_least=35, en_at_least=33)
    assert Counter(r["stratum"] for r in zh) == {
        "cue31_time": 9,
        "cue31_para": 9,
        "cue31_last_musied": 6,
        "cue31_last_stc3_cn": 5,
        "cue31_random": 6,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue31_offer": 10,
        "cue31_time": 7,
        "cue31_ack": 5,
        "cue31_last_stc3_en": 5,
        "cue31_random": 6,
    }
    _end_strata_hold_ends(zh + en)


def test_thirty_second_batch_is_fresh_commitments_closings_steps_reasons_times_and_ends():
    """The thirty-second batch (``sample.py --batch 32``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty-one batches, each drawn once: in Mandarin lines with
    an undertaking word (9), a closing word (8), one of the agent's last two lines of a MUSIED
    dialogue (6) and of a Weibo thread (5), and a uniform part (6); in English lines with a step
    word (9), a reason word (8), a time word (6), one of the agent's last two lines of a thread
    (5) and a uniform part (6)."""
    zh, en = _fresh_dev_pair(32, zh_at_least=34, en_at_least=34)
    assert Counter(r["stratum"] for r in zh) == {
        "cue32_commit": 9,
        "cue32_close": 8,
        "cue32_last_musied": 6,
        "cue32_last_stc3_cn": 5,
        "cue32_random": 6,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue32_step": 9,
        "cue32_excuse": 8,
        "cue32_time": 6,
        "cue32_last_stc3_en": 5,
        "cue32_random": 6,
    }
    _end_strata_hold_ends(zh + en)


def test_thirty_third_batch_is_fresh_restatements_reasons_times_options_and_ends():
    """The thirty-third batch (``sample.py --batch 33``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty-two batches, each drawn once: in Mandarin lines with
    a restating word (8), a reason word (8), a time word (7), one of the agent's last two lines
    of a MUSIED dialogue (6) and a uniform part (5); in English lines with a time word (8 asked,
    the 1 undrawn dev line that holds one), a reason word (8), an offering word (7), an
    acknowledging word (6), one of the agent's last two lines of a thread (6) and a uniform part
    (5)."""
    zh, en = _fresh_dev_pair(33, zh_at_least=34, en_at_least=33)
    assert Counter(r["stratum"] for r in zh) == {
        "cue33_paraphrase": 8,
        "cue33_excuse": 8,
        "cue33_time": 7,
        "cue33_last_musied": 6,
        "cue33_random": 5,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue33_time": 1,
        "cue33_excuse": 8,
        "cue33_options": 7,
        "cue33_ack": 6,
        "cue33_last_stc3_en": 6,
        "cue33_random": 5,
    }
    _end_strata_hold_ends(zh + en)


def test_thirty_fourth_batch_is_fresh_reasons_endings_commitments_and_steps():
    """The thirty-fourth batch (``sample.py --batch 34``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty-three batches, each drawn once: in Mandarin lines
    with a reason word (9), a closing word (8), a helping or time word (7), one of the agent's
    last two lines of a MUSIED dialogue (5) and a uniform part (5); in English lines with a
    reason word (9), a step word (8), one of the agent's last two lines of a thread (6), a uniform
    part (5) and no acknowledging word left undrawn."""
    zh, en = _fresh_dev_pair(34, zh_at_least=34, en_at_least=28)
    assert Counter(r["stratum"] for r in zh) == {
        "cue34_excuse": 9,
        "cue34_close": 8,
        "cue34_commit": 7,
        "cue34_last_musied": 5,
        "cue34_random": 5,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue34_excuse": 9,
        "cue34_step": 8,
        "cue34_last_stc3_en": 6,
        "cue34_random": 5,
    }
    _end_strata_hold_ends(zh + en)


def test_thirty_fifth_batch_is_fresh_restatements_times_choices_and_endings():
    """The thirty-fifth batch (``sample.py --batch 35``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty-four batches, each drawn once: in Mandarin lines
    with a restating word (8), a time word (8), a choice word (7), a closing word (6) and a
    uniform part (5); in English lines with a time word (9), a choice word (8), a closing word
    (6) and a uniform part (5)."""
    zh, en = _fresh_dev_pair(35, zh_at_least=34, en_at_least=28)
    assert Counter(r["stratum"] for r in zh) == {
        "cue35_paraphrase": 8,
        "cue35_time": 8,
        "cue35_options": 7,
        "cue35_close": 6,
        "cue35_random": 5,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue35_time": 9,
        "cue35_options": 8,
        "cue35_close": 6,
        "cue35_random": 5,
    }


def test_thirty_sixth_batch_is_fresh_reasons_endings_restatements_and_commitments():
    """The thirty-sixth batch (``sample.py --batch 36``): ``dev`` lines of MUSIED, STC-3 and
    MobileCS only, none of the first thirty-five batches, each drawn once: in Mandarin lines
    with a reason word (8), a closing word (7), a restating word (7), a helping word (7) and a
    uniform part (5); in English lines with a reason word (9), an acknowledging word (7) and a
    uniform part (5); the time stratum found no fresh line."""
    zh, en = _fresh_dev_pair(36, zh_at_least=34, en_at_least=21)
    assert Counter(r["stratum"] for r in zh) == {
        "cue36_excuse": 8,
        "cue36_close": 7,
        "cue36_paraphrase": 7,
        "cue36_commit": 7,
        "cue36_random": 5,
    }
    assert Counter(r["stratum"] for r in en) == {
        "cue36_excuse": 9,
        "cue36_ack": 7,
        "cue36_random": 5,
    }


@pytest.mark.parametrize("language", ["zh", "en"])
def test_complaint_marks_name_threads_whose_text_is_unchanged(language):
    """``complaints_<language>.jsonl``: 110 first posts of STC-3 threads of the tune half, each
    marked once, in the two draws the README names, every text still the one marked."""
    shared_data("text")
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location(
        "calmline_bench_complaints", LABELS / "complaints.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = LABELS / f"complaints_{language}.jsonl"
    marks = [json.loads(line) for line in path.open(encoding="utf-8")]
    assert Counter(m["draw"] for m in marks) == {"tune-words": 60, "held-out": 50}
    assert len({m["dialogue"] for m in marks}) == len(marks)
    assert {m["language"] for m in marks} == {language}
    posts = module.first_posts(DATA, language)
    keys = {d.id: text_eval.split_key(d) for d in text_eval.stc3(DATA, language)}
    for m in marks:
        assert text_eval.fingerprint(posts[m["dialogue"]]) == m["fingerprint"], m["dialogue"]
        assert text_eval.in_split(keys[m["dialogue"]], "tune"), m["dialogue"]


def _end_strata_hold_ends(records: list[dict]) -> None:
    """Each line of a ``cue<n>_<first|last>_<set>`` stratum is one of the agent's first two
    (``first``) or last two (``last``) lines of a dialogue of that data set."""
    for r in records:
        _, end, name = [*r["stratum"].split("_", 2), "", ""][:3]
        if end not in ("first", "last"):
            continue
        rank, total = (int(x) for x in r["position"].split("/"))
        assert rank <= 2 if end == "first" else total - rank < 2, r["id"]
        assert r["source"].startswith(name), r["id"]


def _fresh_dev_pair(number: int, zh_at_least: int, en_at_least: int) -> tuple[list, list]:
    """The ``number``-th batch in both languages, each checked by :func:`_fresh_dev_batch`, none
    of it from SwDA or the Harper Valley calls (the later batches draw MUSIED, STC-3 and
    MobileCS lines only)."""
    shared_data("text")
    sample = _sample()
    prefix = getattr(sample, f"BATCH{number}_PREFIX")
    zh, en = (sample.DRAWS[number](DATA, lang) for lang in ("zh", "en"))
    _fresh_dev_batch(sample, "zh", zh, number, prefix, at_least=zh_at_least)
    _fresh_dev_batch(sample, "en", en, number, prefix, at_least=en_at_least)
    assert not any(r["source"].startswith(("swda", "harper")) for r in zh + en)
    return zh, en


def _fresh_dev_batch(
    sample, lang: str, batch: list[dict], number: int, prefix: str, at_least: int = 50
) -> None:
    """``batch`` (the ``number``-th draw) holds at least ``at_least`` ``dev`` lines, each once,
    none drawn by an earlier batch, all in strata named with ``prefix``."""
    before = {sample.line_id(r) for n in range(1, number) for r in sample._drawn(n, DATA, lang)}
    ids = [sample.line_id(r) for r in batch]
    assert len(batch) >= at_least and len(set(ids)) == len(ids) and not before & set(ids)
    assert all(r["split"] == "dev" for r in batch)
    assert all(r["stratum"].startswith(prefix) for r in batch)
