"""The deployment a county's security review reads (issue 13 item 9): only the TLS proxy faces
the network, the app binds to 127.0.0.1 unless told otherwise, and the container database's
app role is no superuser."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import ROOT
from tests.faults.services import ThrowawayPostgres

COMPOSE = yaml.safe_load((Path(ROOT) / "compose.yaml").read_text())


def test_only_the_tls_proxy_publishes_a_port():
    services = COMPOSE["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert re.fullmatch(r"caddy:2[.\d]*(-alpine)?", services["proxy"]["image"])
    assert sorted(services["proxy"]["ports"]) == ["443:443", "80:80"]
    caddyfile = (Path(ROOT) / "deploy" / "caddy" / "Caddyfile").read_text()
    assert "tls /certs/cert.pem /certs/key.pem" in caddyfile and "reverse_proxy web:8000" in caddyfile
    assert services["web"]["environment"]["PROXY_HOPS"] == "1"  # the client's address, counted
    assert services["web"]["environment"]["BIND"] == "0.0.0.0"  # inside the compose network only


def test_the_app_binds_to_this_machine_unless_told_otherwise():
    run = (Path(ROOT) / "scripts" / "run.sh").read_text()
    assert 'BIND=${BIND:-127.0.0.1}' in run and 'gunicorn --bind "$BIND:$PORT"' in run
    dockerfile = (Path(ROOT) / "Dockerfile").read_text()
    assert "ENV BIND=127.0.0.1" in dockerfile and '--bind \\"${BIND}:8000\\"' in dockerfile


def test_the_container_database_gives_the_app_its_schema_and_nothing_more():
    """deploy/initdb/10-app-role.sh, as the postgis image runs it, on a throwaway cluster."""
    if os.geteuid() != 0:
        pytest.skip("runs psql as the postgres user")
    cluster = ThrowawayPostgres("initdb-sh")
    cluster.initdb()
    cluster.start()
    try:
        script = Path(ROOT) / "deploy" / "initdb" / "10-app-role.sh"
        env = {**os.environ, "PGHOST": str(cluster.base), "PGPORT": str(cluster.port), "POSTGRES_USER": "postgres",
               "POSTGRES_DB": "postgres", "APP_DB_PASSWORD": "app-secret"}
        done = subprocess.run(["runuser", "-u", "postgres", "--", "sh", str(script)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(cluster.dsn("notoneless")) as conn:
            role = conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                                " WHERE rolname = 'notoneless'").fetchone()
            owner = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")
            assert role == (False, False, False) and owner.fetchone() == ("notoneless",)
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").fetchone() == (1,)
    finally:
        cluster.destroy()
