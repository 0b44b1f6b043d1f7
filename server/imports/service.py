"""Use cases of imports: accept a file, read it in a job, merge it, cross-match, report.

Functions take a session, flush, raise DomainError and never commit: the HTTP edge or the job
commits. The job's progress goes through a `Progress` whose sink writes in its own transaction.

Problems are errors (the row was left out) or warnings (the row was imported; verify it): see
rows.py. Each names its row and column, and the child's name, town and village.

Full rosters and corrections (`mode`). A roster import says who is *missing from the roster*
by what it leaves out: every child of the import's towns (a town supervisor's: their town; the
bureau's: the towns of the file's good rows) whose roster entry was not written by this import
is flagged `missing_since_import_id` (queries.mark_roster_presence). That is right for the
police office's full export, and wrong for the small file a clerk sends after the bureau's
report, holding only the rows that were wrong: it would flag the rest of the town missing.

So the uploader says which it is: `mode=full` (the default, unchanged) or `mode=corrections`.
A corrections import merges its rows exactly like a full one (new children added, known ones
updated with their history, each listed child's roster entry written, a child flagged missing
earlier is back) and flags no one missing. The mode is explicit rather than guessed from the
file's size, because a roster can shrink for real (a village merged, children moved away) and a
guess that took a real shrink for corrections would hide missing children, silently; the
import records its mode and the summary repeats it, so the choice is visible afterwards. Only
rosters have the mode: the school register's comparisons (学籍动态监控) and statuses read the
newest register as the whole county's, so a partial register would flag every student it does
not list; register uploads are always full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy.orm import Session

from server import disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.audit import service as audit
from server.campaigns import queries as campaign_queries
from server.campaigns import school_age
from server.errors import DomainError, FieldError, not_found
from server.imports import headers, queries, reading, report
from server.imports.models import DROPOUT_SIGNALS, MODES, Import
from server.imports.rows import (
    ERROR,
    WARNING,
    PlaceIndex,
    Problem,
    RegisterParser,
    RosterParser,
    has_errors,
)
from server.imports.values import REGISTER_STATUS_LABELS
from server.people import statuses
from server.people.protection import IdNumberVault, child_subject, register_subject, roster_subject

PREVIEW_PROBLEMS = 20
UPLOAD_ROLES = ("city", "town_supervisor")


# --- accepting a file ---------------------------------------------------------------------------

def create_import(session: Session, *, kind: str, filename: str, content: bytes, person: Person | None,
                  as_of: dt.date | None = None, remote_addr: str | None = None, mode: str = "full") -> Import:
    """Check the file can be read and has the columns it needs; store it for the job."""
    if mode not in MODES or (kind == "register" and mode != "full"):
        raise DomainError("request.invalid", errors=[FieldError(
            "mode", "import.mode_invalid",
            "full or corrections (rosters only: the school register is always imported whole).")])
    if kind == "register" and person is not None and person.role != "city":
        # The 学籍 export covers the county's schools at once: the bureau imports it.
        raise DomainError("auth.forbidden", "Only the city bureau imports the school register.")
    if person is not None and person.role not in UPLOAD_ROLES:
        raise DomainError("auth.forbidden")
    table = None
    try:
        if not content:
            raise reading.FileProblem("import.empty_file", "The file is empty.")
        file_format = reading.sniff_format(filename, content)
        if file_format == "xlsx":
            # Only the zip directory is read here: a workbook is inflated and parsed in the
            # worker, whose memory a bomb cannot share with the web requests.
            reading.check_xlsx_directory(content)
        else:
            table = reading.read_table(filename, content, kind)
    except reading.FileProblem as problem:
        raise DomainError(problem.code, problem.message) from problem
    missing = [] if table is None else missing_columns(table, kind)
    if missing:
        raise DomainError("import.missing_columns", errors=[
            FieldError(headers.LABELS[name], "import.missing_column",
                       f"No column {headers.LABELS[name]} (or one of its usual variants).")
            for name in missing
        ])
    imp = Import(
        kind=kind, filename=(filename or "upload")[-200:], file_format=file_format,
        encoding=table and table.encoding, file_sha256=hashlib.sha256(content).digest(), file_size=len(content),
        uploaded_by=person.id if person else None,
        town_code=person.town_code if person is not None and person.role == "town_supervisor" else None,
        as_of=as_of or dt.date.today(), rows_total=table and table.total, status="queued", mode=mode,
    )
    session.add(imp)
    session.flush()
    queries.store_file(session, imp.id, content)
    if person is not None:
        audit.record(session, person.id, "import", "import", str(imp.id), remote_addr=remote_addr,
                     kind=kind, filename=imp.filename, rows=table and table.total, mode=mode)
    return imp


def missing_columns(table: reading.Table, kind: str) -> list[str]:
    """The required columns the file's header lacks (by their internal names)."""
    columns = headers.map_columns(table.header, kind)
    required = headers.ROSTER_REQUIRED if kind == "roster" else headers.REGISTER_REQUIRED
    missing = columns.missing(required)
    if kind == "roster" and "village" not in columns.positions and "village_code" not in columns.positions:
        missing.append("village")
    if kind == "register" and "school_name" not in columns.positions and "school_code" not in columns.positions:
        missing.append("school_name")
    return missing


