"""What a notice says beyond the child: who issues it, its number series, and its legal basis.

Pure (no database): the service fills a NoticeText from the case, the child and these settings,
and pdf.py lays it out.

Who issues which notice follows the work plan: the education bureau sends 入学通知书 and
劝返复学通知书; when persuasion fails the case goes to the town government, which orders the
guardians to enroll the child by a deadline (责令限期改正, 限期入学通知书) and then tells them they
are in breach of the law (违反义务教育法告知书). 《义务教育法》第五十八条 gives that power to
"当地乡镇人民政府或者县级人民政府教育行政部门", so a county may have the bureau issue those too
(NOTICE_TOWN_ISSUES empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

KINDS = ("enroll", "return", "deadline", "violation")
TITLES = {"enroll": "入学通知书", "return": "劝返复学通知书", "deadline": "限期入学通知书",
          "violation": "违反义务教育法告知书"}
# Each kind is its own number series: the mark after the issuer's prefix tells them apart
# (海安教返〔2027〕0001号, 海安教限〔2027〕0001号).
SERIES_MARKS = {"enroll": "入", "return": "返", "deadline": "限", "violation": "告"}

GUARDIANS_DUTY = ("《中华人民共和国义务教育法》第五条第二款：适龄儿童、少年的父母或者其他法定监护人应当依法"
                  "保证其按时入学接受并完成义务教育；第十一条第一款：凡年满六周岁的儿童，其父母或者其他法定监护人"
                  "应当送其入学接受并完成义务教育。")
ARTICLE_58 = ("《中华人民共和国义务教育法》第五十八条：适龄儿童、少年的父母或者其他法定监护人无正当理由未依照"
              "本法规定送适龄儿童、少年入学接受义务教育的，由当地乡镇人民政府或者县级人民政府教育行政部门给予"
              "批评教育，责令限期改正。")
LEGAL_BASIS = {"enroll": (GUARDIANS_DUTY,), "return": (GUARDIANS_DUTY,),
               "deadline": (GUARDIANS_DUTY, ARTICLE_58), "violation": (GUARDIANS_DUTY, ARTICLE_58)}

# The government of a town by its kind (towns.kind): 镇人民政府, 街道办事处, 开发区管理委员会.
_TOWN_AUTHORITY = {"town": "人民政府", "subdistrict": "办事处", "zone": "管理委员会"}


@dataclass(frozen=True)
class NoticeSettings:
    county: str = ""  # COUNTY_NAME: 海安市
    bureau: str = ""  # NOTICE_ISSUER: 海安市教育体育局 (default: the county's 教育体育局)
    prefix: str = "教"  # NOTICE_NUMBER_PREFIX: 海安教
    town_issues: frozenset[str] = field(default_factory=lambda: frozenset({"deadline", "violation"}))

    @classmethod
    def from_config(cls, config) -> NoticeSettings:
        county = config.get("COUNTY_NAME") or ""
        kinds = config.get("NOTICE_TOWN_ISSUES")
        kinds = "deadline,violation" if kinds is None else kinds
        return cls(county=county, bureau=config.get("NOTICE_ISSUER") or f"{county}教育体育局",
                   prefix=config.get("NOTICE_NUMBER_PREFIX") or "教",
                   town_issues=frozenset(k.strip() for k in kinds.split(",") if k.strip() in KINDS))

    def series_prefix(self, kind: str) -> str:
        return self.prefix + SERIES_MARKS[kind]

    def issuer(self, kind: str, town_name: str, town_kind: str = "town") -> str:
        """The authority whose seal goes on this kind of notice for a child of this town."""
        if kind in self.town_issues:
            return f"{self.county}{town_name}{_TOWN_AUTHORITY.get(town_kind, '人民政府')}"
        return self.bureau


def format_number(prefix: str, year: int, number: int) -> str:
    """海安教返〔2027〕0001号: the series' prefix, the year in 〔〕, four digits."""
    return f"{prefix}〔{year}〕{number:04d}号"


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
    school_name: str | None = None
    report_place: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


def day(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "____年__月__日"


def _blank(value: str | None, width: int = 8) -> str:
    return value or "_" * width


def paragraphs(t: NoticeText) -> list[str]:
    """The notice's text, paragraph by paragraph: salutation, facts, what to do, the law, whom to call."""
    who = f"{_blank(t.guardian_name, 6)}（{t.child_name}的监护人）："
    child = f"{t.child_name}（{day(t.birth_date)}出生，住{t.town}{t.village}）"
    school = _blank(t.school_name, 12)
    place = t.report_place or t.school_name
    where = f"到{school}" + (f"（{place}）" if place and place != t.school_name else "")
    by = day(t.deadline)
    texts = {
        "enroll": [f"你的子女{child}已达义务教育入学年龄，应当按时入学接受义务教育。",
                   f"请于{by}前，携带户口簿和本通知书，{where}办理入学手续。"],
        "return": [f"经核查，你的子女{child}目前未在校就读。适龄儿童、少年应当接受并完成义务教育，"
                   f"学校和村（社区）将为其返校提供必要帮助。",
                   f"请于{by}前，携带本通知书，送子女{where}报到复学。"],
        "deadline": [f"你的子女{child}经多次劝返仍未入学。你未依法送适龄子女入学接受义务教育，现予批评教育，"
                     f"并责令限期改正。",
                     f"请于{by}前，携带本通知书，送子女{where}报到入学。逾期不改正的，将依法作进一步处理。"],
        "violation": [f"你的子女{child}经限期改正仍未入学。你的行为违反了《中华人民共和国义务教育法》的规定。",
                      f"请于{by}前，送子女{where}报到入学。仍不改正的，将依法申请人民法院处理，并依法追究相应的法律责任。"],
    }
    basis = "依据：" + "".join(LEGAL_BASIS[t.kind])
    contact = f"联系人：{_blank(t.contact_name, 6)}　　联系电话：{_blank(t.contact_phone, 11)}"
    return [who, *texts[t.kind], basis, contact]


def receipt_rows(t: NoticeText) -> list[tuple[str, str]]:
    """送达回证: what the person who hands the notice over fills in with the guardian."""
    return [
        ("送达文书", f"{TITLES[t.kind]}　{t.number}"),
        ("受送达人", f"{_blank(t.guardian_name, 6)}（{t.child_name}的监护人）"),
        ("送达地点", f"{t.town}{t.village}"),
        ("送达时间", "　　　　年　　月　　日　　时"),
        ("受送达人签名", ""),
        ("送达人签名", ""),
        ("见证人签名", ""),
        ("备注", "受送达人拒绝签收的，送达人在备注中写明情况，由见证人签名。"),
    ]
