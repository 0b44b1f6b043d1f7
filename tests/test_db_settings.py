"""What every connection of the app's is set to once, rather than by a statement per request."""

from sqlalchemy import text

from server import db
from tests.statements import statements as _statements


def test_the_apps_connections_run_without_jit(app):
    # The maps' and reports' aggregates pass jit_above_cost; compiling them cost more than
    # running them (server/db.py). Set at connect: no request pays a SET for it.
    with app.extensions["notoneless.db"].engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"


def test_a_replica_engine_is_read_only_and_without_jit(app):
    url = app.config["DATABASE_URL"]
    database = db.Database(url, read_url=url)
    try:
        with database.read_engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
        with database.engine.connect() as conn:
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "off"
    finally:
        database.engine.dispose()
        database.read_engine.dispose()


def test_maps_ask_for_no_setting_of_their_own(app, client, login, make_person, make_village):
    village = make_village()
    supervisor = make_person("town_supervisor", town=village.town)
    headers = login(supervisor)
    for path in ("/api/v1/maps/villages", "/api/v1/tiles/villages/12/3423/1647.mvt"):
        responses = []
        statements = _statements(app, lambda path=path, responses=responses: responses.append(client.get(path, headers=headers)))
        assert responses[0].status_code == 200, (path, responses[0].data[:200])
        assert statements and not [s for s in statements if s.lstrip().upper().startswith("SET ")], statements


def test_a_supervisors_scope_is_read_with_the_token(app, client, login, make_person, make_village):
    # Every request of a supervisor starts with its token; a town's villages and teams, or a
    # team member's assignments, come in the same round trip (accounts.queries.live_token).
    village = make_village()
    for person in (make_person("town_supervisor", town=village.town), make_person("team_leader", villages=[village])):
        headers = login(person)
        responses = []
        statements = _statements(app, lambda headers=headers, responses=responses: responses.append(
            client.get(f"/api/v1/maps/households?village={village.code}", headers=headers)))
        assert responses[0].status_code == 200, responses[0].data[:200]
        scope_reads = [s for s in statements if "FROM teams" in s.split("WHERE")[0] and "people" not in s.split("FROM")[1][:40]
                       or s.lstrip().startswith("SELECT villages.code \nFROM villages")]
        assert not scope_reads, scope_reads
        assert "FROM people JOIN access_tokens" in " ".join(statements[0].split()), statements[0]
