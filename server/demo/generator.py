"""Generate a Hai'an-like demo county: deterministic for a seed, any size.

Villages tile their towns and towns tile the county (Voronoi cells of random seeds, clipped to
an invented outline); households sit in hamlets inside their village; every child has a valid
ID number. The generator also decides the truth the import issue needs: which children a
school's register has (about 98.5%), and why the others are out of school.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from server.campaigns import school_age
from server.demo import names
from server.people import id_number


@dataclass(frozen=True)
class Size:
    towns: int
    villages: int
    households: int


SIZES = {
    "full": Size(12, 230, 60_000),
    "medium": Size(6, 60, 8_000),
    "small": Size(3, 12, 400),
    "tiny": Size(2, 4, 40),
}


@dataclass
class DemoTown:
    code: str
    name: str
    kind: str
    polygon: Polygon | MultiPolygon


@dataclass
class DemoVillage:
    code: str
    town_code: str
    name: str
    kind: str
    polygon: MultiPolygon
    centroid: Point


@dataclass
class DemoSchool:
    id: int
    code: str
    name: str
    town_code: str | None
    stage: str
    lon: float
    lat: float


@dataclass
class DemoHousehold:
    id: uuid.UUID
    village_code: str
    group_name: str
    household_number: str
    address: str
    head_name: str
    phone: str
    lon: float
    lat: float


@dataclass
class DemoChild:
    id: uuid.UUID
    household_id: uuid.UUID
    village_code: str
    name: str
    gender: str
    id_number: str
    birth_date: dt.date
    ethnicity: str
    relation_to_head: str
    guardian_name: str
    guardian_phone: str
    disability: bool = False
    disability_type: str | None = None
    disability_level: int | None = None
    left_behind: bool = False
    migrant: bool = False
    vulnerable_family_types: list[str] = field(default_factory=list)
    # The truth behind the registers: a school and grade when attending, else the reason.
    school_code: str | None = None
    grade: int | None = None
    class_name: str | None = None
    out_of_school_reason: str | None = None
    # 送教上门: registered at the special school, taught at home (severe disability).
    home_teaching: bool = False


@dataclass
class DemoPerson:
    username: str
    full_name: str
    role: str
    line: str | None = None
    town_code: str | None = None
    school_code: str | None = None


@dataclass
class DemoTeam:
    name: str
    town_code: str
    line: str
    leader: str
    members: list[str]
    village_codes: list[str]


@dataclass
class DemoCounty:
    seed: int
    school_year: int
    outline: Polygon
    towns: list[DemoTown]
    villages: list[DemoVillage]
    schools: list[DemoSchool]
    households: list[DemoHousehold]
    children: list[DemoChild]
    people: list[DemoPerson]
    teams: list[DemoTeam]


# Out-of-school reasons of the demo, with weights: campaign.md's usual reasons, plus the
# children who never enrolled (mostly severe disability) and the legitimately absent.
OUT_OF_SCHOOL_MIX = [
    ("weary_of_study", 0.30), ("poverty", 0.12), ("working", 0.14), ("health_disability", 0.16),
    ("family_crisis", 0.08), ("early_marriage", 0.03), ("other", 0.05),
    ("sick_deferral", 0.05), ("moved_out", 0.05), ("abroad", 0.02),
]
OUT_OF_SCHOOL_SHARE = 0.015

KM_PER_DEG_LAT = 111.2


def _km_per_deg_lon(lat: float) -> float:
    return KM_PER_DEG_LAT * math.cos(math.radians(lat))


def _outline(rng: random.Random, area_km2: float) -> Polygon:
    """A lumpy, county-shaped polygon of about `area_km2` around Hai'an's centre."""
    radius_km = math.sqrt(area_km2 / math.pi)
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    coords = []
    for i in range(96):
        theta = 2 * math.pi * i / 96
        wobble = 1 + 0.16 * math.sin(3 * theta + phases[0]) + 0.07 * math.sin(5 * theta + phases[1]) \
            + 0.04 * math.sin(9 * theta + phases[2])
        r = radius_km * wobble
        # Hai'an is wider east to west than north to south.
        x_km, y_km = 1.2 * r * math.cos(theta), 0.85 * r * math.sin(theta)
        coords.append((names.CENTRE_LON + x_km / _km_per_deg_lon(names.CENTRE_LAT),
                       names.CENTRE_LAT + y_km / KM_PER_DEG_LAT))
    return Polygon(coords)


def _points_in(polygon, count: int, np_rng: np.random.Generator) -> np.ndarray:
    """`count` uniform random points inside `polygon` (rejection sampling, vectorised)."""
    minx, miny, maxx, maxy = polygon.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        batch = np_rng.uniform((minx, miny), (maxx, maxy), size=(max(count * 3, 64), 2))
        inside = shapely.contains_xy(polygon, batch[:, 0], batch[:, 1])
        found = np.vstack([found, batch[inside]])
    return found[:count]


def _voronoi_cells(points: np.ndarray, region) -> list[MultiPolygon]:
    """Voronoi cells of `points`, clipped to `region`, in the order of `points`."""
    multipoint = shapely.multipoints(points)
    cells = shapely.voronoi_polygons(multipoint, extend_to=region)
    out = []
    for x, y in points:
        cell = next(c for c in cells.geoms if c.contains(Point(x, y)) or c.touches(Point(x, y)))
        clipped = cell.intersection(region)
        if clipped.geom_type == "Polygon":
            clipped = MultiPolygon([clipped])
        elif clipped.geom_type == "GeometryCollection":
            clipped = MultiPolygon([g for g in clipped.geoms if g.geom_type == "Polygon"])
        out.append(clipped)
    return out


def _place_name(rng: random.Random, used: set[str], suffix: str) -> str:
    while True:
        name = "".join(rng.sample(names.PLACE_CHARS, 2)) + suffix
        if name not in used:
            used.add(name)
            return name


def _person_name(rng: random.Random, gender: str, surname: str | None = None) -> str:
    surname = surname or rng.choice(names.SURNAMES)
    pool = names.GIVEN_BOY if gender == "M" else names.GIVEN_GIRL
    return surname + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def generate(size: Size | str = "full", seed: int = 20260521, school_year: int = 2026,
             cutoff: school_age.Cutoff = school_age.Cutoff()) -> DemoCounty:
    """Generate the whole county in memory."""
    size = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    # Hai'an is about 1,180 km²; smaller demos shrink the land with the number of villages.
    outline = _outline(rng, 1180 * max(size.villages / 230, 0.02))

    town_specs = names.HAIAN_TOWNS[: size.towns]
    town_seeds = _points_in(outline, size.towns, np_rng)
    town_cells = _voronoi_cells(town_seeds, outline)
    towns = [
        DemoTown(names.COUNTY_CODE + suffix, name, kind, cell)
        for (name, kind, suffix), cell in zip(town_specs, town_cells, strict=True)
    ]

    # Villages per town in proportion to its area; each town gets at least one.
    areas = np.array([t.polygon.area for t in towns])
    per_town = np.maximum(1, np.floor(areas / areas.sum() * size.villages)).astype(int)
    while per_town.sum() < size.villages:
        per_town[int(np.argmax(areas / per_town))] += 1
    villages: list[DemoVillage] = []
    for town, n in zip(towns, per_town, strict=True):
        seeds = _points_in(town.polygon, int(n), np_rng)
        used: set[str] = set()
        # Subdistricts are mostly communities (社区); towns mostly villages (村).
        community_share = 0.7 if town.kind == "subdistrict" else 0.15
        n_comm = n_vill = 0
        for cell in _voronoi_cells(seeds, town.polygon):
            if rng.random() < community_share:
                n_comm += 1
                code, kind, name = town.code[:9] + f"{n_comm:03d}", "community", _place_name(rng, used, "社区")
            else:
                n_vill += 1
                code, kind, name = town.code[:9] + f"{200 + n_vill:03d}", "village", _place_name(rng, used, "村")
            villages.append(DemoVillage(code, town.code, name, kind, cell, cell.representative_point()))

    schools = _schools(towns, rng, np_rng)
    households, children = _households_and_children(villages, towns, schools, size, school_year,
                                                     cutoff, rng, np_rng)
    _more_disabled(children, schools, seed)
    people, teams = _people_and_teams(towns, villages, schools, rng)
    return DemoCounty(seed, school_year, outline, towns, villages, schools, households, children,
                      people, teams)


def _schools(towns, rng: random.Random, np_rng) -> list[DemoSchool]:
    schools: list[DemoSchool] = []

    def add(name, town, stage, point):
        schools.append(DemoSchool(len(schools) + 1, f"2132{len(schools) + 1:06d}", name,
                                  town.code if town else None, stage, float(point[0]), float(point[1])))

    for town in towns:
        short = town.name.removesuffix("镇").removesuffix("街道").removesuffix("高新区") or town.name
        centre = town.polygon.representative_point()
        primaries = 3 if town.kind == "subdistrict" else 2
        for i, point in enumerate(_points_in(town.polygon, primaries, np_rng)):
            label = "中心小学" if i == 0 else f"第{'一二三四'[i]}小学"
            add(f"海安市{short}{label}", town, "primary", point)
        add(f"海安市{short}初级中学", town, "junior", (centre.x, centre.y))
    first = towns[0]
    centre = first.polygon.representative_point()
    add("海安市特殊教育学校", first, "special", (centre.x, centre.y))
    return schools


def _households_and_children(villages, towns, schools, size, school_year, cutoff, rng, np_rng):
    town_names = {t.code: t.name for t in towns}
    by_town_stage: dict[tuple[str, str], list[DemoSchool]] = {}
    for s in schools:
        by_town_stage.setdefault((s.town_code, s.stage), []).append(s)
    special = next((s for s in schools if s.stage == "special"), None)
    first_born, last_born = school_age.school_age_range(school_year, cutoff)
    span = (last_born - first_born).days

    # Households per village: communities are denser; the total matches the size asked for.
    weights = np.array([2.0 if v.kind == "community" else 1.0 for v in villages])
    weights *= np_rng.uniform(0.6, 1.4, len(villages))
    counts = np.floor(weights / weights.sum() * size.households).astype(int)
    counts[: size.households - counts.sum()] += 1

    households: list[DemoHousehold] = []
    children: list[DemoChild] = []
    used_ids: set[str] = set()
    for village, n in zip(villages, counts, strict=True):
        # Households cluster in 3-6 hamlets (自然村), the way villages in the plain are built.
        hamlets = _points_in(village.polygon, rng.randint(3, 6), np_rng)
        sigma = 0.004  # about 400 m
        points = []
        while len(points) < n:
            centre = hamlets[rng.randrange(len(hamlets))]
            x, y = np_rng.normal(centre, sigma)
            if village.polygon.contains(Point(x, y)):
                points.append((float(x), float(y)))
        groups = max(3, n // 25)
        for i, (lon, lat) in enumerate(points):
            group = f"{rng.randint(1, groups)}组"
            head_gender = "M" if rng.random() < 0.8 else "F"
            head = _person_name(rng, head_gender)
            hid = _uuid(rng)
            households.append(DemoHousehold(
                hid, village.code, group, f"{village.code[6:]}{i + 1:04d}",
                f"江苏省{names.COUNTY_NAME}{town_names[village.town_code]}{village.name}{group}{rng.randint(1, 120)}号",
                head, _phone(rng), lon, lat,
            ))
            _family(rng, hid, village, head, head_gender, first_born, span, school_year, cutoff,
                    by_town_stage, special, used_ids, children)
    return households, children


def _family(rng, hid, village, head, head_gender, first_born, span, school_year, cutoff,
            by_town_stage, special, used_ids, children):
    kids = _weighted(rng, [(1, 0.70), (2, 0.27), (3, 0.03)])
    grandparent_head = rng.random() < 0.2
    family_types = []
    for kind, share in (("single_parent", 0.04), ("poor", 0.03), ("parent_disabled", 0.015),
                        ("parents_away", 0.08), ("raised_by_relatives", 0.05)):
        if rng.random() < share:
            family_types.append(kind)
    migrant = rng.random() < 0.05
    guardian = head if not grandparent_head else _person_name(rng, "F", head[0])
    guardian_phone = _phone(rng)
    for _ in range(kids):
        gender = "M" if rng.random() < 0.515 else "F"
        birth = first_born + dt.timedelta(days=rng.randrange(span + 1))
        while True:
            seq = rng.randrange(1, 500) * 2 - (1 if gender == "M" else 0)
            number = id_number.make(names.COUNTY_CODE, birth, seq)
            if number not in used_ids:
                used_ids.add(number)
                break
        if grandparent_head:
            relation = "孙子" if gender == "M" else "孙女"
        else:
            relation = "子" if gender == "M" else "女"
        child = DemoChild(
            _uuid(rng), hid, village.code, _person_name(rng, gender, head[0]), gender, number, birth,
            _weighted(rng, names.ETHNICITIES), relation, guardian, guardian_phone,
            left_behind="parents_away" in family_types, migrant=migrant,
            vulnerable_family_types=list(family_types),
        )
        if rng.random() < 0.004:
            child.disability = True
            child.disability_type = _weighted(rng, DISABILITY_TYPES)
            child.disability_level = rng.randint(1, 4)
        grade = school_age.expected_grade(birth, school_year, cutoff)
        # About 1 in 10 children is a year behind (late start or a repeated year).
        if grade and grade > 1 and rng.random() < 0.1:
            grade -= 1
        out_share = OUT_OF_SCHOOL_SHARE * (12 if child.disability else 1) * (1.8 if grade and grade >= 7 else 0.6)
        if rng.random() < out_share:
            child.out_of_school_reason = (
                "health_disability" if child.disability and rng.random() < 0.6 else _weighted(rng, OUT_OF_SCHOOL_MIX)
            )
        else:
            if child.disability and child.disability_level in (1, 2) and special and rng.random() < 0.5:
                school = special
            else:
                stage = "primary" if grade <= 6 else "junior"
                options = by_town_stage.get((village.town_code, stage)) or [s for (t, st), ss in by_town_stage.items()
                                                                            if st == stage for s in ss]
                school = options[rng.randrange(len(options))]
            child.school_code = school.code
            child.grade = grade
            child.class_name = f"{rng.randint(1, 6)}班"
        children.append(child)


DISABILITY_TYPES = [("intellectual", 0.35), ("physical", 0.2), ("hearing", 0.12), ("visual", 0.08),
                    ("speech", 0.08), ("mental", 0.07), ("multiple", 0.1)]
# About 1.5% of school-age children are disabled (残疾儿童少年); at least three, so that even the
# tiny county has one in a school, one taught at home (送教上门) and one out of school, and the
# third rate (残疾儿童少年入学率) has a value.
DISABLED_SHARE = 0.015
MIN_DISABLED = 3


def _more_disabled(children: list[DemoChild], schools: list[DemoSchool], seed: int) -> None:
    """Flag disabled children up to DISABLED_SHARE, and decide how each one is schooled.

    A random stream of its own: the rest of the county (ID numbers, registers) stays what it
    was for the seed."""
    rng = random.Random(seed * 31 + 17)
    special = next((s for s in schools if s.stage == "special"), None)
    target = max(MIN_DISABLED, round(DISABLED_SHARE * len(children)))
    # Only children in school or out of it for a reason a disability can take: the legitimately
    # absent keep their register rows (休学, 转出) as they are.
    pool = [c for c in children if not c.disability
            and c.out_of_school_reason not in ("sick_deferral", "moved_out", "abroad")]
    in_school = [c for c in pool if c.school_code]
    have = sum(1 for c in children if c.disability)
    picked = rng.sample(in_school, min(len(in_school), 3))
    rest = [c for c in pool if c not in picked]
    picked += rng.sample(rest, max(0, min(len(rest), target - have - len(picked))))
    for k, child in enumerate(picked):
        child.disability = True
        child.disability_type = _weighted(rng, DISABILITY_TYPES)
        child.disability_level = _weighted(rng, [(1, 0.15), (2, 0.25), (3, 0.3), (4, 0.3)])
        draw = rng.random()
        if k == 0 or (k > 2 and draw < 0.1 and child.school_code):
            # 送教上门: on the special school's register, taught at home by its teachers.
            child.disability_level = min(child.disability_level, 2)
            child.home_teaching = True
            if special is not None:
                child.school_code, child.class_name = special.code, "送教上门"
        elif k == 1 or (k > 2 and draw < 0.22):
            child.disability_level = min(child.disability_level, 2)
            child.school_code = child.grade = child.class_name = None
            child.out_of_school_reason = "health_disability"
        elif child.school_code is None:
            child.out_of_school_reason = "health_disability"
        elif child.disability_level <= 2 and special is not None and draw < 0.5:
            child.school_code = special.code
        # else 随班就读: in the school the child already attends.


def _people_and_teams(towns, villages, schools, rng):
    people = [DemoPerson("city", "市教体局控辍保学办公室", "city")]
    teams: list[DemoTeam] = []
    for t_index, town in enumerate(towns, start=1):
        people.append(DemoPerson(f"town{t_index:02d}", f"{town.name}督导", "town_supervisor",
                                 "government", town.code))
        town_villages = [v.code for v in villages if v.town_code == town.code]
        # Both lines (双线控辍) cover every village: teams of 3-4 villages on each line.
        chunks = [town_villages[i:i + 3] for i in range(0, len(town_villages), 3)]
        for line in ("government", "school"):
            for k, chunk in enumerate(chunks, start=1):
                prefix = f"t{t_index:02d}{line[0]}{k:02d}"
                leader = DemoPerson(f"{prefix}.lead", _person_name(rng, rng.choice("MF")), "team_leader",
                                    line, town.code)
                members = [DemoPerson(f"{prefix}.s{m}", _person_name(rng, rng.choice("MF")), "surveyor",
                                      line, town.code) for m in (1, 2)]
                people.extend([leader, *members])
                label = "政府线" if line == "government" else "学校线"
                teams.append(DemoTeam(f"{town.name}{label}包村工作组{k}", town.code, line, leader.username,
                                      [leader.username] + [m.username for m in members], chunk))
    for school in schools:
        people.append(DemoPerson(f"school{school.code[-6:]}", school.name, "school", "school",
                                 school.town_code, school.code))
    return people, teams
