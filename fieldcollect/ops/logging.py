"""Structured logs: one JSON object per line (time, level, logger, message, and any ``extra``).

Every formatter here passes its finished line through
:func:`fieldcollect.ops.redact.redact_customer_links`: a customer's link token (in a request path, a
referer, an exception) never reaches a log line.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from django.utils.log import ServerFormatter

from fieldcollect.ops.redact import redact_customer_links

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact_customer_links(json.dumps(out, ensure_ascii=False))


class RedactingFormatter(logging.Formatter):
    """The plain text format, with customer link tokens redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_customer_links(super().format(record))


class RedactingServerFormatter(ServerFormatter):
    """``runserver``'s request lines (``django.server``), with customer link tokens redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_customer_links(super().format(record))


def json_logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict that writes JSON lines to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "fieldcollect.ops.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


def configure_from_env() -> None:
    """With ``LOG_FORMAT=json`` switch every log line of this process to JSON."""
    if os.environ.get("LOG_FORMAT", "").lower() != "json":
        return
    import logging.config

    logging.config.dictConfig(json_logging_config(os.environ.get("LOG_LEVEL", "INFO").upper()))
