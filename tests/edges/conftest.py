"""Fixtures of the hostile-edge tests: the tablet contract's county and enrolled tablets."""

from tests.imports.conftest import city, county, import_queue, upload  # noqa: F401
from tests.sync_api.conftest import Tablet, area, enroll, forms  # noqa: F401
