"""Issue 12: a "masked" ID number was the full number. Lists, maps, duplicates and conflicts showed
`320685********1220` beside the birth date; the hidden eight digits are the birth date, so a school
account rebuilt every number it was shown.

Here a school account (the child is its own pupil) and a team leader (its team covers the
child's village) read everything the API lets them see of one child, as an attacker would, and
the test counts the GB 11643 numbers that agree with all of it: every digit seen at its
position, the birth date and gender seen, a valid check digit. At least 100 must remain.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid

from server.people import id_number
from server.people.protection import child_subject, marker
from server.sync.models import Conflict, DuplicateCandidate
from tests.authz.reading import readable
from tests.authz.world import _child

V = "/api/v1"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_LIKE = re.compile(r"(?=([0-9*]{17}[0-9X*]))")


def seen_patterns(text: str, number: str) -> list[str]:
    """Every 18-character run of digits and stars in `text` that could be `number` (a leak of it)."""
    return [m for m in _ID_LIKE.findall(text)
            if all(c in ("*", n) for c, n in zip(m, number, strict=True)) and m != "*" * 18]


def count_candidates(patterns: list[str], birth_date: dt.date, gender: str) -> int:
    """Valid numbers agreeing with every pattern, the birth date and the gender (exact, by a
    dynamic programme over the weighted sum mod 11)."""
    allowed = [set("0123456789") for _ in range(17)] + [set(_CHECK)]
    for i, digit in enumerate(birth_date.strftime("%Y%m%d"), start=6):
        allowed[i] = {digit}
    allowed[16] = {d for d in "0123456789" if (int(d) % 2 == 1) == (gender == "M")}
    for pattern in patterns:
        for i, c in enumerate(pattern):
            if c != "*":
                allowed[i] &= {c}
    ways = {0: 1}
    for i in range(17):
        nxt: dict[int, int] = {}
        for total, n in ways.items():
            for d in allowed[i]:
                key = (total + int(d) * _WEIGHTS[i]) % 11
                nxt[key] = nxt.get(key, 0) + n
        ways = nxt
    return sum(n for total, n in ways.items() if _CHECK[total] in allowed[17])


def test_the_old_mask_beside_the_birth_date_left_one_number():
    number = id_number.make("320685", dt.date(2015, 3, 1), 122)
    assert count_candidates([number[:6] + "*" * 8 + number[-4:]], dt.date(2015, 3, 1), "F") == 1
    assert count_candidates([], dt.date(2015, 3, 1), "F") > 100_000


def test_a_school_and_a_team_leader_cannot_rebuild_a_childs_id_number(client, world, session, vault):
    pupil, home = world.a.children["pupil"], world.a.households["home"]
    number = vault.decrypt(pupil.id_number_cipher, child_subject(pupil.id))
    # What tablets leave behind: a conflict over the number itself, and a second record of the
    # child with the same number (a duplicate candidate).
    other_number = id_number.make("320685", pupil.birth_date, 555)
    now = dt.datetime.now(dt.UTC).isoformat()
    # As the push keeps them: each number by its marker, with its ciphertext bound to the child.
    def kept(n):
        return {"value": marker(vault.lookup(n)), "device_id": None, "captured_at": now,
                "cipher": base64.b64encode(vault.encrypt(n, child_subject(pupil.id))).decode()}

    session.add(Conflict(id=uuid.uuid4(), record_type="child", record_id=pupil.id, village_code=pupil.village_code,
                         field="id_number", values=[kept(number), kept(other_number)]))
    copy = _child(session, vault, home, pupil.name, number, pupil.birth_date, enrollment_status="dropped_out")
    session.add(DuplicateCandidate(child_a=min(pupil.id, copy.id), child_b=max(pupil.id, copy.id),
                                   village_code=pupil.village_code, reason="same_id_number"))
    session.flush()
    reads = [
        f"{V}/children?village={pupil.village_code}&page_size=500", f"{V}/children?household={home.id}",
        f"{V}/children/{pupil.id}", f"{V}/maps/children?village={pupil.village_code}", f"{V}/maps/households",
        f"{V}/maps/households/{home.id}", f"{V}/duplicates?page_size=500", f"{V}/conflicts?page_size=500",
        f"{V}/imports/children/{pupil.id}/history", f"{V}/cases?page_size=500", f"{V}/imports/suspected-dropouts",
        f"{V}/imports/missing-from-roster", f"{V}/teams/{world.a.team.id}/tasks",
        f"{V}/reports/out-of-school-register.xlsx",
    ]
    everything = []
    for actor in ("school", "team_leader"):
        seen, answered = [], 0
        for url in reads:
            response = client.get(url, headers=world.headers(actor))
            if response.status_code == 200:
                answered += 1
                seen += seen_patterns(readable(response.get_data()), number)
        assert answered >= 8, actor
        assert number not in seen and other_number not in seen, actor
        remaining = count_candidates(seen, pupil.birth_date, pupil.gender)
        assert remaining >= 100, (actor, sorted(set(seen)), remaining)
        everything += seen
    assert everything, "the test saw no masked number at all: it would pass on anything"
    assert count_candidates(everything, pupil.birth_date, pupil.gender) >= 100


def test_problem_rows_stored_with_the_old_mask_are_shown_with_the_region_only(client, world, session):
    """Bad rows' problems were stored with the first-6-last-4 mask; problems, the import's preview
    and the downloaded report show them as the policy does now."""
    from sqlalchemy import select, update

    from server.imports.models import Import, ImportProblem

    import_id = world.a.imports["roster"]
    number = id_number.make("320685", dt.date(2016, 9, 9), 77)
    old = number[:6] + "*" * 8 + number[-4:]
    session.execute(update(ImportProblem).where(ImportProblem.import_id == import_id,
                                                ImportProblem.column == "id_number").values(value=old))
    imp = session.get(Import, import_id)
    imp.problems_preview = [{**p, "value": old} if p["column"] == "id_number" else p for p in imp.problems_preview]
    session.flush()
    assert session.scalar(select(ImportProblem.id).where(ImportProblem.import_id == import_id,
                                                         ImportProblem.column == "id_number")) is not None
    for url in (f"{V}/imports/{import_id}/problems", f"{V}/imports/{import_id}",
                f"{V}/imports/{import_id}/report?format=csv", f"{V}/imports/{import_id}/report?format=xlsx"):
        response = client.get(url, headers=world.headers("town_supervisor"))
        assert response.status_code == 200, url
        text = readable(response.get_data())
        assert old not in text, url
        assert number[:6] + "*" * 12 in text, url
