"""A settled edit that the server merged away leaves the tablet showing the server's value.

Found by the end-to-end property: the reference client kept showing its own value for good
when the server's merge kept another one and the record's version did not move (so no pull
would ever bring it back). Fixed in mobile_contract/client/tablet.py (`_show_settled`).
"""

from __future__ import annotations


def test_a_status_that_cannot_move_back_shows_the_servers_value_after_sync(in_process_tablets, town01_villages):
    cadre, teacher = in_process_tablets("t01g01.s1", "t01s01.s1")
    household = sorted(cadre.records("household", town01_villages[0]), key=lambda r: r["id"])[0]
    cadre.edit("household", household["id"], {"survey_status": "confirmed"})
    cadre.sync()
    teacher.pull()
    # The teacher's tablet has the confirmation, yet "visited" is chosen (an old paper form
    # copied in): `monotonic` keeps "confirmed" and the record does not change, so no pull
    # brings it to the teacher again.
    teacher.edit("household", household["id"], {"survey_status": "visited"})
    assert teacher.record("household", household["id"])["fields"]["survey_status"] == "visited"
    result = teacher.sync()
    assert result.push.statuses == {"merged": 1}
    assert teacher.outbox() == []
    assert teacher.record("household", household["id"])["fields"]["survey_status"] == "confirmed"
    assert teacher.record("household", household["id"]) == cadre.record("household", household["id"])


def test_an_edit_still_queued_stays_visible_over_the_servers_value(in_process_tablets, town01_villages):
    cadre, teacher = in_process_tablets("t01g01.s1", "t01s01.s1")
    household = sorted(cadre.records("household", town01_villages[0]), key=lambda r: r["id"])[0]
    cadre.edit("household", household["id"], {"survey_status": "confirmed"})
    cadre.sync()
    teacher.pull()
    teacher.edit("household", household["id"], {"survey_status": "visited"})
    teacher.push()
    teacher.edit("household", household["id"], {"notes": "需复访"})  # queued, not sent yet
    shown = teacher.record("household", household["id"])["fields"]
    assert shown["notes"] == "需复访"
    teacher.sync()
    shown = teacher.record("household", household["id"])["fields"]
    assert (shown["survey_status"], shown["notes"]) == ("confirmed", "需复访")
