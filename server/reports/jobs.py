"""The export job: a module-level function of an export id, safe to run twice."""

from __future__ import annotations

import datetime as dt

from server.accounts.models import Person
from server.accounts.scope import scope_of
from server.jobs.registry import job
from server.reports import queries, service, sheets
from server.reports.models import ReportExport


@job("reports.build_export", queue="reports")
def build_export(session, export_id: int) -> str | None:
    """Build an XLSX export (enqueued after the request that asked for it commits)."""
    return build_export_in(session, export_id, sheets.beijing_today())


def build_export_in(session, export_id: int, today: dt.date) -> str | None:
    export = session.get(ReportExport, export_id, with_for_update=True)
    if export is None:
        return None
    if export.status == "done":
        return "done"
    # The requester's scope as it is now: a person moved to another town exports that town.
    person = session.get(Person, export.created_by)
    scope = scope_of(session, person)
    town = export.params.get("town")
    report = service.rates_report(session, scope, export.params["by"], today, town)
    content = service.build_xlsx(report, service.campaign_name(session),
                                 service.scope_label(session, person, scope, town), today)
    queries.finish_export(session, export_id, content)
    session.flush()
    return "done"
