"""Production serving: the WSGI server, reverse-proxy headers, /healthz and structured logs.

``relais serve`` runs gunicorn where it is installed (Linux), Waitress otherwise, with
``RELAIS_WORKERS`` processes (gunicorn) or 2 × ``RELAIS_WORKERS`` threads (Waitress). Without a
broker it also starts the embedded job runner in each serving process.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text

access_log = logging.getLogger("relais.access")

# Secrets that travel in URLs (invitation tokens) never reach the logs.
_REDACT = re.compile(r"^(/invitations/)[^/?]+")

_LOG_RECORD_FIELDS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=… logger=… msg="…" key=value…``: greppable, parsed by every log shipper."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one ``key=value`` line."""
        fields = _fields(record, self)
        return " ".join(f"{k}={_kv(v)}" for k, v in fields.items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object."""
        return json.dumps(_fields(record, self), default=str)


def _fields(record: logging.LogRecord, fmt: logging.Formatter) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
              + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
    }
    for key, value in record.__dict__.items():
        if key not in _LOG_RECORD_FIELDS and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exc"] = fmt.formatException(record.exc_info)
    return fields


def _kv(value: Any) -> str:
    text_value = str(value)
    if text_value and not re.search(r'[\s"=]', text_value):
        return text_value
    return json.dumps(text_value)


def configure_logging(app: Flask) -> None:
    """Send logs to stderr as key=value lines (``RELAIS_LOG_FORMAT=json`` for JSON)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = str(app.config["LOG_FORMAT"]).lower()
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(_log_level(app))


def _log_level(app: Flask) -> str:
    """``RELAIS_LOG_LEVEL`` as a logging level name."""
    return str(app.config["LOG_LEVEL"]).upper()


class AccessLog:
    """WSGI middleware logging one line per request (method, path, status, duration)."""

    def __init__(self, wsgi_app: Callable[..., Any]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the request, then log its method, path, status and duration."""
        started = time.perf_counter()
        status: list[str] = ["-"]

        def _start(code: str, headers: list[Any], *args: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *args)

        try:
            result: Iterable[bytes] = self.wsgi_app(environ, _start)
        except Exception:
            status[0] = "500"
            self._log(environ, status[0], started)
            raise
        self._log(environ, status[0], started)
        return result

    @staticmethod
    def _log(environ: dict[str, Any], status: str, started: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        path = _REDACT.sub(r"\1[redacted]", environ.get("PATH_INFO", ""))
        access_log.info("request", extra={
            "method": environ.get("REQUEST_METHOD"), "path": path, "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "remote": environ.get("REMOTE_ADDR"),
        })


def _proxy_fix_counts(value: Any) -> dict[str, int]:
    """Parse ``RELAIS_PROXY_FIX`` ("1" or "for,proto,host,port,prefix", e.g. "1,1,1,1,0")."""
    names = ["x_for", "x_proto", "x_host", "x_port", "x_prefix"]
    if isinstance(value, bool) or value in (None, "", 0, "0"):
        return {}
    if isinstance(value, int):
        return dict.fromkeys(names[:4], value) | {"x_prefix": 0}
    parts = [p.strip() for p in str(value).split(",")]
    try:
        counts = [int(p) for p in parts]
    except ValueError as exc:
        raise ValueError(f"RELAIS_PROXY_FIX must be numbers like '1,1,1,1,0', not {value!r}") \
            from exc
    if len(counts) == 1:
        return dict.fromkeys(names[:4], counts[0]) | {"x_prefix": 0}
    return dict(zip(names, counts + [0] * (5 - len(counts)), strict=False))


def init_app(app: Flask) -> None:
    """Add /healthz, honour reverse-proxy headers when configured, and log requests."""
    counts = _proxy_fix_counts(app.config["PROXY_FIX"])
    if counts:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz() -> Any:
    """200 when the database (and the broker, if any) answer; 503 otherwise. No login needed."""
    checks: dict[str, str] = {}
    ok = True
    try:
        from lms.extensions import db

        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception:
        current_app.logger.exception("healthz: database unreachable")
        checks["database"] = "unreachable"
        ok = False
    broker = current_app.config["BROKER_URL"]
    if not broker:
        checks["broker"] = "embedded"
    elif _broker_reachable(str(broker)):
        checks["broker"] = "ok"
    else:
        checks["broker"] = "unreachable"
        ok = False
    response = jsonify({"status": "ok" if ok else "unavailable", **checks})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _broker_reachable(url: str) -> bool:
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis
        except ImportError:
            return False
        try:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            current_app.logger.warning("healthz: broker unreachable")
            return False
    # Other brokers (AMQP…): ask Celery to connect.
    try:
        from lms.jobs.celery_app import celery_for

        with celery_for(current_app._get_current_object()).connection_for_write() as conn:  # type: ignore[attr-defined]
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


# -- the servers --------------------------------------------------------------------------------

def warm_up(app: Flask) -> None:
    """Do once, before the first request, what the first request of each page would otherwise
    pay (measured on the advocacy dashboard at a million events: 0.5–0.9 s instead of 0.15 s):
    compile every template, load each language's Babel locale data (its merge with the root
    locale alone took about 0.3 s) and configure the ORM's mappers.

    Then freeze what is alive (``gc.freeze``): the app's 300,000 objects (modules, templates,
    mappers, locale data) live as long as the process, and each full collection of the
    cyclic collector scanned them all — 150–200 ms of one request every few, the slow request
    of the dashboard's p95. Frozen, a collection scans only what requests made since; under
    gunicorn the workers fork after this, so the frozen objects' pages also stay shared.
    """
    from babel import Locale
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    for language in app.config["LANGUAGES"]:
        Locale.parse(language).months  # noqa: B018 (loads and merges the locale's data)
    gc.collect()
    # A frozen object that later became cyclic garbage would stay: what is frozen is the
    # start-up state (modules, templates, mappers), which lives as long as the process.
    gc.freeze()


def serve(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` until interrupted (gunicorn if importable, else Waitress), warmed up
    first (:func:`warm_up`).
    """
    configure_logging(app)
    warm_up(app)
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        _serve_waitress(app, host, port)
    else:
        _serve_gunicorn(app, host, port)


