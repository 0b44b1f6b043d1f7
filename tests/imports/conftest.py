"""Fixtures of the import tests: a county without children, files in the bureau formats, and a
way to upload through the API and let a real RQ worker (in this process) run the job."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from rq import SimpleWorker

from server import jobs
from server.demo import generator, loader
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def county(session, vault):
    """The tiny demo county's places, schools, households and accounts; no children yet."""
    demo = generator.generate("tiny", seed=7)
    loader.load(session, demo, vault, TEST_PASSWORD, with_children=False)
    session.flush()
    return demo


def file_bytes(header: list, rows: list[list], fmt: str = "csv") -> bytes:
    """A roster or register as the bureau sends it: csv (UTF-8 BOM), gb18030 or xlsx."""
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Sheet1")
        ws.append(header)
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig" if fmt == "csv" else fmt)


@pytest.fixture
def import_queue(app, redis_conn):
    with app.app_context():  # not held open: requests would share its `g`
        q = jobs.queue("imports")
    q.empty()
    yield q
    q.empty()


@pytest.fixture
def upload(client, app, import_queue):
    """POST a file, then let a real RQ SimpleWorker run the queued job here, in the test's
    transaction; return the import as GET /imports/{id} shows it."""

    def do(headers: dict, kind: str, content: bytes, filename: str = "file.csv", as_of=None,
           expect: int = 202, mode: str | None = None) -> dict:
        data = {"file": (io.BytesIO(content), filename)}
        if as_of is not None:
            data["as_of"] = as_of.isoformat()
        if mode is not None:
            data["mode"] = mode
        response = client.post(f"/api/v1/imports/{kind}", data=data, headers=headers,
                               content_type="multipart/form-data")
        assert response.status_code == expect, response.json
        if expect != 202:
            return response.json
        assert response.json["status"] == "queued"
        with app.app_context():
            SimpleWorker([import_queue], connection=import_queue.connection).work(burst=True)
        shown = client.get(f"/api/v1/imports/{response.json['id']}", headers=headers)
        assert shown.status_code == 200
        return shown.json

    return do


@pytest.fixture
def city(make_person, login):
    return login(make_person("city"))
