"""The old supervisor page's addresses: the map is now the workbench's (/workbench/map).

Kept as redirects because supervisors have it bookmarked and printed on training sheets.
"""

from __future__ import annotations

from flask import redirect


def init_app(app) -> None:
    @app.get("/supervisor")
    @app.get("/supervisor/")
    @app.get("/supervisor/<path:rest>")
    def supervisor_moved(rest: str = ""):
        return redirect("/workbench/map", code=301)
