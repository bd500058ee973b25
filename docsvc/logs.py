"""One JSON object per log line, from docsvc, the libraries and gunicorn alike, so every
line a `docsvc serve` prints can be parsed and searched by request id."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from typing import Any


class JsonFormatter(logging.Formatter):
    """ts, level, logger, pid, message, the record's `fields`, and for an exception its
    type, message and traceback (logs only: responses never carry them)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                "logger": record.name, "pid": record.process, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            kind, exc, tb = record.exc_info
            line["exception"] = {"type": f"{kind.__module__}.{kind.__qualname__}"
                                 if kind.__module__ != "builtins" else kind.__qualname__,
                                 "message": str(exc),
                                 "traceback": "".join(traceback.format_exception(kind, exc, tb))}
        elif record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO") -> None:
    """Root logging as JSON on stderr; Python warnings go through it too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)
    for chatty in ("weasyprint", "fontTools"):  # per-step progress lines, not operator news
        logging.getLogger(chatty).setLevel(logging.WARNING)


def say(message: str, level: str = "info", stream=None, **fields) -> None:
    """A JSON line written directly (before logging is set up, or for what `docsvc serve`
    must tell the operator once, such as a bootstrap token)."""
    line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "level": level, "logger": "docsvc.serve", "pid": os.getpid(),
            "message": message, **fields}
    print(json.dumps(line, ensure_ascii=False), file=stream or sys.stdout, flush=True)


def gunicorn_settings(level: str) -> dict:
    """gunicorn's own lines (boot, worker start and exit, timeouts) as JSON through
    JsonFormatter; no access log (docsvc writes one line per request itself)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "accesslog": None,
        "loglevel": level.lower(),
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "docsvc.logs.JsonFormatter"}},
            "handlers": {"json": handler},
            "root": {"level": level.upper(), "handlers": ["json"]},
            "loggers": {
                "gunicorn.error": {"level": level.upper(), "handlers": ["json"], "propagate": False},
                "gunicorn.access": {"level": level.upper(), "handlers": [], "propagate": False},
            },
        },
    }


def control_socket_settings(settings_available) -> dict:
    """gunicorn >= 25.1 opens a control socket at one fixed path per user
    (~/.gunicorn/gunicorn.ctl): two instances on a host would share it. docsvc needs none."""
    return {"control_socket_disable": True} if "control_socket_disable" in settings_available else {}
