"""gunicorn.conf.py: what it sets in a worker is set (gunicorn reads it from the working
directory scripts/run.sh and the Dockerfile start it in)."""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_worker_hands_the_gil_over_within_a_millisecond():
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    before = sys.getswitchinterval()
    try:
        conf["post_worker_init"](None)
        assert sys.getswitchinterval() == conf["SWITCH_INTERVAL"] <= 0.001
    finally:
        sys.setswitchinterval(before)


def test_the_image_carries_the_settings_beside_the_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "gunicorn.conf.py" in dockerfile and "WORKDIR /app" in dockerfile
