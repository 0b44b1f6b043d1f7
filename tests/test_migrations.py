"""The schema is built by Alembic revisions only, and they go both ways."""

import os

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from tests.conftest import ROOT, alembic_config, database_url, drop_database, recreate_database


def test_there_is_a_single_head():
    script = ScriptDirectory.from_config(alembic_config(database_url("unused")))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_upgrade_downgrade_upgrade_on_an_empty_database():
    name = f"notoneless_migrations_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"towns", "villages", "households", "children", "schools", "campaigns", "people", "teams"} <= tables
        command.downgrade(cfg, "base")
        leftover = set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        assert leftover == set()
        command.upgrade(cfg, "head")
        # The models and the migrations describe the same schema: autogenerate finds nothing.
        command.check(cfg)
        engine.dispose()
    finally:
        drop_database(name)


def test_migrations_folder_is_where_alembic_ini_says():
    assert os.path.isdir(os.path.join(ROOT, "migrations", "versions"))


def _legacy_cipher(number: str) -> bytes:
    """An ID number as the 0001-0008 code encrypted it: format 0x01, one associated data for all."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    key = base64.b64decode(os.environ["ID_NUMBER_KEY"])
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, number.encode(), b"notoneless:id_number")


def test_the_bound_id_numbers_revision_re_encrypts_and_takes_clear_numbers_out(monkeypatch):
    import json
    import uuid

    import pytest
    from sqlalchemy import text

    from server import create_app
    from server.people import id_number
    from server.people.protection import child_subject
    from server.sync.push import content_hash

    name = f"notoneless_migrations_ids_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "0008")
        engine = create_engine(url)
        on_file = id_number.make("320685", __import__("datetime").date(2015, 3, 1), 12)
        typed = id_number.make("320685", __import__("datetime").date(2015, 3, 1), 34)
        child_id, household_id, device_id, submission_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        payload = {"submission_id": str(submission_id), "device_seq": 1, "form_id": "child_survey",
                   "form_version": "2026.1", "captured_at": "2026-05-28T10:02:11+08:00",
                   "record": {"type": "child", "id": str(child_id), "base_version": 1, "fields": {"id_number": typed}}}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO towns (code, name) VALUES ('320685100000', '城东镇')"))
            conn.execute(text("INSERT INTO villages (code, town_code, name) VALUES ('320685100001', '320685100000', '一村')"))
            conn.execute(text("INSERT INTO households (id, village_code) VALUES (:h, '320685100001')"), {"h": household_id})
            conn.execute(text("INSERT INTO children (id, household_id, village_code, id_number_cipher, id_number_lookup)"
                              " VALUES (:c, :h, '320685100001', :cipher, :lookup)"),
                         {"c": child_id, "h": household_id, "cipher": _legacy_cipher(on_file), "lookup": b"l" * 32})
            person = conn.execute(text("INSERT INTO people (username, password_hash, full_name, role)"
                                       " VALUES ('s1', 'x', '调查员', 'city') RETURNING id")).scalar()
            conn.execute(text("INSERT INTO devices (id, person_id, name, token_hash) VALUES (:d, :p, 'pad', 'x')"),
                         {"d": device_id, "p": person})
            conn.execute(text(
                "INSERT INTO submissions (submission_id, device_id, person_id, device_seq, received_at, content_sha256,"
                " record_type, record_id, payload, receipt) VALUES (:s, :d, :p, 1, now(), 'old', 'child', :c,"
                " CAST(:payload AS jsonb), '{}')"),
                {"s": submission_id, "d": device_id, "p": person, "c": child_id, "payload": json.dumps(payload)})
            conn.execute(text("INSERT INTO field_states (record_type, record_id, states) VALUES ('child', :c,"
                              " CAST(:s AS jsonb))"), {"c": child_id, "s": json.dumps({"id_number": {
                                  "v": 2, "d": str(device_id), "s": 1, "t": "2026-05-28T10:02:11+08:00", "seqs": {},
                                  "vals": {str(device_id): [json.dumps(typed), 2, "2026-05-28T10:02:11+08:00"]}}})})
            conn.execute(text("INSERT INTO conflicts (id, record_type, record_id, village_code, field, values)"
                              " VALUES (:i, 'child', :c, '320685100001', 'id_number', CAST(:v AS jsonb))"),
                         {"i": uuid.uuid4(), "c": child_id, "v": json.dumps([
                             {"value": on_file, "device_id": None, "captured_at": "2026-05-28T10:02:11+08:00"},
                             {"value": typed, "device_id": str(device_id), "captured_at": "2026-05-28T10:02:11+08:00"}])})
            version = conn.execute(text("SELECT version FROM children WHERE id = :c"), {"c": child_id}).scalar()

        # Without the keys the revision cannot read the numbers: it says so, and changes nothing.
        with monkeypatch.context() as patched:
            patched.delenv("ID_NUMBER_KEY")
            with pytest.raises(RuntimeError, match="ID_NUMBER_KEY"):
                command.upgrade(cfg, "head")
        command.upgrade(cfg, "head")

        app = create_app({"DATABASE_URL": url})
        vault = app.extensions["notoneless.vault"]
        with engine.begin() as conn:
            cipher, now_version = conn.execute(text("SELECT id_number_cipher, version FROM children WHERE id = :c"),
                                               {"c": child_id}).one()
            assert vault.decrypt(cipher, child_subject(child_id)) == on_file
            assert now_version == version  # re-encrypting is no change a tablet downloads again
            history = conn.execute(text("SELECT row->>'id_number_cipher' FROM record_versions"
                                        " WHERE record_id = :c"), {"c": child_id}).scalars().all()
            assert history and all(vault.decrypt(bytes.fromhex(h[2:]), child_subject(child_id)) == on_file
                                   for h in history)
            dump = " ".join(str(r) for table in ("submissions", "field_states", "conflicts", "record_versions")
                            for r in conn.execute(text(f"SELECT t::text FROM {table} t")).scalars())  # noqa: S608
            assert typed not in dump and on_file not in dump and typed[6:] not in dump
            stored, content = conn.execute(text("SELECT payload, content_sha256 FROM submissions")).one()
            assert vault.reveal(stored["record"]["fields"]["id_number"], child_subject(child_id)) == typed
            # A re-sent old submission is still recognised as the same one (its original receipt).
            assert content == content_hash(payload, vault)
        app.extensions["notoneless.db"].engine.dispose()
        command.downgrade(cfg, "0008")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT substr(id_number_cipher, 1, 1) FROM children")).scalar() == b"\x01"
        engine.dispose()
    finally:
        drop_database(name)
