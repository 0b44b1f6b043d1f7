from __future__ import annotations

import datetime as dt
import io
import zipfile

from flask import current_app, request, send_file
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import current as current_read
from server.audit.reads import items, personal_read
from server.cases import schemas, service
from server.cases.notices import NoticeSettings
from server.errors import DomainError
from server.http import Blueprint, current_person, current_scope

blp = Blueprint("cases", __name__, description="Out-of-school cases, notices and support plans")

# Team leaders follow their villages' cases; a school sees its students' and those naming it as
# the school of a return, to confirm them (server/accounts/scope.py).
READERS = ("city", "town_supervisor", "team_leader", "school")
STAFF = ("city", "town_supervisor", "team_leader")
GOVERNMENT = ("city", "town_supervisor")


def _child_and_household(case) -> tuple[list, int]:
    """A case's read shows its child and the child's household (head, address, phone)."""
    ids = [case.get("child_id")] + ([case["household"]["id"]] if case.get("household") else [])
    return ids, 1


def _vault():
    return current_app.extensions["notoneless.vault"]


def today() -> dt.date:
    # Tests pin "today" through config; the campaign's dates are local (China) dates.
    pinned = current_app.config.get("CASES_TODAY")
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


@blp.route("/cases")
class Cases(MethodView):
    @blp.login_required(*READERS)
    @blp.arguments(schemas.CaseQuerySchema, location="query")
    @blp.response(200, schemas.CasePageSchema)
    @personal_read("case", shown=items("child_id"))
    def get(self, args):
        """List cases in your villages, overdue first (filters: status, overdue, village, town; q: a name or ID number)."""
        return service.list_cases(db.session(), current_scope(), _vault(), disclosure.viewer_of(current_person()),
                                  today(), args["page"], args["page_size"], q=args.get("q"),
                                  status=args.get("status"), overdue=args.get("overdue"),
                                  village_code=args.get("village"), town_code=args.get("town"))


@blp.route("/cases/open")
class OpenCases(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.response(200, schemas.OpenResultSchema)
    def post(self):
        """Open cases for out-of-school children in your area (idempotent)."""
        return service.open_cases(db.session(), current_scope(), current_person())


@blp.route("/cases/<int:case_id>")
class CaseDetail(MethodView):
    @blp.login_required(*READERS)
    @blp.response(200, schemas.CaseDetailSchema)
    @personal_read("case", shown=_child_and_household, subject="case_id")
    def get(self, case_id: int):
        """Show a case with its child, household, events, visits, notices and support plans."""
        case = service.get_case(db.session(), current_scope(), current_person(), case_id, today(), _vault())
        current_read().detail["id_number"] = "masked" if case["id_number_masked"] else "full"
        return case


@blp.route("/cases/<int:case_id>/transitions")
class CaseTransitions(MethodView):
    @blp.login_required(*READERS)
    @blp.arguments(schemas.TransitionSchema)
    @blp.response(200, schemas.CaseDetailSchema)
    def post(self, body, case_id: int):
        """Move a case one step (who and when are recorded)."""
        return service.transition(db.session(), current_scope(), current_person(), case_id, body, today())


@blp.route("/cases/<int:case_id>/return-school")
class CaseReturnSchool(MethodView):
    @blp.login_required(*STAFF)
    @blp.arguments(schemas.ReturnSchoolSchema)
    @blp.response(200, schemas.CaseDetailSchema)
    def post(self, body, case_id: int):
        """Name the school the child is back in, for that school to confirm the return (报到/复学)."""
        return service.name_return_school(db.session(), current_scope(), current_person(), case_id, body, today())


@blp.route("/cases/<int:case_id>/notices")
class CaseNotices(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.NoticeRequestSchema)
    @blp.response(202, schemas.NoticeSchema)
    def post(self, body, case_id: int):
        """Issue a numbered notice; its PDF is generated in the background."""
        return service.issue_notice(db.session(), current_scope(), current_person(), case_id, body, today(),
                                    NoticeSettings.from_config(current_app.config))


@blp.route("/cases/<int:case_id>/support-plans")
class CaseSupportPlans(MethodView):
    @blp.login_required(*STAFF)
    @blp.arguments(schemas.SupportPlanSchema)
    @blp.response(201, schemas.SupportPlanSchema)
    def post(self, body, case_id: int):
        """Add a support plan (一生一案) to a case."""
        return service.add_support_plan(db.session(), current_scope(), current_person(), case_id, body)


@blp.route("/notices/<int:notice_id>/pdf")
class NoticePdf(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.response(200, description="The notice as PDF", content_type="application/pdf")
    def get(self, notice_id: int):
        """Download a notice's PDF (recorded in the audit trail)."""
        notice = service.notice_pdf(db.session(), current_scope(), current_person(), notice_id,
                                    request.remote_addr)
        return send_file(io.BytesIO(notice.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=f"notice-{notice.year}-{notice.number:04d}.pdf")


@blp.route("/notices/batch")
class NoticeBatch(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.NoticeBatchQuerySchema, location="query")
    @blp.response(200, description="The town's generated notices as one zip, or as one PDF (format=pdf)",
                  content_type="application/zip")
    def get(self, args):
        """Download a town's generated notices, as a zip or as one PDF to print (recorded in the audit trail)."""
        rows = service.notices_batch(db.session(), current_scope(), current_person(), args.get("town"),
                                     args.get("kind"), request.remote_addr)
        name = f"notices-{args.get('town') or 'all'}"
        if args["format"] == "pdf":
            if not rows:
                raise DomainError("notices.none_ready")
            return send_file(io.BytesIO(service.combined_pdf(rows)), mimetype="application/pdf",
                             as_attachment=True, download_name=f"{name}.pdf")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for notice in rows:
                archive.writestr(f"{notice.year}-{notice.number:04d}-{notice.kind}.pdf", notice.pdf)
        buffer.seek(0)
        return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=f"{name}.zip")
