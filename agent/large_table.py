"""A large table laid out in one pass: the same lines rich would print for the tables of
``agent.present`` (findings, the matrix), at a fraction of the cost.

Rich lays a table out through renderables, measurements and segments for every cell of every
row: milliseconds a row, which for the 17,000 rows of the findings of a 20,000-customer estate
took 45 s. :class:`LargeTable` keeps rich's own decisions (its column widths, its line breaks:
``rich._wrap.divide_line``, its justification and cropping) and only skips the machinery: each
cell's text is wrapped once, its styles cut at the line breaks from the cell's spans, and the
row written as segments. It handles the frame :func:`agent.present.new_table` makes (a box
whose only line is under the header, no outer edge, no lines between rows, no vertical padding);
:func:`large` leaves any other table, and any small one, to rich itself.

The cells are the table's own ``Text`` objects, already made inert by ``agent.escape``: nothing
here reads markup, and the title and caption (the agent's own words) are printed as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any

from rich import box
from rich._ratio import ratio_reduce
from rich._wrap import divide_line
from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

LARGE = 200
"""Rows past which a table of :mod:`agent.present` is laid out here rather than by rich."""

Piece = tuple[str, Style | None]
Line = list[Piece]


def large(table: Table) -> RenderableType:
    """``table`` as :class:`LargeTable` where it is large and of the frame this lays out;
    ``table`` itself otherwise."""
    if len(table.rows) <= LARGE or not _supported(table):
        return table
    return LargeTable(table)


def _supported(table: Table) -> bool:
    top, _right, bottom, _left = table.padding
    return (
        table.box is box.SIMPLE_HEAD
        and not table.show_edge
        and not table.show_lines
        and not table.show_footer
        and table.show_header
        and not table.expand
        and table.width is None
        and table.min_width is None
        and top == 0
        and bottom == 0
        and not table.leading
        and not table.row_styles
        and not table.collapse_padding
        and all(c.vertical == "top" and c.justify in ("left", "right") for c in table.columns)
        and all(r.style is None and not r.end_section for r in table.rows)
    )


class LargeTable:
    """A renderable printing ``table`` as rich would (see the module's notes)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The table's lines, cropped to the console's width where the table is wider (as
        ``Console.print`` crops; print this with ``crop=False``). A table with a column of no
        width at all (too many columns for the console) is left to rich."""
        extra = len(self.table.columns) - 1  # the dividers between columns: no edge
        widths = column_widths(self.table, options.max_width - extra)
        if min(widths, default=0) < 1:
            lines: Iterable[Segment] = console.render(self.table, options)
        elif sum(widths) + extra <= options.max_width:
            yield from self._lines(console, options, widths)
            return
        else:
            lines = self._lines(console, options, widths)
        for line in Segment.split_and_crop_lines(lines, options.max_width, pad=False):
            yield from line

    def _lines(
        self, console: Console, options: ConsoleOptions, widths: list[int]
    ) -> Iterator[Segment]:
        table = self.table
        columns = table.columns
        table_width = sum(widths) + len(columns) - 1
        styles = _Styles(console)
        border = styles.of(table.style or "") + styles.of(table.border_style or "")
        assert table.box is not None
        safe = console.safe_box if table.safe_box is None else table.safe_box
        substituted = table.box.substitute(options, safe=safe)
        new_line = Segment("\n")
        if table.title:
            style = styles.of(table.title_style or "table.title")
            yield from _annotation(table.title, style, table.title_justify, table_width, styles)
        pads = [_padding(table, i) for i in range(len(columns))]
        header_style = styles.of(table.header_style or "")
        header = [
            _cell(
                c.header,
                header_style + styles.of(c.header_style or ""),
                widths[i],
                pads[i],
                c,
                styles,
            )
            for i, c in enumerate(columns)
        ]
        yield from _row(header, widths, substituted.head_vertical, border, bottom=True)
        yield Segment(substituted.get_row(widths, "head", edge=False), border)
        yield new_line
        divider = substituted.mid_vertical
        cells_of = [c._cells for c in columns]
        for n in range(len(table.rows)):
            row = [
                _cell(cells_of[i][n], styles.of(c.style or ""), widths[i], pads[i], c, styles)
                for i, c in enumerate(columns)
            ]
            yield from _row(row, widths, divider, border, bottom=False)
        if table.caption:
            style = styles.of(table.caption_style or "table.caption")
            yield from _annotation(table.caption, style, table.caption_justify, table_width, styles)


def column_widths(table: Table, max_width: int) -> list[int]:
    """Each column's width, padding included, as rich's ``Table._calculate_column_widths``
    works it out (for a table that does not expand), from each cell's longest word and line."""
    columns = table.columns
    spans = [_span(c) for c in columns]
    ranges = [_measure(table, i, c, spans[i], max_width) for i, c in enumerate(columns)]
    widths = [hi or 1 for _lo, hi in ranges]
    if sum(widths) > max_width:
        wrapable = [c.width is None and not c.no_wrap for c in columns]
        widths = Table._collapse_widths(widths, wrapable, max_width)
        if sum(widths) > max_width:
            widths = ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
        widths = [
            _measure(table, i, c, spans[i], width)[1] or 0
            for i, (c, width) in enumerate(zip(columns, widths, strict=True))
        ]
    return widths


