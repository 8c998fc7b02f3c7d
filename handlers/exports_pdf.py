"""A session's sign-in sheet as a PDF, drawn with fpdf2: A4, one table of volunteers to sign in
and out, one of the families placed there, headings repeated on every page.

Names may be written in any script. The text is set in DejaVu Sans, the TrueType font that
matplotlib (already a dependency) ships in its own package, so no system font is needed; it is
embedded, cut down to the letters used. Right-to-left names (Arabic, Hebrew, Urdu) are shaped
and ordered by HarfBuzz (uharfbuzz), when the sheet holds any. A letter the font lacks (Chinese,
Japanese or Korean, most emoji) would silently vanish from the page, and fpdf2 would log the
name: so an emoji or other symbol the font lacks is left out, and any other missing letter is
printed as □, which at least shows that something is there.

Drawing a sheet takes a few hundred milliseconds (reading the font dominates), so the bot calls
`draw` to run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from fpdf import FPDF
from fpdf.enums import Align, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from handlers import export_texts
from storage.exports_sheet import SignInSheet

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MISSING = "□"  # in DejaVu Sans
MARGIN = 12  # mm
TITLE_SIZE, HEADING_SIZE, TEXT_SIZE, SMALL_SIZE = 15, 11.5, 9.5, 7.5
HEADINGS_SIZE = 8.5  # a table's headings: "Time out" on one line
ROW_HEIGHT = 8.5  # mm: room for a signature
# Columns in mm, adding up to the 186 mm between A4's margins.
VOLUNTEER_COLUMNS = (48, 22, 18, 19, 18, 42, 19)
FAMILY_COLUMNS = (36, 50, 18, 44, 22, 16)
HEADINGS_GREY = (225, 225, 225)
STRIPE_GREY = (246, 246, 246)


async def draw(sheet: SignInSheet, *, programme: str, tz: ZoneInfo, now: datetime) -> bytes:
    """`sign_in_sheet` in a worker thread."""
    return await asyncio.to_thread(sign_in_sheet, sheet, programme=programme, tz=tz, now=now)


def font_folder() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


class _Sheet(FPDF):
    """A4 with the programme's footer on every page."""

    def __init__(self, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer = footer
        self.printable: frozenset[int] = frozenset()

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT, size=SMALL_SIZE)
        self.cell(
            w=0,
            h=4,
            text=export_texts.sheet_footer(self._footer, self.page_no()),
            align=Align.C,
        )

    def say(self, text: str) -> str:
        """The text with what the font cannot draw left out or shown as □ (see the module)."""
        return printable(text, self.printable)


def printable(text: str, glyphs: frozenset[int]) -> str:
    kept = []
    for char in text:
        if ord(char) in glyphs or char in "\n ":
            kept.append(char)
        elif unicodedata.category(char)[0] in "SMC":  # emoji, their modifiers and joiners
            continue
        else:
            kept.append(MISSING)
    return " ".join("".join(kept).split()) or MISSING


def needs_shaping(words: Iterable[str]) -> bool:
    """Right-to-left letters, or combining marks (Indic vowel signs, accents typed apart):
    text HarfBuzz must order and join. Other text is set without it, at a third of the cost."""
    return any(
        unicodedata.bidirectional(char) in ("R", "AL") or unicodedata.category(char)[0] == "M"
        for word in words
        for char in word
    )


def _words(sheet: SignInSheet) -> list[str]:
    """Everything on the sheet that a person typed."""
    return [
        sheet.location,
        sheet.address,
        *sheet.leads,
        *(job.job for job in sheet.jobs),
        *(volunteer.name for volunteer in sheet.volunteers),
        *(family.reference for family in sheet.families),
        *(family.school for family in sheet.families),
        *(band for family in sheet.families for band in family.age_bands),
    ]


