"""Publishing, retiring and serving form versions; validating a submission against its version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

import survey_forms
from server.campaigns import queries as campaign_queries
from server.errors import DomainError, FieldError
from server.forms import queries
from server.forms.models import FormVersion
from server.sync.records import ADAPTERS
from survey_forms import builtin


def _check_binding(form: survey_forms.CompiledForm) -> list[FieldError]:
    """A form may only write fields the record type has (visits keep extra answers)."""
    adapter = ADAPTERS.get(form.record_type)
    if adapter is None:
        return [FieldError("record_type", "forms.record_type", f"no synced record type {form.record_type!r}")]
    if form.record_type == "visit":
        return []
    return [
        FieldError(f.record_field, "forms.unknown_record_field",
                   f"{form.record_type} has no field {f.record_field!r} (question {f.name!r})")
        for f in form.fields if f.record_field not in adapter.writable
    ]


def publish(session: Session, source: bytes, filename: str | None, person_id: int | None) -> FormVersion:
    """Compile an XLSForm and store it as a new version (the same content again is a no-op)."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else None
    file_type = suffix if suffix in (".xlsx", ".xlsm", ".xls", ".md", ".csv") else None
    try:
        form = survey_forms.compile_xlsform(source, file_type=file_type)
    except survey_forms.FormDefinitionError as exc:
        raise DomainError("forms.invalid_xlsform", "The XLSForm has errors; see errors for each sheet and row.",
                          [FieldError(f"{e.sheet}!{e.row}" + (f":{e.column}" if e.column else "") if e.sheet else None,
                                      e.code, e.message) for e in exc.errors]) from exc
    problems = _check_binding(form)
    if problems:
        raise DomainError("forms.invalid_xlsform", "The form binds to fields the record does not have.", problems)
    existing = queries.version(session, form.form_id, form.version)
    if existing is not None:
        if existing.sha256 == form.sha256:
            if existing.xform != form.to_xform():
                # The same compiled form (what every tablet validates against) in a new XForm
                # rendering, e.g. the built-in forms once they declared ODK entities: XForm
                # clients see a new md5 in their form list and fetch it again.
                existing.xform, existing.xlsform = form.to_xform(), source
                session.flush()
            return existing
        raise DomainError("forms.version_exists", f"{form.form_id} version {form.version} is already published with "
                          "other content; give the new form a new version", status=409)
    row = FormVersion(form_id=form.form_id, version=form.version, title=form.title, record_type=form.record_type,
                      sha256=form.sha256, compiled=form.to_dict(), xform=form.to_xform(), xlsform=source,
                      published_by=person_id)
    session.add(row)
    session.flush()
    return row


def publish_builtin(session: Session) -> list[FormVersion]:
    """Publish the campaign's built-in forms (idempotent) and use them in the active campaign."""
    rows = [publish(session, data, name, None) for name, data in builtin.builtin_xlsforms().items()]
    campaign = campaign_queries.active(session)
    if campaign is not None and not queries.campaign_form_ids(session, campaign.id):
        queries.set_campaign_forms(session, campaign.id, sorted({r.form_id for r in rows}))
        session.flush()
    return rows


@dataclass(frozen=True)
class FormInUse:
    form_id: str
    version: str
    sha256: str


def forms_in_use(session: Session) -> list[FormInUse]:
    """The newest live version of each form the active campaign uses (all forms if it names none)."""
    campaign = campaign_queries.active(session)
    chosen = set(queries.campaign_form_ids(session, campaign.id)) if campaign else set()
    newest: dict[str, FormVersion] = {}
    for row in queries.all_versions(session):
        if row.retired_at is None and (not chosen or row.form_id in chosen):
            newest[row.form_id] = row  # publication order: the last one is the newest
    return [FormInUse(r.form_id, r.version, r.sha256) for r in newest.values()]


_COMPILED: dict[tuple[str, str, str], survey_forms.CompiledForm] = {}


def compiled(row: FormVersion | CatalogVersion) -> survey_forms.CompiledForm:
    """The compiled form of a stored version (cached: a published version never changes)."""
    key = (row.form_id, row.version, row.sha256)
    form = _COMPILED.get(key)
    if form is None:
        form = _COMPILED[key] = survey_forms.CompiledForm.from_dict(row.compiled)
    return form


@dataclass(frozen=True)
class CatalogVersion:
    """A published version as the catalogue keeps it (what a push reads of a FormVersion)."""

    id: int
    form_id: str
    version: str
    record_type: str
    sha256: str
    retired_at: dt.datetime | None
    compiled: dict


# (fingerprint, {form_id: versions in publication order}), shared by the threads of a process
# and replaced whole. Every push read every version of its forms, XForm and XLSForm included
# (the heaviest query of a one-submission push); published versions never change, but a
# version may be retired or published at any time by any worker, so each catalogue checks the
# fingerprint of the table (one small query) and reloads when it moved.
_CATALOG: tuple[str | None, dict[str, list[CatalogVersion]]] = (None, {})


def _catalog(session: Session, fingerprint: str | None) -> dict[str, list[CatalogVersion]]:
    global _CATALOG
    if fingerprint is None:
        fingerprint = queries.catalog_fingerprint(session)
    known, versions = _CATALOG
    if fingerprint != known:
        # Read after the fingerprint: a change committed in between is kept under the older
        # fingerprint, and the next request, seeing the newer one, reads again.
        versions = {}
        for row in queries.catalog_versions(session):
            versions.setdefault(row.form_id, []).append(CatalogVersion(*row))
        _CATALOG = (fingerprint, versions)
    return versions


class FormCatalog:
    """The form versions one request needs: the process's catalogue, checked once per request
    against the table's digest (queries.catalog_fingerprint), read now or given: read by this
    request before anything of the catalogue is used."""

    def __init__(self, session: Session, fingerprint: str | None = None):
        self.session = session
        self._fingerprint = fingerprint
        self._versions: dict[str, list[CatalogVersion]] | None = None

    def versions(self, form_id: str) -> list[CatalogVersion]:
        if self._versions is None:
            self._versions = _catalog(self.session, self._fingerprint)
        return self._versions.get(form_id, [])

    def get(self, form_id: str, version: str) -> CatalogVersion | None:
        return next((v for v in self.versions(form_id) if v.version == version), None)

    def chain_from(self, form_id: str, version: str) -> list[survey_forms.CompiledForm]:
        """The versions from `version` to the newest, in publication order."""
        rows = self.versions(form_id)
        index = next(i for i, v in enumerate(rows) if v.version == version)
        live = [i for i, v in enumerate(rows) if v.retired_at is None and i >= index]
        # Mapped forward to the newest live version; a submission made with a retired
        # version (a tablet that was offline) is still taken, never thrown away.
        end = live[-1] if live else index
        return [compiled(r) for r in rows[index:end + 1]]
