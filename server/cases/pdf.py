"""The four notices as A4 Chinese PDFs a county can send: a numbered notice with its legal
basis, the issuer's seal area, and a 送达回证 stub below a cut line (reportlab, TrueType fonts
from Debian's packages)."""

from __future__ import annotations

import io
import os

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from server.cases.notices import TITLES, NoticeText, day, paragraphs, receipt_rows

# Body text in a Song (Ming) face, AR PL UMing from fonts-arphic-uming, as official letters are;
# titles in a Hei face, WenQuanYi Zen Hei from fonts-wqy-zenhei. Both are TrueType collections,
# which reportlab embeds (Noto CJK ships CFF outlines, which it cannot).
FONTS = {
    "Song": os.environ.get("NOTICE_FONT_PATH", "/usr/share/fonts/truetype/arphic/uming.ttc"),
    "Hei": os.environ.get("NOTICE_TITLE_FONT_PATH", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
}
# Punctuation that may not begin a line (避头尾): it hangs at the end of the line before.
_NO_LINE_START = set("，。、；：？！）》」』”’")

_WIDTH, _HEIGHT = A4
_LEFT, _RIGHT = 25 * mm, _WIDTH - 25 * mm
_CUT_Y = 108 * mm  # the cut line above the 送达回证
_GREY = Color(0.45, 0.45, 0.45)


def _font(name: str) -> str:
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, FONTS[name], subfontIndex=0))
    return name


def _lines(text: str, font: str, size: float, width: float, indent: str) -> list[str]:
    lines, line = [], indent
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width and line.strip() and ch not in _NO_LINE_START:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    return lines


def _notice(page: canvas.Canvas, t: NoticeText) -> float:
    """The notice itself, from the top of the page; returns where it ended."""
    song, hei = _font("Song"), _font("Hei")
    page.setFont(hei, 22)
    page.drawCentredString(_WIDTH / 2, _HEIGHT - 30 * mm, TITLES[t.kind])
    page.setFont(song, 12)
    page.drawCentredString(_WIDTH / 2, _HEIGHT - 40 * mm, t.number)
    y, size, leading = _HEIGHT - 54 * mm, 12.5, 7 * mm
    for i, paragraph in enumerate(paragraphs(t)):
        small = paragraph.startswith("依据：")
        font_size = 10.5 if small else size
        indent = "" if i == 0 else "　　"  # a salutation, then two full-width spaces of indent
        page.setFont(song, font_size)
        for line in _lines(paragraph, song, font_size, _RIGHT - _LEFT, indent):
            page.drawString(_LEFT, y, line)
            y -= leading * (0.85 if small else 1)
        y -= 2 * mm
    # The issuer and the date, right-aligned, with the place for the seal over them.
    y -= 8 * mm
    page.setFont(song, 13)
    page.drawRightString(_RIGHT, y, t.issuer)
    page.drawRightString(_RIGHT, y - 9 * mm, day(t.issued_on))
    centre_x = _RIGHT - pdfmetrics.stringWidth(t.issuer, song, 13) / 2
    page.saveState()
    page.setStrokeColor(_GREY)
    page.setFillColor(_GREY)
    page.setDash(2, 2)
    page.circle(centre_x, y - 3 * mm, 22 * mm)
    page.setFont(song, 8)
    page.drawCentredString(centre_x, y + 13 * mm, "（盖章）")
    page.restoreState()
    return y - 9 * mm - 22 * mm


def _receipt(page: canvas.Canvas, t: NoticeText, top: float) -> None:
    """The 送达回证 below a cut line: handed back signed, it proves the notice was delivered."""
    song, hei = _font("Song"), _font("Hei")
    page.saveState()
    page.setDash(3, 3)
    page.setStrokeColor(_GREY)
    page.line(_LEFT - 10 * mm, top, _RIGHT + 10 * mm, top)
    page.setFillColor(_GREY)
    page.setFont(song, 8)
    label = "沿此线剪开，回证由送达人带回存档"
    width = pdfmetrics.stringWidth(label, song, 8) + 6 * mm
    page.setFillColorRGB(1, 1, 1)
    page.rect(_WIDTH / 2 - width / 2, top - 2 * mm, width, 4 * mm, stroke=0, fill=1)
    page.setFillColor(_GREY)
    page.drawCentredString(_WIDTH / 2, top - 1 * mm, label)
    page.restoreState()

    page.setFont(hei, 16)
    page.drawCentredString(_WIDTH / 2, top - 13 * mm, "送达回证")
    page.setFont(song, 10)
    page.drawRightString(_RIGHT, top - 13 * mm, t.number)
    rows = receipt_rows(t)
    row_height, label_width = 9.5 * mm, 34 * mm
    y = top - 20 * mm
    page.setStrokeColor(black)
    page.setLineWidth(0.6)
    for label, value in rows:
        page.rect(_LEFT, y - row_height, _RIGHT - _LEFT, row_height)
        page.line(_LEFT + label_width, y, _LEFT + label_width, y - row_height)
        page.setFont(song, 11)
        page.drawCentredString(_LEFT + label_width / 2, y - row_height + 3.2 * mm, label)
        size = 11 if pdfmetrics.stringWidth(value, song, 11) < _RIGHT - _LEFT - label_width - 6 * mm else 9
        page.setFont(song, size)
        page.drawString(_LEFT + label_width + 3 * mm, y - row_height + 3.2 * mm, value)
        y -= row_height


def render(t: NoticeText) -> bytes:
    """The notice and its 送达回证: one A4 page, or two when the notice runs long."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setTitle(f"{TITLES[t.kind]} {t.number}")
    page.setAuthor(t.issuer)
    end = _notice(page, t)
    if end < _CUT_Y + 4 * mm:
        page.showPage()  # the stub never overlaps the notice: it goes on a page of its own
        _receipt(page, t, _HEIGHT - 30 * mm)
    else:
        _receipt(page, t, _CUT_Y)
    page.showPage()
    page.save()
    return buffer.getvalue()