# --- the job's work -----------------------------------------------------------------------------

@dataclass
class Progress:
    """Rows read, rows left out (with errors), rows imported with warnings, and a preview of the
    first problems (errors before warnings), written at most every `every` seconds."""

    sink: Callable[..., None]
    total: int | None = None
    every: float = 0.2
    read: int = 0
    bad: int = 0
    warned: int = 0
    first_errors: list = field(default_factory=list)
    first_warnings: list = field(default_factory=list)
    _last: float = 0.0

    @property
    def preview(self) -> list:
        # A file whose every row warns must not hide the rows that were left out.
        return (self.first_errors + self.first_warnings)[:PREVIEW_PROBLEMS]

    def phase(self, name: str, **extra) -> None:
        self.sink(phase=name, **extra)

    def row(self, problems: list[Problem]) -> None:
        self.read += 1
        if problems:
            if has_errors(problems):
                self.bad += 1
            else:
                self.warned += 1
            for p in problems:
                first = self.first_errors if p.severity == ERROR else self.first_warnings
                if len(first) < PREVIEW_PROBLEMS:
                    first.append(problem_dict(p))
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.flush()

    def flush(self) -> None:
        self.sink(rows_read=self.read, rows_bad=self.bad, rows_ok=self.read - self.bad,
                  problems_preview=self.preview, rows_total=self.total)


