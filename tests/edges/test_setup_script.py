"""scripts/setup.sh on a throwaway PostgreSQL cluster on another port (issue 13 items 9, 10):
the port is read from the cluster, the app's role owns its schema and nothing more, and the
test superuser exists only where the tests run. The machine's shared cluster is not touched."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_ADMIN_DSN, ROOT
from tests.faults.services import ThrowawayPostgres

PACKAGES = ["fonts-wqy-zenhei", "chromium", "curl"]


def _installed(package: str) -> bool:
    found = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return "install ok installed" in found.stdout


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="scripts/setup.sh runs as root"),
    pytest.mark.skipif(not shutil.which("dpkg-query") or not all(_installed(p) for p in PACKAGES),
                       reason="the packages setup.sh installs are not all present (it would run apt)"),
]


@pytest.fixture(scope="module")
def cluster():
    pg = ThrowawayPostgres("setup-sh")
    pg.initdb()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """The scripts in a checkout of their own: its instance/ is the test's, its .venv,
    node_modules and built workbench the real ones (setup.sh finds them installed and leaves them)."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(Path(ROOT) / "scripts", root / "scripts")
    for name in ("pyproject.toml", "package.json", "package-lock.json"):
        shutil.copy2(Path(ROOT) / name, root / name)
    os.symlink(Path(ROOT) / "node_modules", root / "node_modules")
    # the workbench as built here: its sources are older than its build, so none is made again
    (root / "server").mkdir()
    os.symlink(Path(ROOT) / "server" / "workbench", root / "server" / "workbench")
    (root / ".venv").mkdir()
    os.symlink(Path(ROOT) / ".venv" / "bin", root / ".venv" / "bin")
    stamp = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (root / ".venv" / f".installed-{stamp}").touch()
    return root


def _shared_roles() -> list[tuple]:
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return conn.execute("SELECT rolname, rolpassword, rolsuper, rolcanlogin FROM pg_authid"
                            " WHERE rolname LIKE 'notoneless%' ORDER BY rolname").fetchall()


def _setup(checkout: Path, cluster: ThrowawayPostgres, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGHOST": str(cluster.base), "PGPORT": str(cluster.port), **extra}
    for name in ("DATABASE_URL", "TEST_PG_URL", "DB_PASSWORD", "TEST_DB_PASSWORD"):
        env.pop(name, None)
    return subprocess.run(["bash", str(checkout / "scripts" / "setup.sh")], env=env, capture_output=True,
                          text=True, timeout=600)


def _settings(checkout: Path) -> dict[str, str]:
    lines = (checkout / "instance" / "notoneless.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _role(cluster, name):
    with psycopg.connect(cluster.dsn()) as conn:
        return conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles"
                            " WHERE rolname = %s", (name,)).fetchone()


def test_setup_on_a_cluster_on_another_port(cluster, checkout):
    shared_before = _shared_roles()
    done = _setup(checkout, cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    settings = _settings(checkout)
    assert cluster.port != 5432
    assert f"@127.0.0.1:{cluster.port}/notoneless" in settings["DATABASE_URL"]
    assert "TEST_PG_URL" not in settings

    # The app's role: logs in, no superuser, no databases or roles of its own …
    assert _role(cluster, "notoneless") == (False, False, False, True)
    assert _role(cluster, "notoneless_test") is None  # no test superuser where the tests do not run
    with psycopg.connect(cluster.dsn("notoneless")) as conn:
        owners = conn.execute("SELECT pg_get_userbyid(d.datdba), pg_get_userbyid(n.nspowner) FROM pg_database d,"
                              " pg_namespace n WHERE d.datname = 'notoneless' AND n.nspname = 'public'").fetchone()
        assert owners == ("postgres", "notoneless")
    # … and the schema is enough to migrate and run the app.
    app_url = settings["DATABASE_URL"]
    migrate = subprocess.run([str(Path(ROOT) / ".venv" / "bin" / "alembic"), "upgrade", "head"], cwd=ROOT,
                             env={**os.environ, "DATABASE_URL": app_url}, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    with psycopg.connect(app_url.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT count(*) FROM towns").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE ROLE intruder SUPERUSER")

    # Where the tests run (scripts/test.sh), the test superuser, with a password of its own.
    done = _setup(checkout, cluster, NOTONELESS_TEST_ROLE="1")
    assert done.returncode == 0, done.stdout + done.stderr
    settings = _settings(checkout)
    assert _role(cluster, "notoneless_test") == (True, False, False, True)
    assert f"@127.0.0.1:{cluster.port}" in settings["TEST_PG_URL"]
    assert settings["DB_PASSWORD"] not in settings["TEST_PG_URL"]
    # A later run for the server alone disables it.
    done = _setup(checkout, cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _role(cluster, "notoneless_test") == (False, False, False, False)

    assert _shared_roles() == shared_before  # the machine's shared cluster is untouched


def test_a_failing_step_shows_its_own_error(cluster, checkout):
    """A step that fails stops the set-up with that step's own output, not a later, vaguer one."""
    broken = checkout.parent / "broken"
    if not broken.exists():
        shutil.copytree(checkout, broken, symlinks=True)
    for stamp in (broken / ".venv").glob(".installed-*"):
        stamp.unlink()  # the dependencies must be installed …
    (broken / ".venv" / "bin").unlink()
    (broken / ".venv" / "bin").mkdir()
    # … by a pip that fails the way a mirror without the pinned version does
    (broken / ".venv" / "bin" / "python").write_text(
        '#!/bin/sh\nif [ "$1" = -m ]; then echo "ERROR: No matching distribution found for flask==9.9" >&2; exit 1; fi\n'
        f'exec {shutil.which("python3.11") or "python3"} "$@"\n')
    (broken / ".venv" / "bin" / "python").chmod(0o755)
    done = _setup(broken, cluster)
    assert done.returncode != 0
    assert "No matching distribution found for flask==9.9" in done.stderr
    assert "upgrading pip failed" in done.stderr
    assert "No module named" not in done.stdout + done.stderr
