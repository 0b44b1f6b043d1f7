"""Hostile workbooks (issue 13 item 8): a zip bomb is refused from its directory, unopened, and
a workbook is parsed in the worker, not in the web request."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from server.demo import files
from server.imports import reading
from tests.imports.conftest import file_bytes


def _bomb(unpacked_mb: int = 86) -> bytes:
    """A real workbook plus a worksheet part of `unpacked_mb` MB that deflates to almost nothing."""
    workbook = file_bytes(files.ROSTER_HEADER, [["王小明", "男"]], "xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData>" + b" " * (unpacked_mb * 1024 * 1024))
            bomb.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def test_a_zip_bomb_workbook_is_refused_before_it_is_inflated(county, upload, city):
    bomb = _bomb()
    assert len(bomb) < 400 * 1024
    started = time.perf_counter()
    refused = upload(city, "roster", bomb, filename="roster.xlsx", expect=422)
    assert refused["code"] == "import.workbook_too_large"
    assert time.perf_counter() - started < 1.0  # inflating 86 MB and parsing it takes far longer


def test_the_worker_refuses_a_bomb_too():
    with pytest.raises(reading.FileProblem) as refused:
        reading.read_table("roster.xlsx", _bomb(2), "roster")
    assert refused.value.code == "import.workbook_too_large"


def test_a_workbook_is_read_in_the_worker_not_in_the_request(county, client, city, session, vault):
    """A workbook without the required columns is accepted by the request (only its zip directory
    is read there, 202) and failed by the job, which reads it."""
    from server.imports import service

    header_only = file_bytes(["姓名", "性别"], [["王小明", "男"]], "xlsx")
    answer = client.post("/api/v1/imports/roster", headers=city, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(header_only), "roster.xlsx")})
    assert answer.status_code == 202 and answer.json["status"] == "queued"
    with pytest.raises(reading.FileProblem) as failed:
        service.process_import(session, vault, answer.json["id"], service.Progress(lambda **_: None))
    assert failed.value.code == "import.missing_columns" and "公民身份号码" in failed.value.message
    # A CSV is small to read: its header is still checked at the door.
    refused = client.post("/api/v1/imports/roster", headers=city, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(file_bytes(["姓名", "性别"], [["王小明", "男"]])), "r.csv")})
    assert refused.status_code == 422 and refused.json["code"] == "import.missing_columns"
