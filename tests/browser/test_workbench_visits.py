"""走访清单 in Chromium: a team leader and a town supervisor build a team's list in the background
(a real RQ worker serves the "maps" queue), watch its progress, see the list in route order and
download it as PDF and XLSX, at both sizes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import threading

from openpyxl import load_workbook
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import text

from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import ARTIFACTS, log_in, open_page, shoot


class ThreadWorker(SimpleWorker):
    """RQ's in-process worker, run beside the browser: no signal handlers (a thread may not
    install them), and job timeouts by a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


def _work_in_background(app):
    from server import jobs

    def run():
        with app.app_context():
            q = jobs.queue("maps", app)
            ThreadWorker([q], connection=q.connection).work(burst=True)

    thread = threading.Thread(target=run, name="rq-burst", daemon=True)
    thread.start()
    return thread


def _team_of(site, username):
    with site["engine"].connect() as c:
        return c.execute(text("select t.id, t.name from teams t join people p on p.id = t.leader_id"
                              " where p.username = :u order by t.id limit 1"), {"u": username}).one()


def _id_numbers_of(site, team_id):
    """The clear ID numbers of the children in the team's villages (to prove none is printed)."""
    from server.people.protection import child_subject

    vault = site["app"].extensions["notoneless.vault"]
    with site["engine"].connect() as c:
        rows = c.execute(text("select c.id, c.id_number_cipher from children c join team_villages tv"
                              " on tv.village_code = c.village_code where tv.team_id = :t"
                              " and c.id_number_cipher is not null"), {"t": team_id}).all()
    return [vault.decrypt(cipher, child_subject(cid)) for cid, cipher in rows]


def _build_and_download(workbench_site, browser, viewport, role, username):
    site = workbench_site
    team_id, team_name = _team_of(site, username)
    watched = open_page(browser, site, viewport)
    page = log_in(watched, site, role, "/workbench/visits")
    page.wait_for_selector(f"[data-test=team-{team_id}]")
    assert "走访清单" in page.inner_text(".sidebar")
    page.click(f"[data-test=team-{team_id}]")
    page.wait_for_selector("[data-test=visit-list] [data-test=build]")
    assert team_name in page.inner_text("[data-test=visit-list] h2")

    seen = []
    page.on("response", lambda r: seen.append(r) if r.url.endswith(f"/teams/{team_id}/tasks/build") else None)
    page.click("[data-test=build]")
    # no worker yet: the page says the build is waiting, with an indeterminate progress bar
    page.wait_for_selector("[data-test=build-status][data-status=queued] progress")
    assert "等待后台处理" in page.inner_text("[data-test=build-status]")
    assert page.is_disabled("[data-test=build]")
    shoot(watched, f"visits_queued_{role}", viewport)

    worker = _work_in_background(site["app"])
    page.wait_for_selector("[data-test=build-status][data-status=done]", timeout=60000)
    worker.join(30)
    assert not worker.is_alive()
    statuses = [r.json()["status"] for r in seen if r.ok]
    # what the page was told while it polled: waiting, (running, when a poll fell in the build,) done
    assert "queued" in statuses and statuses[-1] == "done", statuses
    assert set(statuses[statuses.index("queued"):]) <= {"queued", "running", "done"}, statuses
    done_text = page.inner_text("[data-test=build-status]")
    assert re.search(r"已生成：共 \d+ 户", done_text), done_text

    rows = page.locator("[data-test=visit-tasks] tbody tr")
    assert rows.count() > 3
    orders = [int(rows.nth(i).locator("td").first.inner_text()) for i in range(rows.count())]
    assert orders == sorted(orders) and orders[0] == 1
    first = rows.nth(0).inner_text()
    assert re.search(r"\d+组", first) or "—" in first
    assert "疑似失学辍学" in page.inner_text("[data-test=visit-tasks]") or "未走访" in page.inner_text(
        "[data-test=visit-tasks]")
    shoot(watched, f"visits_done_{role}", viewport)

    numbers = _id_numbers_of(site, team_id)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with page.expect_download() as pdf_download:
        page.click("[data-test=download-pdf]")
    pdf_path = os.path.join(ARTIFACTS, f"workbench_visits_{role}_{viewport}.pdf")
    pdf_download.value.save_as(pdf_path)
    assert pdf_download.value.suggested_filename == f"team-{team_id}-visits.pdf"
    pdf_text = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], capture_output=True, text=True,
                              check=True).stdout
    assert "控辍保学入户走访清单" in pdf_text and team_name in pdf_text
    for header in ("组/号", "地址", "户主", "联系电话", "走访原因"):
        assert header in pdf_text
    assert numbers and not any(n in pdf_text for n in numbers)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", pdf_path,
                    os.path.join(ARTIFACTS, f"workbench_visits_pdf_{role}_{viewport}")], check=True)

    with page.expect_download() as xlsx_download:
        page.click("[data-test=download-xlsx]")
    sheet = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read())).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[2][:7] == ["序号", "村（社区）", "组/号", "地址", "户主", "联系电话", "走访原因"]
    assert cells[3][0] == 1 and len([r for r in cells[3:] if isinstance(r[0], int)]) == rows.count()
    flat = " ".join(str(v) for r in cells for v in r if v is not None)
    assert not any(n in flat for n in numbers)
    page.wait_for_selector("[data-test=downloaded]")
    watched.assert_clean()


def test_a_team_leader_builds_the_list_sees_progress_and_prints_it(workbench_site, browser, viewport):
    _build_and_download(workbench_site, browser, viewport, "team_leader", workbench_site["users"]["team_leader"])


def test_a_town_supervisor_builds_a_teams_list(workbench_site, browser, viewport):
    # the supervisor of town 01 builds the list of one of its teams it does not lead
    site = workbench_site
    with site["engine"].connect() as c:
        username = c.execute(text("select p.username from teams t join people p on p.id = t.leader_id"
                                  " where t.town_code = :town order by t.id desc limit 1"),
                             {"town": site["town"]}).scalar()
    assert username != site["users"]["team_leader"]
    _build_and_download(site, browser, viewport, "town_supervisor", username)
