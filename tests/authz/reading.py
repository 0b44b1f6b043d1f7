"""Everything a person could read in an answer, as text: JSON however it is escaped, the XML
inside an XLSX or a zip, the text of PDFs (pypdf), and the bytes themselves (tiles, GPX, KML)."""

from __future__ import annotations

import io
import json
import zipfile

from pypdf import PdfReader


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def readable(data: bytes | None) -> str:
    if not data:
        return ""
    parts = [data.decode("utf-8", errors="replace")]
    if data[:4] == b"%PDF":
        parts.append(_pdf_text(data))
    elif data[:2] == b"PK":  # an XLSX (its sheets and shared strings are XML) or a zip of PDFs
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                member = archive.read(name)
                parts.append(name)
                parts.append(readable(member))
    else:
        try:  # JSON with \\u escapes reads the same once parsed
            parts.append(json.dumps(json.loads(data), ensure_ascii=False))
        except (ValueError, UnicodeDecodeError):
            pass
    return "\n".join(parts)
