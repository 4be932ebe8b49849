"""Phrase matching on transcript-like text: normalisation, offsets, fuzzy slips, negation."""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import MatchingRubric, PhraseEntry
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import Role, Turn, Word


def P(text: str, *variants: str) -> PhraseEntry:
    return PhraseEntry(text=text, variants=variants)


@pytest.fixture(scope="module")
def zh() -> PhraseMatcher:
    return PhraseMatcher(MatchingRubric(fillers=("嗯", "啊", "呃")), "zh")


@pytest.fixture(scope="module")
def en() -> PhraseMatcher:
    return PhraseMatcher(MatchingRubric(fillers=("um", "uh")), "en")


def spans(matches) -> list[tuple[str, str]]:
    return [(m.phrase, m.matched) for m in matches]


# --- normalisation and offsets --------------------------------------------------------------


def test_normalize_folds_width_case_punctuation_and_fillers(zh, en):
    assert zh.normalize("ＡＢＣ１２３，嗯好的！") == "abc123好的"
    assert en.normalize("Ｉ’m ＳＯＲＲＹ, uh, really!") == "i am sorry really"


def test_full_width_text_matches_and_offsets_point_into_the_original(en):
    text = "ok — ＳＯＲＲＹ　ｆｏｒ　ｔｈｅ　ｉｎｃｏｎｖｅｎｉｅｎｃｅ."
    (m,) = en.find(text, [P("sorry for the inconvenience")])
    assert (
        m.matched
        == text[m.start_char : m.end_char]
        == "ＳＯＲＲＹ　ｆｏｒ　ｔｈｅ　ｉｎｃｏｎｖｅｎｉｅｎｃｅ"
    )
    assert m.score == 100.0 and not m.negated


def test_traditional_input_matches_simplified_phrases(zh):
    (m,) = zh.find("喂，我們向您道歉。", [P("向您道歉")])
    assert m.matched == "向您道歉" and (m.start_char, m.end_char) == (4, 8)
    assert spans(zh.find("真對不起，給您帶來不便", [P("对不起"), P("给您带来不便")])) == [
        ("对不起", "對不起"),
        ("给您带来不便", "給您帶來不便"),
    ]


def test_punctuation_and_fillers_inside_a_phrase_are_skipped(zh, en):
    (m,) = zh.find("我，嗯，理解您", [P("我理解")])
    assert m.matched == "我，嗯，理解"
    (m,) = en.find("I, uh, understand.", [P("I understand")])
    assert m.matched == "I, uh, understand"


def test_a_phrase_made_of_fillers_is_matched_with_fillers_kept(en):
    assert spans(en.find("Uh-huh. Go on", [P("uh-huh")])) == [("uh-huh", "Uh-huh")]
    assert en.find("uh, go on", [P("uh-huh")]) == []


def test_apostrophes_do_not_matter(en):
    (m,) = en.find("Well, that’s not our problem", [P("that's not our problem")])
    assert m.matched == "that’s not our problem"


def test_every_occurrence_is_returned_and_overlaps_keep_the_longer(zh):
    assert len(zh.find("谢谢，谢谢您", [P("谢谢")])) == 2
    (m,) = zh.find("我明白了", [P("明白"), P("我明白了")])
    assert m.phrase == "我明白了"


# --- word boundaries (English) --------------------------------------------------------------


def test_english_word_boundaries(en):
    assert en.find("I feel sorrowful today", [P("sorry")]) == []
    assert spans(en.find("Sorry, I feel sorrowful", [P("sorry")])) == [("sorry", "Sorry")]
    assert en.find("the thistle is in bloom", [P("this is")]) == []
    assert en.find("this island is big", [P("this is")]) == []
    assert en.find("I seem to have it", [P("I see")]) == []
    assert en.find("that is 100 dollars", [P("100%")]) == []
    assert spans(en.find("I am 100% sure", [P("100%")])) == [("100%", "100%")]


def test_latin_words_inside_mandarin_keep_boundaries():
    m = PhraseMatcher(MatchingRubric(), "zh")
    assert m.find("这本book很好", [P("ok")]) == []
    assert spans(m.find("好的 ok 没问题", [P("ok")])) == [("ok", "ok")]


