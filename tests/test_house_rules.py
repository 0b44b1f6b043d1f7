"""The house's rules as tests, so that they hold without anyone remembering them."""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "migrations" / "versions"


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


# --- sync/ is pure ----------------------------------------------------------------------------

SYNC_FORBIDDEN = ("flask", "sqlalchemy", "geoalchemy2", "redis", "rq", "psycopg", "requests", "server")


def test_importing_the_sync_rules_loads_no_framework():
    script = ("import sys, sync, sync.merge, sync.records, sync.cursor, sync.scope_hash; "
              "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(result.stdout.split())
    assert "sync" in loaded
    assert loaded.isdisjoint(SYNC_FORBIDDEN), loaded & set(SYNC_FORBIDDEN)


def test_no_sync_module_imports_a_framework():
    for path in (ROOT / "sync").rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in SYNC_FORBIDDEN, f"{path.relative_to(ROOT)} imports {name}"


# --- jobs by name -----------------------------------------------------------------------------

def test_no_service_imports_a_job_module():
    from server.jobs.registry import JOB_MODULES

    for path in (ROOT / "server").rglob("*.py"):
        relative = path.relative_to(ROOT)
        module = ".".join(relative.with_suffix("").parts)
        # A job module may use its own domain; the CLI is a shell like the worker.
        if module in JOB_MODULES or module.startswith("server.jobs") or path.name == "cli.py":
            continue
        for name in _imports(path):
            hit = next((m for m in JOB_MODULES if name == m or name.startswith(m + ".")), None)
            assert hit is None, f"{relative} imports the job module {hit}: enqueue the job by its name"


def test_every_job_module_registers_its_jobs_by_name():
    from server.jobs import QUEUES, registry

    names = registry.names()
    assert {"imports.run_import", "reports.build_export", "maps.regenerate_town_tasks",
            "cases.render_notice"} <= set(names)
    for name in names:
        job = registry.get(name)
        assert job.queue in QUEUES
        assert job.run.job_name == name
    for module in registry.JOB_MODULES:
        assert any(registry.get(n).run.__module__ == module for n in names), f"{module} registers no job"


def test_an_unknown_job_name_is_refused_when_asked_for():
    from server.jobs import registry

    with pytest.raises(LookupError):
        registry.get("reports.no_such_job")


# --- committed migrations are never edited ----------------------------------------------------

def _sums() -> dict[str, str]:
    out = {}
    for line in (VERSIONS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        out[name] = digest
    return out


def test_committed_migrations_are_unchanged():
    # A database migrated from an earlier checkout never runs an edited revision again: what the
    # edit added would be silently missing there. Write a new revision instead.
    for name, digest in _sums().items():
        assert hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest() == digest, (
            f"migrations/versions/{name} was edited after it was committed: add a new revision instead")


def test_every_revision_is_listed_and_new_ones_have_dated_names():
    sums = _sums()
    for path in sorted(VERSIONS.glob("*.py")):
        assert path.name in sums, (f"{path.name} is not in migrations/versions/SHA256SUMS: add it "
                                   f"(sha256sum {path.name} >> SHA256SUMS) when you commit it")
        if re.fullmatch(r"000[1-8]_\w+\.py", path.name):
            continue  # named before the rule
        assert re.fullmatch(r"20\d{6}_\d{4}_[a-z0-9_]+\.py", path.name), f"{path.name}: name it YYYYMMDD_HHMM_slug.py"
        revision = re.search(r'^revision = "([^"]+)"', path.read_text(), re.M).group(1)
        assert revision == path.stem, f"{path.name}: the revision id is the file's name ({path.stem})"
        # alembic_version.version_num is a varchar(32)
        assert len(revision) <= 32, f"{path.name}: a revision id has at most 32 characters"

# --- SQL lives in query modules ---------------------------------------------------------------

# What builds a statement: a module that imports one of these is writing SQL.
SQL_BUILDERS = {
    "sqlalchemy": {"select", "insert", "update", "delete", "text", "union", "union_all", "exists",
                   "literal_column", "tuple_", "values"},
    "sqlalchemy.dialects.postgresql": {"insert"},
    "sqlalchemy.sql": {"select", "insert", "update", "delete", "text"},
    "geoalchemy2.functions": None,  # any spatial function
}


def _is_query_module(path: Path) -> bool:
    return path.name in ("queries.py", "models.py") or path.parent.name == "queries"


def test_sql_is_written_in_query_modules_only():
    offenders = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        if _is_query_module(path) or path.relative_to(ROOT).as_posix() == "server/db.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in SQL_BUILDERS:
                allowed = SQL_BUILDERS[node.module]
                hits = [a.name for a in node.names if allowed is None or a.name in allowed]
                if hits:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {', '.join(hits)} from {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}" for a in node.names
                              if a.name == "geoalchemy2.functions"]
            elif (isinstance(node, ast.Attribute) and node.attr == "query" and isinstance(node.value, ast.Name)
                  and node.value.id == "session"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} uses session.query")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("ST_"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {node.attr}")
    assert not offenders, "SQL belongs in the domain's queries.py:\n" + "\n".join(offenders)
