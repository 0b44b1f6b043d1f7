"""Use cases of the reports: the rates table, the monthly dropout report, the semester check,
XLSX exports (built by a job after the request commits)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from server import disclosure, spreadsheets
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.campaigns import queries as campaign_queries
from server.campaigns.school_age import Cutoff, cohorts
from server.errors import DomainError, not_found
from server.jobs import enqueue_after_commit
from server.reports import queries, rates
from server.reports.models import ReportExport

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


def rates_report(session: Session, scope: Scope, by: str, today: dt.date, town_code: str | None = None) -> dict:
    """Counts and rates per group, and the total over every group, against the targets."""
    year, cutoff = school_year_of(session, today)
    all_cohorts = cohorts(year, cutoff)
    born_from, born_to = all_cohorts[-1].born_from, all_cohorts[0].born_to
    rows = queries.counts(session, scope, born_from, born_to, by, town_code)
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


def build_xlsx(report: dict) -> bytes:
    """One sheet: a row per group, the total, then the targets; rates as percentages."""
    book = Workbook()
    sheet = book.active
    sheet.title = "入学率与巩固率"
    fields = ["code", "name", *COUNT_FIELDS, *rates.TARGETS]
    sheet.append([HEADERS[f] for f in fields])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in [*report["rows"], report["total"]]:
        sheet.append([row[f] for f in fields])
        spreadsheets.keep_text(sheet[sheet.max_row])  # names come from imported files
    sheet.append([])
    sheet.append(["目标", "", *([""] * len(COUNT_FIELDS)), *rates.TARGETS.values()])
    first_rate = len(fields) - len(rates.TARGETS) + 1
    for line in sheet.iter_rows(min_row=2, min_col=first_rate):
        for cell in line:
            cell.number_format = "0.00%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
