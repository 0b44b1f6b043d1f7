"""A visit list (走访清单) on paper and in Excel: route order, 组/号, address, head of household,
phone, the reason in Chinese, and a blank column for what the visit found. Pure: no Flask, no SQL.

The PDF uses the notices' fonts (server/cases/pdf.py: AR PL UMing for text, WenQuanYi Zen Hei
for titles, from Debian's packages) in a reportlab table that repeats its header on every page;
the XLSX is laid out by server/reports/sheets.py like the county's other tables. No ID number
is ever in the rows handed here.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.cases.pdf import FONTS
from server.reports import sheets

TITLE = "控辍保学入户走访清单"
NOTE = ("注：顺序为建议走访路线：先疑似失学辍学，再重点群体，后未走访户；有GPS定位的户按实地位置排路线，"
        "无定位的户按组、号顺序排在同类之后。")


@dataclass(frozen=True)
class Heading:
    team: str
    villages: list[str]
    on: dt.date


COLUMNS = (
    # key, header, PDF width (mm), XLSX width (chars)
    ("route_order", "序号", 11, 6),
    ("village_name", "村（社区）", 26, 14),
    ("place", "组/号", 22, 12),
    ("address", "地址", 66, 34),
    ("head_name", "户主", 20, 10),
    ("phone", "联系电话", 28, 14),
    ("reason_label", "走访原因", 26, 14),
    ("gps", "定位", 13, 8),
    ("note", "走访情况", 55, 24),
)


def _cell(row: dict, key: str):
    if key == "gps":
        return "有" if row["located"] else "无"
    if key == "note":
        return ""
    return row.get(key)


def _font(name: str) -> str:
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, FONTS[name], subfontIndex=0))
    return name


def summary(heading: Heading, rows: list[dict]) -> str:
    located = sum(1 for r in rows if r["located"])
    return (f"工作组：{heading.team}　　包村：{'、'.join(heading.villages)}　　"
            f"共{len(rows)}户（有定位{located}户）　　打印日期：{sheets.chinese_date(heading.on)}")


def pdf(heading: Heading, rows: list[dict]) -> bytes:
    song, hei = _font("Song"), _font("Hei")
    body = ParagraphStyle("body", fontName=song, fontSize=9.5, leading=12, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontName=hei, alignment=1)
    title = ParagraphStyle("title", fontName=hei, fontSize=18, leading=24, alignment=1)
    line = ParagraphStyle("line", fontName=song, fontSize=10.5, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=song, fontSize=8.5, leading=11, wordWrap="CJK",
                           textColor=colors.Color(0.35, 0.35, 0.35))

    def text(value) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape("" if value is None else str(value)), body)

    data = [[Paragraph(h, head) for _k, h, _w, _x in COLUMNS]]
    data += [[text(_cell(r, k)) for k, _h, _w, _x in COLUMNS] for r in rows]
    if not rows:
        data.append([text("当前没有待走访的户。")] + [""] * (len(COLUMNS) - 1))
    table = Table(data, colWidths=[w * mm for _k, _h, w, _x in COLUMNS], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.85, 0.88, 0.95)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if not rows:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))

    out = io.BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(song, 8.5)
        canvas.drawCentredString(landscape(A4)[0] / 2, 8 * mm, f"{heading.team}　第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=15 * mm, title=f"{TITLE}（{heading.team}）",
                            author="一个都不少")
    doc.build([Paragraph(TITLE, title), Spacer(1, 3 * mm), Paragraph(summary(heading, rows), line),
               Spacer(1, 3 * mm), table, Spacer(1, 3 * mm), Paragraph(NOTE, small),
               Paragraph("走访人签名：________________　　走访日期：______年____月____日", line)],
              onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def xlsx(heading: Heading, rows: list[dict]) -> bytes:
    columns = tuple(sheets.Column(k, h, x, "int" if k == "route_order" else "text") for k, h, _w, x in COLUMNS)
    table = sheets.Table(
        title=f"{TITLE}（{heading.team}）",
        lines=(summary(heading, rows),),
        columns=columns,
        rows=[{k: _cell(r, k) for k, _h, _w, _x in COLUMNS} for r in rows],
        notes=(NOTE,), frozen_columns=3)
    return sheets.book([("走访清单", table)])
