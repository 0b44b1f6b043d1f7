from __future__ import annotations

import uuid

from flask import Response, current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import items, personal_read
from server.http import Blueprint, current_person, current_scope
from server.imports import schemas, service
from server.imports.schemas import PageArgsSchema
from server.jobs import enqueue_after_commit

blp = Blueprint("imports", __name__, description="Imports of the police roster and the school register")

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _vault():
    return current_app.extensions["notoneless.vault"]


def _viewer() -> str:
    return disclosure.viewer_of(current_person())


def _upload(kind: str, files: dict, form: dict) -> dict:
    storage = files["file"]
    content = storage.read()
    session = db.session()
    imp = service.create_import(session, kind=kind, filename=storage.filename or "", content=content,
                                person=current_person(), as_of=form.get("as_of"),
                                remote_addr=request.remote_addr, mode=form["mode"])
    # The job runs once the upload has committed: a worker must find the import and its file.
    enqueue_after_commit(session, "imports.run_import", imp.id,
                         description=f"import {imp.id} ({kind})")
    return service.describe(imp)


@blp.route("/imports/roster")
class RosterUpload(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.arguments(schemas.UploadSchema, location="files")
    @blp.arguments(schemas.RosterUploadFormSchema, location="form")
    @blp.response(202, schemas.ImportSchema)
    def post(self, files, form):
        """Upload the police roster (CSV or XLSX); a job reads it. Town supervisors: own town only.

        mode=corrections for a file of only the rows to add or fix: nothing is flagged missing.
        """
        return _upload("roster", files, form)


@blp.route("/imports/register")
class RegisterUpload(MethodView):
    @blp.login_required("city")
    @blp.arguments(schemas.UploadSchema, location="files")
    @blp.arguments(schemas.UploadFormSchema, location="form")
    @blp.response(202, schemas.ImportSchema)
    def post(self, files, form):
        """Upload the school register export (学籍, CSV or XLSX); a job reads and compares it."""
        return _upload("register", files, form)


@blp.route("/imports")
class Imports(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.arguments(schemas.ImportQuerySchema, location="query")
    @blp.response(200, schemas.ImportPageSchema)
    @personal_read("import", shown=lambda page: ([], sum(len(i["problems_preview"]) for i in page["items"])))
    def get(self, args):
        """List imports, newest first (a town supervisor sees their town's)."""
        return service.list_imports(db.session(), current_person(), args.get("kind"), args["page"],
                                    args["page_size"])


@blp.route("/imports/<int:import_id>")
class ImportDetail(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.response(200, schemas.ImportSchema)
    @personal_read("import", shown=lambda imp: ([], len(imp["problems_preview"])), subject="import_id")
    def get(self, import_id: int):
        """Show an import's progress, first problems and, once done, its summary."""
        person = current_person()
        return service.describe(service.get_import(db.session(), person, import_id), disclosure.viewer_of(person))


@blp.route("/imports/<int:import_id>/problems")
class ImportProblems(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.arguments(schemas.ProblemArgsSchema, location="query")
    @blp.response(200, schemas.ProblemPageSchema)
    @personal_read("import", shown=lambda page: ([], len(page["items"])), subject="import_id")
    def get(self, args, import_id: int):
        """List the rows' problems: line, column, reason code, message, severity (error: not
        imported; warning: imported, verify), the child's name, town and village."""
        return service.problems_page(db.session(), current_person(), import_id, args["page"],
                                     args["page_size"], args.get("severity"))


@blp.route("/imports/<int:import_id>/report")
class ImportReport(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.arguments(schemas.ReportArgsSchema, location="query")
    @blp.response(200, description="The report file (CSV with BOM, or XLSX)",
                  content_type=_CONTENT_TYPES["csv"])
    def get(self, args, import_id: int):
        """Download the problem report as CSV or XLSX (written to the audit trail)."""
        content, filename = service.report_file(db.session(), current_person(), import_id, args["format"],
                                                request.remote_addr, args.get("severity"))
        return Response(content, mimetype=_CONTENT_TYPES[args["format"]],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/imports/match-summary")
class MatchSummary(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.SummaryArgsSchema, location="query")
    @blp.response(200, schemas.MatchSummarySchema)
    def get(self, args):
        """Count children by starting status per town and village, within your scope."""
        return service.match_summary(db.session(), current_scope(), args.get("town"))


@blp.route("/imports/register-not-in-roster")
class RegisterNotInRoster(MethodView):
    @blp.login_required(*service.UPLOAD_ROLES)
    @blp.arguments(schemas.UnmatchedArgsSchema, location="query")
    @blp.response(200, schemas.UnmatchedPageSchema)
    @personal_read("register_row", shown=lambda page: ([], len(page["items"])))
    def get(self, args):
        """List register students in no police roster (migrant children, for instance)."""
        return service.unmatched_register(db.session(), current_scope(), _vault(), _viewer(), args["page"],
                                          args["page_size"], args.get("register_import"))


@blp.route("/imports/suspected-dropouts")
class SuspectedDropouts(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.DropoutArgsSchema, location="query")
    @blp.response(200, schemas.SuspectedDropoutPageSchema)
    @personal_read("child", shown=items("child_id"))
    def get(self, args):
        """List students who left the registers between two imports (学籍动态监控), with evidence."""
        return service.suspected_dropouts(
            db.session(), current_scope(), _vault(), _viewer(), args["page"], args["page_size"],
            kind=args.get("kind"), register_import_id=args.get("register_import"),
            detected_from=args.get("detected_from"), detected_to=args.get("detected_to"),
        )


@blp.route("/imports/missing-from-roster")
class MissingFromRoster(MethodView):
    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, schemas.MissingChildPageSchema)
    @personal_read("child", shown=items("child_id"))
    def get(self, args):
        """List children a newer roster of their town no longer lists (flagged, never deleted)."""
        return service.missing_from_roster(db.session(), current_scope(), _vault(), _viewer(), args["page"],
                                           args["page_size"])


@blp.route("/imports/children/<uuid:child_id>/history")
class ChildHistory(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.ChildHistorySchema)
    @personal_read("child", shown=lambda history: ([history["child_id"]], 1), subject="child_id")
    def get(self, child_id: uuid.UUID):
        """Show what imports changed in a child's record, from which import and when."""
        return service.child_history(db.session(), current_scope(), current_person(), child_id)


@blp.route("/imports/referrals")
class Referrals(MethodView):
    @blp.login_required("city")
    @blp.arguments(schemas.ReferralArgsSchema, location="query")
    @blp.response(200, schemas.ReferralPageSchema)
    @personal_read("roster_referral", shown=items("child_id"))
    def get(self, args):
        """List the town rosters' rows held for the bureau: their ID number is none of the town's children."""
        return service.list_referrals(db.session(), _vault(), _viewer(), args.get("status"), args["page"],
                                      args["page_size"])


@blp.route("/imports/referrals/<int:referral_id>/decision")
class ReferralDecision(MethodView):
    @blp.login_required("city")
    @blp.arguments(schemas.ReferralDecisionSchema)
    @blp.response(200, schemas.ReferralDecidedSchema)
    def post(self, body, referral_id: int):
        """Decide a held row: move the child into the uploader's village, or dismiss (audited)."""
        return service.decide_referral(db.session(), _vault(), current_person(), referral_id, body["decision"],
                                       body["note"], request.remote_addr)
