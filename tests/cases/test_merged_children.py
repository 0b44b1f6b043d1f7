"""A duplicate child merged into another hands its case to the survivor (database triggers)."""

from sqlalchemy import delete, select

from server.cases.models import Case, CaseEvent, SupportPlan
from server.people.models import Child
from server.sync.models import Tombstone


def test_a_merged_duplicate_hands_its_case_to_the_survivor(session, make_household, make_child):
    home = make_household()
    survivor = make_child(home, name="李四", enrollment_status="never_enrolled")
    loser = make_child(home, name="李四", enrollment_status="never_enrolled")
    kept, gone = (session.scalar(select(Case.id).where(Case.child_id == c.id)) for c in (survivor, loser))
    session.add(SupportPlan(case_id=gone, measures=["资助"], responsible_name="王老师"))
    session.add(Tombstone(record_type="child", record_id=loser.id, village_code=loser.village_code,
                          merged_into=survivor.id))
    session.flush()
    session.execute(delete(Child).where(Child.id == loser.id))
    session.expire_all()
    cases = session.scalars(select(Case).where(Case.child_id.in_([survivor.id, loser.id]))).all()
    assert [c.id for c in cases] == [kept]
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == kept).order_by(CaseEvent.id)).all()
    assert len(events) == 3 and events[-1].detail["merged_case"] == gone
    assert session.scalar(select(SupportPlan.case_id)) == kept


def test_a_deleted_child_without_survivor_takes_its_case_along(session, make_child):
    child = make_child(enrollment_status="dropped_out")
    session.execute(delete(Child).where(Child.id == child.id))
    assert session.scalar(select(Case).where(Case.child_id == child.id)) is None
