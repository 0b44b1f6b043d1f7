"""What a notice says and who signs it (server/cases/notices.py), and that a long one still keeps
its 送达回证 whole (server/cases/pdf.py)."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from server.cases import pdf
from server.cases.notices import NoticeSettings, NoticeText, format_number, paragraphs

HAIAN = {"COUNTY_NAME": "海安市", "NOTICE_NUMBER_PREFIX": "海安教", "NOTICE_ISSUER": "海安市教育体育局"}


def _text(kind="return", **changes) -> NoticeText:
    values = dict(kind=kind, number=format_number("海安教返", 2027, 7), child_name="王小明", guardian_name="王大明",
                  village="新庄村", town="城东镇", birth_date=dt.date(2013, 4, 2), issued_on=dt.date(2027, 6, 20),
                  deadline=dt.date(2027, 7, 9), issuer="海安市教育体育局", school_name="海安市城东镇中心小学",
                  contact_name="张丽", contact_phone="0513-88123456")
    return NoticeText(**(values | changes))


def test_the_bureau_sends_persuasion_notices_and_the_town_government_orders_the_deadline():
    s = NoticeSettings.from_config(HAIAN)
    assert s.issuer("enroll", "城东镇") == s.issuer("return", "城东镇") == "海安市教育体育局"
    assert s.issuer("deadline", "城东镇") == "海安市城东镇人民政府"
    assert s.issuer("violation", "城东镇") == "海安市城东镇人民政府"
    assert s.issuer("deadline", "城南街道", "subdistrict") == "海安市城南街道办事处"
    assert s.issuer("deadline", "海安开发区", "zone") == "海安市海安开发区管理委员会"
    # A county whose bureau issues every notice itself (第五十八条 allows either).
    bureau_only = NoticeSettings.from_config(HAIAN | {"NOTICE_TOWN_ISSUES": ""})
    assert bureau_only.issuer("deadline", "城东镇") == "海安市教育体育局"


def test_each_kind_has_its_own_number_series():
    s = NoticeSettings.from_config(HAIAN)
    prefixes = {kind: s.series_prefix(kind) for kind in ("enroll", "return", "deadline", "violation")}
    assert prefixes == {"enroll": "海安教入", "return": "海安教返", "deadline": "海安教限", "violation": "海安教告"}
    assert format_number(prefixes["deadline"], 2027, 12) == "海安教限〔2027〕0012号"


def test_without_a_configured_bureau_the_county_names_it():
    assert NoticeSettings.from_config({"COUNTY_NAME": "如皋市"}).bureau == "如皋市教育体育局"


def test_the_text_names_what_to_do_by_when_where_and_on_what_ground():
    text = "".join(paragraphs(_text("deadline", report_place="学校教务处（东门）")))
    assert "王大明（王小明的监护人）" in text and "2013年4月2日出生" in text
    assert "请于2027年7月9日前" in text and "海安市城东镇中心小学（学校教务处（东门））" in text
    assert "第五条" in text and "第十一条" in text and "第五十八条" in text and "责令限期改正" in text
    assert "张丽" in text and "0513-88123456" in text
    enroll = "".join(paragraphs(_text("enroll", guardian_name=None, school_name=None, contact_phone=None)))
    # What the office does not know yet is a line to fill in by hand, never a made-up value.
    assert "______（王小明的监护人）" in enroll and "到____________办理入学手续" in enroll and "第五十八条" not in enroll


def _pages(data: bytes) -> list[str]:
    return [page.extract_text().replace("\n", "") for page in PdfReader(io.BytesIO(data)).pages]


def test_a_notice_is_one_page_with_its_receipt_stub():
    pages = _pages(pdf.render(_text()))
    assert len(pages) == 1
    assert "劝返复学通知书" in pages[0] and "送达回证" in pages[0] and "受送达人签名" in pages[0]
    assert pages[0].count("海安教返〔2027〕0007号") >= 2


def test_a_long_notice_moves_its_receipt_to_a_page_of_its_own():
    long_place = "海安市城东镇新庄村村民委员会二楼会议室，" * 12
    pages = _pages(pdf.render(_text("violation", report_place=long_place)))
    assert len(pages) == 2
    assert "送达回证" not in pages[0] and "送达回证" in pages[1] and "受送达人签名" in pages[1]
