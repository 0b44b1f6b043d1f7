"""Reading an uploaded file: CSV (UTF-8 with or without BOM, or GB18030) or XLSX.

Pure: no Flask, no SQLAlchemy. A file becomes a `Table`: the header row (found among the first
rows, since exports often put a title above it), the data rows with the line number a person
sees when they open the file, and an estimate of how many rows there are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from server.imports import headers

HEADER_SEARCH_ROWS = 10
# An XLSX is a zip: 340 KB of it inflated to 86 MB in the request that opened it (about 8 GB
# at the upload limit). Its directory says how large each part is unpacked, before anything is
# inflated: a workbook over either cap is refused unopened. A real roster of the county's
# 80,000 children unpacks to about 60 MB, at a ratio near 10.
XLSX_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
XLSX_MAX_RATIO = 100  # unpacked / packed, for a part above 1 MB unpacked
_RATIO_FROM_BYTES = 1024 * 1024


class FileProblem(ValueError):
    """The file as a whole cannot be read; `code` is a stable error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Table:
    file_format: str  # csv or xlsx
    encoding: str | None  # utf-8, utf-8-sig or gb18030 (CSV only)
    header: list
    header_line: int
    rows: Iterator[tuple[int, list]]  # (line, cells), blank rows skipped
    total: int | None  # data rows (blank rows included), None when unknown


def sniff_format(filename: str, content: bytes) -> str:
    """csv or xlsx, from the content first (a renamed file is common), then the name."""
    if content[:4] == b"PK\x03\x04":
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileProblem("import.unsupported_format",
                          "This is an old .xls workbook: save it as .xlsx or .csv first.")
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        raise FileProblem("import.unreadable_file", "The file is named .xlsx but is not a workbook.")
    return "csv"


def decode(content: bytes) -> tuple[str, str]:
    """Try UTF-8 (BOM or not), fall back to GB18030 (what Excel on Chinese Windows writes)."""
    try:
        return content.decode("utf-8-sig"), ("utf-8-sig" if content[:3] == b"\xef\xbb\xbf" else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileProblem("import.unreadable_file",
                          "The file is neither UTF-8 nor GB18030 text, nor an XLSX workbook.") from exc


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _find_header(first_rows: list[tuple[int, list]], kind: str) -> int:
    best, best_score = 0, 0
    for index, (_line, cells) in enumerate(first_rows):
        found = headers.score(cells, kind)
        if found > best_score:
            best, best_score = index, found
    if best_score < 2:
        raise FileProblem("import.no_header",
                          "No header row found: the first rows name none of the expected columns.")
    return best


def _table(numbered: Iterator[tuple[int, list]], kind: str, file_format: str, encoding: str | None,
           physical_rows: int | None) -> Table:
    first: list[tuple[int, list]] = []
    for item in numbered:
        first.append(item)
        if len(first) >= HEADER_SEARCH_ROWS:
            break
    if not first:
        raise FileProblem("import.empty_file", "The file is empty.")
    at = _find_header(first, kind)
    header_line, header = first[at]

    def rows() -> Iterator[tuple[int, list]]:
        for line, cells in first[at + 1:]:
            if not _blank(cells):
                yield line, cells
        for line, cells in numbered:
            if not _blank(cells):
                yield line, cells

    total = None if physical_rows is None else max(physical_rows - header_line, 0)
    return Table(file_format, encoding, list(header), header_line, rows(), total)


def _csv_rows(text: str) -> Iterator[tuple[int, list]]:
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over csv's size limit: the file is not a roster
            raise FileProblem("import.unreadable_file", f"Line {previous_end + 1}: {exc}") from exc
        # A record that spans lines (a quoted newline) is reported at its first line.
        yield previous_end + 1, cells
        previous_end = reader.line_num


def read_csv(content: bytes, kind: str) -> Table:
    text, encoding = decode(content)
    # A NUL byte (a truncated export, a binary pasted into a cell) would stop Python's csv
    # reader for the whole file; it carries nothing, so it goes.
    text = text.replace("\x00", "")
    # Counting newlines is a cheap upper bound of the records (a quoted newline adds one).
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    return _table(_csv_rows(text), kind, "csv", encoding, physical)


def check_xlsx_directory(content: bytes) -> None:
    """Refuse a workbook whose zip directory promises too much unpacked (a zip bomb), reading
    the directory only."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise FileProblem("import.unreadable_file", f"The workbook cannot be opened: {exc}") from exc
    unpacked = sum(p.file_size for p in parts)
    ratio = max((p.file_size / max(p.compress_size, 1) for p in parts if p.file_size > _RATIO_FROM_BYTES),
                default=0)
    if unpacked > XLSX_MAX_UNPACKED_BYTES or ratio > XLSX_MAX_RATIO:
        raise FileProblem("import.workbook_too_large",
                          f"The workbook unpacks to {unpacked // (1024 * 1024)} MB (ratio {ratio:.0f}); at most "
                          f"{XLSX_MAX_UNPACKED_BYTES // (1024 * 1024)} MB at a ratio of {XLSX_MAX_RATIO} are read: "
                          "save it as CSV, or split it.")


def read_xlsx(content: bytes, kind: str) -> Table:
    from openpyxl import load_workbook

    check_xlsx_directory(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike: not a workbook
        raise FileProblem("import.unreadable_file", f"The workbook cannot be opened: {exc}") from exc
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise FileProblem("import.empty_file", "The workbook has no sheet.")
    # The dimension the writer recorded; some writers leave it out (then the total is unknown).
    physical = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None

    def numbered() -> Iterator[tuple[int, list]]:
        index = 0
        try:
            for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield index, list(row)
        except Exception as exc:  # noqa: BLE001 - a sheet broken part-way (bad XML, bad cell)
            raise FileProblem("import.unreadable_file", f"The sheet cannot be read after row {index}: {exc}") from exc
        finally:
            workbook.close()

    return _table(numbered(), kind, "xlsx", None, physical)


def read_table(filename: str, content: bytes, kind: str) -> Table:
    """Open an uploaded roster or register, whatever its format and encoding."""
    if not content:
        raise FileProblem("import.empty_file", "The file is empty.")
    file_format = sniff_format(filename, content)
    return read_xlsx(content, kind) if file_format == "xlsx" else read_csv(content, kind)
