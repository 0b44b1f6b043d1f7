"""Jobs reach the queue only when their transaction commits, and a real worker runs them."""

from rq import SimpleWorker

from server import jobs


def record_in_redis(key: str, value: str) -> str:
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
        jobs.enqueue_after_commit(session, "reports", record_in_redis, "mark:committed", "yes")
        assert q.count == 0  # not before the commit: a worker could not see the rows yet
        session.commit()
        assert q.count == 1

        other = db.sessionmaker()
        jobs.enqueue_after_commit(other, "reports", record_in_redis, "mark:rolled-back", "yes")
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
