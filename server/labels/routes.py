from __future__ import annotations

from flask.views import MethodView

from server import db
from server.http import Blueprint
from server.labels import service

blp = Blueprint("labels", __name__, description="The words for codes, for people's screens")


@blp.route("/labels")
class Labels(MethodView):
    @blp.login_required()
    @blp.response(200, description="fields[record_type][field] = {label, choices}; roles, lines, case_statuses, "
                  "exemption_reasons, notice_kinds, task_reasons, genders, device_statuses, map_priorities, "
                  "survey_statuses")
    def get(self):
        """Show the labels of fields, choices and the campaign's vocabularies, in Chinese."""
        return service.labels(db.session())
