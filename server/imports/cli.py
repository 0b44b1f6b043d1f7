"""`notoneless import roster|register PATH`: store the file, run or enqueue the job, show progress."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import click
from flask import current_app

from server import jobs
from server.db import database
from server.errors import DomainError
from server.imports import jobs as import_jobs
from server.imports import service
from server.imports.models import Import

SUMMARY_ORDER = ("mode", "rows", "rows_ok", "rows_bad", "rows_warned", "seconds", "children_created", "children_updated",
                 "children_unchanged", "children_missing", "children_back", "households_created",
                 "households_updated", "students", "in_roster", "not_in_roster", "statuses_changed")


def run(kind: str, path: str, as_of: dt.date | None, now: bool, mode: str = "full") -> None:
    app = current_app._get_current_object()
    db = database()
    content = Path(path).read_bytes()
    with db.sessionmaker() as session:
        try:
            imp = service.create_import(session, kind=kind, filename=Path(path).name, content=content,
                                        person=None, as_of=as_of, mode=mode)
        except DomainError as exc:
            details = "; ".join(e.message for e in exc.errors)
            raise click.ClickException(f"{exc.code}: {exc.message} {details}".strip()) from exc
        if not now:
            jobs.enqueue_after_commit(session, "imports.run_import", imp.id,
                                      description=f"import {imp.id} ({kind})")
        session.commit()
        import_id, total = imp.id, imp.rows_total
    click.echo(f"import {import_id}: {kind} {path} ({'running here' if now else 'queued'})")

    failure: list[BaseException] = []
    if now:
        def work():
            with app.app_context():
                try:
                    import_jobs.run_import(import_id)
                except BaseException as exc:  # reported below, after the bar
                    failure.append(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()

    with click.progressbar(length=total or 1, label="rows", show_percent=True, show_pos=True) as bar:
        shown = 0
        while True:
            with db.sessionmaker() as session:
                imp = session.get(Import, import_id)
            target = min(imp.rows_read, bar.length)
            if target > shown:
                bar.update(target - shown)
                shown = target
            if imp.status in ("done", "failed"):
                break
            if now and not worker.is_alive() and imp.status not in ("done", "failed"):
                break
            time.sleep(0.3)
        if imp.status == "done" and shown < bar.length:
            bar.update(bar.length - shown)
    if now:
        worker.join()
    if imp.status != "done":
        reason = imp.error_code or (type(failure[0]).__name__ if failure else "unknown")
        raise click.ClickException(f"import {import_id} failed: {reason} {imp.error_message or ''}".strip())
    summary = imp.summary
    first = [k for k in SUMMARY_ORDER if k in summary]
    rest = sorted(k for k in summary if k not in SUMMARY_ORDER and not isinstance(summary[k], list | dict))
    click.echo(" ".join(f"{k}={summary[k]}" for k in first + rest))
    for key in ("suspected_dropouts",):
        if summary.get(key):
            click.echo(f"{key}: " + ", ".join(f"{k}={v}" for k, v in summary[key].items()))
    click.echo(f"{imp.rows_bad} rows not imported ({summary.get('errors', 0)} errors), "
               f"{summary.get('rows_warned', 0)} imported with warnings ({summary.get('warnings', 0)}); "
               f"report: GET /api/v1/imports/{import_id}/report?format=xlsx")