class Stopwatch:
    """Seconds spent in each step of a job, kept in its summary (where imports get slow)."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 3)
        self._last = now


def problem_dict(p) -> dict:
    return {"line": p.line, "column": p.column, "header": p.header, "code": p.code, "message": p.message,
            "value": p.value, "severity": p.severity, "imported_value": p.imported_value, "name": p.name,
            "town": p.town, "village": p.village}


# What a problem stored before severities and places holds: an error, with no place.
_PROBLEM_DEFAULTS = {"severity": ERROR, "imported_value": None, "name": None, "town": None, "village": None}


def problem_shown(viewer: str, problem: dict) -> dict:
    """A row's problem as the viewer may see the child's fields it quotes (the rows are
    children's): problems stored before the region-only mask still hold the last four digits."""
    problem = {**_PROBLEM_DEFAULTS, **problem}
    out = {**problem, "name": _shown(viewer, "name", problem["name"])}
    if problem["column"]:
        out["value"] = _shown(viewer, problem["column"], problem["value"])
        out["imported_value"] = _shown(viewer, problem["column"], problem["imported_value"])
    return out


def _shown(viewer: str, column: str, value):
    return None if value is None else disclosure.show(viewer, "child", {column: value}).get(column)


def school_age_range(session: Session, as_of: dt.date) -> tuple[int, tuple[dt.date, dt.date]]:
    """The active campaign's school-age birth dates; without one, the school year of `as_of`."""
    campaign = campaign_queries.active(session)
    if campaign is not None:
        return campaign.school_year, school_age.school_age_range(campaign.school_year, campaign.cutoff)
    year = school_year_of(as_of)
    return year, school_age.school_age_range(year)


def school_year_of(day: dt.date) -> int:
    """School year Y runs from 1 September Y."""
    return day.year if day >= dt.date(day.year, 9, 1) else day.year - 1


def process_import(session: Session, vault: IdNumberVault, import_id: int, progress: Progress) -> dict | None:
    """Read, check and merge one import; safe to run twice (the second run finds it done)."""
    queries.lock_imports(session)
    imp = session.get(Import, import_id)
    if imp is None or imp.status == "done":
        return None if imp is None else imp.summary
    content = queries.file_content(session, import_id)
    if content is None:
        raise reading.FileProblem("import.file_missing", "The uploaded file is no longer stored.")
    started = time.monotonic()
    progress.phase("reading", status="running", started_at=dt.datetime.now(dt.UTC), error_code=None,
                   error_message=None)
    table = reading.read_table(imp.filename, content, imp.kind)
    missing = missing_columns(table, imp.kind)
    if missing:  # a workbook's header is first read here, in the worker
        raise reading.FileProblem("import.missing_columns", "The file lacks required columns: "
                                  + ", ".join(headers.LABELS[name] for name in missing) + ".")
    columns = headers.map_columns(table.header, imp.kind)
    progress.total = table.total
    watch = Stopwatch()
    if imp.kind == "roster":
        summary, problems = _roster(session, vault, imp, table, columns, progress, watch)
    else:
        summary, problems = _register(session, vault, imp, table, columns, progress, watch)
    queries.add_problems(session, imp.id, problems)
    queries.erase_file(session, imp.id)
    same = queries.same_file_before(session, imp)
    watch.lap("report")
    summary["timings"] = watch.laps
    errors = sum(1 for p in problems if p.severity == ERROR)
    summary.update({
        "rows": progress.read, "rows_ok": progress.read - progress.bad, "rows_bad": progress.bad,
        # problems: every problem listed (errors and warnings); rows_ok counts rows imported with
        # warnings too, rows_warned says how many of them there were.
        "problems": len(problems), "errors": errors, "warnings": len(problems) - errors,
        "rows_warned": progress.warned, "mode": imp.mode,
        "unknown_columns": columns.unknown, "same_file_as_import_id": same,
        "seconds": round(time.monotonic() - started, 2),
    })
    imp.status, imp.phase = "done", "done"
    imp.rows_total = progress.read
    imp.rows_read, imp.rows_bad, imp.rows_ok = progress.read, progress.bad, progress.read - progress.bad
    imp.problems_preview = progress.preview
    imp.summary = summary
    imp.started_at = imp.started_at or dt.datetime.now(dt.UTC)
    imp.finished_at = dt.datetime.now(dt.UTC)
    imp.error_code = imp.error_message = None
    session.flush()
    return summary


def _read_rows(table: reading.Table, parser, progress: Progress) -> tuple[list, list[Problem]]:
    good, problems = [], []
    for line, cells in table.rows:
        row, row_problems = parser.parse(line, cells)
        problems.extend(row_problems)
        if row is not None:  # no problem, or warnings only
            good.append(row)
        progress.row(row_problems)
    progress.flush()
    return good, problems


def _roster(session, vault, imp, table, columns, progress, watch) -> tuple[dict, list[Problem]]:
    places = PlaceIndex.build(queries.towns(session), queries.villages(session))
    parser = RosterParser(columns, places, imp.town_code)
    good, problems = _read_rows(table, parser, progress)
    watch.lap("read_and_check")
    progress.phase("saving")
    lookup, encrypt, subject = vault.lookup, vault.encrypt, roster_subject(imp.id)
    queries.stage_roster(session, (
        (r.line, lookup(r.id_number), encrypt(r.id_number, subject), r.name, r.gender, r.birth_date, r.ethnicity,
         r.village_code, r.group_name, r.household_number, r.address, r.head_name, r.relation_to_head,
         r.guardian_name, r.guardian_phone)
        for r in good
    ))
    watch.lap("encrypt_and_copy")
    summary: dict = {"kind": "roster"}
    if imp.town_code:
        # A town's roster speaks for the town's own children. A row whose ID number is none of
        # them is either another town's child or one new to the county; both are referred to
        # the city bureau, which decides (GET /imports/referrals). Referring both, rather than
        # creating the new ones, is what keeps the import from answering "is this number on
        # file?": the summary, the problems and the town's own lists read the same either way.
        summary["children_referred"] = queries.hold_rows_of_no_town_child(session, imp.id, imp.town_code)
    matched = queries.match_roster_children(session, imp.town_code)
    watch.lap("match_children")
    summary.update(queries.merge_households(session, imp.id))
    watch.lap("households")
    # A staged ciphertext is the import's; each new child gets it re-encrypted for its own row.
    summary.update(queries.merge_children(session, imp.id, lambda cipher, child_id: vault.rebind(
        cipher, subject, child_subject(child_id))))
    watch.lap("children")
    summary["children_unchanged"] = matched - summary["children_updated"]
    # A town's roster only speaks for its town: children elsewhere are not "missing" from it.
    towns = [imp.town_code] if imp.town_code else sorted(
        queries.town_of_villages(session, {r.village_code for r in good}))
    # Corrections list the rows to fix, not the town: they flag no one missing (module docstring).
    summary.update(queries.mark_roster_presence(session, imp.id, [] if imp.mode == "corrections" else towns))
    summary["towns"] = towns
    queries.drop_roster_stage(session)
    watch.lap("roster_presence")
    progress.phase("matching")
    # Corrections re-match the children they list, not the county (nor a town) around them.
    summary.update(_cross_match(session, imp, queries.latest_register(session), imp.town_code,
                                only_listed=imp.mode == "corrections"))
    watch.lap("cross_match")
    return summary, problems


def _register(session, vault, imp, table, columns, progress, watch) -> tuple[dict, list[Problem]]:
    parser = RegisterParser(columns)
    good, problems = _read_rows(table, parser, progress)
    watch.lap("read_and_check")
    progress.phase("saving")
    lookup, encrypt, subject = vault.lookup, vault.encrypt, register_subject(imp.id)
    queries.store_register(session, (
        (imp.id, r.line, lookup(r.id_number), encrypt(r.id_number, subject), r.name, r.gender, r.student_number,
         r.school_code, r.school_name, r.grade, r.class_name, r.status)
        for r in good
    ))
    queries.resolve_register_schools(session, imp.id)
    watch.lap("encrypt_and_copy")
    summary: dict = {"kind": "register"}
    progress.phase("matching")
    # Statuses follow the newest register: an older export imported late is kept (and
    # compared) but does not move children back to what they were then.
    summary.update(_cross_match(session, imp, queries.latest_register(session, including=imp.id)))
    watch.lap("cross_match")
    summary.update(queries.register_row_count(session, imp.id))
    summary["not_in_roster"] = summary["students"] - summary["in_roster"]
    previous = queries.previous_register(session, imp)
    summary["previous_import_id"] = previous.id if previous else None
    if previous is not None:
        progress.phase("comparing")
        imp.previous_import_id = previous.id
        started = school_year_of(imp.as_of) > school_year_of(previous.as_of)
        signals = queries.compare_registers(session, imp, previous, started)
        summary["school_year_started"] = started
        summary["suspected_dropouts"] = {k: signals.get(k, 0) for k in DROPOUT_SIGNALS}
        watch.lap("compare_registers")
    return summary, problems


def _cross_match(session, imp: Import, register_import_id: int | None, town_code: str | None = None,
                 only_listed: bool = False) -> dict:
    year, (born_from, born_to) = school_age_range(session, imp.as_of)
    result = queries.cross_match(session, register_import_id, imp.id, born_from, born_to, town_code,
                                 only_listed)
    result.update({"school_year": year, "matched_with_register_import_id": register_import_id})
    return result


# --- what people read ---------------------------------------------------------------------------

def get_import(session: Session, person: Person, import_id: int) -> Import:
    query = queries.visible_imports(person.role, person.id, person.town_code).where(Import.id == import_id)
    imp = session.scalar(query)
    if imp is None:
        raise not_found("import")
    return imp


def describe(imp: Import, viewer: str | None = None) -> dict:
    """An import; its first problems as `viewer` may see them (None: the uploader's own answer)."""
    percent = None
    if imp.status == "done":
        percent = 100.0
    elif imp.rows_total:
        percent = round(min(99.0, 100.0 * imp.rows_read / imp.rows_total), 1)
    return {
        "id": imp.id, "kind": imp.kind, "status": imp.status, "phase": imp.phase, "filename": imp.filename,
        "file_format": imp.file_format, "encoding": imp.encoding, "as_of": imp.as_of,
        "town_code": imp.town_code, "created_at": imp.created_at, "started_at": imp.started_at,
        "finished_at": imp.finished_at,
        "progress": {"rows_total": imp.rows_total, "rows_read": imp.rows_read, "rows_ok": imp.rows_ok,
                     "rows_bad": imp.rows_bad, "percent": percent},
        "problems_preview": imp.problems_preview if viewer is None else [problem_shown(viewer, p)
                                                                          for p in imp.problems_preview],
        "summary": imp.summary,
        "error": None if imp.error_code is None else {"code": imp.error_code, "message": imp.error_message},
        "previous_import_id": imp.previous_import_id,
        "mode": imp.mode,
    }


def list_imports(session: Session, person: Person, kind: str | None, page: int, page_size: int) -> dict:
    query = queries.visible_imports(person.role, person.id, person.town_code)
    total, rows = queries.imports_page(session, query, kind, (page - 1) * page_size, page_size)
    viewer = disclosure.viewer_of(person)
    return {"items": [describe(i, viewer) for i in rows], "total": total, "page": page, "page_size": page_size}


def problems_page(session: Session, person: Person, import_id: int, page: int, page_size: int,
                  severity: str | None = None) -> dict:
    """The import's problems (of one severity, or all), with the count of each severity."""
    get_import(session, person, import_id)
    rows = queries.problems_of(session, import_id, (page - 1) * page_size, page_size, severity)
    counts = queries.problem_counts(session, import_id)
    viewer = disclosure.viewer_of(person)
    return {"items": [problem_shown(viewer, problem_dict(p)) for p in rows],
            "total": counts[severity] if severity else sum(counts.values()),
            "errors": counts[ERROR], "warnings": counts[WARNING],
            "page": page, "page_size": page_size}


def report_file(session: Session, person: Person, import_id: int, fmt: str,
                remote_addr: str | None = None, severity: str | None = None) -> tuple[bytes, str]:
    """The problem report as CSV or XLSX; the download is an export in the audit trail."""
    imp = get_import(session, person, import_id)
    problems = queries.problems_of(session, import_id, severity=severity)
    audit.record(session, person.id, "export", "import_report", str(imp.id), remote_addr=remote_addr,
                 format=fmt, rows=len(problems), severity=severity)
    stem = f"import-{imp.id}-{imp.kind}-{severity or 'problem'}s"
    viewer = disclosure.viewer_of(person)
    problems = [SimpleNamespace(**problem_shown(viewer, problem_dict(p))) for p in problems]
    if fmt == "xlsx":
        return report.as_xlsx(problems), f"{stem}.xlsx"
    return report.as_csv(problems), f"{stem}.csv"


def match_summary(session: Session, scope: Scope, town_code: str | None = None) -> dict:
    """Children by starting status, per village and per town, within scope."""
    missing = queries.missing_counts(session, scope, town_code)
    towns: dict[str, dict] = {}
    villages: dict[str, dict] = {}

    def blank(code, name, **extra):
        return {"code": code, "name": name, **extra, "children": 0, "missing_from_roster": 0,
                "by_status": {s: 0 for s in statuses.ENROLLMENT_STATUSES}}

    for t_code, t_name, v_code, v_name, status, n in queries.status_counts(session, scope, town_code):
        town = towns.setdefault(t_code, blank(t_code, t_name))
        village = villages.setdefault(v_code, blank(v_code, v_name, town_code=t_code))
        for area in (town, village):
            area["children"] += n
            area["by_status"][status] = area["by_status"].get(status, 0) + n
    for v_code, n in missing.items():
        if v_code in villages:
            villages[v_code]["missing_from_roster"] = n
            towns[villages[v_code]["town_code"]]["missing_from_roster"] += n
    total = blank(None, "合计")
    for town in towns.values():
        total["children"] += town["children"]
        total["missing_from_roster"] += town["missing_from_roster"]
        for s, n in town["by_status"].items():
            total["by_status"][s] += n
    register = queries.latest_register(session)
    return {"register_import_id": register, "total": total, "towns": list(towns.values()),
            "villages": list(villages.values())}


def _clear(vault: IdNumberVault, cipher: bytes | None, subject: str) -> str | None:
    return None if cipher is None else vault.decrypt(cipher, subject)


def _child_fields(viewer: str, row: dict) -> dict:
    return disclosure.show(viewer, "child", row)


def unmatched_register(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, page: int,
                       page_size: int, register_import_id: int | None = None) -> dict:
    """Students of the latest register (or the one asked for) who are in no police roster."""
    register_import_id = register_import_id or queries.latest_register(session)
    if register_import_id is None:
        return {"register_import_id": None, "items": [], "total": 0, "page": page, "page_size": page_size}
    total, rows = queries.unmatched_register_page(session, scope, register_import_id,
                                                  (page - 1) * page_size, page_size)
    items = [_child_fields(viewer, {
        "line": r.line, "name": r.name, "gender": r.gender,
        "id_number": _clear(vault, r.id_number_cipher, register_subject(register_import_id)),
        "student_number": r.student_number, "school_id": r.school_id, "school_code": r.school_code,
        "school_name": r.school_name, "grade": r.grade, "class_name": r.class_name,
        "status": r.status, "status_label": REGISTER_STATUS_LABELS[r.status],
    }) for r in rows]
    return {"register_import_id": register_import_id, "items": items, "total": total, "page": page,
            "page_size": page_size}


def suspected_dropouts(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, page: int,
                       page_size: int, **filters) -> dict:
    total, rows = queries.suspected_dropouts_page(session, scope, offset=(page - 1) * page_size,
                                                  limit=page_size, **filters)
    items = [_child_fields(viewer, {
        "id": d.id, "kind": d.kind, "kind_label": DROPOUT_SIGNALS[d.kind], "detected_on": d.detected_on,
        "register_import_id": d.register_import_id, "previous_import_id": d.previous_import_id,
        "child_id": d.child_id, "village_code": d.village_code, "name": d.name, "gender": d.gender,
        # A dropout row holds the previous register's ciphertext, bound to that import.
        "id_number": _clear(vault, d.id_number_cipher, register_subject(d.previous_import_id)),
        "student_number": d.student_number,
        "school_id": d.school_id, "school_name": d.school_name, "grade": d.grade, "evidence": d.evidence,
    }) for d in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def missing_from_roster(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, page: int,
                        page_size: int) -> dict:
    total, rows = queries.missing_from_roster_page(session, scope, (page - 1) * page_size, page_size)
    items = [_child_fields(viewer, {
        "child_id": c.id, "name": c.name, "gender": c.gender, "birth_date": c.birth_date,
        "village_code": c.village_code, "id_number": _clear(vault, c.id_number_cipher, child_subject(c.id)),
        "enrollment_status": c.enrollment_status, "last_import_id": e.last_import_id,
        "missing_since_import_id": e.missing_since_import_id,
    }) for c, e in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _changes_shown(viewer: str, record_type: str, changes: dict) -> dict:
    """{field: [old, new]} as the viewer may see the field: both values masked, or left out."""
    out = {}
    for name, pair in changes.items():
        values = pair if isinstance(pair, list) else [pair]
        shown = [disclosure.show(viewer, record_type, {name: v}) for v in values]
        if all(name in s for s in shown):
            seen = [s[name] for s in shown]
            out[name] = seen if isinstance(pair, list) else seen[0]
    return out


def child_history(session: Session, scope: Scope, person: Person, child_id: uuid.UUID) -> dict:
    """What imports changed in a child's record (and its household), oldest first."""
    # The changes show the guardian's name and phone: a school reads its own students' only
    # (the scope holds no other child).
    child = queries.child_in_scope(session, scope, child_id)
    if child is None:
        raise not_found("child")
    entry = queries.roster_entry(session, child_id)
    viewer = disclosure.viewer_of(person)
    changes = [{"at": c.at, "import_id": c.import_id, "record_type": c.record_type, "kind": c.kind,
                "changes": _changes_shown(viewer, c.record_type, c.changes)}
               for c in queries.history_of(session, "child", child_id)]
    return {
        "child_id": child.id, "version": child.version, "updated_at": child.updated_at,
        "roster": None if entry is None else {
            "first_import_id": entry.first_import_id, "last_import_id": entry.last_import_id,
            "last_line": entry.last_line, "missing_since_import_id": entry.missing_since_import_id,
        },
        "changes": changes,
    }



# --- rows referred to the city bureau -----------------------------------------------------------

def list_referrals(session: Session, vault: IdNumberVault, viewer: str, status: str | None, page: int,
                   page_size: int) -> dict:
    """The town rosters' rows held for the bureau: the row as sent, and the child on file, if any."""
    total, rows = queries.referrals_page(session, status, (page - 1) * page_size, page_size)
    # A row holds a child's fields and its household's (head, address): each as the policy says.
    items = [disclosure.show(viewer, "household", _child_fields(viewer, {
        "id": r.id, "import_id": r.import_id, "line": r.line, "status": r.status, "name": r.name,
        "gender": r.gender, "birth_date": r.birth_date,
        # held as the roster staged it: bound to the town's import
        "id_number": _clear(vault, r.id_number_cipher, roster_subject(r.import_id)),
        "village_code": r.village_code, "household_number": r.household_number, "address": r.address,
        "head_name": r.head_name, "child_id": r.child_id, "child_village_code": child_village,
        "decided_by": r.decided_by, "decided_at": r.decided_at, "note": r.note, "created_at": r.created_at,
    })) for r, child_village in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def decide_referral(session: Session, vault: IdNumberVault, person: Person, referral_id: int, decision: str,
                    note: str | None, remote_addr: str | None = None) -> dict:
    """Move the referred child into the uploader's village (or add one new to the county), or dismiss the row."""
    queries.lock_imports(session)  # the move merges like an import: one at a time
    referral = queries.referral_for_update(session, referral_id)
    if referral is None:
        raise not_found("referral")
    if referral.status != "held":
        raise DomainError("import.referral_decided")
    summary: dict = {}
    if decision == "move":
        imp = session.get(Import, referral.import_id)
        # What a city import of this one row would do: the same merge, its history booked to the
        # town's import it came with.
        queries.stage_referral(session, referral)
        queries.match_roster_children(session)
        summary.update(queries.merge_households(session, imp.id))
        # the staged ciphertext is the town import's; a new child gets it bound to its own row
        summary.update(queries.merge_children(session, imp.id, lambda cipher, child_id: vault.rebind(
            cipher, roster_subject(imp.id), child_subject(child_id))))
        summary.update(queries.mark_roster_presence(session, imp.id, []))
        queries.drop_roster_stage(session)
        town = queries.town_of_villages(session, {referral.village_code})
        summary.update(_cross_match(session, imp, queries.latest_register(session), next(iter(town), None)))
    referral.status = "moved" if decision == "move" else "dismissed"
    referral.decided_by, referral.decided_at, referral.note = person.id, dt.datetime.now(dt.UTC), note
    session.flush()
    audit.record(session, person.id, "change", "roster_referral", str(referral.id), remote_addr=remote_addr,
                 decision=decision, import_id=referral.import_id, line=referral.line,
                 child_id=str(referral.child_id) if referral.child_id else None,
                 village_code=referral.village_code, note=note)
    return {"id": referral.id, "status": referral.status, "summary": summary}
