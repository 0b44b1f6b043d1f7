"""Use cases of the reports: the rates table, the monthly dropout report, the semester check,
the rates XLSX (built by a job after the request commits) and the register of out-of-school
children (登记造册, an XLSX download)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from server import disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.campaigns import queries as campaign_queries
from server.campaigns.school_age import Cutoff, cohorts
from server.cases import deadlines, machine
from server.errors import DomainError, not_found
from server.jobs import enqueue_after_commit
from server.people import statuses
from server.people.protection import IdNumberVault, child_subject
from server.reports import queries, rates, sheets
from server.reports.models import ReportExport
from server.tallies import service as tallies

COUNT_FIELDS = ("school_age", "enrolled", "legitimately_absent", "out_of_school", "returned", "dropped_out",
                "disabled_school_age", "disabled_enrolled", "disabled_legitimately_absent")
HEADERS = {
    "code": "代码", "name": "名称", "school_age": "适龄儿童少年", "enrolled": "在读（含送教上门）",
    "legitimately_absent": "依规未入学", "out_of_school": "未入学/辍学", "returned": "已劝返复学",
    "dropped_out": "学年内辍学", "disabled_school_age": "适龄残疾儿童", "disabled_enrolled": "残疾儿童在读",
    "disabled_legitimately_absent": "残疾儿童依规未入学", "enrollment_rate": "入学率",
    "retention_rate": "巩固率", "disabled_enrollment_rate": "残疾儿童少年入学率",
}


def school_year_of(session: Session, today: dt.date) -> tuple[int, Cutoff]:
    campaign = campaign_queries.active(session)
    if campaign is not None:
        return campaign.school_year, campaign.cutoff
    return (today.year if today.month >= 9 else today.year - 1), Cutoff()


def _with_rates(row: dict) -> dict:
    counts = rates.Counts(**{k: row[k] for k in COUNT_FIELDS})
    values = rates.rates(counts)
    return {**row, **values, "meets_targets": rates.meets_targets(values)}


def _counts(session: Session, scope: Scope, born_from: dt.date, born_to: dt.date, by: str,
            town_code: str | None) -> list[dict]:
    """queries.counts' rows; for a scope of whole villages by village, town or city, summed from
    the kept village tallies (server/tallies) instead of counting every child again."""
    if scope.students_only or by == "school":
        return queries.counts(session, scope, born_from, born_to, by, town_code)
    places = queries.village_places(session, scope, town_code)
    kept = tallies.rate_tallies(session, born_from, born_to,
                                None if scope.everywhere and not town_code else [place.code for place in places])
    groups: dict[str, dict] = {}
    for place in places:
        counts = kept.get(place.code)
        if not counts or not counts["school_age"]:
            continue  # as the counting query: a group is a group of children
        if by == "village":
            key, head = place.code, {"code": place.code, "name": place.name, "town_code": place.town_code,
                                     "town_name": place.town_name}
        elif by == "town":
            key, head = place.town_code, {"code": place.town_code, "name": place.town_name}
        else:
            key, head = "city", {"code": "city", "name": "全市"}
        row = groups.setdefault(key, {**head, **dict.fromkeys(COUNT_FIELDS, 0)})
        for field in COUNT_FIELDS:
            row[field] += counts[field]
    return [groups[k] for k in sorted(groups)]


def rates_report(session: Session, scope: Scope, by: str, today: dt.date, town_code: str | None = None) -> dict:
    """Counts and rates per group, and the total over every group, against the targets."""
    year, cutoff = school_year_of(session, today)
    all_cohorts = cohorts(year, cutoff)
    born_from, born_to = all_cohorts[-1].born_from, all_cohorts[0].born_to
    rows = _counts(session, scope, born_from, born_to, by, town_code)
    total = {k: sum(r[k] for r in rows) for k in COUNT_FIELDS}
    return {
        "school_year": year, "by": by, "targets": rates.TARGETS,
        "rows": [_with_rates(r) for r in rows],
        "total": _with_rates({"code": "total", "name": "合计", **total}),
        "cases": queries.case_status_counts(session, scope, today),
    }


def monthly_dropouts(session: Session, scope: Scope, year: int) -> dict:
    return {"year": year, "rows": queries.monthly_dropouts(session, scope, year)}


def semester_check(session: Session, scope: Scope, viewer: str, start: dt.date) -> dict:
    rows = queries.semester_check(session, scope, start)
    return {"start": start, "until": start + dt.timedelta(days=7), "total": len(rows), "items": [
        disclosure.show(viewer, "child", {
            "id": r.id, "kind": r.kind, "name": r.name, "village_code": r.village_code,
            "school_name": r.school_name, "grade": r.grade, "detected_on": r.detected_on, "child_id": r.child_id})
        for r in rows]}


# --- XLSX exports ------------------------------------------------------------------------------

def request_export(session: Session, person: Person, by: str, town_code: str | None) -> ReportExport:
    export = ReportExport(kind="rates", params={"by": by, "town": town_code}, created_by=person.id)
    session.add(export)
    session.flush()
    enqueue_after_commit(session, "reports.build_export", export.id)
    return export


LEVELS = {"village": "村（社区）", "town": "区镇", "school": "学校", "city": "全市"}
BY_TITLE = {"village": "分村（社区）", "town": "分区镇", "school": "分学校", "city": "全市"}
TARGET_TEXT = "目标：义务教育入学率100%，巩固率99%以上，残疾儿童少年入学率90%以上；未达目标的标红"
RATE_NOTES = (
    "注：入学率 = 在读（含送教上门、随班就读、县外就读）÷（适龄儿童少年 − 依规未入学）；",
    "巩固率 = 1 − 学年内辍学 ÷ 学年初在读，学年初在读 = 现在读 − 已劝返复学 + 学年内辍学；",
    "残疾儿童少年入学率按同一口径统计残疾儿童；已劝返复学只计个案以复学办结的儿童；“—”表示无应入学儿童。",
)


def rate_columns(by: str) -> tuple[sheets.Column, ...]:
    counts = [sheets.Column(f, HEADERS[f], 11 if f.startswith("disabled") else 9, "int") for f in COUNT_FIELDS]
    percents = [sheets.Column(f, HEADERS[f], 11, "percent") for f in rates.TARGETS]
    place = [sheets.Column("code", "代码", 14), sheets.Column("name", LEVELS[by] if by != "city" else "名称", 18)]
    if by == "village":
        place = [sheets.Column("town_name", "区镇", 14), *place]
    return (*place, *counts, *percents)


def _missed(row: dict, key: str) -> bool:
    return row.get("meets_targets", {}).get(key) is False


def build_xlsx(report: dict, campaign_name: str, scope_label: str, on: dt.date) -> bytes:
    """The rates as a county sends them: title, date, one row per group and the total, the
    percentages formatted, the rates below their targets marked."""
    by = report["by"]
    total = {**report["total"], "code": "", "name": "合计"}
    table = sheets.Table(
        title=f"{campaign_name} 义务教育入学率、巩固率统计表（{BY_TITLE[by]}）",
        lines=(f"范围：{scope_label}　　学年：{report['school_year']}学年　　统计日期：{sheets.chinese_date(on)}",
               TARGET_TEXT),
        columns=rate_columns(by), rows=[*report["rows"], total], miss=_missed,
        bold_rows=frozenset({len(report["rows"])}), notes=RATE_NOTES,
        frozen_columns=3 if by == "village" else 2)
    return sheets.book([("入学率与巩固率", table)])


def campaign_name(session: Session) -> str:
    campaign = campaign_queries.active(session)
    return campaign.name if campaign is not None else "控辍保学"


def scope_label(session: Session, person: Person, scope: Scope, town_code: str | None = None,
                village_code: str | None = None) -> str:
    """What a title says the sheet covers, naming only places the scope holds."""
    if village_code:
        name = queries.village_name_in_scope(session, scope, village_code)
        return name or f"村（社区）{village_code}"
    if town_code:
        return queries.town_name_in_scope(session, scope, town_code) or f"区镇 {town_code}"
    if scope.everywhere:
        return "全市"
    if person.role == "town_supervisor" and person.town_code:
        return queries.town_name_in_scope(session, scope, person.town_code) or person.town_code
    if person.role == "school" and person.school_id is not None:
        return queries.school_name(session, person.school_id) or "本校"
    return f"所包村（社区）{len(scope.village_codes)}个"


# --- the register of out-of-school children (登记造册) -------------------------------------------

REGISTER_COLUMNS = (
    sheets.Column("number", "序号", 6, "int"),
    sheets.Column("town_name", "区镇", 12),
    sheets.Column("village_name", "村（社区）", 14),
    sheets.Column("group_name", "组", 7),
    sheets.Column("household_number", "户号", 9),
    sheets.Column("name", "姓名", 10),
    sheets.Column("gender", "性别", 6),
    sheets.Column("birth_date", "出生日期", 16, "date"),
    sheets.Column("id_number", "公民身份号码", 21),
    sheets.Column("guardian_name", "监护人", 10),
    sheets.Column("phone", "联系电话", 14),
    sheets.Column("status", "在校状态", 15),
    sheets.Column("dropout_reason", "辍学原因", 16),
    sheets.Column("case_step", "个案环节", 18),
    sheets.Column("due_on", "办理期限", 16, "date"),
)
REGISTER_NOTES = (
    "注：在册为当前疑似未入学/辍学、未入学、辍学的适龄儿童少年（出生日期不详者一并列入）；",
    "公民身份号码只显示前6位；办理期限标红的个案已逾期；疑似未入学/辍学的儿童经核实后立案。",
)


def _natural(text: str | None) -> tuple:
    """组/号 in their order as numbers: 2组 before 10组."""
    parts = re.split(r"(\d+)", text or "")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _reason(viewer: str, row) -> str | None:
    if row.dropout_reason is None:
        return None
    label = statuses.DROPOUT_REASONS.get(row.dropout_reason, row.dropout_reason)
    note = disclosure.show(viewer, "child", {"dropout_reason_note": row.dropout_reason_note}).get("dropout_reason_note")
    return f"{label}：{note}" if row.dropout_reason == "other" and note else label


def _id_number(vault: IdNumberVault, viewer: str, row) -> str | None:
    # Lists show a number masked (disclosure.py); an export leaves the system, so even a viewer
    # the policy someday shows numbers in full gets the mask here, never the clear number.
    if row.id_number_cipher is None or disclosure.level(viewer, "child", "id_number") == disclosure.ABSENT:
        return None
    return disclosure.mask("id_number", vault.decrypt(row.id_number_cipher, child_subject(row.id)))


def register_rows(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, today: dt.date,
                  town_code: str | None = None, village_code: str | None = None) -> list[dict]:
    """The register's lines as the viewer may see them (disclosure.py), in 组/号 order."""
    year, cutoff = school_year_of(session, today)
    all_cohorts = cohorts(year, cutoff)
    found = queries.out_of_school_register(session, scope, all_cohorts[-1].born_from, all_cohorts[0].born_to,
                                           town_code, village_code)
    found = sorted(found, key=lambda r: (r.town_code, r.village_code, _natural(r.group_name),
                                         _natural(r.household_number), str(r.household_id)))
    lines = []
    for number, r in enumerate(found, start=1):
        child = disclosure.show(viewer, "child", {"name": r.name, "birth_date": r.birth_date, "gender": r.gender,
                                                  "guardian_name": r.guardian_name,
                                                  "guardian_phone": r.guardian_phone})
        household = disclosure.show(viewer, "household", {"phone": r.household_phone})
        overdue = r.case_id is not None and deadlines.is_overdue(r.due_on, today)
        lines.append({
            "child_id": r.id, "number": number, "town_name": r.town_name, "village_name": r.village_name,
            "group_name": r.group_name, "household_number": r.household_number,
            "name": child.get("name"), "gender": statuses.GENDERS.get(child.get("gender"), child.get("gender")),
            "birth_date": child.get("birth_date"), "id_number": _id_number(vault, viewer, r),
            "guardian_name": child.get("guardian_name"),
            "phone": child.get("guardian_phone") or household.get("phone"),
            "status": statuses.ENROLLMENT_STATUSES[r.enrollment_status],
            # A school confirms attendance; why a child left school is the teams' and the towns'
            # to read (as on the map's household card).
            "dropout_reason": None if scope.students_only else _reason(viewer, r),
            "case_step": machine.STATUSES[r.case_status] if r.case_status else "未立案（待核实）",
            "due_on": r.due_on if r.case_id is not None else None,
            "overdue": overdue,
        })
    return lines


