"""Fixtures of the fault tests: a throwaway PostgreSQL cluster holding the small demo county,
a throwaway Redis, and the app and its worker started against them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import ROOT, TEST_CONFIG
from tests.faults.services import ThrowawayPostgres, ThrowawayRedis
from tests.sync_e2e.conftest import LiveServer, build_live_county, live_county  # noqa: F401

DATABASE = "notoneless"


@pytest.fixture(scope="module")
def pg() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL cluster of the test's own, with the small demo county loaded."""
    cluster = ThrowawayPostgres("faults-pg")
    cluster.initdb()
    cluster.start()
    try:
        cluster.execute(f'CREATE DATABASE "{DATABASE}"')
        build_live_county(cluster.url(DATABASE))
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def redis_box() -> Iterator[ThrowawayRedis]:
    box = ThrowawayRedis()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def pg_engine(pg):
    engine = create_engine(pg.url(DATABASE), pool_pre_ping=True)
    yield engine
    engine.dispose()


def fault_environment(pg: ThrowawayPostgres, redis_box: ThrowawayRedis) -> dict[str, str]:
    return {
        "DATABASE_URL": pg.url(DATABASE),
        "REDIS_URL": redis_box.url,
        # Quick outbox settings, so that the tests need not wait for the production ones.
        "OUTBOX_SWEEP_SECONDS": "0.5",
        "OUTBOX_GRACE_SECONDS": "1",
        "JOB_HEARTBEAT_SECONDS": "1",
        "OUTBOX_STALE_SECONDS": "4",
    }


@pytest.fixture(scope="module")
def server(pg, redis_box, tmp_path_factory) -> Iterator[LiveServer]:
    live = LiveServer("faults", tmp_path_factory.mktemp("faults-server"), environment=fault_environment(pg, redis_box))
    live.start()
    yield live
    live.stop()


class WorkerProcess:
    """`notoneless worker` in a process group of its own, against the throwaway services."""

    def __init__(self, environment: dict[str, str], log_path: Path):
        self.environment = environment
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, **TEST_CONFIG_ENV, **self.environment, "PYTHONPATH": ROOT}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def horses(self) -> list[int]:
        """The work horses (RQ forks one per job, in a process group of its own)."""
        if self.process is None:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry))
        return found

    def kill(self) -> None:
        """SIGKILL the worker and its running job: what a power cut or the OOM killer does."""
        if self.process is None:
            return
        horses = self.horses()
        for pid in horses:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


TEST_CONFIG_ENV = {
    "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
    "ID_NUMBER_KEY": TEST_CONFIG["ID_NUMBER_KEY"],
    "ID_LOOKUP_KEY": TEST_CONFIG["ID_LOOKUP_KEY"],
    "RQ_QUEUE_PREFIX": TEST_CONFIG["RQ_QUEUE_PREFIX"],  # the same queues as the server's
}


@pytest.fixture
def worker(pg, redis_box, tmp_path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(fault_environment(pg, redis_box), tmp_path / "worker.log")
    yield process
    process.stop()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
