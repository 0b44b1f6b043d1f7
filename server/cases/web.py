"""The cases page (/cases/): a town's cases, the overdue ones and the rates, for supervisors.

One static HTML file calling the JSON API with the person's token; nothing from a CDN.
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
