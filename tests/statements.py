"""The statements a piece of work sends, as the engine's cursor events hear them (db.driver_execute's
included), for tests that hold a request to its round trips."""

from sqlalchemy import event


def statements(app, do) -> list[str]:
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = app.extensions["notoneless.db"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        do()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The test's connection joins each request's session through a savepoint of its own.
    if seen and seen[0].startswith("SAVEPOINT "):
        joined = seen[0].split()[1]
        seen = [s for s in seen if s not in (f"SAVEPOINT {joined}", f"RELEASE SAVEPOINT {joined}")]
    return seen
