"""Stable error codes, in one place: tablets and the supervisor page switch on `code`.

Every error answer has the same shape: {"code", "message", "errors": [{"field", "code",
"message"}]}. Codes never change meaning once shipped; add new ones instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# code -> (HTTP status, default message)
CODES: dict[str, tuple[int, str]] = {
    "auth.missing_token": (401, "Log in first: this call needs a bearer token."),
    "auth.invalid_token": (401, "The token is unknown, expired or revoked; log in again."),
    "auth.invalid_credentials": (401, "Wrong username or password."),
    "auth.forbidden": (403, "Your role may not do this."),
    "auth.wrong_password": (403, "The current password is wrong."),
    "auth.locked": (429, "Too many wrong passwords; this account is locked for a while."),  # no longer sent
    "auth.backoff": (429, "Too many wrong passwords; wait before trying again (see Retry-After)."),
    "auth.rate_limited": (429, "Too many failed attempts from this address; try again later."),
    "auth.device_revoked": (401, "This tablet was revoked; ask your supervisor to enroll it again."),
    "auth.device_token_expired": (401, "This tablet's token expired unused; ask your supervisor to enroll it again."),
    "auth.device_required": (401, "This call is for enrolled tablets: send the device token."),
    "devices.invalid_enrollment_code": (400, "The enrollment code is unknown, used or expired."),
    "forms.invalid_xlsform": (422, "The XLSForm has errors."),
    "forms.version_exists": (409, "This form version is already published with other content."),
    "sync.invalid_cursor": (400, "The cursor cannot be read; pull again without a cursor."),
    "sync.batch_too_large": (413, "Too many submissions in one push; send smaller batches."),
    "sync.page_too_large": (422, "The page size is over the limit."),
    "attachment.hash_mismatch": (422, "The file's SHA-256 is not the one in the address."),
    "attachment.too_large": (413, "The attachment is over the size limit."),
    "attachment.unsupported_type": (415, "Attachments are photos (JPEG, PNG, WebP, HEIC) or PDF files."),
    "conflicts.already_resolved": (409, "This conflict was already resolved."),
    "request.not_found": (404, "No such resource."),
    "request.method_not_allowed": (405, "This method is not allowed here."),
    "request.invalid": (422, "The request is not valid; see errors for each field."),
    "request.malformed": (400, "The request body could not be read."),
    "request.too_many_items": (422, "A list in the request is over its cap (server/caps.py); see errors."),
    "request.too_large": (413, "The request is too large."),
    "request.unsupported_media_type": (415, "Unsupported content type."),
    "db.conflict": (409, "The change conflicts with the current data; reload and try again."),
    "db.unavailable": (503, "The database is not reachable; try again shortly."),
    "server.internal_error": (500, "Something went wrong on the server; it has been logged."),
    # Imports (server/imports): the file as a whole. Bad rows are not errors of the request:
    # they are listed in the import's report with the row codes of server/imports/rows.py.
    "import.empty_file": (422, "The file is empty."),
    "import.unreadable_file": (422, "The file cannot be read as CSV (UTF-8 or GB18030) or XLSX."),
    "import.unsupported_format": (415, "Upload a CSV or XLSX file."),
    "import.no_header": (422, "No header row found among the first rows of the file."),
    "import.missing_columns": (422, "The file lacks required columns; see errors."),
    "import.workbook_too_large": (422, "The workbook unpacks to more than the import reads; save it as CSV."),
    "import.file_missing": (410, "The uploaded file is no longer stored."),
    "import.internal_error": (500, "The import failed on the server; it has been logged."),
    "import.referral_decided": (409, "This referred row has been decided already."),
    # Maps (server/maps)
    "maps.unknown_layer": (404, "No such map layer."),
    "maps.invalid_tile": (400, "The tile address is outside the zoom's grid."),
    # Cases (server/cases): the field-level reasons (cases.evidence_required …) are in `errors`.
    "cases.transition_not_allowed": (409, "The case cannot move to that status from where it is."),
    "cases.missing_details": (422, "This step needs more details; see errors."),
    "cases.closed": (409, "The case is closed."),
    "notices.not_ready": (409, "The notice's PDF is still being generated; try again shortly."),
    "notices.none_ready": (404, "No generated notice matches: nothing to print yet."),
    "reports.not_ready": (409, "The export is still being generated; try again shortly."),
    # OpenRosa (server/openrosa): answered as an OpenRosaResponse; a refused instance's reasons
    # (openrosa.malformed_xml, openrosa.instance_changed, the push's codes …) are in its message.
    "openrosa.missing_submission": (400, "The request has no xml_submission_file part."),
}


@dataclass
class FieldError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class DomainError(Exception):
    """Raised by services; the HTTP edge turns it into the stable error shape."""

    code: str
    message: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        status, default_message = CODES.get(self.code, (400, self.code))
        self.status = self.status or status
        self.message = self.message or default_message
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "errors": [e.as_dict() for e in self.errors]}


def not_found(what: str) -> DomainError:
    return DomainError("request.not_found", f"No such {what}.")
