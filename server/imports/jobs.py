"""The import job: a module-level function of an import id, safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import OperationalError

from server.db import database
from server.imports import queries, reading, service
from server.jobs.registry import job

log = logging.getLogger(__name__)


# One transaction for the rows, progress on connections of its own: the work keeps its session.
@job("imports.run_import", queue="imports", timeout=3600, own_session=False)
def run_import(app, import_id: int) -> dict | None:
    """Process an uploaded roster or register (enqueued after the upload commits)."""
    db = database()
    engine = db.engine

    def sink(**values):
        queries.write_progress(engine, import_id, **values)

    progress = service.Progress(sink, every=app.config.get("IMPORT_PROGRESS_SECONDS", 0.2))
    session = db.sessionmaker()
    try:
        summary = service.process_import(session, app.extensions["notoneless.vault"], import_id, progress)
        session.commit()
        return summary
    except reading.FileProblem as problem:
        session.rollback()
        _failed(engine, import_id, problem.code, problem.message)
        return None
    except Exception as exc:
        session.rollback()
        log.exception("import %s failed", import_id)
        # Nothing of the import was kept (one transaction) and its file is still stored, so
        # enqueuing the job again retries it from the start.
        code = "db.unavailable" if isinstance(exc, OperationalError) else "import.internal_error"
        try:
            _failed(engine, import_id, code, f"{type(exc).__name__}: {exc}"[:500])
        except OperationalError:
            log.warning("could not mark import %s failed: the database is unreachable", import_id)
        raise
    finally:
        session.close()


def _failed(engine, import_id: int, code: str, message: str) -> None:
    queries.write_progress(engine, import_id, status="failed", phase="failed", error_code=code,
                           error_message=message, finished_at=dt.datetime.now(dt.UTC))
