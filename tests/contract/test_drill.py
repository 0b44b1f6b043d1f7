"""The drill's own logic, run against the tiny fake server (the real server's drill runs later)."""

from __future__ import annotations

import random

from mobile_contract.client import drill
from tests.contract.fake_server import VILLAGE, FakeServer


def seeded_server() -> FakeServer:
    server = FakeServer()
    rng = random.Random(5)
    for h in range(8):
        household = server.put("household", {"head_name": f"户主{h}", "survey_status": "not_visited",
                                             "vulnerable_family_types": []})
        for c in range(rng.randint(1, 3)):
            server.put("child", {"name": f"孩子{h}-{c}", "enrollment_status": "suspected_out_of_school"},
                       household_id=household["id"])
    return server


def run_drill(server: FakeServer, tmp_path, *extra: str) -> tuple[int, list[str]]:
    args = drill.parse_args(["--server", "http://fake", "--username", "town01", "--password",
                             "demo-password", "--village", VILLAGE, "--tablets", "3", "--edits", "12",
                             "--seed", "3", "--fault-rate", "0.15", "--keep", str(tmp_path), *extra])
    lines: list[str] = []
    code = drill.run(args, lines.append, transport_factory=lambda: server)
    return code, lines


def test_drill_runs_tablets_through_faults_to_agreement(tmp_path):
    server = seeded_server()
    code, lines = run_drill(server, tmp_path)
    text = "\n".join(lines)
    assert code == 0, text
    assert "Result: AGREED" in text
    assert "Receipts by status: applied" in text
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3")) == [f"tablet-{i}.sqlite3" for i in (1, 2, 3)]
    # Every queued edit reached the server exactly once.
    assert len(server.submissions) == 3 * 12


def test_drill_fails_when_a_tablet_cannot_agree_with_the_server(tmp_path):
    server = seeded_server()
    server.lie_about_hash = True
    code, lines = run_drill(server, tmp_path)
    assert code == 1
    assert lines[-1] == "Result: DISAGREED"
    assert any("DIFFERS" in line for line in lines)


def test_drill_stops_cleanly_when_it_cannot_log_in(tmp_path):
    args = drill.parse_args(["--server", "http://fake", "--username", "town01", "--password", "wrong",
                             "--village", VILLAGE])
    lines: list[str] = []
    assert drill.run(args, lines.append, transport_factory=FakeServer) == 2
    assert "auth.invalid_credentials" in lines[0]
