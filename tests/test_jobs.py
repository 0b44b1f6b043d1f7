"""Jobs reach the queue only when their transaction commits, and a real worker runs them."""

from rq import SimpleWorker

from server import jobs
from server.jobs.registry import job


@job("tests.record_in_redis", queue="reports", own_session=False)
def record_in_redis(app, key: str, value: str) -> str:
    """A job for these tests: leaves a mark a test can see."""
    from redis import Redis

    from tests.conftest import TEST_REDIS_URL

    Redis.from_url(TEST_REDIS_URL).set(key, value)
    return value


def test_a_job_is_enqueued_only_after_commit(app, connection, redis_conn):
    db = app.extensions["notoneless.db"]
    with app.app_context():
        q = jobs.queue("reports")
        q.empty()
        session = db.sessionmaker()
        jobs.enqueue_after_commit(session, "tests.record_in_redis", "mark:committed", "yes")
        assert q.count == 0  # not before the commit: a worker could not see the rows yet
        session.commit()
        assert q.count == 1

        other = db.sessionmaker()
        jobs.enqueue_after_commit(other, "tests.record_in_redis", "mark:rolled-back", "yes")
        other.rollback()
        assert q.count == 1  # dropped with the transaction it belonged to

        SimpleWorker([q], connection=redis_conn).work(burst=True)
        assert redis_conn.get("mark:committed") == b"yes"
        assert redis_conn.get("mark:rolled-back") is None


def test_queues_are_separate(app, redis_conn):
    with app.app_context():
        names = {jobs.queue(n).name for n in jobs.QUEUES}
    assert len(names) == 3
    assert all(n.startswith(app.config["RQ_QUEUE_PREFIX"]) for n in names)


def test_a_job_asked_for_while_redis_is_down_waits_in_the_outbox(app, connection, redis_conn):
    """Redis down at commit: the commit stands, the job waits as a row, the sweep delivers it."""
    from sqlalchemy import func, select

    from server.jobs import outbox
    from server.jobs.models import OutboxJob

    db = app.extensions["notoneless.db"]
    with app.app_context():
        q = jobs.queue("reports")
        q.empty()
        broken = jobs.redis_connection(app)
        # Nothing listens on port 1: the delivery after commit fails at once.
        app.extensions["notoneless.redis"] = type(broken).from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
        try:
            session = db.sessionmaker()
            jobs.enqueue_after_commit(session, "tests.record_in_redis", "mark:outbox", "ran")
            session.commit()  # no exception: the client hears that its request succeeded
        finally:
            app.extensions["notoneless.redis"] = broken
        assert q.count == 0
        assert db.sessionmaker().scalar(select(func.count()).select_from(OutboxJob)) == 1

        counts = outbox.sweep(app, grace_seconds=0)
        assert counts["delivered"] == 1 and q.count == 1
        assert outbox.sweep(app, grace_seconds=0)["waiting"] == 1  # queued: not delivered twice
        SimpleWorker([q], connection=redis_conn).work(burst=True)
        assert redis_conn.get("mark:outbox") == b"ran"
        assert db.sessionmaker().scalar(select(func.count()).select_from(OutboxJob)) == 0


def test_a_failed_job_is_delivered_again_up_to_three_times(app, connection, redis_conn):
    from sqlalchemy import select

    from server.jobs import outbox
    from server.jobs.models import OutboxJob

    db = app.extensions["notoneless.db"]
    with app.app_context():
        q = jobs.queue("reports")
        q.empty()
        session = db.sessionmaker()
        jobs.enqueue_after_commit(session, "tests.always_fails", 7)
        session.commit()
        outcomes = []
        for _ in range(4):
            SimpleWorker([q], connection=redis_conn).work(burst=True)
            counts = outbox.sweep(app, grace_seconds=0)
            outcomes.append(next(k for k, v in counts.items() if v))
        assert outcomes == ["redelivered", "redelivered", "given_up", "given_up"]
        row = db.sessionmaker().scalar(select(OutboxJob))
        assert row.attempts == 2  # three deliveries in all; the row stays for someone to look at


@job("tests.always_fails", queue="reports", own_session=False)
def always_fails(app, number: int):
    raise RuntimeError(f"job {number} cannot succeed")
