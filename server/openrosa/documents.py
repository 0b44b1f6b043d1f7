"""The OpenRosa documents: form list, manifest and response (openrosa.org specifications)."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - we write XML, never parse it here

FORM_LIST = "http://openrosa.org/xforms/xformsList"
MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"


def _document(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)


def _text(parent: Element, tag: str, value: str) -> None:
    SubElement(parent, tag).text = value


def form_list(forms: list[dict]) -> bytes:
    """`forms`: formID, name, version, hash, downloadUrl, manifestUrl."""
    root = Element("xforms", xmlns=FORM_LIST)
    for form in forms:
        entry = SubElement(root, "xform")
        for tag in ("formID", "name", "version", "hash", "downloadUrl", "manifestUrl"):
            _text(entry, tag, form[tag])
    return _document(root)


def manifest(media: list[dict]) -> bytes:
    """`media`: filename, hash, downloadUrl, and for an entity list type "entityList" and its
    integrityUrl."""
    root = Element("manifest", xmlns=MANIFEST)
    for item in media:
        entry = SubElement(root, "mediaFile", **({"type": item["type"]} if item.get("type") else {}))
        for tag in ("filename", "hash", "downloadUrl", "integrityUrl"):
            if item.get(tag):
                _text(entry, tag, item[tag])
    return _document(root)


def integrity(deleted: dict[str, bool]) -> bytes:
    """ODK's integrity document: whether each entity a client holds is gone from its list."""
    root = Element("data")
    entities = SubElement(root, "entities")
    for entity_id, gone in deleted.items():
        entry = SubElement(entities, "entity", id=entity_id)
        _text(entry, "deleted", "true" if gone else "false")
    return _document(root)


def response(message: str, nature: str = "submit_success") -> bytes:
    root = Element("OpenRosaResponse", xmlns=RESPONSE)
    SubElement(root, "message", nature=nature).text = message
    return _document(root)
