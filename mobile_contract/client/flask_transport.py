"""Drive the tablet client through a Flask test client, in process, for end-to-end tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mobile_contract.client.transport import CaseInsensitiveHeaders, Response, prepare_body

if TYPE_CHECKING:  # only for type checkers: importing this module must not load Flask
    from flask.testing import FlaskClient


class FlaskTransport:
    """Send the client's requests to a `flask.testing.FlaskClient` instead of a socket."""

    def __init__(self, client: FlaskClient, *, prefix: str = ""):
        self.client = client
        self.prefix = prefix

    def request(self, method, path, *, json=None, body=None, headers=None, query=None) -> Response:
        """Send one request to the app under test."""
        data, all_headers = prepare_body(json, body, headers)
        kwargs: dict[str, Any] = {"method": method, "headers": all_headers}
        if data is not None:
            kwargs["data"] = data
        if query:
            kwargs["query_string"] = {k: v for k, v in query.items() if v is not None}
        answer = self.client.open(self.prefix + path, **kwargs)
        try:
            # The raw bytes as the server sent them (gzip left as is): the client decodes
            # exactly what it would over the network.
            return Response(answer.status_code, CaseInsensitiveHeaders(dict(answer.headers.items())),
                            answer.get_data())
        finally:
            answer.close()
