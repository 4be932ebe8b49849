"""The learned next step of solve_problem (``calmline.monitor.detectors.learned``): the shipped
model reads as scikit-learn fitted it, its evidence is words of the turn, it only adds a step
where no phrase credits one, and only where a phrase would count (not negated, asked, reported,
advice for later, or the customer's words).

Sentences written for these tests; none is copied from the evaluation data.
"""

from __future__ import annotations

import json

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from calmline.monitor.detectors import learned
from tests.test_detectors_text import RUBRICS, A, C, call, run

TOY = [
    ("我帮您登记一下", 1),
    ("我这边帮您登记反馈", 1),
    ("稍后帮您登记好", 1),
    ("给您登记处理", 1),
    ("您好请问有什么可以帮您", 0),
    ("好的您稍等", 0),
    ("请问您的订单号是多少", 0),
    ("感谢您的耐心等待", 0),
]


def toy_model() -> tuple[learned.LearnedModel, TfidfVectorizer, LogisticRegression]:
    texts = [t for t, _ in TOY]
    vec = TfidfVectorizer(analyzer=learned.analyzer, min_df=1, sublinear_tf=True)
    X = vec.fit_transform(texts)
    clf = LogisticRegression(C=10.0, max_iter=2000).fit(X, [y for _, y in TOY])
    spec = learned.export(
        "zh", vec.vocabulary_, vec.idf_, {"action": (clf.coef_[0], clf.intercept_[0])}, {}
    )
    return learned.LearnedModel(json.loads(json.dumps(spec))), vec, clf


def test_the_exported_model_reads_as_scikit_learn_fitted_it() -> None:
    """Probabilities from the JSON form agree with the fitted pipeline on unseen texts (weights
    are rounded to four decimals)."""
    model, vec, clf = toy_model()
    for text in ("我帮您登记一下好吗", "请问还有什么可以帮您", "登记", "ＡＢＣ您好", ""):
        want = clf.predict_proba(vec.transform([text]))[0, 1]
        assert model.probability(text, "action") == pytest.approx(want, abs=1e-3)


def test_grams_keep_offsets_into_the_text_and_fold_width_and_case() -> None:
    text = "ＯＫ 帮您"
    spans = learned.grams(text)
    assert ("ok", 0, 2) in spans
    assert all(g.strip() for g, _, _ in spans)
    assert ("帮您", 3, 5) in spans and text[3:5] == "帮您"


def test_evidence_is_the_stretch_that_weighs_most() -> None:
    model, _, _ = toy_model()
    text = "好的您稍等，我帮您登记一下。"
    a, b = model.evidence(text, "action")
    assert "登记" in text[a:b]
    assert "稍等" not in text[a:b]
    assert text[a].isalnum() and text[b - 1].isalnum()


def test_a_file_that_is_no_model_is_refused_by_name(tmp_path) -> None:
    bad = tmp_path / "learned_zh.json"
    bad.write_text(json.dumps({"language": "zh", "grams": ["a"], "idf": []}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"learned_zh\.json"):
        learned.LearnedModel.load(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"learned_zh\.json"):
        learned.LearnedModel.load(bad)


def test_the_shipped_mandarin_model_holds_the_next_step() -> None:
    model = learned.model_for("zh-CN")
    assert model is not None and model is learned.model_for("zh")
    assert set(model.parts) == {"action"}
    figures = model.meta["parts"]["action"]
    assert 0.0 < figures["cv_precision"] <= 1.0 and 0.0 < figures["cv_recall"] <= 1.0
    assert learned.model_for("en") is None
    assert model.probability("您好，请问有什么可以帮您", "action") < 0.2
    assert model.probability("我马上帮您联系商家处理，两个小时内给您回电", "action") > 0.8


STEP_MIN = RUBRICS["zh"].practices["solve_problem"].threshold("learned_step_min", 0.0)


def steps(agent: str, customer: str = "我买的东西坏了，你们到底管不管") -> list:
    report = call("zh", (C, 0.0, 3.0, customer), (A, 3.5, 9.0, agent))
    return [f for f in run("solve_problem", report).findings if f.kind == "next_step"]


def test_a_step_in_words_no_phrase_lists_is_credited_with_its_words() -> None:
    """报上去 and 报一下 are in no lexicon; the model credits the step, quotes the words that
    weigh most and says how it decided; a time said with it binds to that step."""
    model = learned.model_for("zh")
    for text in ("好的，我给您报上去，三天内给您结果", "我这边给您报一下，等通知就好"):
        assert model.probability(text, "action") >= STEP_MIN
        (found,) = steps(text)
        assert found.match_kind == "learned"
        assert found.matched and found.matched in text
        assert found.quote[found.match_start : found.match_end] == found.matched
        assert "learned model" in found.detail
    report = call(
        "zh", (C, 0.0, 3.0, "我买的东西坏了"), (A, 3.5, 9.0, "好的，我给您报上去，三天内给您结果")
    )
    kinds = {f.kind for f in run("solve_problem", report).findings}
    assert "time_frame" in kinds and "no_time_frame" not in kinds


def with_step_min(monkeypatch, value: float) -> None:
    """The Mandarin rubric of these tests with ``learned_step_min`` set to ``value``."""
    rubric = RUBRICS["zh"]
    practice = rubric.practices["solve_problem"]
    changed = practice.model_copy(
        update={"thresholds": practice.thresholds | {"learned_step_min": value}}
    )
    practices = rubric.practices | {"solve_problem": changed}
    monkeypatch.setitem(RUBRICS, "zh", rubric.model_copy(update={"practices": practices}))


def test_with_the_model_off_the_phrases_alone_decide(monkeypatch) -> None:
    with_step_min(monkeypatch, 0.0)
    assert steps("我这边给您报一下，等通知就好") == []


def test_a_phrase_keeps_its_own_evidence() -> None:
    (found,) = steps("我这边帮您提交一下，二十四小时内会有专员联系您")
    assert found.match_kind != "learned"


@pytest.mark.parametrize(
    "text",
    [
        "我这边没办法给您报一下",  # negated
        "商家说他给您报一下",  # someone else's words
        "请问是否需要我给您报一下",  # asked
        "建议您以后注意保存好小票",  # advice for later
        "麻烦您提供订单号，以便我给您报一下",  # the purpose of a request
    ],
)
def test_no_learned_step_where_a_phrase_would_not_count(monkeypatch, text: str) -> None:
    """Whatever the model's probability: with the rubric's minimum near 0 every turn is the
    model's to credit, and these still get no learned step; a plain one does."""
    with_step_min(monkeypatch, 0.01)
    assert not [f for f in steps(text) if f.match_kind == "learned"]
    assert [f.match_kind for f in steps("我这边给您报一下")] == ["learned"]


def test_the_customers_words_are_never_the_agents_step() -> None:
    """The customer's line reads as a step to the model, well over the rubric's minimum; only
    the agent's turns are its to credit."""
    said = "你们赶紧帮我联系商家处理，我等通知"
    assert learned.model_for("zh").probability(said, "action") >= STEP_MIN + 0.1
    report = call("zh", (C, 0.0, 3.0, said), (A, 3.5, 5.0, "好的"))
    found = [f for f in run("solve_problem", report).findings if f.kind == "next_step"]
    assert found == []
