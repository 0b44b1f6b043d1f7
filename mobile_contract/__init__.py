"""The tablet sync contract in machine-readable form, and the reference tablet client.

`schemas/` holds a JSON Schema (draft 2020-12) for every payload of
`shared/design/sync-contract.md`, `examples/` a realistic example of each (named
`<schema>.<case>.json`), and `client/` the reference tablet client. Nothing here imports Flask
or SQLAlchemy: a tablet developer, a test or the drill can use it without the server.

Schemas refer to each other by `$id` (`https://notoneless.invalid/mobile_contract/v1/...`,
a reserved domain that never resolves): load them all into one registry, as `validator` does.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMAS_DIR = PACKAGE_DIR / "schemas"
EXAMPLES_DIR = PACKAGE_DIR / "examples"
SCHEMA_BASE_URI = "https://notoneless.invalid/mobile_contract/v1/"
# Definitions shared by the payload schemas; not a payload itself, so it has no example.
DEFINITIONS = "common"


def schema_names() -> list[str]:
    """List the payload schemas by name (file name without .json)."""
    return sorted(p.stem for p in SCHEMAS_DIR.glob("*.json") if p.stem != DEFINITIONS)


def load_schema(name: str) -> dict[str, Any]:
    """Return one schema (or the shared definitions) as a dict."""
    return json.loads((SCHEMAS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def example_paths() -> list[Path]:
    """List every example file."""
    return sorted(EXAMPLES_DIR.glob("*.json"))


def example_schema(path: Path) -> str:
    """Name the schema an example file is for (the part of its name before the first dot)."""
    return path.name.split(".", 1)[0]


@cache
def _registry():
    # Imported here so that the contract stays importable where jsonschema is not installed
    # (the tablet client needs only the standard library).
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def validator(name: str):
    """Return a jsonschema validator for one payload schema, with formats checked."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        load_schema(name), registry=_registry(), format_checker=format_checker()
    )


def format_checker():
    """Return a format checker that also checks date-time without extra packages."""
    import datetime as dt

    from jsonschema import FormatChecker

    checker = FormatChecker()

    # jsonschema checks date-time only when rfc3339-validator is installed; the contract
    # insists on an offset, which fromisoformat plus the schema's pattern check everywhere.
    @checker.checks("date-time", raises=ValueError)
    def _date_time(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return dt.datetime.fromisoformat(instance).tzinfo is not None

    return checker


def validate(name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError (the most relevant one) if instance breaks schema name."""
    from jsonschema.exceptions import best_match

    error = best_match(validator(name).iter_errors(instance))
    if error is not None:
        raise error
