"""The access log keeps an OpenRosa URL's route, never the tablet's token in its path."""

import datetime as dt
from types import SimpleNamespace

from server.access_log import RedactingLogger, redact


def test_the_token_in_an_openrosa_path_is_left_out():
    line = 'GET /api/v1/openrosa/Zq3-secret_TOKEN/formList HTTP/1.1'
    assert redact(line) == "GET /api/v1/openrosa/[token]/formList HTTP/1.1"
    assert redact("/api/v1/openrosa/abc?x=1") == "/api/v1/openrosa/[token]?x=1"
    assert redact("/api/v1/sync/push") == "/api/v1/sync/push"


def test_an_id_number_searched_for_is_logged_masked():
    line = "GET /api/v1/cases?page=1&q=32068520130514123X&page_size=20 HTTP/1.1"
    assert redact(line) == "GET /api/v1/cases?page=1&q=320685************&page_size=20 HTTP/1.1"
    assert redact("/api/v1/cases?q=320685201305141234") == "/api/v1/cases?q=320685************"
    # other numbers in a query stay as they are
    assert redact("/api/v1/cases?village=320685001001&page=2") == "/api/v1/cases?village=320685001001&page=2"


def test_gunicorns_atoms_are_redacted():
    logger = RedactingLogger(SimpleNamespace(
        loglevel="info", errorlog="-", accesslog=None, syslog=False, logconfig=None, logconfig_dict={},
        logconfig_json=None, capture_output=False, disable_redirect_access_to_syslog=False,
        access_log_format="%(r)s", user=0, group=0, umask=0, statsd_host=None, dogstatsd_tags="", statsd_prefix=""))
    request = SimpleNamespace(method="GET", path="/api/v1/openrosa/SECRET/submission", query="",
                              uri="/api/v1/openrosa/SECRET/submission", version=(1, 1), headers=[])
    response = SimpleNamespace(status="204 No Content", sent=0, response_length=0, headers=[])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/v1/openrosa/SECRET/submission",
               "PATH_INFO": "/api/v1/openrosa/SECRET/submission", "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1"}
    atoms = logger.atoms(response, request, environ, dt.timedelta(seconds=0.01))
    assert not any("SECRET" in v for v in atoms.values() if isinstance(v, str)), atoms