def register_xlsx(lines: list[dict], campaign: str, label: str, on: dt.date, *, with_reason: bool = True) -> bytes:
    columns = tuple(c for c in REGISTER_COLUMNS if with_reason or c.key != "dropout_reason")
    table = sheets.Table(
        title=f"{campaign} 适龄儿童少年失学辍学登记册",
        lines=(f"范围：{label}　　统计日期：{sheets.chinese_date(on)}　　在册：{len(lines)}人",),
        columns=columns, rows=lines, miss=lambda row, key: key == "due_on" and row["overdue"],
        notes=REGISTER_NOTES, frozen_columns=6)
    return sheets.book([("失学辍学登记册", table)])


def register_export(session: Session, scope: Scope, vault: IdNumberVault, person: Person, today: dt.date,
                    town_code: str | None, village_code: str | None, *, endpoint: str,
                    remote_addr: str | None) -> bytes:
    """The register as XLSX, recorded in the audit trail as an export naming every child in it."""
    from server.audit import service as audit

    viewer = disclosure.viewer_of(person)
    lines = register_rows(session, scope, vault, viewer, today, town_code, village_code)
    content = register_xlsx(lines, campaign_name(session), scope_label(session, person, scope, town_code, village_code),
                            today, with_reason=not scope.students_only)
    filters = {k: v for k, v in (("town", town_code), ("village", village_code)) if v}
    audit.record_read(session, person.id, "export", "out_of_school_register", village_code or town_code or "all",
                      endpoint=endpoint, filters=filters, record_ids=[line["child_id"] for line in lines],
                      record_count=len(lines), remote_addr=remote_addr, detail={"format": "xlsx"})
    return content


