"""Read an XForm client's submission (ODK Collect, Enketo) as answers of a compiled form.

An XForm client sends the whole form instance as XML: every answer, the entity it is about
(ODK's entities spec: `meta/entity` with id, baseVersion, trunkVersion, branchId) and files by
name. Our own tablets send JSON envelopes instead; both end as the same submission, so this
module only reads: which record, from which version, with which answers in the JSON shape
`validate_submission` checks (dates as text, geopoints as {lat, lon, accuracy_m}, booleans,
lists). What the form binds where is read from the XForm itself (`xform_binding`), so a form
the bureau publishes with its own entities sheet is read the same way as the built-in ones.

Pure: defusedxml (no DTDs, no entity expansion: the XML comes from the field) and the standard
library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 - only the type; parsing is defusedxml's

from defusedxml import ElementTree

from survey_forms.model import ENTITY_LISTS, CompiledForm

XFORMS = "http://www.w3.org/2002/xforms"
HTML = "http://www.w3.org/1999/xhtml"
ENTITIES = "http://www.opendatakit.org/xforms/entities"
JAVAROSA = "http://openrosa.org/javarosa"
_PICK = re.compile(r"^\s*instance\('([A-Za-z_][\w.-]*)'\)/root/item")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_TRUE = {"1", "true", "true()"}


class InstanceError(ValueError):
    """A submission that cannot be read: `code` is stable, `field` names the answer."""

    def __init__(self, code: str, message: str, field_name: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field_name


@dataclass(frozen=True)
class XFormBinding:
    """What an XForm binds where, as instance paths relative to the root (`household/phone`)."""

    root: str
    form_id: str
    version: str
    entity_list: str | None  # the entity list the form creates or updates, if any
    saved: frozenset[str]  # answers that save to the entity (and so start from its value)
    picks: dict[str, str]  # path of a pick from an entity list -> the list's name
    properties: dict[str, str]  # entity property -> path of the answer saved to it
    started: str | None = None  # path of the `start` timestamp, if the form keeps one
    finished: str | None = None  # path of the `end` timestamp
    lists: tuple[str, ...] = ()  # the entity lists the form reads (its media files)


@dataclass(frozen=True)
class EntityMeta:
    """The entity a submission creates or updates (`meta/entity`)."""

    dataset: str
    id: str
    create: bool
    update: bool
    base_version: int | None
    trunk_version: int | None
    branch_id: str | None


@dataclass(frozen=True)
class XFormInstance:
    form_id: str
    version: str
    instance_id: str  # as sent, "uuid:…"
    deprecated_id: str | None
    entity: EntityMeta | None
    picks: dict[str, str]  # entity list name -> the picked entity's id
    fields: dict[str, Any]  # record_field -> value in the JSON shape of a push
    files: dict[str, str] = field(default_factory=dict)  # record_field -> attached file's name
    started_at: str | None = None
    finished_at: str | None = None


def _parse(xml: bytes | str) -> Element:
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise InstanceError("openrosa.malformed_xml", f"not well-formed XML: {error}") from error
    except Exception as error:  # defusedxml refuses DTDs and entities with its own exceptions
        raise InstanceError("openrosa.malformed_xml", f"refused XML: {type(error).__name__}") from error


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relative(nodeset: str, root: str) -> str | None:
    prefix = f"/{root}/"
    nodeset = nodeset.strip()
    return nodeset[len(prefix):] if nodeset.startswith(prefix) else None


@lru_cache(maxsize=64)
def xform_binding(xform: str) -> XFormBinding:
    """Read what an XForm binds where (cached: a published XForm never changes)."""
    html = _parse(xform)
    model = html.find(f"{{{HTML}}}head/{{{XFORMS}}}model")
    if model is None:
        raise InstanceError("openrosa.not_an_xform", "no model in the XForm")
    primary = model.find(f"{{{XFORMS}}}instance")
    if primary is None or len(primary) == 0:
        raise InstanceError("openrosa.not_an_xform", "no primary instance in the XForm")
    root = primary[0]
    root_name = _local(root.tag)
    entity = root.find(f"{{{XFORMS}}}meta/{{{XFORMS}}}entity")
    saved: set[str] = set()
    properties: dict[str, str] = {}
    started = finished = None
    for bind in model.iter(f"{{{XFORMS}}}bind"):
        path = _relative(bind.get("nodeset", ""), root_name)
        if path is None:
            continue
        prop = bind.get(f"{{{ENTITIES}}}saveto")
        if prop:
            saved.add(path)
            properties[prop] = path
        if bind.get(f"{{{JAVAROSA}}}preload") == "timestamp":
            which = bind.get(f"{{{JAVAROSA}}}preloadParams")
            started = path if which == "start" else started
            finished = path if which == "end" else finished
    picks: dict[str, str] = {}
    body = html.find(f"{{{HTML}}}body")
    for select in body.iter(f"{{{XFORMS}}}select1") if body is not None else ():
        itemset = select.find(f"{{{XFORMS}}}itemset")
        match = _PICK.match(itemset.get("nodeset", "")) if itemset is not None else None
        path = _relative(select.get("ref", ""), root_name)
        if match and path is not None and match.group(1) in ENTITY_LISTS.values():
            picks[path] = match.group(1)
    lists = tuple(sorted(
        secondary.get("id", "") for secondary in model.findall(f"{{{XFORMS}}}instance")[1:]
        if secondary.get("src", "") == f"jr://file-csv/{secondary.get('id', '')}.csv"
        and secondary.get("id", "") in ENTITY_LISTS.values()))
    return XFormBinding(
        root=root_name,
        form_id=root.get("id", ""),
        version=root.get("version", ""),
        entity_list=entity.get("dataset") if entity is not None else None,
        saved=frozenset(saved),
        picks=picks,
        properties=properties,
        started=started,
        finished=finished,
        lists=lists,
    )


def answer_paths(form: CompiledForm) -> dict[str, str]:
    """Each answer's instance path, by record field."""
    return {f.record_field: f"{f.group}/{f.name}" if f.group else f.name for f in form.fields}


