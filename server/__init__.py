"""Not One Less (一个都不少): the backend of a county's 控辍保学 campaign."""

from __future__ import annotations

import logging

from flask import Flask

from server import compression, http, security_headers
from server import config as config_module
from server.db import Database
from server.people.protection import IdNumberVault

API_TITLE = "Not One Less (一个都不少)"
API_VERSION = "1"


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment, with `overrides` on top (tests, CLI)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.from_environment())
    app.config.update(overrides or {})
    config_module.check(app.config)
    app.config.update(
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served by the app itself from the swagger-ui-bundle npm package (scripts/setup.sh);
        # field offices often have no route to public CDNs.
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO)
    if app.config.get("PROXY_HOPS"):
        # Behind a load balancer the client's address is in X-Forwarded-For: trust exactly as
        # many hops as there are proxies, or anyone could pick the address the throttle counts.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    app.extensions["notoneless.db"] = Database(app.config["DATABASE_URL"], app.config.get("READ_DATABASE_URL"))
    from server.sync.service import Limits

    app.extensions["notoneless.sync_limits"] = Limits(
        max_batch_submissions=app.config["SYNC_MAX_BATCH"], max_request_bytes=app.config["MAX_CONTENT_LENGTH"],
        max_page_size=app.config["PAGE_SIZE_MAX"], max_attachment_bytes=app.config["ATTACHMENT_MAX_BYTES"])
    app.extensions["notoneless.vault"] = IdNumberVault.from_config(
        app.config["ID_NUMBER_KEY"], app.config["ID_LOOKUP_KEY"]
    )

    http.init_app(app)
    compression.init_app(app)
    security_headers.init_app(app)
    api = http.Api(
        app,
        spec_kwargs={
            "info": {"description": "Sync, survey and case API of a county's 控辍保学 campaign."},
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A login or device token"}
    )
    from server import docs_assets
    from server.accounts.routes import blp as accounts_blp
    from server.attachments.routes import blp as attachments_blp
    from server.audit.routes import blp as audit_blp
    from server.campaigns.routes import blp as campaigns_blp
    from server.cases.routes import blp as cases_blp
    from server.conflicts.routes import blp as conflicts_blp
    from server.devices.routes import blp as devices_blp
    from server.duplicates.routes import blp as duplicates_blp
    from server.forms.routes import blp as forms_blp
    from server.health.routes import blp as health_blp
    from server.imports.routes import blp as imports_blp
    from server.labels.routes import blp as labels_blp
    from server.maps.routes import blp as maps_blp
    from server.openrosa.routes import blp as openrosa_blp
    from server.people.routes import blp as people_blp
    from server.places.routes import blp as places_blp
    from server.reports.routes import blp as reports_blp
    from server.schools.routes import blp as schools_blp
    from server.staff.routes import blp as staff_blp
    from server.sync.routes import blp as sync_blp

    for blueprint in (health_blp, accounts_blp, places_blp, people_blp, schools_blp, campaigns_blp,
                      imports_blp, devices_blp, forms_blp, sync_blp, conflicts_blp, duplicates_blp,
                      attachments_blp, maps_blp, cases_blp, reports_blp, audit_blp, openrosa_blp, labels_blp, staff_blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    docs_assets.init_app(app)
    from server.maps import web as supervisor_web

    supervisor_web.init_app(app)
    from server.cases import web as cases_web

    cases_web.init_app(app)
    from server.workbench import web as workbench_web

    workbench_web.init_app(app)
    app.extensions["notoneless.api"] = api
    return app