def _span(column: Column) -> tuple[int, int]:
    """(longest word, longest line) of a column's header and cells, as rich measures a
    ``Text``."""
    least = most = 0
    for cell in [column.header, *column._cells]:
        plain = cell.plain if isinstance(cell, Text) else str(cell)
        if not plain:
            continue
        lines = plain.splitlines()
        longest = max((cell_len(line) for line in lines), default=0)
        words = plain.split()
        least = max(least, max((cell_len(w) for w in words), default=longest))
        most = max(most, longest)
    return least, most


def _measure(
    table: Table, index: int, column: Column, span: tuple[int, int], max_width: int
) -> tuple[int, int]:
    """Rich's ``Table._measure_column`` from the column's span."""
    if max_width < 1:
        return 0, 0
    left, right = _padding(table, index)
    pad = left + right
    if column.width is not None:
        fixed = min(column.width + pad, max_width)
        return fixed, fixed
    inner = max_width - pad
    if inner < 1:
        lo = hi = max_width
    else:
        least, most = span
        lo, hi = min(least, inner) + pad, min(most, inner) + pad
        lo, hi = min(lo, max_width), min(hi, max_width)
    if column.min_width is not None:
        floor = column.min_width + pad
        lo, hi = max(lo, floor), max(hi, floor)
    if column.max_width is not None:
        ceiling = column.max_width + pad
        lo, hi = min(lo, ceiling), min(hi, ceiling)
    return lo, hi


def _padding(table: Table, index: int) -> tuple[int, int]:
    """(left, right) padding of column ``index``: none outside the edges without ``pad_edge``."""
    _top, right, _bottom, left = table.padding
    if not table.pad_edge:
        if index == 0:
            left = 0
        if index == len(table.columns) - 1:
            right = 0
    return left, right


class _Styles:
    """Style names and objects resolved once, and sums of them remembered."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.named: dict[Any, Style] = {}
        self.sums: dict[tuple[Style, ...], Style] = {}

    def of(self, style: str | Style) -> Style:
        if isinstance(style, Style):
            return style
        found = self.named.get(style)
        if found is None:
            found = self.named[style] = self.console.get_style(style, default="")
        return found

    def sum(self, styles: tuple[Style, ...]) -> Style:
        found = self.sums.get(styles)
        if found is None:
            found = self.sums[styles] = Style.combine(styles)
        return found


def _cell(
    value: Any,
    base: Style,
    width: int,
    pad: tuple[int, int],
    column: Column,
    styles: _Styles,
) -> list[Line]:
    """A cell's lines, each exactly ``width`` cells wide (its padding included, in the cell's
    ``base`` style; the text in that and its own)."""
    text = value if isinstance(value, Text) else Text(str(value))
    inner = width - pad[0] - pad[1]
    own = base + styles.of(text.style) if text.style else base
    lines = _wrapped(text, own, max(inner, 0), column, styles)
    if pad[0] or pad[1]:
        left, right = (" " * pad[0], base), (" " * pad[1], base)
        lines = [[left, *line, right] if pad[0] else [*line, right] for line in lines]
    return lines


def _wrapped(text: Text, base: Style, width: int, column: Column, styles: _Styles) -> list[Line]:
    """``text`` wrapped, justified and cropped to ``width`` as rich's ``Text.wrap`` does with
    the column's ``justify``, ``overflow`` and ``no_wrap``."""
    plain = text.plain
    spans = [(s.start, s.end, styles.of(s.style)) for s in text.spans] if text.spans else []
    overflow = column.overflow or "fold"
    out: list[Line] = []
    start = 0
    for part in plain.split("\n"):
        end = start + len(part)
        if column.no_wrap:
            breaks = [start, end]
        else:
            offsets = divide_line(part, width, fold=overflow == "fold")
            breaks = [start, *(start + o for o in offsets), end]
        for a, b in pairwise(breaks):
            stop = b
            if not column.no_wrap and b - a > width:  # rich's ``rstrip_end``
                trailing = (b - a) - len(plain[a:b].rstrip())
                stop -= min(trailing, (b - a) - width)
            out.append(_justified(plain, spans, base, a, stop, width, column, overflow, styles))
        start = end + 1
    return out