def _serve_waitress(app: Flask, host: str, port: int) -> None:
    from waitress import serve as waitress_serve

    from lms.jobs.runner import broker_url, start_background

    loop = None if broker_url(app) else start_background(app, run_jobs=True)
    try:
        waitress_serve(app, host=host, port=port, threads=int(app.config["WORKERS"]) * 2,
                       ident="relais")
    finally:
        if loop is not None:
            loop.stop()


def _gunicorn_logging(app: Flask) -> dict[str, Any]:
    json_logs = str(app.config["LOG_FORMAT"]).lower() == "json"
    level = _log_level(app)
    return {
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            # gunicorn's own messages follow RELAIS_LOG_LEVEL too (WARNING keeps a demo quiet).
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "relais",
                                 "stream": "ext://sys.stderr"}},
        "formatters": {"relais": {"()": JsonFormatter if json_logs else KeyValueFormatter}},
    }


def _gunicorn_logger_class() -> type:
    """The gunicorn logger, without its access log: gunicorn builds each request's access-log
    fields (a dozen, the time formatted) whenever a logging configuration is given, even
    for a logger that drops them: ``AccessLog`` (our middleware) logs requests instead.
    """
    from gunicorn.glogging import Logger

    class RelaisGunicornLogger(Logger):  # type: ignore[misc]
        def _compute_access_log_enabled(self) -> bool:
            return False

        def access(self, *_args: Any, **_kwargs: Any) -> None:
            return None

    return RelaisGunicornLogger


def _serve_gunicorn(app: Flask, host: str, port: int) -> None:
    from gunicorn.app.base import BaseApplication

    from lms.extensions import db
    from lms.jobs.runner import broker_url, start_background

    loops: list[Any] = []

    def post_fork(_server: Any, _worker: Any) -> None:
        # Each worker process opens its own database connections.
        with app.app_context():
            db.engine.dispose(close=False)

    def post_worker_init(_worker: Any) -> None:
        if not broker_url(app):
            loops.append(start_background(app, run_jobs=True))

    def worker_exit(_server: Any, _worker: Any) -> None:
        for loop in loops:
            loop.stop()

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": int(app.config["WORKERS"]),
        "worker_class": "gthread",
        "threads": 2,
        "timeout": 120,
        "graceful_timeout": 30,
        "loglevel": _log_level(app).lower(),
        # gunicorn's own messages in the same format; its access log off, as AccessLog (our
        # middleware) logs requests with secrets redacted.
        "logconfig_dict": _gunicorn_logging(app),
        "logger_class": _gunicorn_logger_class(),
        # Each worker touches its heartbeat file on every turn of its loop: in memory, not
        # on disk, as gunicorn's documentation advises.
        **({"worker_tmp_dir": "/dev/shm"} if os.path.isdir("/dev/shm") else {}),
        "proc_name": "relais",
        # gunicorn ≥ 24's control socket sits at one path per user: several instances on a
        # machine would fight over it, and Relais does not use it.
        "control_socket_disable": True,
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        # ProxyFix (RELAIS_PROXY_FIX) alone decides which forwarded headers to trust.
        "forwarded_allow_ips": "",
    }

    class RelaisApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # settings newer than the installed gunicorn
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    RelaisApplication().run()
