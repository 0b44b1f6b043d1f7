from tests.cases.conftest import campaign, pinned_today  # noqa: F401 - the same campaign and day
