"""The CLI's text output in Chinese: turns wrapped by display width (never cut), practice names
in the rubric's language."""

from __future__ import annotations

import re
from dataclasses import replace

from rich.console import Console

from calmline.monitor.cli import (
    _NO_LINE_START,
    display_width,
    print_scorecard,
    print_summary,
    wrap_display,
)

WIDTH = 72


def test_wrap_display_breaks_by_columns_and_keeps_every_character():
    zh = (
        "王建国，我已经打了三次电话了，每次都说有人联系我，"
        "结果一个人都没有，你们就是这样对待顾客的吗？"
    )
    lines = wrap_display(zh, 20)
    assert len(lines) > 2
    assert "".join(lines) == zh  # nothing lost, nothing added
    assert all(display_width(line) <= 20 for line in lines)
    assert not [line for line in lines[1:] if line[0] in _NO_LINE_START]
    # a Chinese character takes two columns: 10 of them fill a 20-column line
    assert display_width("王建国") == 6 and display_width("abc") == 3

    en = "I completely understand how frustrating this must be for you, let me check right away."
    lines = wrap_display(en, 24)
    assert " ".join(lines) == en  # broken between words only
    assert all(display_width(line) <= 24 for line in lines)

    mixed = "您的订单号是 ABC-123456，预计明天（周三）上午送达。"
    lines = wrap_display(mixed, 12)
    assert "".join(lines).replace(" ", "") == mixed.replace(" ", "")
    assert all(display_width(line) <= 12 for line in lines)
    assert not [line for line in lines if line.endswith("（")]


def test_summary_wraps_chinese_turns_and_scorecard_names_practices_in_chinese(analyzed):
    report, _ = analyzed("zh_stereo")
    # one long turn: every turn of the call said in one breath
    long_text = "".join(t.text for t in report.turns)
    assert display_width(long_text) > 3 * WIDTH
    turns = (replace(report.turns[0], text=long_text), *report.turns[1:])
    report = replace(report, turns=turns)

    console = Console(record=True, width=WIDTH, color_system=None)
    print_summary(report, console)
    out = console.export_text()
    lines = out.splitlines()
    assert all(display_width(line) <= WIDTH for line in lines), "a line wider than the terminal"
    # the turn's text column, read back line by line, holds the whole turn
    start = next(i for i, line in enumerate(lines) if line.startswith("00:"))
    column = lines[start].index(long_text[:4])
    shown = [lines[start][column:].strip()]
    for line in lines[start + 1 :]:
        if line[:column].strip():
            break
        shown.append(line[column:].strip())
    assert "".join(shown) == long_text
    assert "…" not in "".join(shown)

    console = Console(record=True, width=100, color_system=None)
    print_scorecard(report, console)
    out = console.export_text()
    names = [p.name for p in report.scorecard.practices]
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in names)
    table_rows = out.splitlines()
    for name in names:
        assert any(line.startswith(name) for line in table_rows), name
    coached = [p for p in report.scorecard.practices if p.coaching]
    for p in coached:
        assert f"- {p.name}：" in out


def test_scorecard_names_every_practice_on_an_80_column_terminal(analyzed):
    """Rich squeezes a foldable column to nothing when a no-wrap column takes the width."""
    report, _ = analyzed("zh_stereo")
    console = Console(record=True, width=80, color_system=None)
    print_scorecard(report, console)
    lines = console.export_text().splitlines()
    assert all(display_width(line) <= 80 for line in lines)
    for p in report.scorecard.practices:
        first = wrap_display(p.name, 28)[0].strip()
        assert any(line.startswith(first) for line in lines), p.name