# --- fuzzy matching -------------------------------------------------------------------------


def test_fuzzy_admits_one_slip_in_a_long_mandarin_phrase(zh):
    # 晴 reads like 情 (a phonetic match): fuzzy matching alone is checked here.
    (m,) = zh.find("我非常理解您的心晴", [P("我非常理解您的心情")], phonetic=False)
    assert m.matched == "我非常理解您的心晴"  # the span covers the slip
    assert 88 <= m.score < 100


def test_fuzzy_does_not_admit_a_slip_in_a_short_phrase(zh):
    # One wrong character out of three is a 67% similarity: short phrases need variants.
    assert zh.find("我理角您的意思", [P("我理解")]) == []
    assert spans(zh.find("我理角您的意思", [P("我理解", "我理角")])) == [("我理解", "我理角")]


def test_fuzzy_english_slip_and_threshold_override(en):
    (m,) = en.find("sorry for the inconvenient", [P("sorry for the inconvenience")])
    assert 88 <= m.score < 100
    assert (
        en.find(
            "sorry for the inconvenient", [P("sorry for the inconvenience")], fuzzy_threshold=100
        )
        == []
    )
    # A different pronoun is not a slip: "I need to apologize" is no demand.
    assert en.find("I need to apologize", [P("you need to apologize")]) == []


def test_fuzzy_never_drops_or_changes_a_person_contraction(en):
    # "we'll" reads "well" once apostrophes go: a near spelling of "will", yet it names the doer
    assert en.find("our staff will contact you", [P("we'll contact you")]) == []
    assert spans(en.find("we'll contact you soon", [P("we'll contact you")])) == [
        ("we'll contact you", "we'll contact you")
    ]


def test_fuzzy_never_adds_a_negation(en, zh):
    assert en.find("I can't guarantee it", [P("I can guarantee")]) == []
    assert zh.find("我非常不理解您的心情", [P("我非常理解您的心情")]) == []


# --- negation -------------------------------------------------------------------------------

NEG_ZH = [P("不是说"), P("不需要"), P("没让")]
NEG_EN = [P("I'm not saying"), P("you don't need to"), P("no need to")]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("我不是说你要道歉", True),
        ("我没让你要道歉", True),
        ("我不是说这个。你要道歉", False),  # another sentence
        ("不需要，你要道歉", False),  # another clause
        ("你要道歉", False),
    ],
)
def test_negation_zh(zh, text, negated):
    (m,) = zh.find(text, [P("你要道歉")], negations=NEG_ZH)
    assert m.negated is negated


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("I'm not saying you need to apologize", True),
        ("Im not saying that you need to apologize", True),
        ("I'm not saying much. You need to apologize", False),
        ("I'm not saying it was the courier or the warehouse or you need to apologize", False),
    ],
)
def test_negation_en(en, text, negated):
    (m,) = en.find(text, [P("you need to apologize")], negations=NEG_EN)
    assert m.negated is negated


def test_negation_cue_running_into_the_phrase(zh):
    (m,) = zh.find("我不能保证", [P("能保证")], negations=[P("不能")])
    assert m.negated


def test_negation_window_override(zh):
    text = "我不是说今天这个事你要道歉"
    (m,) = zh.find(text, [P("你要道歉")], negations=NEG_ZH)
    assert m.negated  # 6 characters between cue and phrase: inside the default window
    (m,) = zh.find(text, [P("你要道歉")], negations=NEG_ZH, negation_window=2)
    assert not m.negated


# --- gaps and repeats -----------------------------------------------------------------------


def test_a_gap_never_swallows_the_negation_of_the_next_part(zh, en):
    assert zh.find("您的心情我不能理解", [P("您的心情…理解")]) == []
    assert zh.find("专员不会联系您", [P("专员…联系您")]) == []
    assert en.find("Xiao Mei has not sent anything to you", [P("has sent … to you")]) == []
    # words further inside the gap are what it holds: 没有收到 is restated, not denied
    assert spans(zh.find("就是说您没有收到餐是吧", [P("就是说…是吧")])) == [
        ("就是说…是吧", "就是说您没有收到餐是吧")
    ]
    assert spans(zh.find("您的心情我们非常理解", [P("您的心情…理解")])) == [
        ("您的心情…理解", "您的心情我们非常理解")
    ]


