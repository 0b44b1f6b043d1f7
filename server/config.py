"""Configuration from the environment (12-factor): nothing secret lives in the repository."""

from __future__ import annotations

import os


class ConfigError(RuntimeError):
    pass


def from_environment(env: os._Environ | dict | None = None) -> dict:
    env = os.environ if env is None else env
    config = {
        "DATABASE_URL": env.get("DATABASE_URL", "postgresql+psycopg:///notoneless"),
        # A streaming replica for map and report reads (docs/deployment.md); unset: the primary.
        "READ_DATABASE_URL": env.get("READ_DATABASE_URL") or None,
        "REDIS_URL": env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "SECRET_KEY": env.get("SECRET_KEY"),
        # base64 of 32 random bytes each; `notoneless keys` prints a fresh set.
        "ID_NUMBER_KEY": env.get("ID_NUMBER_KEY"),
        "ID_LOOKUP_KEY": env.get("ID_LOOKUP_KEY"),
        "TOKEN_TTL_HOURS": int(env.get("TOKEN_TTL_HOURS", "12")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(32 * 1024 * 1024))),
        # Failed logins or enrollments from one address within the window before it must wait
        # (server/accounts/throttle.py); behind a proxy set PROXY_HOPS so the address is the client's.
        "FAILED_ATTEMPTS_PER_ADDRESS": int(env.get("FAILED_ATTEMPTS_PER_ADDRESS", "30")),
        "FAILED_ATTEMPTS_WINDOW_SECONDS": int(env.get("FAILED_ATTEMPTS_WINDOW_SECONDS", "900")),
        # Failed logins per account (server/accounts/throttle.py): free tries, then a wait doubling
        # up to the maximum; an address the account logged in from is remembered this many days.
        "LOGIN_BACKOFF_FREE_ATTEMPTS": int(env.get("LOGIN_BACKOFF_FREE_ATTEMPTS", "5")),
        "LOGIN_BACKOFF_MAX_SECONDS": int(env.get("LOGIN_BACKOFF_MAX_SECONDS", "900")),
        "LOGIN_KNOWN_ADDRESS_DAYS": int(env.get("LOGIN_KNOWN_ADDRESS_DAYS", "90")),
        # Strict-Transport-Security on answers over TLS (behind the proxy: PROXY_HOPS); 0 = none.
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS", "31536000")),
        # A tablet's token lives this many days unless the tablet renews it (it does, in the
        # background, once half of it is gone); the token it renewed with works a while more.
        "DEVICE_TOKEN_DAYS": int(env.get("DEVICE_TOKEN_DAYS", "30")),
        "DEVICE_TOKEN_GRACE_MINUTES": int(env.get("DEVICE_TOKEN_GRACE_MINUTES", "60")),
        # ODK Collect cannot renew its token (it is in the server URL it was given): it lives a
        # campaign's spring; a supervisor re-issues the settings QR to renew it.
        "COLLECT_TOKEN_DAYS": int(env.get("COLLECT_TOKEN_DAYS", "120")),
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "0")),
        "PAGE_SIZE_MAX": int(env.get("PAGE_SIZE_MAX", "1000")),
        "SYNC_MAX_BATCH": int(env.get("SYNC_MAX_BATCH", "500")),
        "ATTACHMENT_MAX_BYTES": int(env.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))),
        "ATTACHMENTS_DIR": env.get("ATTACHMENTS_DIR", "var/attachments"),
        "RQ_QUEUE_PREFIX": env.get("RQ_QUEUE_PREFIX", ""),
        # The job outbox (server/jobs): how often a worker sweeps it, how old a row must be
        # before the sweep delivers it, how often a running job beats, and how long a
        # silent running job is given before it counts as lost with its worker.
        "OUTBOX_SWEEP_SECONDS": float(env.get("OUTBOX_SWEEP_SECONDS", "10")),
        "OUTBOX_GRACE_SECONDS": int(env.get("OUTBOX_GRACE_SECONDS", "30")),
        "JOB_HEARTBEAT_SECONDS": int(env.get("JOB_HEARTBEAT_SECONDS", "10")),
        "OUTBOX_STALE_SECONDS": int(env.get("OUTBOX_STALE_SECONDS", "120")),
        # Notices (server/cases/notices.py): the county's name (海安市), the bureau that signs
        # (default: the county's 教育体育局), the number prefix (海安教 gives 海安教返〔2027〕0001号,
        # one series per kind), and the kinds the town government issues (comma-separated).
        "COUNTY_NAME": env.get("COUNTY_NAME", ""),
        "NOTICE_NUMBER_PREFIX": env.get("NOTICE_NUMBER_PREFIX", "教"),
        "NOTICE_ISSUER": env.get("NOTICE_ISSUER", ""),
        "NOTICE_TOWN_ISSUES": env.get("NOTICE_TOWN_ISSUES", "deadline,violation"),
    }
    return config


def check(config: dict) -> None:
    """Refuse to start without the keys that protect children's data."""
    missing = [k for k in ("SECRET_KEY", "ID_NUMBER_KEY", "ID_LOOKUP_KEY") if not config.get(k)]
    if missing:
        raise ConfigError(
            "missing configuration: " + ", ".join(missing)
            + " (scripts/run.sh writes them to instance/notoneless.env; `notoneless keys` prints a new set)"
        )
