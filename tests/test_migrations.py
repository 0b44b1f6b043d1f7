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
