"""Instances as ODK Collect fills and serialises them (for the tests and bench/openrosa_bench.py)."""

from __future__ import annotations

import base64
import uuid
from xml.etree import ElementTree as ET  # noqa: S405 - our own XForms

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def instance(xform: str, answers: dict[str, str], *, entity: dict | None = None, instance_id: str | None = None,
             deprecated_id: str | None = None, end: str = "2026-05-28T10:05:00.000+08:00") -> bytes:
    """A filled instance as Collect serialises it: the XForm's primary instance without its
    namespace, answers by path, meta/entity as the form's calculations leave it."""
    html = ET.fromstring(xform)
    template = html.find(f"{H}head/{XF}model/{XF}instance")[0]
    for node in template.iter():
        node.tag = node.tag.removeprefix(XF)
    root = ET.fromstring(ET.tostring(template))
    for path, value in answers.items():
        node = root.find(path)
        assert node is not None, path
        node.text = value
    if root.find("end") is not None:
        root.find("end").text = end
    meta = root.find("meta")
    meta.find("instanceID").text = instance_id or f"uuid:{uuid.uuid4()}"
    if deprecated_id:
        ET.SubElement(meta, "deprecatedID").text = deprecated_id
    node = meta.find("entity")
    if node is not None and entity is not None:
        for key, value in entity.items():
            node.set(key, str(value))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
