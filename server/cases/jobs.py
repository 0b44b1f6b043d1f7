"""Jobs of the cases domain: module-level functions of ids, safe to run twice."""

from __future__ import annotations

import logging

from flask import current_app

from server.cases import pdf, queries
from server.cases.models import Notice
from server.jobs.registry import job

log = logging.getLogger(__name__)


@job("cases.render_notice", queue="reports")
def render_notice(session, notice_id: int) -> str | None:
    """Render a notice's PDF and store it (enqueued after the notice commits)."""
    return render_notice_in(session, notice_id, current_app.config.get("NOTICE_ISSUER", "教育体育局"))


def render_notice_in(session, notice_id: int, issuer: str) -> str | None:
    """The job's work within `session` (tests run it inside their transaction)."""
    notice = session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        log.warning("notice %s is gone", notice_id)
        return None
    if notice.status == "done" and notice.pdf:
        return "done"  # a second run (a retry, a duplicate enqueue) changes nothing
    case = notice.case_id
    from server.cases.models import Case

    child_id = session.get(Case, case).child_id
    child, village_name, _town_code, town_name = queries.child_context(session, child_id)
    text = pdf.NoticeText(kind=notice.kind, number=notice.number_text, child_name=child.name,
                          guardian_name=child.guardian_name, village=village_name, town=town_name,
                          birth_date=child.birth_date, issued_on=notice.issued_on, deadline=notice.deadline,
                          issuer=issuer)
    queries.mark_notice_rendered(session, notice.id, pdf.render(text))
    session.flush()
    return "done"
