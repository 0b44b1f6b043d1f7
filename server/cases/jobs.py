"""Jobs of the cases domain: module-level functions of ids, safe to run twice."""

from __future__ import annotations

import logging

from flask import current_app

from server.cases import pdf, queries
from server.cases.models import Case, Notice
from server.cases.notices import NoticeSettings, NoticeText
from server.jobs.registry import job

log = logging.getLogger(__name__)


@job("cases.render_notice", queue="reports")
def render_notice(session, notice_id: int) -> str | None:
    """Render a notice's PDF and store it (enqueued after the notice commits)."""
    return render_notice_in(session, notice_id, NoticeSettings.from_config(current_app.config).bureau)


def render_notice_in(session, notice_id: int, bureau: str) -> str | None:
    """The job's work within `session` (tests run it inside their transaction).

    `bureau` signs a notice issued before notices kept their issuer."""
    notice = session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        log.warning("notice %s is gone", notice_id)
        return None
    if notice.status == "done" and notice.pdf:
        return "done"  # a second run (a retry, a duplicate enqueue) changes nothing
    child_id = session.get(Case, notice.case_id).child_id
    child, village_name, _town_code, town_name = queries.child_context(session, child_id)
    text = NoticeText(kind=notice.kind, number=notice.number_text, child_name=child.name,
                      guardian_name=child.guardian_name, village=village_name, town=town_name,
                      birth_date=child.birth_date, issued_on=notice.issued_on, deadline=notice.deadline,
                      issuer=notice.issuer or bureau, school_name=notice.school_name,
                      report_place=notice.report_place, contact_name=notice.contact_name,
                      contact_phone=notice.contact_phone)
    queries.mark_notice_rendered(session, notice.id, pdf.render(text))
    session.flush()
    return "done"
