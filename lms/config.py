"""Configuration: defaults, then ``RELAIS_*`` environment variables, then the caller's mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from lms.core.replica import REPLICA, replica_engine_options

DEFAULTS: dict[str, Any] = {
    # Public URL of this instance: used in e-mails, xAPI activity IRIs and certificate QR codes.
    "BASE_URL": "http://127.0.0.1:5000",
    # No pool_pre_ping: it costs a round trip to the server on every checkout, so on every
    # request; lms.core.database pings only connections that sat idle in the pool.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # A read replica of the PostgreSQL primary (its URL): the HR dashboards and their exports
    # read from it (lms/core/replica.py); None: everything reads from the primary.
    "READ_REPLICA_URL": None,
    # SQLite: each process checkpoints the WAL from a thread of its own (lms/core/checkpoints.py)
    # once this many pages were written since, or SQLITE_CHECKPOINT_SECONDS after a write,
    # instead of in the request whose commit passes 10,000 pages; 0: SQLite's automatic
    # checkpoint as before. Past SQLITE_WAL_LIMIT_PAGES the thread has the WAL start again
    # from its beginning, holding writers for at most half a second; past twice that, commits
    # checkpoint it themselves.
    "SQLITE_CHECKPOINT_PAGES": 10000,
    "SQLITE_CHECKPOINT_SECONDS": 1.0,
    "SQLITE_WAL_LIMIT_PAGES": 40000,
    "LANGUAGES": ["en", "fr"],
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    # Failed logins (wrong passwords and wrong second-factor codes) allowed in
    # LOGIN_WINDOW_SECONDS before HTTP 429: per account from one address (and per known
    # device), per address whatever the account, and per account from all unknown devices
    # together. A known device (a signed cookie left by an earlier login to the account, kept
    # LOGIN_DEVICE_COOKIE_DAYS) is held only by its own failures, so a stranger cannot lock
    # the owner out (lms/accounts/devices.py).
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES": 50,
    "LOGIN_WINDOW_SECONDS": 900,
    "LOGIN_DEVICE_COOKIE_DAYS": 180,
    # How long the second step of a login (the authenticator code) waits after the password.
    "LOGIN_SECOND_STEP_SECONDS": 300,
    "INVITATION_TTL_DAYS": 14,
    # Passwords (NIST SP 800-63B): a minimum length, no composition rules, refused when guessable.
    "PASSWORD_MIN_LENGTH": 12,
    # How passwords are hashed (Werkzeug's method string). scrypt with Werkzeug's cost (2^15)
    # takes about 0.1 s of CPU per hash and per check, which is the point; the test suite
    # lowers the cost (tests/conftest.py), as a stored hash names its own method and cost.
    "PASSWORD_HASH_METHOD": "scrypt:32768:8:1",
    # "Forgot password": how long a reset link works, and how many reset e-mails may be asked
    # for in LOGIN_WINDOW_SECONDS per address (e-mail) and per client (IP address).
    "PASSWORD_RESET_TTL_SECONDS": 3600,
    "PASSWORD_RESET_MAX_PER_ACCOUNT": 3,
    "PASSWORD_RESET_MAX_PER_ADDRESS": 10,
    # Survey results are shown from this many answers, so nobody's answer can be picked out.
    "SURVEY_MIN_ANSWERS": 5,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_FROM": "relais@localhost",
    "WORKERS": 4,
    "PAGE_SIZE": 50,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Sessions are shown, and split into half-days on sign-in sheets, in this time zone.
    "TIMEZONE": "Europe/Paris",
    # Production serving: logs as key=value lines (or "json"); PROXY_FIX "x_for,x_proto,..."
    # counts of trusted proxies, unset when Relais is not behind a reverse proxy.
    "LOG_FORMAT": "keyvalue",
    "LOG_LEVEL": "INFO",
    "PROXY_FIX": None,
    # Background jobs.
    "BROKER_URL": None,            # redis://host:6379/0 → Celery workers; unset → embedded
    "RESULT_BACKEND": None,        # defaults to the broker
    "JOBS_DIR": None,              # defaults to <instance>/jobs; shared storage across hosts
    "JOBS_LEASE_SECONDS": 60,      # a job whose runner is silent this long is taken over
    "JOBS_POLL_SECONDS": 2,
    "JOBS_MAX_ATTEMPTS": 3,
    "JOBS_RETRY_SECONDS": 5,
    "JOBS_RETENTION_DAYS": 30,
    "JOBS_IMPORT_CHUNK": 100,
    # Uploads and their limits, in bytes.
    "PACKAGE_MAX_BYTES": 200 * 1024 * 1024,
    "PACKAGE_MAX_UNPACKED_BYTES": 500 * 1024 * 1024,
    "PACKAGE_LAUNCH_HOURS": 8,     # how long a package launch link stays valid
    "EXERCISE_SCREENSHOT_MAX_BYTES": 5 * 1024 * 1024,
    "XAPI_MAX_DOCUMENT_BYTES": 16 * 1024 * 1024,  # larger State/profile documents: 413
    "CERTIFICATES_WORKERS": None,  # processes rendering certificates; unset → one per core
    # Forwarding statements to an external LRS.
    "XAPI_FORWARD_MAX_ATTEMPTS": 10,
    "XAPI_FORWARD_BATCH_SIZE": 100,
    "XAPI_FORWARD_BACKOFF_BASE": 30.0,  # seconds before the first retry
    "XAPI_FORWARD_BACKOFF_CAP": 3600.0,  # longest wait between two attempts
    "XAPI_FORWARD_CONNECT_TIMEOUT": 5.0,
    "XAPI_FORWARD_READ_TIMEOUT": 30.0,
    "XAPI_FORWARD_CLAIM_SECONDS": 300,  # a worker's claim on an organization lapses after this
    # None: Secure exactly when BASE_URL is https (lms/core/security.py); true/false forces it.
    "SESSION_COOKIE_SECURE": None,
    # Seconds Relais waits for the company's OpenID provider (discovery, keys, tokens), and for
    # a SAML IdP's metadata URL.
    "OIDC_HTTP_TIMEOUT": 10.0,
    # The xmlsec1 program SAML signs and verifies with; None: found on PATH.
    "SAML_XMLSEC_BINARY": None,
    # Seconds Relais waits for an LTI platform (its keys, tokens, grades and rosters).
    "LTI_HTTP_TIMEOUT": 10.0,
    # A login session ends after this long without a request, and this long after the login
    # whatever happens (server-side, lms/accounts/sessions.py).
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_ABSOLUTE_HOURS": 12,
    # Security headers (docs/security.md). HSTS is sent only when BASE_URL is https; 0 turns
    # it off.
    "HSTS_MAX_AGE": 31536000,
    "HSTS_INCLUDE_SUBDOMAINS": False,
    "REFERRER_POLICY": "strict-origin-when-cross-origin",
    # Request bodies, in bytes, refused with 413 from Content-Length before being read
    # (lms/core/limits.py). The global limit covers pages, forms and the JSON API; uploads,
    # the webhook and the LRS have their own.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "WEBHOOK_MAX_BYTES": 5 * 1024 * 1024,
    "XAPI_MAX_STATEMENTS_BYTES": 32 * 1024 * 1024,
    "IMPORT_MAX_BYTES": 200 * 1024 * 1024,
    # Disk space each organization's uploads may take (packages unpacked, exercise hand-ins),
    # in bytes; over it an upload is refused (lms/core/quota.py). 0: no quota.
    "ORGANIZATION_QUOTA_BYTES": 2 * 1024**3,
    # Rate limits (lms/core/ratelimit.py), as "N per second|minute|hour|day", several joined
    # by ";": per API token, per LRS key, per organization's webhook, and per address for
    # requests without credentials on those three surfaces. Counted in Redis when
    # RATELIMIT_STORAGE_URL (or else a redis:// BROKER_URL) is set, else in each process's
    # memory. RATELIMIT_ENABLED false turns them off.
    "RATELIMIT_API": "1200 per minute",
    "RATELIMIT_LRS": "12000 per minute",
    "RATELIMIT_WEBHOOK": "600 per minute",
    "RATELIMIT_ANONYMOUS": "120 per minute",
    "RATELIMIT_STORAGE_URL": None,
    "RATELIMIT_ENABLED": True,
    # Seconds a client is asked to wait (Retry-After) when the database is out of reach (503).
    "UNAVAILABLE_RETRY_AFTER": 30,
    # Retention (GDPR art. 5(1)(e)): each organization's default period per kind of data, which
    # its administrators may change (lms/privacy/retention.py, docs/privacy.md). Every day the
    # periodic work deletes, or pseudonymises (statements), what is older. Finished jobs and
    # their files follow JOBS_RETENTION_DAYS; the certificate register of erased holders keeps
    # what training law asks for 3 years; the audit log a year, as the CNIL recommends for logs.
    "RETENTION_ADVOCACY_EVENTS_MONTHS": 24,
    "RETENTION_STATEMENTS_MONTHS": 36,
    "RETENTION_HAND_INS_MONTHS": 24,
    "RETENTION_COACHING_NOTES_MONTHS": 24,
    "RETENTION_CERTIFICATES_MONTHS": 36,
    "RETENTION_AUDIT_MONTHS": 12,
    # PostgreSQL: months of statements older than this are dropped whole once every statement
    # in them is pseudonymised and none waits to be forwarded (0: pseudonymised statements
    # are kept, as on SQLite). See privacy.retention.drop_statement_months.
    "RETENTION_DROP_STATEMENT_MONTHS": 0,
    "RETENTION_BATCH_SIZE": 500,     # rows per committed batch of a retention run
}


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating and keeping one on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    # Created readable by the owner only: the key signs sessions and CSRF tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load configuration into ``app`` in order: defaults, environment, ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("RELAIS")
    if overrides:
        app.config.from_mapping(overrides)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if "SQLALCHEMY_DATABASE_URI" not in app.config:
        url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'relais.db'}"
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    _pool_options(app)
    if app.config.get("READ_REPLICA_URL"):
        app.config["SQLALCHEMY_BINDS"] = {
            **(app.config.get("SQLALCHEMY_BINDS") or {}),
            REPLICA: replica_engine_options(str(app.config["READ_REPLICA_URL"]),
                                            app.config["SQLALCHEMY_ENGINE_OPTIONS"])}
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # SQLite allows one writer: wait for the lock instead of failing at once.
        opts = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        opts.setdefault("connect_args", {"timeout": 30})
        # A local file cannot drop a connection: the ping would cost a query per checkout.
        opts.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts


# RELAIS_DB_* → SQLAlchemy pool settings, for server databases (PostgreSQL) only.
POOL_SETTINGS = {"DB_POOL_SIZE": "pool_size", "DB_MAX_OVERFLOW": "max_overflow",
                 "DB_POOL_TIMEOUT": "pool_timeout", "DB_POOL_RECYCLE": "pool_recycle"}


def _pool_options(app: Flask) -> None:
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        return
    opts = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    for key, option in POOL_SETTINGS.items():
        if app.config.get(key) is not None:
            opts[option] = int(app.config[key])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts
