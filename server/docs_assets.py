"""Serve Swagger UI's files from the npm package installed beside the app (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_from_directory

ASSETS = Path(__file__).resolve().parent.parent / "node_modules" / "swagger-ui-dist"


START = Path(__file__).resolve().parent / "docs_start.js"


def init_app(app) -> None:
    @app.get("/api/docs/start.js")
    def swagger_ui_start():
        return send_from_directory(START.parent, START.name, max_age=0)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_ui_asset(filename: str):
        if not ASSETS.is_dir():
            abort(404)
        return send_from_directory(ASSETS, filename, max_age=86400)
