"""The four notices as one-page Chinese PDFs (reportlab with a TrueType CJK font)."""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

# WenQuanYi Zen Hei from Debian's fonts-wqy-zenhei (scripts/setup.sh): a TrueType collection,
# which reportlab can embed (Noto CJK ships CFF outlines, which it cannot).
FONT_PATH = os.environ.get("NOTICE_FONT_PATH", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT = "WQYZenHei"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
    return FONT


@dataclass(frozen=True)
class NoticeText:
    kind: str
    number: str
    child_name: str
    guardian_name: str | None
    village: str
    town: str
    birth_date: dt.date
    issued_on: dt.date
    deadline: dt.date | None
    issuer: str


def _d(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"


TITLES = {"enroll": "入学通知书", "return": "劝返复学通知书", "deadline": "限期入学通知书",
          "violation": "违反义务教育法告知书"}


def body(t: NoticeText) -> list[str]:
    """The notice's paragraphs, from its template."""
    who = f"{t.guardian_name or '____'}（{t.child_name}的监护人）："
    child = f"{t.child_name}（{_d(t.birth_date)}出生，户籍{t.town}{t.village}）"
    law = "根据《中华人民共和国义务教育法》第五条、第十一条，适龄儿童、少年的父母或者其他法定监护人应当依法保证其按时入学接受并完成义务教育。"
    texts = {
        "enroll": [who, f"你的子女{child}已达义务教育入学年龄。{law}",
                   f"请于{_d(t.deadline)}前携带户口簿等材料到学校办理入学手续。"],
        "return": [who, f"经核查，你的子女{child}目前未在校就读。{law}",
                   f"请于{_d(t.deadline)}前送子女返校复学。学校与村（社区）将提供必要帮助。"],
        "deadline": [who, f"你的子女{child}经多次劝返仍未入学。{law}",
                     f"现责令你于{_d(t.deadline)}前送子女入学。逾期不改正的，将依法予以处理。"],
        "violation": [who, f"你的子女{child}至今未按要求入学。你的行为违反了《中华人民共和国义务教育法》。{law}",
                      "经限期改正仍未送子女入学的，将依法提请司法程序，追究法律责任。"],
    }
    return texts[t.kind]


def render(t: NoticeText) -> bytes:
    """One A4 page: title, number, paragraphs wrapped by width, issuer and date."""
    font = _font()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setTitle(f"{TITLES[t.kind]} {t.number}")
    width, height = A4
    page.setFont(font, 22)
    page.drawCentredString(width / 2, height - 40 * mm, TITLES[t.kind])
    page.setFont(font, 12)
    page.drawCentredString(width / 2, height - 52 * mm, t.number)
    y = height - 70 * mm
    left, right = 25 * mm, width - 25 * mm
    for i, paragraph in enumerate(body(t)):
        line = "" if i == 0 else "　　"  # first-line indent of two full-width spaces
        for ch in paragraph:
            if pdfmetrics.stringWidth(line + ch, font, 13) > right - left:
                page.setFont(font, 13)
                page.drawString(left, y, line)
                y -= 9 * mm
                line = ""
            line += ch
        page.setFont(font, 13)
        page.drawString(left, y, line)
        y -= 11 * mm
    page.drawRightString(right, y - 15 * mm, t.issuer)
    page.drawRightString(right, y - 25 * mm, _d(t.issued_on))
    page.showPage()
    page.save()
    return buffer.getvalue()
