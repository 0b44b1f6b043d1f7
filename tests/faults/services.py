"""Throwaway PostgreSQL and Redis servers that the fault and replica tests start, stop and
break themselves; never the machine's shared services.

PostgreSQL: a cluster made by initdb in a temporary directory, on a free loopback port, trust
authentication, run as the `postgres` user when the tests run as root (PostgreSQL refuses to
run as root). Redis: redis-server on a free port, keeping nothing on disk (as the machine's).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    """The binaries of the PostgreSQL major version that has PostGIS installed."""
    for control in sorted(glob.glob("/usr/share/postgresql/*/extension/postgis.control"), reverse=True):
        major = control.split("/")[4]
        bindir = Path(f"/usr/lib/postgresql/{major}/bin")
        if (bindir / "initdb").exists():
            return bindir
    raise RuntimeError("no PostgreSQL with PostGIS installed (scripts/setup.sh installs it)")


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


class ThrowawayPostgres:
    """One PostgreSQL cluster of our own: start, stop (fast or like a crash), restart."""

    def __init__(self, name: str, base: Path | None = None, port: int | None = None):
        self.bin = postgres_bin()
        self.base = Path(base or tempfile.mkdtemp(prefix=f"notoneless-{name}-"))
        self.data = self.base / "data"
        self.port = port or free_port()
        self.log = self.base / "postgres.log"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o755)

    def initdb(self) -> None:
        _as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.base}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nshared_buffers = 32MB\n"
                "max_connections = 60\n"
            )
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")

    def start(self, timeout: int = 60) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(timeout),
                      "start"])

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, recovery from the WAL at the next start."""
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def is_running(self) -> bool:
        try:
            with psycopg.connect(self.dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def make_replica(self, name: str) -> ThrowawayPostgres:
        """A streaming replica of this cluster (pg_basebackup -R), not yet started."""
        replica = ThrowawayPostgres(name)
        _as_postgres([str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                      "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast"])
        with open(replica.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {replica.port}\nunix_socket_directories = '{replica.base}'\n")
        return replica

    def destroy(self) -> None:
        if self.is_running():
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


class ThrowawayRedis:
    """redis-server on a port of our own; stopping it is an outage, starting it again an
    empty Redis (nothing kept on disk, as on the machine's)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
