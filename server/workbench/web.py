"""The workbench (/workbench/): one Vue app for the city bureau, town supervisors, team leaders and
schools, built by Vite from server/workbench/app into server/workbench/dist.

Why a small Vue app and not server-rendered pages: every piece of data the workbench shows
already comes from the JSON API, where scope (server/accounts/scope.py), the reader policy
(server/disclosure.py) and the audit trail are decided once and tested endpoint by endpoint. A
client of that API cannot bypass them; server-rendered views would be a second path to the
same children that each view had to remember to guard.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, redirect, send_from_directory

DIST = Path(__file__).resolve().parent / "dist"


def init_app(app) -> None:
    @app.get("/")
    def root():
        return redirect("/workbench/")

    @app.get("/workbench")
    def workbench_redirect():
        return redirect("/workbench/")

    @app.get("/workbench/assets/<path:filename>")
    def workbench_asset(filename: str):
        # hashed names: an asset never changes under its name
        return send_from_directory(DIST / "assets", filename, max_age=31536000)

    @app.get("/workbench/")
    @app.get("/workbench/<path:route>")
    def workbench_page(route: str = ""):
        # the router's own paths (/workbench/cases/12) all answer the one page
        if not (DIST / "index.html").is_file():
            abort(503, description="the workbench is not built: run scripts/setup.sh")
        response = send_from_directory(DIST, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return response