def export_in_scope(session: Session, person: Person, export_id: int) -> ReportExport:
    # An export holds only what its requester could see: only they (or the city) read it.
    export = session.get(ReportExport, export_id)
    if export is None or (export.created_by != person.id and person.role != "city"):
        raise not_found("export")
    return export


def download_export(session: Session, person: Person, export_id: int, remote_addr: str | None) -> ReportExport:
    from server.audit import service as audit

    export = export_in_scope(session, person, export_id)
    if export.content is None:
        raise DomainError("reports.not_ready")
    audit.record(session, person.id, "export", "report", str(export.id), remote_addr=remote_addr,
                 params=export.params)
    return export


# --- the campaign's promise: every child on the roster accounted for ---------------------------

PHASES = (("publicity", "宣传动员", "publicity_start"), ("survey", "摸底建档", "survey_start"),
          ("persuasion", "劝返复学", "persuasion_start"), ("enforcement", "督察整改", "enforcement_start"))
STANDINGS = {"surveyed": "已走访在读", "in_case": "已立案跟踪", "exempt": "依规缓免（有证明）"}
UNACCOUNTED_REASONS = {
    "not_surveyed": "所在户未走访",
    "no_case": "未入学/辍学，尚未立案",
    "no_evidence": "依规未入学，缺证明或未办结",
    "unresolved": "休学/转出待核实",
}
_ACCOUNTING_COUNTS = ("children", *queries.ACCOUNTED, "unaccounted", *queries.UNACCOUNTED_REASONS)


