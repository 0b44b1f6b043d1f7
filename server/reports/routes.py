from __future__ import annotations

import io

from flask import current_app, request, send_file
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import items, personal_read
from server.cases.routes import today
from server.http import Blueprint, current_person, current_scope
from server.reports import schemas, service, sheets

blp = Blueprint("reports", __name__, description="Rates, the monthly dropout report and XLSX exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = ("city", "town_supervisor", "team_leader")
# A school reads the rates and the register monitoring of its own students (its scope holds no
# other child); the rates exports stay with the supervisors. The register of out-of-school
# children is each reader's own list: a school's holds its students only.
SCHOOL_READERS = (*READERS, "school")


@blp.route("/reports/rates")
class Rates(MethodView):
    @blp.login_required(*SCHOOL_READERS)
    @blp.arguments(schemas.RatesQuerySchema, location="query")
    @blp.response(200, schemas.RatesReportSchema)
    def get(self, args):
        """Counts and the three rates by village, town, school or city, against the targets."""
        return service.rates_report(db.read_session(), current_scope(), args["by"], today(), args.get("town"))


@blp.route("/reports/monthly-dropouts")
class MonthlyDropouts(MethodView):
    @blp.login_required(*SCHOOL_READERS)
    @blp.arguments(schemas.MonthlyQuerySchema, location="query")
    @blp.response(200, schemas.MonthlyReportSchema)
    def get(self, args):
        """The monthly dropout report (月辍学报告): register signals and cases per month and town."""
        return service.monthly_dropouts(db.read_session(), current_scope(), args["year"])


@blp.route("/reports/semester-check")
class SemesterCheck(MethodView):
    @blp.login_required(*SCHOOL_READERS)
    @blp.arguments(schemas.SemesterQuerySchema, location="query")
    @blp.response(200, schemas.SemesterReportSchema)
    @personal_read("child", shown=items("child_id"))
    def get(self, args):
        """Students missing from the registers within a week of the semester's start."""
        return service.semester_check(db.read_session(), current_scope(), disclosure.viewer_of(current_person()),
                                      args["start"])


@blp.route("/reports/exports")
class Exports(MethodView):
    @blp.login_required(*READERS)
    @blp.arguments(schemas.ExportRequestSchema)
    @blp.response(202, schemas.ExportSchema)
    def post(self, body):
        """Ask for an XLSX of the rates; it is built in the background."""
        return service.request_export(db.session(), current_person(), body["by"], body.get("town"))


@blp.route("/reports/exports/<int:export_id>")
class ExportDetail(MethodView):
    @blp.login_required(*READERS)
    @blp.response(200, schemas.ExportSchema)
    def get(self, export_id: int):
        """Show an export's status."""
        return service.export_in_scope(db.session(), current_person(), export_id)


@blp.route("/reports/exports/<int:export_id>/xlsx")
class ExportFile(MethodView):
    @blp.login_required(*READERS)
    @blp.response(200, description="The report as XLSX",
                  content_type=XLSX)
    def get(self, export_id: int):
        """Download an export (recorded in the audit trail)."""
        export = service.download_export(db.session(), current_person(), export_id, request.remote_addr)
        return send_file(io.BytesIO(export.content), as_attachment=True, download_name=f"report-{export.id}.xlsx",
                         mimetype=XLSX)


def _day():
    # Tests pin "today" through config; otherwise the date in Beijing, which the title bears.
    return today() if current_app.config.get("CASES_TODAY") else sheets.beijing_today()


@blp.route("/reports/out-of-school-register.xlsx")
class OutOfSchoolRegister(MethodView):
    @blp.login_required(*SCHOOL_READERS)
    @blp.arguments(schemas.RegisterQuerySchema, location="query")
    @blp.response(200, description="登记造册: the out-of-school children in scope as XLSX", content_type=XLSX)
    def get(self, args):
        """Download the register of out-of-school children (登记造册) in the caller's scope, ID
        numbers masked (recorded in the audit trail as an export naming every child in it)."""
        day = _day()
        content = service.register_export(
            db.session(), current_scope(), current_app.extensions["notoneless.vault"], current_person(), day,
            args.get("town"), args.get("village"), endpoint=f"{request.method} {request.url_rule.rule}"[:120],
            remote_addr=request.remote_addr)
        return send_file(io.BytesIO(content), as_attachment=True, mimetype=XLSX,
                         download_name=f"out-of-school-register-{day.isoformat()}.xlsx")


def _children_and_homes(listed: list[dict]):
    # Each line shows a child and its household's head: both are in the read's record.
    return [i["child_id"] for i in listed] + [i["household_id"] for i in listed], len(listed)


@blp.route("/reports/accounted-for")
class AccountedFor(MethodView):
    @blp.login_required(*READERS)
    @blp.arguments(schemas.AccountedQuerySchema, location="query")
    @blp.response(200, schemas.AccountedReportSchema)
    @personal_read("child", shown=lambda report: _children_and_homes(report["unaccounted"]["items"]))
    def get(self, args):
        """The campaign's promise (一个都不少): every school-age child on file surveyed, in a case or
        exempt with its evidence, by town, village and team; the children still unaccounted for
        (a page; ID numbers masked); the days left in the campaign's current phase."""
        return service.accounted_for(
            db.session(), current_scope(), current_app.extensions["notoneless.vault"],
            disclosure.viewer_of(current_person()), _day(), town_code=args.get("town"),
            village_code=args.get("village"), team_id=args.get("team"), page=args["page"],
            page_size=args["page_size"])
