"""已复学 counts the children whose case ended returned, wherever it is shown: the rates (by village,
town, city), the cases header, the choropleth and the village tiles, the monthly report. A child
a register import moved from suspected_out_of_school to enrolled was in school all along."""

import datetime as dt
import math

import mapbox_vector_tile
from sqlalchemy import select

from server.cases.models import Case
from server.imports import service as imports
from server.people import id_number
from tests.authz.world import REGISTER, csv_bytes


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_only_a_case_closed_as_returned_counts_as_returned(client, login, session, vault, make_town, make_village,
                                                           make_household, make_child, make_school, make_person,
                                                           campaign, pinned_today):
    town = make_town()
    village = make_village(town)
    school = make_school(town)
    home = make_household(village)
    born = dt.date(2016, 3, 3)
    found_number = id_number.make("320685", born, 511)
    found = make_child(home, name="学籍找到", number=found_number, birth_date=born, gender="M",
                       enrollment_status="suspected_out_of_school")
    back = make_child(home, name="劝返成功", enrollment_status="dropped_out")
    make_child(home, name="仍辍学", enrollment_status="dropped_out")
    city = make_person("city")

    # The bureau's school register lists the suspected child as attending: the import moves them.
    row = ["学籍找到", "男", found_number, "G" + found_number, school.name, school.code, "4", "1班", "在读"]
    imp = imports.create_import(session, kind="register", filename="学籍.csv", content=csv_bytes(REGISTER, [row]),
                                person=city, as_of=dt.date(2027, 5, 1))
    imports.process_import(session, vault, imp.id, imports.Progress(lambda **_values: None))
    session.flush()
    session.refresh(found)
    assert found.enrollment_status == "enrolled_unconfirmed" and found.version > 1

    # The dropout is brought back: the case ends returned, confirmed for the school by the bureau.
    case = session.scalar(select(Case).where(Case.child_id == back.id))
    headers = login(city)
    done = client.post(f"/api/v1/cases/{case.id}/transitions", headers=headers,
                       json={"to": "returned", "school_id": school.id, "return_date": "2027-07-01"})
    assert done.status_code == 200 and done.json["status"] == "returned", done.json

    for by in ("village", "town", "city"):
        report = client.get(f"/api/v1/reports/rates?by={by}&town={town.code}", headers=headers).json
        [row] = report["rows"]
        assert (row["returned"], row["out_of_school"]) == (1, 1), (by, row)
    assert report["cases"]["returned"] == 1

    villages = client.get(f"/api/v1/maps/villages?town={town.code}", headers=headers).json
    [props] = [f["properties"] for f in villages["features"]]
    assert (props["returned"], props["out_of_school"], props["returned_share"]) == (1, 1, 0.5)

    x, y = _tile(120.41, 32.51, 12)
    tile = client.get(f"/api/v1/tiles/villages/12/{x}/{y}.mvt", headers=headers)
    assert tile.status_code == 200
    [feature] = [f for f in mapbox_vector_tile.decode(tile.data)["villages"]["features"]
                 if f["properties"]["village_code"] == village.code]
    assert feature["properties"]["returned"] == 1

    opened_in = dt.datetime.now().year
    monthly = client.get(f"/api/v1/reports/monthly-dropouts?year={opened_in}", headers=headers).json
    assert sum(r["returned"] for r in monthly["rows"] if r["town_code"] == town.code) == 1
