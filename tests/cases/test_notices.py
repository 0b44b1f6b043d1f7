"""Notices: numbered per kind and year, rendered to a Chinese PDF a county can send (issuer,
legal basis, where to report, whom to call, a 送达回证), downloadable and audited."""

import io
import zipfile

from pypdf import PdfReader
from rq import SimpleWorker
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from server.audit.models import AuditEvent
from server.cases import jobs
from server.cases.models import Case, CaseEvent, Notice, NoticeCounter
from server.jobs import queue


def _pdf_text(data: bytes) -> str:
    # Lines joined again: a phrase wrapped at the end of a line is still one phrase.
    return "".join(page.extract_text().replace("\n", "") for page in PdfReader(io.BytesIO(data)).pages)


def _case_of(client, headers, name):
    return next(c for c in client.get("/api/v1/cases", headers=headers).json["items"] if c["child_name"] == name)


COUNTY = {"COUNTY_NAME": "海安市", "NOTICE_NUMBER_PREFIX": "海安教", "NOTICE_ISSUER": "海安市教育体育局"}


def test_a_notice_is_numbered_rendered_and_downloaded(app, client, login, town_cases, session, redis_conn):
    before = {k: app.config.get(k) for k in COUNTY}
    app.config.update(COUNTY)
    try:
        headers = login(town_cases["people"]["supervisor"])
        client.post("/api/v1/cases/open", headers=headers)
        case = _case_of(client, headers, "王小明")
        first = client.post(f"/api/v1/cases/{case['id']}/notices", json={"kind": "return", "deadline": "2027-07-09"},
                            headers=headers)
        assert first.status_code == 202, first.json
        second = client.post(f"/api/v1/cases/{case['id']}/notices", json={"kind": "deadline"}, headers=headers)
        third = client.post(f"/api/v1/cases/{case['id']}/notices", json={
            "kind": "return", "contact_name": "张丽", "contact_phone": "0513-88123456"}, headers=headers)
    finally:
        app.config.update(before)
    n1, n2, n3 = first.json["number"], second.json["number"], third.json["number"]
    # One series per kind: 劝返 and 限期 each count from 0001 in the year.
    assert n1 == "海安教返〔2027〕0001号" and n3 == "海安教返〔2027〕0002号", (n1, n3)
    assert n2 == "海安教限〔2027〕0001号", n2
    assert first.json["status"] == "queued"
    # The bureau sends 劝返复学通知书; the town government orders the deadline (第五十八条).
    assert first.json["issuer"] == "海安市教育体育局"
    assert second.json["issuer"] == f"海安市{town_cases['town'].name}人民政府"
    assert first.json["school_name"] == town_cases["school"].name  # the child's own school
    supervisor = town_cases["people"]["supervisor"]
    assert first.json["contact_name"] == supervisor.full_name
    assert third.json["contact_name"] == "张丽" and third.json["contact_phone"] == "0513-88123456"
    not_ready = client.get(f"/api/v1/notices/{first.json['id']}/pdf", headers=headers)
    assert not_ready.status_code == 409 and not_ready.json["code"] == "notices.not_ready"

    # The job, within the test's transaction (the worker test below runs it for real); twice.
    assert jobs.render_notice_in(session, first.json["id"], "海安市教育体育局") == "done"
    assert jobs.render_notice_in(session, first.json["id"], "海安市教育体育局") == "done"
    pdf = client.get(f"/api/v1/notices/{first.json['id']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    content = _pdf_text(pdf.data)
    assert "王小明" in content and n1 in content and "劝返复学通知书" in content and "王大明" in content
    assert "海安市教育体育局" in content and "2027年7月9日" in content  # issuer and the date to report by
    assert town_cases["school"].name in content and supervisor.full_name in content  # where, whom to call
    assert "《中华人民共和国义务教育法》第五条" in content and "第五十八条" not in content
    assert "送达回证" in content and "受送达人签名" in content and content.count(n1) >= 2  # the stub repeats it
    jobs.render_notice_in(session, second.json["id"], "海安市教育体育局")
    ordered = _pdf_text(client.get(f"/api/v1/notices/{second.json['id']}/pdf", headers=headers).data)
    # 责令限期改正 cites its ground; the town government signs it.
    assert "第五十八条" in ordered and "责令限期改正" in ordered and second.json["issuer"] in ordered
    assert n2 in ordered and "送达回证" in ordered

    jobs.render_notice_in(session, third.json["id"], "海安市教育体育局")
    assert "0513-88123456" in _pdf_text(client.get(f"/api/v1/notices/{third.json['id']}/pdf", headers=headers).data)

    batch = client.get(f"/api/v1/notices/batch?town={town_cases['town'].code}", headers=headers)
    assert batch.status_code == 200
    with zipfile.ZipFile(io.BytesIO(batch.data)) as archive:
        assert len(archive.namelist()) == 3
        assert any("限期入学通知书" in _pdf_text(archive.read(name)) for name in archive.namelist())
    audited = session.scalars(select(AuditEvent.subject_type).where(AuditEvent.action == "export")).all()
    assert {"notice", "notice_batch"} <= set(audited)
    # A 限期入学通知书 on an escalated case is the ladder's next step; on a persuading case it is not.
    case_url = f"/api/v1/cases/{case['id']}"
    assert client.get(case_url, headers=headers).json["status"] == "identified"
    client.post(case_url + "/transitions", json={"to": "persuading"}, headers=headers)
    client.post(case_url + "/transitions", json={"to": "escalated", "deadline": "2027-07-09"}, headers=headers)
    fourth = client.post(case_url + "/notices", json={"kind": "deadline"}, headers=headers)
    assert fourth.status_code == 202
    detail = client.get(case_url, headers=headers).json
    assert detail["status"] == "notice_issued" and detail["events"][-1]["note"] == fourth.json["number"]
    assert len(detail["notices"]) == 4
    # The leader of the team may not issue or download notices: the town government does.
    leader = login(town_cases["people"]["leader"])
    assert client.get(f"/api/v1/notices/{first.json['id']}/pdf", headers=leader).status_code == 403


def test_a_real_worker_renders_a_committed_notice(app, committed_engine, redis_conn):
    """The job as the worker runs it: its own app context and session, committed data."""
    with Session(committed_engine) as s:
        row = s.execute(text(
            "select c.id from children c where c.enrollment_status in ('dropped_out', 'never_enrolled') limit 1"
        )).first()
    created: dict = {}
    with Session(committed_engine) as s:
        if row is None:
            town = s.execute(text("insert into towns(code, name) values ('320685999000', '工作测试镇') returning code")).scalar()
            s.execute(text("insert into villages(code, town_code, name) values ('320685999201', :t, '工作测试村')"),
                      {"t": town})
            hh = s.execute(text("insert into households(id, village_code) values (gen_random_uuid(), '320685999201')"
                                " returning id")).scalar()
            child_id = s.execute(text(
                "insert into children(id, household_id, village_code, name, gender, birth_date, enrollment_status)"
                " values (gen_random_uuid(), :h, '320685999201', '赵工作', 'M', '2014-05-01', 'dropped_out')"
                " returning id"), {"h": hh}).scalar()
            created.update(town=town, household=hh, child=child_id)
        else:
            child_id = s.execute(text("select c.id from children c where c.enrollment_status = 'dropped_out'"
                                      " or c.enrollment_status = 'never_enrolled' limit 1")).scalar()
        village = s.execute(text("select village_code from children where id = :c"), {"c": child_id}).scalar()
        # Usually the children_open_case trigger opened it already.
        case = s.scalar(select(Case).where(Case.child_id == child_id, Case.closed_at.is_(None)))
        if case is None:
            case = Case(child_id=child_id, village_code=village, status="escalated", opened_from="dropped_out")
            s.add(case)
            s.flush()
        else:
            created["case_was_there"] = True
        notice = Notice(case_id=case.id, kind="violation", year=2099, number=1, number_text="测试〔2099〕0001号",
                        issued_on=__import__("datetime").date(2099, 7, 1))
        s.add(notice)
        s.commit()
        case_id, notice_id = case.id, notice.id
    try:
        with app.app_context():
            q = queue("reports")
            q.enqueue(jobs.render_notice, notice_id)
            q.enqueue(jobs.render_notice, notice_id)  # a duplicate enqueue is harmless
            SimpleWorker([q], connection=q.connection).work(burst=True)
        with Session(committed_engine) as s:
            stored = s.get(Notice, notice_id)
            assert stored.status == "done"
            assert "测试〔2099〕0001号" in _pdf_text(stored.pdf)
            assert "违反义务教育法告知书" in _pdf_text(stored.pdf)
    finally:
        with Session(committed_engine) as s:
            s.execute(delete(Notice).where(Notice.id == notice_id))
            if created.get("child"):
                s.execute(delete(Case).where(Case.child_id == created["child"]))
            elif not created.get("case_was_there"):
                s.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
                s.execute(delete(Case).where(Case.id == case_id))
            s.execute(delete(NoticeCounter).where(NoticeCounter.year == 2099))
            if created.get("child"):
                s.execute(text("delete from children where id = :c"), {"c": created["child"]})
                s.execute(text("delete from households where id = :h"), {"h": created["household"]})
                s.execute(text("delete from villages where code = '320685999201'"))
                s.execute(text("delete from towns where code = :t"), {"t": created["town"]})
            s.commit()


def test_a_notice_for_an_unknown_school_is_refused_naming_the_field(client, login, town_cases):
    headers = login(town_cases["people"]["supervisor"])
    client.post("/api/v1/cases/open", headers=headers)
    case = _case_of(client, headers, "王小明")
    answer = client.post(f"/api/v1/cases/{case['id']}/notices", json={"kind": "return", "school_id": 999999},
                         headers=headers)
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"][0]["field"] == "school_id"
    asked = client.post(f"/api/v1/cases/{case['id']}/notices",
                        json={"kind": "enroll", "school_id": town_cases["school"].id, "report_place": "学校东门传达室"},
                        headers=headers)
    assert asked.status_code == 202 and asked.json["report_place"] == "学校东门传达室"
    assert asked.json["school_name"] == town_cases["school"].name