def test_gap_phrases(zh, en):
    (m,) = zh.find("您看是退款，还是补发呢", [P("您看…还是…")])
    assert m.matched == "您看是退款，还是"
    assert zh.find("您看一下。还是没到吗", [P("您看…还是…")]) == []
    assert spans(en.find("You can either get a refund or a new one", [P("either … or …")])) == [
        ("either … or …", "either get a refund or")
    ]
    far = "either " + "word " * 20 + "or"
    assert en.find(far, [P("either … or …")]) == []


def test_repeats(zh, en):
    (m,) = zh.find_repeats("好，好，好，我知道了", [P("好"), P("好的")], 3)
    assert (m.phrase, m.count, m.matched) == ("好", 3, "好，好，好")
    (m,) = zh.find_repeats("好的好的好的", [P("好"), P("好的")], 3)
    assert (m.phrase, m.count) == ("好的", 3)
    (m,) = zh.find_repeats("对对，嗯，对对", [P("对")], 3)
    assert m.count == 4  # a filler does not break the run
    assert zh.find_repeats("您好好休息", [P("好")], 3) == []
    (m,) = en.find_repeats("Okay, okay, OKAY. Let me see", [P("okay")], 3)
    assert (m.count, m.matched) == (3, "Okay, okay, OKAY")
    assert en.find_repeats("yeah yeah", [P("yeah")], 3) == []
    assert en.find_repeats("yeahyeahyeah", [P("yeah")], 3) == []


# --- time spans -----------------------------------------------------------------------------


def _turn(words: list[tuple[float, float, str]], joiner: str) -> Turn:
    ws = tuple(Word(s, e, t, 0.9) for s, e, t in words)
    return Turn(0, "a", Role.AGENT, ws[0].start, ws[-1].end, joiner.join(w.text for w in ws), ws)


def test_time_span_maps_characters_onto_words(zh, en):
    turn = _turn([(1.0, 1.2, "好"), (1.2, 1.4, "的，"), (1.5, 1.7, "我"), (1.7, 1.9, "理解")], "")
    (m,) = zh.find(turn.text, [P("我理解")])
    assert zh.time_span(turn, m) == (1.5, 1.9)
    turn = _turn([(0.0, 0.4, "Okay,"), (0.5, 0.7, "I"), (0.7, 1.2, "understand.")], " ")
    (m,) = en.find(turn.text, [P("I understand")])
    assert en.time_span(turn, m) == (0.5, 1.2)


def test_time_span_without_words_interpolates_inside_the_turn(en):
    turn = Turn(0, "a", Role.AGENT, 10.0, 20.0, "abcde I understand", ())
    (m,) = en.find(turn.text, [P("I understand")])
    start, end = en.time_span(turn, m)
    assert 10.0 < start < end == 20.0


# --- the character gate ----------------------------------------------------------------------


def _zh_lexicon() -> list[PhraseEntry]:
    from calmline.monitor.rubric import default_rubric

    rubric = default_rubric("zh")
    entries = [*rubric.stress.anger_list(), *rubric.stress.complaint_list()]
    for practice in rubric.practices.values():
        for lexicon in practice.phrases:
            entries += practice.phrase_list(lexicon)
    return list({e.text: e for e in reversed(entries)}.values())


ZH_LEXICON = _zh_lexicon()
ZH_FORMS = sorted({f for e in ZH_LEXICON for f in e.forms})
ZH_LONG = [f for f in ZH_FORMS if len(f) >= 9]
ZH_CHARS = sorted({c for f in ZH_FORMS for c in f if "\u4e00" <= c <= "\u9fff"})
# negations, persons and other words spliced between the phrases
ZH_OTHER = list("不没别你您我他她们的了吗呢，。？")


