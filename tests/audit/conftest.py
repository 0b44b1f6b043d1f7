from tests.sync_api.conftest import area, enroll, forms  # noqa: F401 - shared fixtures