@dataclass(frozen=True)
class InstanceHeader:
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None


def _text(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text.strip()


def _find(root: Element, path: str) -> Element | None:
    # Submissions carry the form's default namespace or none at all (Collect writes none,
    # Enketo keeps the XForm's): look a path up by local names.
    node = root
    for part in path.split("/"):
        node = next((child for child in node if _local(child.tag) == part), None)
        if node is None:
            return None
    return node


def header(xml: bytes | str) -> tuple[InstanceHeader, Element]:
    """The form, version and instance ids of a submission (to find its form version)."""
    root = _parse(xml)
    instance_id = _text(_find(root, "meta/instanceID"))
    if not instance_id:
        raise InstanceError("openrosa.missing_instance_id", "meta/instanceID is missing", "meta/instanceID")
    form_id = root.get("id", "")
    if not form_id:
        raise InstanceError("openrosa.unknown_form", "the instance's root names no form id")
    return InstanceHeader(form_id, root.get("version", ""), instance_id,
                          _text(_find(root, "meta/deprecatedID")) or None), root


def _version(value: str | None, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError as error:
        raise InstanceError("openrosa.invalid_entity", f"{name} {value!r} is not a whole number",
                            f"meta/entity/@{name}") from error
    if number < 0:
        raise InstanceError("openrosa.invalid_entity", f"{name} may not be negative", f"meta/entity/@{name}")
    return number


def _entity(root: Element) -> EntityMeta | None:
    node = _find(root, "meta/entity")
    if node is None:
        return None
    return EntityMeta(
        dataset=node.get("dataset", ""),
        id=(node.get("id") or "").strip(),
        create=(node.get("create") or "").strip().lower() in _TRUE,
        update=(node.get("update") or "").strip().lower() in _TRUE,
        base_version=_version(node.get("baseVersion"), "baseVersion"),
        trunk_version=_version(node.get("trunkVersion"), "trunkVersion"),
        branch_id=(node.get("branchId") or "").strip() or None,
    )


def _value(kind: str, text: str, name: str) -> Any:
    """An answer's XML text in the JSON shape of a push (validation checks it afterwards)."""
    try:
        if kind == "integer":
            return int(text)
        if kind == "decimal":
            return float(text)
        if kind == "boolean":
            if text not in ("yes", "no"):
                raise ValueError(text)
            return text == "yes"
        if kind == "select_multiple":
            return text.split()
        if kind == "date":
            if not _DATE.match(text):
                raise ValueError(text)
            return text[:10]
        if kind == "geopoint":
            # "lat lon altitude accuracy" (the last two may be missing)
            parts = [float(p) for p in text.split()]
            if len(parts) < 2:
                raise ValueError(text)
            point: dict[str, Any] = {"lat": parts[0], "lon": parts[1]}
            if len(parts) >= 4:
                point["accuracy_m"] = parts[3]
            return point
    except ValueError as error:
        raise InstanceError("form.type", f"{name}: {text!r} is not a valid {kind}", name) from error
    return text


def read_instance(xml: bytes | str, form: CompiledForm, binding: XFormBinding) -> XFormInstance:
    """Read a submission made with `form` (whose XForm `binding` describes)."""
    head, root = header(xml)
    if head.form_id != form.form_id or head.version != form.version:
        raise InstanceError("openrosa.unknown_form",
                            f"the instance is of {head.form_id} {head.version}, not {form.form_id} {form.version}")
    values: dict[str, Any] = {}
    files: dict[str, str] = {}
    paths = answer_paths(form)
    for f in form.fields:
        path = paths[f.record_field]
        node = _find(root, path)
        if node is None:
            continue  # not in this instance (a client may leave non-relevant answers out)
        text = _text(node)
        if text == "":
            # An empty answer clears the value only where the form started from it (an answer
            # saved to the entity was prefilled from the record); elsewhere it says nothing,
            # so a form without prefills never wipes what another line recorded.
            if path in binding.saved:
                values[f.record_field] = [] if f.type == "select_multiple" else None
            continue
        if f.type == "image":
            files[f.record_field] = text
            continue
        values[f.record_field] = _value(f.type, text, f.record_field)
    picks = {}
    for path, list_name in binding.picks.items():
        picked = _text(_find(root, path))
        if picked:
            picks[list_name] = picked
    return XFormInstance(
        form_id=head.form_id,
        version=head.version,
        instance_id=head.instance_id,
        deprecated_id=head.deprecated_id,
        entity=_entity(root),
        picks=picks,
        fields=values,
        files=files,
        started_at=_text(_find(root, binding.started)) or None if binding.started else None,
        finished_at=_text(_find(root, binding.finished)) or None if binding.finished else None,
    )
