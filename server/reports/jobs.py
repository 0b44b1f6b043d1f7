"""The export job: a module-level function of an export id, safe to run twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, update

from server.accounts.models import Person
from server.accounts.scope import scope_of
from server.db import database
from server.jobs import job_app
from server.reports import service
from server.reports.models import ReportExport


def build_export(export_id: int) -> str | None:
    """Build an XLSX export (enqueued on "reports" after the request commits)."""
    app = job_app()
    with app.app_context():
        session = database().sessionmaker()
        try:
            status = build_export_in(session, export_id, dt.date.today())
            session.commit()
            return status
        finally:
            session.close()


def build_export_in(session, export_id: int, today: dt.date) -> str | None:
    export = session.get(ReportExport, export_id, with_for_update=True)
    if export is None:
        return None
    if export.status == "done":
        return "done"
    # The requester's scope as it is now: a person moved to another town exports that town.
    scope = scope_of(session, session.get(Person, export.created_by))
    report = service.rates_report(session, scope, export.params["by"], today, export.params.get("town"))
    session.execute(update(ReportExport).where(ReportExport.id == export_id)
                    .values(content=service.build_xlsx(report), status="done", finished_at=func.now()))
    session.flush()
    return "done"
