from __future__ import annotations

from flask.views import MethodView

from server import db
from server.audit import queries
from server.audit.schemas import TrailPageSchema, TrailQuerySchema
from server.http import Blueprint

blp = Blueprint("audit", __name__, description="The audit trail: who read, exported or changed what")

# The bureau reviews the trail; it names children and the people who read their records,
# so no area role sees it.
REVIEWERS = ("city",)


@blp.route("/audit-events")
class AuditTrail(MethodView):
    @blp.login_required(*REVIEWERS)
    @blp.arguments(TrailQuerySchema, location="query")
    @blp.response(200, TrailPageSchema)
    def get(self, args):
        """Review the trail, newest first: reads of children's full records, exports, imports and
        every change (tablet submissions, case steps, supervisors' decisions)."""
        page, page_size = args.pop("page"), args.pop("page_size")
        total, rows = queries.trail_page(db.session(), offset=(page - 1) * page_size, limit=page_size, **args)
        items = [{**row, "person": {"id": row["person_id"], "username": row["username"],
                                    "full_name": row["full_name"], "role": row["role"]}}
                 for row in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}