def sign_in_sheet(sheet: SignInSheet, *, programme: str, tz: ZoneInfo, now: datetime) -> bytes:
    """The sheet's PDF: who is on, the places still open, the families placed."""
    pdf = _Sheet(export_texts.sheet_footer_base(programme, now.astimezone(tz)))
    for style, file_name in FONT_FILES.items():
        pdf.add_font(FONT, style, font_folder() / file_name)
    pdf.printable = _glyphs(pdf)
    if needs_shaping(_words(sheet)):
        pdf.set_text_shaping(use_shaping_engine=True)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN + 6)
    pdf.set_title(pdf.say(export_texts.sheet_title(sheet, tz)))
    pdf.set_creator(programme)
    pdf.set_creation_date(now)
    pdf.alias_nb_pages()
    pdf.add_page()
    _heading(pdf, sheet, tz)
    _volunteers(pdf, sheet)
    _families(pdf, sheet)
    return bytes(pdf.output())


def _heading(pdf: _Sheet, sheet: SignInSheet, tz: ZoneInfo) -> None:
    pdf.set_font(FONT, "B", TITLE_SIZE)
    pdf.multi_cell(w=0, h=7, text=pdf.say(export_texts.sheet_title(sheet, tz)), new_x=XPos.LMARGIN)
    pdf.set_font(FONT, size=TEXT_SIZE)
    for line in export_texts.sheet_about(sheet, tz):
        pdf.multi_cell(w=0, h=5, text=pdf.say(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _section(pdf: _Sheet, title: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", HEADING_SIZE)
    pdf.cell(w=0, h=7, text=pdf.say(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=TEXT_SIZE)


def _table(
    pdf: _Sheet, columns: tuple[int, ...], heading: tuple[str, ...], rows: list[list[str]]
) -> None:
    with pdf.table(
        col_widths=columns,
        width=sum(columns),
        align=Align.L,
        line_height=ROW_HEIGHT,
        text_align=Align.L,
        repeat_headings=1,
        headings_style=FontFace(emphasis="BOLD", size_pt=HEADINGS_SIZE, fill_color=HEADINGS_GREY),
        cell_fill_color=STRIPE_GREY,
        cell_fill_mode=TableCellFillMode.ROWS,
    ) as table:
        table.row(list(heading))
        for row in rows:
            table.row([pdf.say(cell) if cell else "" for cell in row])


def _volunteers(pdf: _Sheet, sheet: SignInSheet) -> None:
    _section(pdf, export_texts.sheet_volunteers_title(sheet))
    rows = [export_texts.sheet_volunteer_row(volunteer) for volunteer in sheet.volunteers]
    rows += [export_texts.sheet_open_row(job.job) for job in sheet.jobs for _ in range(job.open)]
    if not rows:
        pdf.multi_cell(w=0, h=5, text=export_texts.sheet_no_volunteers(), new_x=XPos.LMARGIN)
        return
    _table(pdf, VOLUNTEER_COLUMNS, export_texts.SHEET_VOLUNTEER_HEADING, rows)


def _families(pdf: _Sheet, sheet: SignInSheet) -> None:
    _section(pdf, export_texts.sheet_families_title(sheet))
    if not sheet.families:
        pdf.multi_cell(w=0, h=5, text=export_texts.sheet_no_families(), new_x=XPos.LMARGIN)
        return
    rows = [export_texts.sheet_family_row(family) for family in sheet.families]
    _table(pdf, FAMILY_COLUMNS, export_texts.SHEET_FAMILY_HEADING, rows)
    pdf.ln(2)
    pdf.set_font(FONT, size=SMALL_SIZE)
    pdf.multi_cell(w=0, h=4, text=export_texts.sheet_needs_note(), new_x=XPos.LMARGIN)


def _glyphs(pdf: FPDF) -> frozenset[int]:
    """The letters every style of the font can draw."""
    styles = [pdf.fonts[f"{FONT.lower()}{style}"] for style in FONT_FILES]
    maps = [set(font.cmap) for font in styles if isinstance(font, TTFFont)]
    return frozenset(set.intersection(*maps)) if maps else frozenset()
