"""Logging in: expiring, revocable bearer tokens; refusals with stable codes."""

from sqlalchemy import text

from server.accounts.models import AccessToken
from tests.conftest import TEST_PASSWORD


def test_login_gives_a_token_that_works_until_logout(client, make_person, login):
    person = make_person("city")
    headers = login(person)
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json["username"] == person.username and me.json["village_codes"] is None
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    again = client.get("/api/v1/me", headers=headers)
    assert again.status_code == 401 and again.json["code"] == "auth.invalid_token"


def test_wrong_password_and_unknown_user_get_the_same_refusal(client, make_person):
    person = make_person("city")
    wrong = client.post("/api/v1/auth/login", json={"username": person.username, "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody-at-all", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["code"] == "auth.invalid_credentials"


def test_an_expired_token_is_refused(client, session, make_person, login):
    headers = login(make_person("city"))
    session.execute(text("UPDATE access_tokens SET expires_at = now() - interval '1 second'"))
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.json["code"] == "auth.invalid_token"


def test_a_deactivated_person_cannot_log_in_or_use_old_tokens(client, session, make_person, login):
    person = make_person("city")
    headers = login(person)
    person.active = False
    session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    response = client.post("/api/v1/auth/login", json={"username": person.username, "password": "correct horse battery"})
    assert response.status_code == 401


def test_only_a_hash_of_the_token_is_stored(client, session, make_person, login):
    headers = login(make_person("city"))
    token = headers["Authorization"].split()[1]
    stored = session.scalars(AccessToken.__table__.select().with_only_columns(AccessToken.token_hash)).all()
    assert stored and all(token.encode() not in h for h in stored)


def test_missing_or_malformed_authorization(client):
    assert client.get("/api/v1/towns").json["code"] == "auth.missing_token"
    response = client.get("/api/v1/towns", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401 and response.json["code"] == "auth.missing_token"
    response = client.get("/api/v1/towns", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401 and response.json["code"] == "auth.invalid_token"


def test_a_role_outside_the_allowed_ones_gets_403(client, make_person, make_village, login):
    surveyor = make_person("surveyor", villages=[make_village()])
    response = client.post("/api/v1/campaigns", headers=login(surveyor), json={
        "name": "x", "school_year": 2026, "publicity_start": "2027-04-20", "survey_start": "2027-05-21",
        "persuasion_start": "2027-06-10", "enforcement_start": "2027-07-01", "enforcement_end": "2027-07-10"})
    assert response.status_code == 403 and response.json["code"] == "auth.forbidden"


def _try(client, username, password, address):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_slow_the_account_down_and_never_lock_it(client, make_person):
    """A stranger guessing `city`'s password makes the stranger wait, doubling; the clerk at an
    address the account logged in from before still gets in with the right password."""
    person = make_person("city")
    assert _try(client, person.username, TEST_PASSWORD, "10.1.0.1").status_code == 200  # the clerk's office
    answers = [_try(client, person.username, f"guess{i}", "10.66.0.1") for i in range(8)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    slowed = answers[5]
    assert slowed.status_code == 429 and slowed.json["code"] == "auth.backoff"
    assert 1 <= int(slowed.headers["Retry-After"]) <= 900
    # The stranger waits even with the right password (that is what makes guessing slow) …
    assert _try(client, person.username, TEST_PASSWORD, "10.66.0.1").json["code"] == "auth.backoff"
    # … and so does any other new address: the guesses of many addresses add up,
    assert _try(client, person.username, TEST_PASSWORD, "10.77.0.1").json["code"] == "auth.backoff"
    # but the clerk's own address answers only to its own count.
    assert _try(client, person.username, TEST_PASSWORD, "10.1.0.1").status_code == 200


def test_the_wait_doubles_and_runs_out(app, client, make_person, redis_conn):
    person = make_person("city")
    for i in range(5):
        assert _try(client, person.username, f"guess{i}", "10.66.0.2").status_code == 401
    from server.accounts import throttle

    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.66.0.2"}):
        keys = throttle._backoff_keys(person.username)[:2]
    waits = []
    for _ in range(3):
        for key in keys:  # as if the wait had run out
            redis_conn.hset(key, "last", 0)
        assert _try(client, person.username, "guess", "10.66.0.2").status_code == 401
        waits.append(int(_try(client, person.username, "guess", "10.66.0.2").headers["Retry-After"]))
    assert waits == [2, 4, 8]
    for key in keys:
        redis_conn.hset(key, "last", 0)
    assert _try(client, person.username, TEST_PASSWORD, "10.66.0.2").status_code == 200


def test_unknown_and_known_usernames_answer_alike(client, make_person):
    person = make_person("city")
    known = [_try(client, person.username, f"guess{i}", "10.66.0.3") for i in range(7)]
    unknown = [_try(client, "no-such-account", f"guess{i}", "10.66.0.4") for i in range(7)]
    assert [(a.status_code, a.json, a.headers.get("Retry-After")) for a in known] == \
           [(a.status_code, a.json, a.headers.get("Retry-After")) for a in unknown]
    assert known[-1].json["code"] == "auth.backoff"


def test_one_address_trying_many_accounts_must_wait(app, client, make_person, redis_conn):
    """The back-off guards one account; the address throttle guards against spraying many."""
    app.config["FAILED_ATTEMPTS_PER_ADDRESS"] = 3
    redis_conn.delete(f"{app.config['RQ_QUEUE_PREFIX']}throttle:login:127.0.0.1")
    try:
        people = [make_person("surveyor") for _ in range(4)]
        for person in people[:3]:
            wrong = client.post("/api/v1/auth/login", json={"username": person.username, "password": "guess"})
            assert wrong.status_code == 401
        # The fourth account has no failure, but this address has failed three times.
        refused = client.post("/api/v1/auth/login", json={"username": people[3].username,
                                                           "password": "correct horse battery"})
        assert refused.status_code == 429 and refused.json["code"] == "auth.rate_limited"
        assert 0 < int(refused.headers["Retry-After"]) <= app.config["FAILED_ATTEMPTS_WINDOW_SECONDS"]
        # Another address is not held back by this one's failures.
        other = client.post("/api/v1/auth/login", json={"username": people[3].username,
                                                         "password": "correct horse battery"},
                            environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200
    finally:
        app.config["FAILED_ATTEMPTS_PER_ADDRESS"] = 30
        redis_conn.delete(f"{app.config['RQ_QUEUE_PREFIX']}throttle:login:127.0.0.1")


def test_wrong_enrollment_codes_from_one_address_must_wait(app, client, redis_conn):
    app.config["FAILED_ATTEMPTS_PER_ADDRESS"] = 2
    key = f"{app.config['RQ_QUEUE_PREFIX']}throttle:enroll:127.0.0.1"
    redis_conn.delete(key)
    try:
        body = {"enrollment_code": "ABCD-EFGH", "device_name": "平板", "platform": "test"}
        codes = [client.post("/api/v1/devices/enroll", json=body).status_code for _ in range(3)]
        assert codes[:2] == [400, 400] and codes[2] == 429
    finally:
        app.config["FAILED_ATTEMPTS_PER_ADDRESS"] = 30
        redis_conn.delete(key)


def test_behind_a_proxy_the_throttle_counts_the_client_address(db_url, redis_conn):
    """With PROXY_HOPS=1 the address counted is the one the load balancer saw, so two field
    offices behind one balancer do not share a count (and a client cannot pick another)."""
    from server import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, "PROXY_HOPS": 1, "FAILED_ATTEMPTS_PER_ADDRESS": 2})
    prefix = app.config["RQ_QUEUE_PREFIX"]
    keys = [f"{prefix}throttle:login:{a}" for a in ("203.0.113.7", "203.0.113.8", "127.0.0.1")]
    redis_conn.delete(*keys)
    try:
        client = app.test_client()
        body = {"username": "nobody-here", "password": "guess"}

        def attempt(address):
            return client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address}).status_code

        assert [attempt("203.0.113.7") for _ in range(3)] == [401, 401, 429]
        assert attempt("203.0.113.8") == 401  # another office behind the same balancer
        # The proxy appends the real client address: a forged first hop changes nothing.
        assert attempt("198.51.100.1, 203.0.113.7") == 429
        assert redis_conn.get(keys[2]) is None  # the balancer's own address was never counted
    finally:
        redis_conn.delete(*keys)
        app.extensions["notoneless.db"].engine.dispose()


def test_a_password_change_checks_the_current_one_and_ends_the_other_logins(client, make_person, login):
    person = make_person("city")
    office, laptop = login(person), login(person)
    url = "/api/v1/me/password"
    wrong = client.post(url, headers=office, json={"current_password": "nope", "new_password": "a new and long one"})
    assert wrong.status_code == 403 and wrong.json["code"] == "auth.wrong_password"
    for weak in ("short", person.username, TEST_PASSWORD):
        answer = client.post(url, headers=office, json={"current_password": TEST_PASSWORD, "new_password": weak})
        assert answer.status_code == 422, weak
        assert [(e["field"], e["code"]) for e in answer.json["errors"]] == [("new_password", "auth.weak_password")]
    done = client.post(url, headers=office, json={"current_password": TEST_PASSWORD, "new_password": "a new and long one"})
    assert done.status_code == 204
    assert client.get("/api/v1/me", headers=office).status_code == 200  # this login stays
    assert client.get("/api/v1/me", headers=laptop).status_code == 401  # the other one ends
    old = client.post("/api/v1/auth/login", json={"username": person.username, "password": TEST_PASSWORD})
    new = client.post("/api/v1/auth/login", json={"username": person.username, "password": "a new and long one"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_guessing_the_current_password_backs_off_like_a_login(client, make_person, login):
    person = make_person("city")
    headers = login(person)
    answers = [client.post("/api/v1/me/password", headers=headers,
                           json={"current_password": f"guess {i}", "new_password": "a new and long one"}).status_code
               for i in range(8)]
    assert answers[0] == 403 and 429 in answers
