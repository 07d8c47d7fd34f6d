"""One focused test per output format's escaping function (``agent.escape``), each against the
hostile names and what the format's own reader (rich, a CSV reader, a Markdown renderer, an HTML
parser, the mail library) makes of the result."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from rich.console import Console
from rich.text import Text

from agent.escape import (
    for_csv_cell,
    for_csv_row,
    for_html,
    for_log,
    for_mail_header,
    for_markdown,
    for_markdown_code,
    for_plain_text,
    for_psa_text,
    for_slack,
    for_teams,
    for_terminal,
)
from tests.hostile import inert
from tests.hostile.names import HOSTILE

# ------------------------------------------------------------------------------- terminal


def test_for_terminal_is_never_read_as_markup_emoji_or_escape() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=200)
    for name in HOSTILE.values():
        shown = for_terminal(name, "red")
        assert isinstance(shown, Text)
        console.print(shown)
    output = screen.getvalue()
    inert.terminal(output, "for_terminal")
    for piece in ("[bold red]Fabrikam[/]", "[link=http://evil.example]", ":warning:", "[/]"):
        assert piece in output
    assert "\x1b]8;" not in output, "no hyperlink"
    assert "\\x1b[2J" in output, "the escape shows, spelled out"


# ------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1 Solutions", "'+1 Solutions"),
        ("-2 Holdings", "'-2 Holdings"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Contoso = Fabrikam - 1", "Contoso = Fabrikam - 1"),
        ("Wide\x1bWorld", "Wide\\x1bWorld"),
        ("", ""),
    ],
)
def test_for_csv_cell_quotes_what_a_spreadsheet_would_run(cell: str, written: str) -> None:
    assert for_csv_cell(cell) == written


def test_for_csv_cell_leaves_numbers_and_empty_values_alone() -> None:
    assert for_csv_cell(-2.5) == -2.5
    assert for_csv_cell(None) is None
    assert for_csv_row({"name": "=1", "acr_usd": -3, "ours": True}) == {
        "name": "'=1",
        "acr_usd": -3,
        "ours": True,
    }


# ------------------------------------------------------------------------------- Markdown, Teams


def test_for_markdown_lets_no_link_image_tag_or_table_break_form() -> None:
    for name in HOSTILE.values():
        cell = for_markdown(name)
        rendered = inert.markdown(f"| customer |\n| --- |\n| {cell} |\n", repr(name))
        assert rendered.count("<td>") == 1, f"{name!r} split the table cell"
    assert inert.markdown(for_markdown("[x](http://evil)"), "link") == "<p>[x](http://evil)</p>\n"
    assert for_markdown("Smith & Sons") == "Smith \\& Sons"
    assert for_markdown("1. first") == "1\\. first"


def test_for_markdown_code_fences_past_any_backticks() -> None:
    assert for_markdown_code('{"name": "x"}') == '`{"name": "x"}`'
    assert for_markdown_code("a`b") == "``a`b``"
    assert for_markdown_code("`x") == "`` `x ``"
    assert for_markdown_code("a|b") == "`a\\|b`"
    assert for_markdown_code("") == ""
    row = f"| v |\n| - |\n| {for_markdown_code('``</code><script>x</script>|[x](http://e)')} |\n"
    assert "<script>" not in inert.markdown(row, "code span")


def test_for_teams_renders_literally_as_adaptive_card_markdown() -> None:
    for name in HOSTILE.values():
        inert.markdown(for_teams(name), repr(name))
    assert for_teams("**urgent** _now_") == "\\*\\*urgent\\*\\* \\_now\\_"


# ------------------------------------------------------------------------------- Slack


def test_for_slack_escapes_what_slack_parses() -> None:
    assert for_slack("<!channel> & <@U123> <http://evil|x>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;http://evil|x&gt;"
    )
    assert for_slack("Wide\x1b[2J") == "Wide\\x1b[2J"


# ------------------------------------------------------------------------------- HTML


def test_for_html_escapes_tags_attributes_and_invisible_characters() -> None:
    assert for_html('<img src=x onerror="alert(1)">') == (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    )
    assert for_html("it's") == "it&#x27;s"
    assert for_html("Invoice\u202egnp") == "Invoice\\u202egnp"
    for name in HOSTILE.values():
        inert.html_page(f"<p title='{for_html(name)}'>{for_html(name)}</p>", repr(name))


# ------------------------------------------------------------------------------- mail, text, logs


def test_for_mail_header_is_one_line_the_mail_library_accepts() -> None:
    for name in HOSTILE.values():
        header = for_mail_header(f"[partnerlink] New: {name}")
        assert "\r" not in header and "\n" not in header
        mail = EmailMessage()
        mail["Subject"] = header  # raises on CR or LF
        lines = mail.as_bytes().splitlines()
        assert [line for line in lines if line.startswith(b"Subject:")] == lines[:1]
    assert for_mail_header("Line\r\nBcc: x@y") == "Line Bcc: x@y"
    assert len(for_mail_header("x" * 1000)) == 250


def test_plain_text_and_log_values_spell_out_line_breaks_and_escapes() -> None:
    assert for_plain_text("a\r\nFAKE: line\x1b[2J") == "a\\r\\nFAKE: line\\x1b[2J"
    assert for_log("event\nforged=1\x9b") == "event\\nforged=1\\x9b"


# ------------------------------------------------------------------------- PSA tickets


def test_for_psa_text_is_one_line_without_a_tag_within_its_limit() -> None:
    for name in HOSTILE.values():
        shown = for_psa_text(name, 60)
        inert.psa_title(shown, repr(name[:40]))
        assert len(shown) <= 60
    assert for_psa_text("<b>Contoso</b> & Co") == "\u2039b\u203aContoso\u2039/b\u203a & Co"
    assert for_psa_text("Line\r\nBcc: x") == "Line Bcc: x", "a line break is a space"
    assert for_psa_text("x" * 10, 5) == "xxxx\u2026"
