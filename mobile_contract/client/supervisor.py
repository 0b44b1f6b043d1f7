"""What a supervisor does around the tablets: log in, find surveyors, issue and revoke codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mobile_contract.client.api import ApiSession, RetryPolicy
from mobile_contract.client.transport import Transport


class SupervisorSession:
    """A logged-in supervisor (town supervisor or team leader) on the JSON API."""

    def __init__(self, transport: Transport, *, retry: RetryPolicy | None = None,
                 check: Callable[[str, Any], None] | None = None):
        self.api = ApiSession(transport, retry=retry, check=check)
        self.person: dict | None = None

    def log_in(self, username: str, password: str) -> dict:
        """Log in with username and password; keep the bearer token."""
        answer = self.api.call("POST", "/auth/login", {"username": username, "password": password},
                               retry=False)
        self.api.token = answer["token"]
        self.person = answer.get("person")
        return answer

    def village(self, code: str) -> dict:
        """Show one village."""
        return self.api.call("GET", f"/villages/{code}")

    def surveyors(self, village_code: str) -> list[dict]:
        """List the surveyors whose teams cover a village."""
        return self.api.call("GET", "/devices/surveyors", query={"village": village_code},
                             response_schema="surveyors_list")

    def issue_enrollment_code(self, surveyor_id: int, expires_in_hours: int | None = None) -> dict:
        """Issue a one-time enrollment code for a surveyor's tablet."""
        body: dict[str, Any] = {"surveyor_id": surveyor_id}
        if expires_in_hours is not None:
            body["expires_in_hours"] = expires_in_hours
        # Not retried: a retry after a lost answer would issue a second code, harmless but
        # confusing in the list of codes.
        return self.api.call("POST", "/devices/enrollment-codes", body, retry=False,
                             request_schema="enrollment_code_request",
                             response_schema="enrollment_code_response")

    def revoke_device(self, device_id: str) -> Any:
        """Revoke a tablet: its token stops working at once."""
        return self.api.call("POST", f"/devices/{device_id}/revoke")

    def conflicts(self, *, status: str | None = "open", village: str | None = None) -> list[dict]:
        """List conflicts for review."""
        answer = self.api.call("GET", "/conflicts", query={"status": status, "village": village},
                               response_schema="conflicts_list")
        return answer["items"]

    def resolve_conflict(self, conflict_id: str, value: Any, note: str | None = None) -> dict:
        """Decide a conflict's value; it flows to the tablets as a new record version."""
        return self.api.call("POST", f"/conflicts/{conflict_id}/resolve", {"value": value, "note": note},
                             request_schema="conflict_resolve_request", response_schema="conflict")
