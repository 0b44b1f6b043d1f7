"""The demo county as a field week leaves it (摸底建档, then the first weeks of 劝返复学).

The government line's tablet of each village surveyed most of its households in one week,
some forty days ago: a GPS point inside the village (a few just outside it: a GPS error, a
house at the edge), and each child's schooling, disability and family as the generator's
truth has it. Children found out of school get cases (the database opens them), followed by
visits and steps (field_cases.py). In the first town the school line's tablets visited some
of the same households and wrote other values (open conflicts), and recorded children the
roster already had (duplicate pairs): work waiting for its supervisor.

Deterministic for the county's seed, and played once (`notoneless demo field-week`).
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import random

from shapely.geometry import Point
from shapely.ops import nearest_points
from sqlalchemy.orm import Session

from server.accounts import queries as accounts
from server.accounts.scope import scope_of
from server.campaigns import school_age
from server.demo import field_cases, tablets
from server.demo import queries as demo_queries
from server.demo.generator import (
    KM_PER_DEG_LAT,
    DemoChild,
    DemoCounty,
    DemoHousehold,
    _phone,
    _uuid,
)
from server.demo.tablets import Tablet, at, enroll
from server.people.protection import IdNumberVault

SURVEYED_SHARE = 0.85
OUTSIDE_SHARE = 0.01
FIRST_DAY_AGO = 40  # the survey week began this many days before today
CONFLICTS_PER_HOUSEHOLDS = 150  # in the first town: one conflict per this many households (at least 3)
DUPLICATES_PER_HOUSEHOLDS = 400  # and one duplicate pair per this many (at least 2)
LEGITIMATE = ("sick_deferral", "moved_out", "abroad")


class AlreadyPlayed(RuntimeError):
    pass


def _degrees_east(metres: float, lat: float) -> float:
    return metres / 1000 / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))


def just_outside(polygon, lon: float, lat: float, rng: random.Random) -> tuple[float, float]:
    """A point a few tens of metres beyond the village's edge nearest to (lon, lat)."""
    edge, _ = nearest_points(polygon.boundary, Point(lon, lat))
    dx, dy = edge.x - lon, edge.y - lat
    norm = math.hypot(dx, dy) or 1e-9
    for metres in (rng.uniform(30, 90), 150, 300, 600):
        x = edge.x + dx / norm * _degrees_east(metres, lat)
        y = edge.y + dy / norm * metres / 1000 / KM_PER_DEG_LAT
        if not polygon.contains(Point(x, y)):
            return x, y
    minx, _, _, _ = polygon.bounds
    return minx - _degrees_east(50, lat), lat


def _enrollment(child: DemoChild, school_year: int) -> dict:
    """What a surveyor records of a child's schooling, from the generator's truth."""
    if child.school_code is not None:
        return {"enrollment_status": "home_teaching" if child.home_teaching else "enrolled", "grade": child.grade}
    reason = child.out_of_school_reason
    if reason in LEGITIMATE:
        return {"enrollment_status": reason}
    # The youngest, and the severely disabled, mostly never started; the others dropped out.
    never = (school_age.expected_grade(child.birth_date, school_year) or 1) <= 1 or (
        child.disability and (child.disability_level or 4) <= 2)
    out = {"enrollment_status": "never_enrolled" if never else "dropped_out", "dropout_reason": reason}
    if reason == "other":
        out["dropout_reason_note"] = "随父母在外地，未入学籍，家长称另有打算"
    return out


