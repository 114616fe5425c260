"""Hostile text: nothing from a stream reaches the terminal as markup or a control code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment

from l0tui.display.escape import _MULTI_LINE, _ONE_LINE, MAX_RENDER_CHARS, clean, safe_text


def test_controls_become_visible() -> None:
    out = clean("a\x1b[31mb\x07c\x00d\x7fe\x9bf")
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "\x7f" not in out and "\x9b" not in out
    assert out == "a\u241b[31mb\u2407c\u2400d\u2421e\\x9bf"


@given(st.text(), st.booleans())
def test_text_without_controls_is_kept_and_the_rest_translated_in_full(
    value: str, multiline: bool,
) -> None:
    # clean() skips translate() when nothing needs replacing; it must not skip too much
    table = _MULTI_LINE if multiline else _ONE_LINE
    assert clean(value, limit=None, multiline=multiline) == value.translate(table)


def test_newlines_one_line_and_multiline() -> None:
    assert clean("a\nb\tc") == "a\u21b5b\u2409c"
    assert clean("a\nb\tc\r", multiline=True) == "a\nb    c\u240d"


def test_bidi_overrides_are_tagged_but_rtl_letters_kept() -> None:
    out = clean("مرحبا \u202eevil\u2066x")
    assert out.startswith("مرحبا ")
    assert "<U+202E>" in out and "<U+2066>" in out and "\u202e" not in out


def test_markup_is_literal() -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(safe_text("[bold red]x[/] 🎉"))
    assert "[bold red]x[/] 🎉" in console.export_text()


def test_giant_values_are_capped() -> None:
    out = clean("x" * 1_000_000)
    assert len(out) < MAX_RENDER_CHARS + 40
    assert out.endswith(f"… (+{1_000_000 - MAX_RENDER_CHARS:,} chars)")


def test_content_fold_wraps_words_and_keeps_wide_chars_whole() -> None:
    from rich.cells import cell_len
    from rich.segment import Segment

    from l0tui.widgets.content_view import fold_line

    line = [Segment("the quick brown "), Segment("fox", None), Segment(" jumps over it")]
    lines = ["".join(s.text for s in piece) for piece in fold_line(line, 12)]
    assert lines == ["the quick ", "brown fox ", "jumps over ", "it"]
    assert "".join(lines) == "the quick brown fox jumps over it"
    wide = [Segment("日本語のテキスト🙂🙂")]
    pieces = ["".join(s.text for s in p) for p in fold_line(wide, 5)]
    assert all(cell_len(p) <= 5 for p in pieces) and "".join(pieces) == "日本語のテキスト🙂🙂"
    long_word = [Segment("x" * 25)]
    assert [len(s.text) for p in fold_line(long_word, 10) for s in p] == [10, 10, 5]


def test_content_lines_are_drawn_exactly_as_wide_as_the_view() -> None:
    from rich.segment import Segment
    from rich.style import Style

    from l0tui.widgets.content_view import _finished_line, fold_line

    base = Style(color="white")
    # "no token" fills the 12 cells and the space after it is where the line breaks
    line = [Segment("errored: no"), Segment(" token for 5000 ms", Style(bold=True))]
    pieces = fold_line(line, 11)
    assert "".join(s.text for s in pieces[0]) == "errored: no "
    for piece in pieces:
        strip = _finished_line(piece, 11, base)
        assert sum(len(s.text) for s in strip) == 11 == strip.cell_length
        assert all(s.style is not None and s.style.color == base.color for s in strip)
    assert "".join(s.text for s in _finished_line(pieces[0], 11, base)) == "errored: no"


def _fold_by_character(line: list[Segment], width: int) -> list[list[Segment]]:
    """The plain definition fold_line must agree with on lines that are not all
    one-cell characters: add characters while they fit, never split one."""
    from rich.cells import get_character_cell_size

    out: list[list[Segment]] = [[]]
    used = 0
    for seg in line:
        buf = ""
        for ch in seg.text:
            cells = get_character_cell_size(ch)
            if used + cells > width and used > 0:
                if buf:
                    out[-1].append(Segment(buf, seg.style))
                out.append([])
                buf, used = "", 0
            buf += ch
            used += cells
        if buf:
            out[-1].append(Segment(buf, seg.style))
    return out


_MIXED = st.text(alphabet=st.sampled_from("ab c d\u00e9\u65e5\u672c\U0001f642\u0301\u200b\x1b"),
                 max_size=40)


@given(st.lists(st.tuples(_MIXED, st.sampled_from([None, "bold", "red"])), max_size=5),
       st.integers(1, 12))
def test_fold_by_cells_matches_the_character_by_character_definition(
    parts: list[tuple[str, str | None]], width: int,
) -> None:
    from rich.style import Style

    from l0tui.widgets.content_view import _NOT_ONE_CELL, fold_line

    line = [Segment(text, Style.parse(style) if style else None) for text, style in parts if text]
    got = fold_line(line, width)
    if any(_NOT_ONE_CELL.search(seg.text) for seg in line):
        assert [[(s.text, s.style) for s in p] for p in got] == \
            [[(s.text, s.style) for s in p] for p in _fold_by_character(line, width)]
    assert "".join(s.text for p in got for s in p) == "".join(s.text for s in line)


def test_earlier_attempts_left_out_only_when_they_could_not_be_on_screen() -> None:
    from l0core.events import EventEnvelope, RecordedEvent, RetryEvent, StartEvent, TokenEvent
    from l0core.timeline import Timeline
    from l0tui.widgets.content_view import render_content, tail_lines

    events: list[RecordedEvent] = [StartEvent(ts=0.0)]
    for attempt, words in enumerate((40, 400, 3, 700)):
        if attempt:
            events.append(RetryEvent(ts=float(len(events)), attempt=attempt, reason="again",
                                     counts_toward_limit=True))
        events += [TokenEvent(ts=float(len(events)), value=f"w{attempt}.{i} ", index=i)
                   for i in range(words)]
    timeline = Timeline("s", [EventEnvelope("s", i, e) for i, e in enumerate(events)])
    console = Console(width=200)
    for width, height in ((55, 17), (20, 5), (110, 40)):
        budget = max(600, width * height)  # what the view passes
        left_out = 0
        for seq in range(0, len(timeline), 7):
            short = render_content(timeline, seq, budget=budget)
            full = render_content(timeline, seq, budget=budget, leave_out_hidden=False)
            left_out += short.plain != full.plain
            seen = tail_lines(short, width, height, console)[-height:]
            assert seen == tail_lines(full, width, height, console)[-height:], (width, seq)
        assert left_out or width * height > 3000  # the shortcut was taken where it can be
