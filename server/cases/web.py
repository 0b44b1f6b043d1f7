"""The cases page (/cases/): a town's cases, the overdue ones and the rates, for supervisors.

A static HTML page, its script and its style calling the JSON API with the person's token;
nothing from a CDN, nothing inline (the Content-Security-Policy allows neither).
"""

from __future__ import annotations

from pathlib import Path

from flask import redirect, send_from_directory

PAGE = Path(__file__).resolve().parent / "page"


def init_app(app) -> None:
    @app.get("/cases")
    def cases_page_redirect():
        return redirect("/cases/")

    @app.get("/cases/")
    def cases_page():
        return send_from_directory(PAGE, "index.html", max_age=0)

    @app.get("/cases/<any('cases.js', 'cases.css'):filename>")
    def cases_asset(filename: str):
        return send_from_directory(PAGE, filename, max_age=0)
