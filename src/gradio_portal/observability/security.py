"""Security events, one log line each on the ``gradio_portal.security`` logger.

Each line is ``<event> key=value ...``: who (``user``, the name as typed for a failed sign-in),
from where (``client``, the address uvicorn reports, after trusted proxy headers) and what
else the event needs. Names are quoted with ``repr`` (cut at 64 characters), so a name with
a line break or a terminal escape cannot forge a line. The JSON log gets each key as a field.
Never a password, a token, a session id or key: only who did what from where.

Events: ``sign_in.succeeded`` (INFO), ``sign_in.failed``, ``sign_in.throttled``,
``sign_in.refused`` (WARNING: the form expired or came from another site), ``sign_out``,
``session.revoked``, ``sessions.ended``, ``password.changed`` (INFO),
``password.change_failed`` (WARNING), ``admin.user_created``, ``admin.user_disabled``,
``admin.user_enabled``, ``admin.password_reset`` (INFO, with the ``target`` account).
"""

from __future__ import annotations

import logging
import re

from starlette.requests import HTTPConnection

__all__ = ["SECURITY_LOGGER", "client_address", "security_event"]

SECURITY_LOGGER = "gradio_portal.security"

_log = logging.getLogger(SECURITY_LOGGER)
_NAME_LIMIT = 64
_ADDRESS = re.compile(r"[0-9A-Fa-f.:]+")


def client_address(connection: HTTPConnection) -> str:
    """The client's address as uvicorn gives it (the proxy's client behind a trusted proxy)."""
    return connection.client.host if connection.client is not None else "unknown"


def security_event(
    event: str,
    connection: HTTPConnection,
    *,
    user: str | None = None,
    level: int = logging.INFO,
    **details: str | bool | int,
) -> None:
    """Log ``event`` for ``connection``'s client, done by (or tried as) ``user``.

    ``details`` are more names or facts (``target="bob"``, ``everywhere=True``); strings are
    quoted like ``user``.
    """
    if not _log.isEnabledFor(level):
        return
    fields: dict[str, str | bool | int] = {}
    if user is not None:
        fields["user"] = user[:_NAME_LIMIT]
    fields["client"] = client_address(connection)
    for key, value in details.items():
        fields[key] = value[:_NAME_LIMIT] if isinstance(value, str) else value
    text = " ".join(f"{key}={_shown(key, value)}" for key, value in fields.items())
    _log.log(level, "%s %s", event, text, extra={"event": event, **fields})


def _shown(key: str, value: str | bool | int) -> str:
    if not isinstance(value, str) or (key == "client" and _ADDRESS.fullmatch(value)):
        return str(value)
    return repr(value)