class FieldWeek:
    def __init__(self, session: Session, county: DemoCounty, vault: IdNumberVault, today: dt.date):
        self.session, self.county, self.vault, self.today = session, county, vault, today
        self.rng = random.Random(county.seed * 7 + 3)
        self.first_day = today - dt.timedelta(days=FIRST_DAY_AGO)
        self.people = accounts.people_by_username(session, [p.username for p in county.people])
        self.team_of = {(code, t.line): t for t in county.teams for code in t.village_codes}
        self.tablets: dict[str, Tablet] = {}
        self.scopes: dict = {}
        self.children_of = collections.defaultdict(list)
        for c in county.children:
            self.children_of[c.household_id].append(c)
        self.on_file = demo_queries.children_by_lookup(session)
        self.household_versions = demo_queries.household_versions(session)
        self.truth: dict = {}  # a child's id on file -> the generator's child
        self.confirmed_at: dict = {}  # a child's id on file -> when a tablet recorded its schooling
        self.surveyed: list[tuple[DemoHousehold, dt.datetime]] = []

    def tablet(self, village_code: str, line: str) -> Tablet:
        team = self.team_of[(village_code, line)]
        surveyor = team.members[1]
        if surveyor not in self.tablets:
            supervisor = self.supervisor(team.town_code)
            if supervisor.id not in self.scopes:
                self.scopes[supervisor.id] = scope_of(self.session, supervisor)
            self.tablets[surveyor] = enroll(self.session, self.people[surveyor], supervisor,
                                            self.scopes[supervisor.id])
        return self.tablets[surveyor]

    def supervisor(self, town_code: str):
        return next(p for p in self.people.values() if p.role == "town_supervisor" and p.town_code == town_code)

    def on_file_child(self, child: DemoChild):
        return self.on_file.get(bytes(self.vault.lookup(child.id_number)))

    def upload(self) -> int:
        sent = 0
        for tablet in self.tablets.values():
            sent += len(tablet.upload(self.session, self.vault))
        return sent

    # --- the survey week ------------------------------------------------------------------------

    def survey(self) -> dict:
        rng = self.rng
        polygons = {v.code: v.polygon for v in self.county.villages}
        households = [h for h in self.county.households if h.id in self.household_versions]
        # Teams visit first the households of the children the cross-match could not place
        # (campaign.md: who gets priority), and of disabled children; most of the others too.
        surveyed = [h for h in households if rng.random() < SURVEYED_SHARE or any(
            c.school_code is None or c.disability for c in self.children_of[h.id])]
        first_town = self.county.towns[0].code
        in_first = [h for h in surveyed if self._town(h) == first_town]
        # About 1% of the points fall outside their village, one at least in the first town.
        outside = {h.id for h in (rng.sample(in_first, 1) if in_first else [])}
        outside |= {h.id for h in rng.sample(surveyed, max(0, round(OUTSIDE_SHARE * len(surveyed)) - len(outside)))}
        # Where the two lines will disagree: the household's phone, or a child's guardian's.
        self.conflicted = []
        for n, h in enumerate(rng.sample(in_first, min(len(in_first), max(3, len(in_first) // CONFLICTS_PER_HOUSEHOLDS)))):
            kids = [c for c in self.children_of[h.id] if self.on_file_child(c)]
            self.conflicted.append((h, kids[0] if n % 2 and kids else None))
        phone_of = {h.id for h, child in self.conflicted if child is None}
        guardian_of = {child.id for _, child in self.conflicted if child is not None}
        for h in surveyed:
            day = self.first_day + dt.timedelta(days=rng.randrange(7))
            captured = at(day, rng.randint(8, 16), rng.randrange(60))
            lon, lat = h.lon, h.lat
            if h.id in outside:
                lon, lat = just_outside(polygons[h.village_code], lon, lat, rng)
            accuracy = round(rng.uniform(3, 15) if rng.random() < 0.9 else rng.uniform(15, 40), 1)
            point = {"lat": round(lat, 7), "lon": round(lon, 7), "accuracy_m": accuracy}
            fields = {"location": point, "survey_status": "confirmed" if rng.random() < 0.6 else "visited"}
            if h.id in phone_of:
                fields["phone"] = _phone(rng)  # the number the family gave this line's surveyor
            tablet = self.tablet(h.village_code, "government")
            tablet.submit(rng, {"type": "household", "id": str(h.id), "base_version": self.household_versions[h.id],
                                "village_code": h.village_code, "fields": fields}, captured, point)
            self.surveyed.append((h, captured))
            for n, child in enumerate(self.children_of[h.id], start=1):
                self._survey_child(tablet, child, captured + dt.timedelta(minutes=3 * n), child.id in guardian_of)
        self.upload()
        return {"households_surveyed": len(surveyed), "households_outside_village": len(outside),
                "children_surveyed": len(self.confirmed_at)}

    def _town(self, h: DemoHousehold) -> str:
        return h.village_code[:9] + "000"

    def _survey_child(self, tablet: Tablet, child: DemoChild, captured: dt.datetime, new_phone: bool) -> None:
        row = self.on_file_child(child)
        if row is None:
            return  # a roster row the import refused: the child is not on file to survey
        cid, version, household_id = row
        fields = _enrollment(child, self.county.school_year)
        if child.disability:
            fields.update(disability=True, disability_type=child.disability_type,
                          disability_level=child.disability_level)
        if new_phone:
            fields["guardian_phone"] = _phone(self.rng)
        tablet.submit(self.rng, {"type": "child", "id": str(cid), "base_version": version,
                                 "household_id": str(household_id), "fields": fields}, captured)
        self.truth[cid] = child
        self.confirmed_at[cid] = captured

    # --- the other line in the first town: conflicts and duplicates ---------------------------

    def other_line(self) -> dict:
        """The school line's tablets in the first town, from the copies they pulled before the
        survey week: other values for fields the government line also wrote (open conflicts),
        and children recorded anew that the roster already had (duplicate pairs)."""
        rng = self.rng
        conflicts = 0
        for h, child in self.conflicted:
            tablet = self.tablet(h.village_code, "school")
            day = self.first_day + dt.timedelta(days=rng.randrange(7))
            captured = at(day, rng.randint(8, 16), rng.randrange(60))
            if child is not None:
                # The guardian's phone: each line wrote down the number it was given.
                cid, version, household_id = self.on_file_child(child)
                tablet.submit(rng, {"type": "child", "id": str(cid), "base_version": version,
                                    "household_id": str(household_id),
                                    "fields": {"guardian_phone": _phone(rng)}}, captured)
            else:
                # The household's phone (the government line's survey already wrote another).
                tablet.submit(rng, {"type": "household", "id": str(h.id), "base_version": self.household_versions[h.id],
                                    "village_code": h.village_code,
                                    "fields": {"phone": _phone(rng), "survey_status": "visited"}}, captured)
            conflicts += 1
        pairs = self._duplicates()
        self.upload()
        return {"conflicts_opened": conflicts, "duplicate_pairs": pairs}

    def _duplicates(self) -> int:
        rng = self.rng
        first_town = self.county.towns[0].code
        homes = [h for h, _ in self.surveyed if self._town(h) == first_town]
        pupils = [(h, c) for h in homes for c in self.children_of[h.id] if c.school_code and self.on_file_child(c)]
        wanted = min(len(pupils), max(2, len(homes) // DUPLICATES_PER_HOUSEHOLDS))
        for n, (h, child) in enumerate(rng.sample(pupils, wanted)):
            tablet = self.tablet(h.village_code, "school")
            fields = {"name": child.name, "gender": child.gender, "birth_date": child.birth_date.isoformat(),
                      "enrollment_status": "enrolled", "grade": child.grade}
            household = h
            if n % 2:
                # Living with the grandparents next door: the teacher typed the ID number there.
                neighbours = [x for x in homes if x.village_code == h.village_code and x.id != h.id]
                household = rng.choice(neighbours) if neighbours else h
                fields["id_number"] = child.id_number
            day = self.first_day + dt.timedelta(days=rng.randrange(7))
            new_id = str(_uuid(rng))
            tablet.submit(rng, {"type": "child", "id": new_id, "base_version": None,
                                "household_id": str(household.id), "fields": fields},
                          at(day, rng.randint(8, 16), rng.randrange(60)))
        return wanted


def play(session: Session, county: DemoCounty, vault: IdNumberVault, today: dt.date | None = None) -> dict:
    """Play the field week on a loaded demo county (children on file); return what it did."""
    if demo_queries.has_submissions(session):
        raise AlreadyPlayed("tablets have already pushed to this county: the field week is played once")
    today = today or dt.date.today()
    tablets.ensure_forms(session)
    week = FieldWeek(session, county, vault, today)
    result = week.survey()
    result.update(week.other_line())
    result.update(field_cases.follow_up(week))
    result["tablets"] = len(week.tablets)
    # The planner's statistics as the week left the county: the loader's were taken before the
    # roster was imported (no children at all), and a server without autovacuum (a CI machine's)
    # kept them so: a town's rates took 21 ms instead of 12, the city's 底数核查 1.4 s instead of 0.7.
    demo_queries.analyze(session)
    return result


__all__ = ["AlreadyPlayed", "play"]
