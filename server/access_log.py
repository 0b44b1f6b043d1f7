"""gunicorn's access log without the secrets some URLs carry.

An OpenRosa URL holds its tablet's token in the path (ODK Collect has no other place for it),
and access logs keep URLs: whoever reads var/log/access.log could sync as that tablet. The log
keeps the route, not the token (scripts/run.sh and the Dockerfile start gunicorn with
`--logger-class server.access_log.RedactingLogger`)."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"(/openrosa/)[^/\s?\"]+")
# A search by ID number (GET /api/v1/cases?q=...) carries the digits in its query: the log keeps
# the region only, as every masked number does (server/disclosure.py).
_ID_NUMBER_IN_QUERY = re.compile(r"([?&][^=&\s]*=)(\d{6})\d{11}[\dXx](?![\dXx])")


def redact(text: str) -> str:
    text = _TOKEN_IN_PATH.sub(r"\1[token]", text)
    return _ID_NUMBER_IN_QUERY.sub(r"\1\2************", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