def current_phase(campaign, today: dt.date) -> dict | None:
    """The campaign's phase on `today`, its last day and the days left until it (0: today is the
    last day). A phase runs from its start to the day before the next one starts; the last one
    to enforcement_end. Before the first phase: the days until it starts; after the last: ended."""
    if campaign is None:
        return None
    starts = [getattr(campaign, column) for _, _, column in PHASES]
    ends = [nxt - dt.timedelta(days=1) for nxt in starts[1:]] + [campaign.enforcement_end]
    if today < starts[0]:
        return {"key": "not_started", "name": "尚未开始", "starts_on": starts[0], "ends_on": starts[0],
                "days_left": (starts[0] - today).days}
    if today > campaign.enforcement_end:
        return {"key": "ended", "name": "已结束", "starts_on": starts[-1], "ends_on": campaign.enforcement_end,
                "days_left": 0}
    # A phase that the next one starts on the same day has no day of its own: the later one wins.
    for (key, name, _), start, end in reversed(list(zip(PHASES, starts, ends, strict=True))):
        if start <= today:
            return {"key": key, "name": name, "starts_on": start, "ends_on": max(end, start),
                    "days_left": (max(end, start) - today).days}
    return None  # unreachable: today >= starts[0]


def _accounting_row(row: dict) -> dict:
    accounted = sum(row[s] for s in queries.ACCOUNTED)
    return {**row, "accounted": accounted,
            "accounted_share": accounted / row["children"] if row["children"] else None}


