"""The old cases page's addresses: cases are now the workbench's (/workbench/cases).

Kept as redirects because supervisors have it bookmarked.
"""

from __future__ import annotations

from flask import redirect


def init_app(app) -> None:
    @app.get("/cases")
    @app.get("/cases/")
    @app.get("/cases/<path:rest>")
    def cases_moved(rest: str = ""):
        return redirect("/workbench/cases", code=301)
