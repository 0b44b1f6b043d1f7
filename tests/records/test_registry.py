"""The record-type registry is the one list of synced records and their fields."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect, text

from server.records import registry
from tests.conftest import ROOT


def test_the_registry_imports_alone_without_a_circle():
    # On the lowest floor: beyond the `server` package itself, importing it loads nothing (no
    # domain package), so any module of any domain may import it.
    code = ("import sys, server; before = set(sys.modules); import server.records.registry; "
            "extra = set(sys.modules) - before - {'server.records', 'server.records.registry'}; "
            "assert not extra, sorted(extra)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_every_column_the_registry_names_exists_in_its_table(session):
    for record_type in registry.RECORD_TYPES.values():
        columns = {c["name"] for c in inspect(session.connection()).get_columns(record_type.table)}
        named = {c for f in record_type.fields for c in f.stored_in} | set(record_type.placement_columns)
        if record_type.answers_column:
            named.add(record_type.answers_column)
        assert named <= columns, (record_type.name, named - columns)
        assert record_type.model.__tablename__ == record_type.table


def test_the_change_log_triggers_cover_exactly_the_registered_tables(session):
    # The version, history and change-log triggers stay in SQL (migrations/); they must name
    # the same tables as the registry, or a record type would sync without a change log.
    rows = session.execute(text(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE NOT t.tgisinternal AND t.tgname ~ '_(log_insert|log_update|log_delete|bump_version"
        "|keep_version_insert|keep_version_update)$'")).all()
    by_table: dict[str, set[str]] = {}
    for table, name in rows:
        by_table.setdefault(table, set()).add(name.removeprefix(f"{table}_"))
    assert set(by_table) == set(registry.TABLES.values())
    for table, names in by_table.items():
        assert names == {"log_insert", "log_update", "log_delete", "bump_version", "keep_version_insert",
                         "keep_version_update"}, table
    # And each trigger passes the record type the registry gives its table.
    args = session.execute(text(
        "SELECT c.relname, encode(t.tgargs, 'escape') FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE t.tgname ~ '_log_(insert|update|delete)$'")).all()
    types = {table: record_type for record_type, table in registry.TABLES.items()}
    for table, arg in args:
        assert arg.split("\\000")[0] == types[table], (table, arg)


def test_the_pull_and_the_push_read_their_fields_from_the_registry():
    from server.sync import queries, records

    child = registry.get("child")
    assert "id_number" in child.writable and "id_number" not in child.sent
    assert {"id_number_cipher", "id_number_lookup"} <= set(child.writable_columns)
    for name in child.sent:
        assert f"'{name}'" in queries._FIELDS_JSON["child"]
    assert "'id_number'," not in queries._FIELDS_JSON["child"] and "t.id_number_cipher" not in queries._FIELDS_JSON["child"]
    assert records.ADAPTERS["child"].writable == child.writable
    assert set(queries.TABLES) == set(registry.RECORD_TYPES)


def test_what_tablets_are_not_sent_is_the_disclosure_policy_s_absent():
    from server import disclosure
    from server.sync import queries, records

    for name in registry.RECORD_TYPES:
        absent = records.tablet_absent(name)
        assert all(disclosure.level("tablet", name, f) == disclosure.ABSENT for f in absent)
        for field in absent:
            assert f"'{field}'," not in queries._FIELDS_JSON[name]
    assert records.tablet_absent("child") == ("id_number",)