def _homophones() -> dict[str, list[str]]:
    """Lexicon characters -> other characters read alike (toneless pinyin): ASR slips."""
    from pypinyin import lazy_pinyin

    by_reading: dict[str, list[str]] = {}
    for code in range(0x4E00, 0x9FA6):
        c = chr(code)
        by_reading.setdefault(lazy_pinyin(c)[0], []).append(c)
    return {c: [h for h in by_reading.get(lazy_pinyin(c)[0], ()) if h != c][:8] for c in ZH_CHARS}


def test_the_character_gate_never_changes_what_is_found():
    """Skipping the phrases whose characters a turn lacks is only a shortcut: with the gate
    switched off, every lexicon phrase of the Mandarin rubric finds the same matches (exact,
    phonetic, fuzzy) in texts made of its phrases, cut, with characters swapped for homophones
    or other characters, and other words between them."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    import calmline.monitor.textmatch as textmatch

    homophones = _homophones()

    @st.composite
    def slipped(draw) -> str:
        # long phrases as often as the rest: one slip in eight characters is not fuzzy yet
        form = draw(st.sampled_from(ZH_FORMS) | st.sampled_from(ZH_LONG))
        a, b = sorted(draw(st.tuples(*[st.integers(0, len(form))] * 2)))
        chars = list(form[a:b] if b - a >= 2 else form)
        for i in draw(st.lists(st.integers(0, len(chars) - 1), max_size=len(chars) // 2)):
            swaps = homophones.get(chars[i]) or ZH_OTHER
            chars[i] = draw(st.sampled_from(swaps + ZH_OTHER[:3]))
        if len(chars) > 4 and draw(st.booleans()):  # a character lost (a fuzzy match)
            del chars[draw(st.integers(1, len(chars) - 2))]
        return "".join(chars)

    pieces = st.one_of(slipped(), st.text(st.sampled_from(ZH_OTHER), min_size=1, max_size=3))
    matching = MatchingRubric(fillers=("嗯", "啊", "呃"))
    kinds: set[str] = set()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(pieces, min_size=1, max_size=5).map("".join))
    def check(text: str) -> None:
        gated = PhraseMatcher(matching, "zh").find(text, ZH_LEXICON)
        real = textmatch._may_occur
        textmatch._may_occur = lambda *_: True
        try:
            every = PhraseMatcher(matching, "zh").find(text, ZH_LEXICON)
        finally:
            textmatch._may_occur = real
        assert gated == every
        kinds.update(m.kind for m in every)

    check()
    assert {"exact", "phonetic", "fuzzy"} <= kinds, kinds  # every path was tried
    # and the gate does skip: a turn without the phrase's characters
    m = PhraseMatcher(matching, "zh")
    assert not textmatch._may_occur(
        m._char_index(m._views_of("天气不错")[1]).keys(), m._form("理解您的心情"), 88
    )


# --- contractions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        # Whisper wrote "If there is anything else that can help you with" for the agent's
        # "is there anything else I can help you with" on a real Harper Valley call
        ("If there is anything else, call us", "if there's anything else"),
        ("if there's anything else, call us", "if there is anything else"),
        ("Do not hesitate to call us", "don't hesitate to call"),
        ("dont hesitate to call us", "don't hesitate to call"),
        ("I am sorry for the wait", "I'm sorry"),
        ("we will call you back", "we'll call you back"),
        ("I cannot help with that", "I can't help"),
    ],
)
def test_a_contraction_and_its_full_form_read_alike(en, text, phrase):
    (m,) = en.find(text, [P(phrase)])
    assert m.kind == "normalised"
    # the span is the words said, not the rubric's form
    assert text[m.start_char : m.end_char].lower().startswith(text.split()[0].lower())


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Well, call us", "we'll call"),  # a bare "well" is the word well
        ("he's here", "he is here"),  # is or has: left as written
        ("the agent's notes", "the agent is"),
        ("its settings", "it is"),
    ],
)
def test_words_that_only_look_like_contractions_stay_as_written(en, text, phrase):
    assert en.find(text, [P(phrase)], fuzzy_threshold=100) == []


def test_a_written_out_negation_negates_as_the_contraction_does(en):
    (m,) = en.find(
        "I am not saying you need to apologize", [P("you need to apologize")], negations=NEG_EN
    )
    assert m.negated
