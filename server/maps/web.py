"""The supervisor page: static HTML and JS served by the app, Leaflet from node_modules (no CDN)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Response, abort, redirect, send_from_directory

PAGE = Path(__file__).resolve().parent.parent / "static_supervisor"
LEAFLET = Path(__file__).resolve().parent.parent.parent / "node_modules" / "leaflet" / "dist"


def init_app(app) -> None:
    @app.get("/supervisor")
    def supervisor_redirect():
        return redirect("/supervisor/")

    @app.get("/supervisor/")
    def supervisor_page():
        return send_from_directory(PAGE, "index.html", max_age=0)

    @app.get("/supervisor/config.js")
    def supervisor_config():
        # The basemap is the county's choice (天地图 with its key, a local tile server, or none):
        # the page draws village polygons and households without any basemap.
        def setting(name: str) -> str:
            return app.config.get(name) or os.environ.get(name, "")

        config = {"basemapUrl": setting("BASEMAP_URL"), "basemapAttribution": setting("BASEMAP_ATTRIBUTION"),
                  # a GCJ-02 basemap (高德, 腾讯) needs points shifted for display; WGS84 stays stored
                  "gcj02": setting("BASEMAP_GCJ02").lower() in ("1", "true", "yes")}
        body = f"window.NOL_CONFIG = {json.dumps(config, ensure_ascii=False)};\n"
        return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/supervisor/leaflet/<path:filename>")
    def supervisor_leaflet(filename: str):
        if not LEAFLET.is_dir():
            abort(404)
        return send_from_directory(LEAFLET, filename, max_age=86400)

    @app.get("/supervisor/<path:filename>")
    def supervisor_asset(filename: str):
        return send_from_directory(PAGE, filename, max_age=0)
