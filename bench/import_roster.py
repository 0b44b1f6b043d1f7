"""Benchmark: a 100,000-row police roster imported end to end (CSV and XLSX), against a bare COPY
of the same rows into the same table, measured in the same run.

    python bench/import_roster.py [--rows 100000] [--keep]

Uses a database of its own (notoneless_bench, recreated, migrated, loaded with the full demo
county's places and households but no children) and the keys in the environment or
instance/notoneless.env. "End to end" is what `notoneless import roster --now` does: store
the upload, read and check every row, COPY into staging, merge into households and children,
mark roster presence, cross-match, write the report, commit.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import text  # noqa: E402

from server import create_app  # noqa: E402
from server.campaigns import school_age  # noqa: E402
from server.demo import files, generator, loader  # noqa: E402
from server.imports import jobs as import_jobs  # noqa: E402
from server.imports import service  # noqa: E402
from server.people import id_number  # noqa: E402
from server.people.protection import child_subject  # noqa: E402

DB = "notoneless_bench"


def _env_keys() -> dict:
    keys = {}
    env_file = ROOT / "instance" / "notoneless.env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys[k.strip()] = v.strip()
    for k in ("SECRET_KEY", "ID_NUMBER_KEY", "ID_LOOKUP_KEY"):
        keys[k] = os.environ.get(k) or keys.get(k) or (
            "bench" if k == "SECRET_KEY" else base64.b64encode(os.urandom(32)).decode())
    return keys


def _fresh_database() -> str:
    with psycopg.connect("postgresql://postgres@/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = f"postgresql+psycopg://postgres@/{DB}"
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    os.environ["DATABASE_URL"] = url
    command.upgrade(cfg, "head")
    return url


def roster(county, rows: int) -> files.Table:
    """`rows` children spread over the county's households, with unique valid ID numbers."""
    first, last = school_age.school_age_range(county.school_year)
    span = (last - first).days + 1
    towns = {t.code: t.name for t in county.towns}
    villages = {v.code: v for v in county.villages}
    table = files.Table(list(files.ROSTER_HEADER))
    for i in range(rows):
        h = county.households[i % len(county.households)]
        v = villages[h.village_code]
        birth = first + dt.timedelta(days=i % span)
        seq = 1 + (i // span)
        gender = "男" if seq % 2 else "女"
        table.rows.append([f"儿童{i:06d}", gender, id_number.make("320685", birth, seq), birth.isoformat(), "汉族",
                           h.address, towns[v.town_code], v.name, h.group_name, h.household_number, h.head_name,
                           "子" if seq % 2 else "女", h.head_name, h.phone])
    return table


def _reset(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE imports, import_files, import_problems, roster_entries, record_changes,"
                          " register_students, suspected_dropouts, children RESTART IDENTITY CASCADE"))


def end_to_end(app, path: Path) -> tuple[float, dict]:
    db = app.extensions["notoneless.db"]
    started = time.perf_counter()
    content = path.read_bytes()
    with db.sessionmaker() as session:
        imp = service.create_import(session, kind="roster", filename=path.name, content=content, person=None)
        session.commit()
        import_id = imp.id
    with app.app_context():
        summary = import_jobs.run_import(import_id)
    return time.perf_counter() - started, summary


def bare_copy(app, county, table: files.Table) -> float:
    """COPY the same rows, already encrypted and placed in their households, into children."""
    vault = app.extensions["notoneless.vault"]
    households = {(h.village_code, h.household_number): h.id for h in county.households}
    villages = {(v.town_code, v.name): v.code for v in county.villages}
    town_codes = {t.name: t.code for t in county.towns}
    prepared = []
    for r in table.rows:
        village = villages[(town_codes[r[6]], r[7])]
        child_id = uuid.uuid4()
        prepared.append((child_id, households[(village, r[9])], village, r[0], "M" if r[1] == "男" else "F",
                         vault.encrypt(r[2], child_subject(child_id)), vault.lookup(r[2]),
                         dt.date.fromisoformat(r[3]), r[4], r[11], r[12], r[13]))
    engine = app.extensions["notoneless.db"].engine
    started = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(
            "COPY children (id, household_id, village_code, name, gender, id_number_cipher, id_number_lookup,"
            " birth_date, ethnicity, relation_to_head, guardian_name, guardian_phone) FROM STDIN"
        ) as copy:
            for row in prepared:
                copy.write_row(row)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each CSV measurement; the best is reported (a shared machine is noisy)")
    args = parser.parse_args()

    print(f"cores: {os.cpu_count()}; rows: {args.rows}; load average before: {os.getloadavg()[0]:.2f}")
    url = _fresh_database()
    app = create_app({**_env_keys(), "DATABASE_URL": url, "RQ_QUEUE_PREFIX": "bench:"})
    engine = app.extensions["notoneless.db"].engine
    county = generator.generate("full", seed=20260521)
    with app.extensions["notoneless.db"].sessionmaker() as session:
        loader.load(session, county, app.extensions["notoneless.vault"], "bench", with_children=False)
        session.commit()
    table = roster(county, args.rows)
    work = Path(tempfile.mkdtemp(prefix="notoneless-bench-"))
    csv_path = files.write_table(work / "roster.csv", table, fmt="csv")
    xlsx_path = files.write_table(work / "roster.xlsx", table, fmt="xlsx")
    print(f"files: {csv_path} ({csv_path.stat().st_size / 1e6:.1f} MB), "
          f"{xlsx_path} ({xlsx_path.stat().st_size / 1e6:.1f} MB)")

    results: dict[str, float] = {}

    def best(label: str, seconds: float) -> None:
        results[label] = min(seconds, results.get(label, seconds))

    for _ in range(max(1, args.repeat)):
        _reset(engine)
        best("bare COPY into children", bare_copy(app, county, table))
        _reset(engine)
        csv_seconds, summary = end_to_end(app, csv_path)
        assert summary["children_created"] == args.rows, summary
        best("end to end, CSV (new children)", csv_seconds)
        print(f"CSV steps ({csv_seconds:.1f} s):", summary["timings"])
        again_seconds, summary = end_to_end(app, csv_path)
        assert summary["children_unchanged"] == args.rows, summary
        best("end to end, CSV again (nothing changes)", again_seconds)
        print(f"CSV again steps ({again_seconds:.1f} s):", summary["timings"])
    copy_seconds = results["bare COPY into children"]
    _reset(engine)
    xlsx_seconds, summary = end_to_end(app, xlsx_path)
    assert summary["children_created"] == args.rows, summary
    results["end to end, XLSX (new children)"] = xlsx_seconds
    print("XLSX steps:", summary["timings"])

    print(f"load average after: {os.getloadavg()[0]:.2f}; best of {args.repeat} for CSV and COPY, XLSX once")
    print(f"{'':42} {'seconds':>8} {'rows/s':>9} {'x COPY':>7}")
    for label, seconds in results.items():
        print(f"{label:42} {seconds:8.2f} {args.rows / seconds:9.0f} {seconds / copy_seconds:7.1f}")
    engine.dispose()
    if not args.keep:
        with psycopg.connect("postgresql://postgres@/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
