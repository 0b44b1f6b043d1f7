"""Running the workbench site's background jobs in a browser test: a real RQ SimpleWorker, in the
test's own (main) thread, while the page polls the server's werkzeug thread."""

from __future__ import annotations

from rq import SimpleWorker

from server import jobs


def run_jobs(site, *queues: str) -> None:
    """Run every job queued on `queues` (reports, imports, maps) to the end, then return."""
    app = site["app"]
    with app.app_context():
        found = [jobs.queue(name, app) for name in queues]
        SimpleWorker(found, connection=found[0].connection).work(burst=True)