def _justified(
    plain: str,
    spans: list[tuple[int, int, Style]],
    base: Style,
    a: int,
    b: int,
    width: int,
    column: Column,
    overflow: str,
    styles: _Styles,
) -> Line:
    if column.justify == "right":
        b = a + len(plain[a:b].rstrip())
    pieces = _styled(plain, spans, base, a, b, styles)
    size = cell_len(plain[a:b])
    if size > width:
        pieces = _cropped(pieces, width, overflow)
        size = width
    if size < width:
        filler = (" " * (width - size), base)
        pieces = [filler, *pieces] if column.justify == "right" else [*pieces, filler]
    return _merged(pieces)


def _styled(
    plain: str,
    spans: list[tuple[int, int, Style]],
    base: Style,
    a: int,
    b: int,
    styles: _Styles,
) -> Line:
    """``plain[a:b]`` cut where the spans over it start and end, each piece in the sum of the
    base style and the spans covering it (in their order, as ``Text.render`` sums them)."""
    if a == b:
        return []
    inside = [s for s in spans if s[0] < b and s[1] > a]
    if not inside:
        return [(plain[a:b], base)]
    cuts = sorted({a, b, *(max(a, s[0]) for s in inside), *(min(b, s[1]) for s in inside)})
    pieces: Line = []
    for x, y in pairwise(cuts):
        over = tuple(s[2] for s in inside if s[0] <= x and s[1] >= y)
        pieces.append((plain[x:y], styles.sum((base, *over)) if over else base))
    return pieces


def _cropped(pieces: Line, width: int, overflow: str) -> Line:
    """``pieces`` cut to ``width`` cells, the last one an ellipsis where ``overflow`` asks."""
    room = width - 1 if overflow == "ellipsis" else width
    kept: Line = []
    used = 0
    last: Style | None = None
    for text, style in pieces:
        size = cell_len(text)
        last = style
        if used + size <= room:
            kept.append((text, style))
            used += size
            continue
        kept.append((set_cell_size(text, room - used), style))
        used = room
        break
    if used < room:
        kept.append((" " * (room - used), last))
    if overflow == "ellipsis":
        kept.append(("…", last))
    return kept


def _row(
    cells: list[list[Line]],
    widths: list[int],
    divider: str,
    border: Style,
    *,
    bottom: bool,
) -> Iterator[Segment]:
    """The lines of one row: every cell as tall as the tallest (a header's at the bottom)."""
    height = max(len(c) for c in cells)
    split = Segment(divider, border)
    new_line = Segment("\n")
    for n in range(height):
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            if i:
                yield split
            at = n - (height - len(cell)) if bottom else n
            if 0 <= at < len(cell):
                for text, style in cell[at]:
                    yield Segment(text, style)
            else:
                yield Segment(" " * width)
        yield new_line


def _merged(line: Line) -> Line:
    """Neighbouring pieces of one style joined, as one ``Text``'s segments come from rich."""
    if len(line) < 2:
        return line
    joined: Line = [line[0]]
    for text, style in line[1:]:
        if style == joined[-1][1]:
            joined[-1] = (joined[-1][0] + text, style)
        else:
            joined.append((text, style))
    return joined


def _annotation(
    value: Any, style: Style, justify: str, width: int, styles: _Styles
) -> Iterable[Segment]:
    """A title or caption: the agent's own words, wrapped to the table's width."""
    text = value.copy() if isinstance(value, Text) else Text(str(value))
    column = Column(justify="right" if justify == "right" else "left", overflow="fold")
    for line in _wrapped(text, style + styles.of(text.style or ""), width, column, styles):
        for piece, piece_style in line:
            yield Segment(piece, piece_style)
        yield Segment("\n")
