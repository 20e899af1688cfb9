"""The log ``serve`` writes: one line per event, as text or JSON, each with its request id.

Text (the default)::

    2025-05-01T12:00:00.123Z INFO gradio_portal.security [3f0c...] sign_out user='ada' client=::1

JSON (``GRADIO_PORTAL_LOG_FORMAT=json``), one object per line::

    {"time": "2025-05-01T12:00:00.123Z", "level": "INFO", "logger": "gradio_portal.security",
     "request_id": "3f0c...", "message": "sign_out user='ada' client=::1",
     "event": "sign_out", "user": "ada", "client": "::1"}

Fields a call passes with ``extra=`` become JSON fields; uvicorn's access lines get ``client``,
``method``, ``path`` and ``status``. Every line goes through the redaction of
:mod:`gradio_portal._logs` first (the access log's own filter, then :func:`redact_text` for any
other line), so the JSON fields carry what the text would. The JSON is written with the
standard library: a formatter of a few lines, and one dependency less to pin and audit.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, TextIO

from gradio_portal._logs import install_access_log_filter, redact_text
from gradio_portal.observability.request_id import REQUEST_ID
from gradio_portal.settings import PortalSettings

__all__ = [
    "JsonFormatter",
    "RequestContextFilter",
    "TextFormatter",
    "configure_logging",
]

_ACCESS_LOGGER = "uvicorn.access"
# Loggers that would otherwise write lines of their own, in their own format.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", _ACCESS_LOGGER, "uvicorn.asgi")
# INFO lines for each outgoing HTTP request (the chat backend's, say) and for each file change
# `serve --reload` sees (uvicorn says when it reloads): noise unless debugging.
_CHATTY_LOGGERS = ("httpx", "httpcore", "watchfiles")

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RequestContextFilter(logging.Filter):
    """A handler filter: adds ``record.request_id`` and redacts what the message quotes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        if record.name != _ACCESS_LOGGER:  # redacted by its own filter, argument by argument
            message = record.getMessage()
            clean = redact_text(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger> [<request id>] <message>``, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_timestamp(record)} {record.levelname} {record.name} "
            f"[{getattr(record, 'request_id', None) or '-'}] {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message, and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        if record.name == _ACCESS_LOGGER:
            entry.update(_access_fields(record))
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line, ``client - "METHOD target HTTP/v" status``, as fields."""
    args = record.args
    if not isinstance(args, tuple) or len(args) < 5:
        return {}
    client, method, target, _version, status = args[:5]
    return {"client": client, "method": method, "path": target, "status": status}


def configure_logging(settings: PortalSettings, *, stream: TextIO | None = None) -> dict[str, Any]:
    """Send every log line of this process to ``stream`` (standard error), in the format and
    from the level that ``settings`` give (``log_format``, ``log_level``).

    Returns the configuration applied (for :func:`logging.config.dictConfig`): pass it to
    uvicorn as ``log_config``, which would otherwise install its own handlers and format again
    (and which applies it in the process it reloads, too).
    """
    level = settings.log_level.upper()
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"portal": {"()": formatter}},
        "handlers": {
            "portal": {
                "class": "logging.StreamHandler",
                "stream": stream if stream is not None else "ext://sys.stderr",
                "level": level,
                "filters": ["request"],
                "formatter": "portal",
            }
        },
        # uvicorn's loggers lose their own handlers and write through the root's.
        "loggers": {name: {"handlers": [], "propagate": True} for name in _SERVER_LOGGERS},
        "root": {"handlers": ["portal"], "level": level},
    }
    if level != "DEBUG":
        config["loggers"].update({name: {"level": "WARNING"} for name in _CHATTY_LOGGERS})
    logging.config.dictConfig(config)
    # Python's warnings become log lines too: a JSON log stays JSON from its first line.
    logging.captureWarnings(True)
    install_access_log_filter()
    return config