def _summed(rows: list[dict], **keys) -> dict:
    return _accounting_row({**keys, **{k: sum(r[k] for r in rows) for k in _ACCOUNTING_COUNTS}})


def accounted_for(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, today: dt.date, *,
                  town_code: str | None = None, village_code: str | None = None, team_id: int | None = None,
                  page: int = 1, page_size: int = 50) -> dict:
    """The campaign's promise as numbers: every school-age child on file (the police roster and
    the children the teams found) surveyed, in a case or exempt with its evidence, by town,
    village and team; the children still unaccounted for, a page at a time; the phase's days left."""
    campaign = campaign_queries.active(session)
    year, cutoff = school_year_of(session, today)
    all_cohorts = cohorts(year, cutoff)
    born_from, born_to = all_cohorts[-1].born_from, all_cohorts[0].born_to
    villages = [_accounting_row(r) for r in
                queries.accounted_by_village(session, scope, born_from, born_to, town_code, village_code)]
    by_code = {v["code"]: v for v in villages}
    towns: dict[str, list[dict]] = {}
    for v in villages:
        towns.setdefault(v["town_code"], []).append(v)
    teams, covering = [], {}
    for t in queries.teams_over(session, list(by_code)):
        if not scope.reads_team(t.id):
            continue  # the other line's team over a leader's villages is not the leader's to read
        covering[t.id] = sorted(c for c in set(t.village_codes) if c in by_code)
        teams.append(_summed([by_code[c] for c in covering[t.id]], id=t.id, name=t.name, line=t.line,
                             town_code=t.town_code, villages=len(covering[t.id])))
    # A team over none of the villages asked for (or out of scope) lists nothing it could hide.
    if team_id is not None and team_id not in covering:
        raise not_found("team")
    team_villages = covering[team_id] if team_id is not None else None
    total, rows = queries.unaccounted_page(session, scope, born_from, born_to, (page - 1) * page_size, page_size,
                                           town_code, village_code, team_villages)
    items = []
    for r in rows:
        child = disclosure.show(viewer, "child", {"name": r.name, "gender": r.gender, "birth_date": r.birth_date,
                                                  "id_number": _clear_number(vault, r)})
        household = disclosure.show(viewer, "household", {"head_name": r.head_name})
        items.append({
            "child_id": r.id, **child, "enrollment_status": r.enrollment_status,
            "town_code": r.town_code, "town_name": r.town_name, "village_code": r.village_code,
            "village_name": r.village_name, "household_id": r.household_id, "group_name": r.group_name,
            "household_number": r.household_number, "head_name": household.get("head_name"),
            "survey_status": r.survey_status, "reason": r.reason, "reason_label": UNACCOUNTED_REASONS[r.reason],
        })
    return {
        "campaign": None if campaign is None else {"id": campaign.id, "name": campaign.name,
                                                   "school_year": campaign.school_year},
        "school_year": year, "today": today, "phase": current_phase(campaign, today),
        "standings": STANDINGS, "reasons": UNACCOUNTED_REASONS,
        "total": _summed(villages, code="total", name="合计"),
        "towns": [_summed(vs, code=code, name=vs[0]["town_name"]) for code, vs in towns.items()],
        "villages": villages, "teams": teams,
        "unaccounted": {"items": items, "total": total, "page": page, "page_size": page_size},
    }


def _clear_number(vault: IdNumberVault, row) -> str | None:
    # Shown through disclosure.show: masked in every list (only one audited full record shows more).
    if row.id_number_cipher is None:
        return None
    return vault.decrypt(row.id_number_cipher, child_subject(row.id))
