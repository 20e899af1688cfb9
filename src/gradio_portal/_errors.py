"""The exceptions gradio-portal raises, all of them, in one place.

Every error the library raises for a caller's mistake or an outage derives from
:class:`PortalError`, so an application can catch them all at once. The tree::

    PortalError
    ├── ConfigurationError      settings or a setup that cannot work (the message names the fix)
    ├── AuthenticationError     credentials refused (one message for every cause)
    ├── UserError               an account operation that cannot be done (duplicate name, ...)
    ├── SessionStoreError       the session store (database or Redis) did not answer
    ├── SessionExpired          the session ended while code still held it
    ├── MessageRejected         a chat message the chat refuses to store
    └── BackendError            the chat model failed

:class:`~gradio_portal.Redirect` is not in the tree: it is navigation, not an error, and an
``except PortalError`` around a handler's code must not swallow it.

Library code raises these; only the web layer turns them into HTTP responses. Messages say
what to do next.
"""

from __future__ import annotations

__all__ = [
    "GET_A_TOKEN",
    "UNAVAILABLE",
    "AuthenticationError",
    "BackendError",
    "ConfigurationError",
    "MessageRejected",
    "PortalError",
    "SessionExpired",
    "SessionStoreError",
    "UserError",
]

UNAVAILABLE = (
    "The portal cannot reach its database right now. Nothing was lost: try again in a moment."
)
"""What every answer says when the database or Redis is down (page, JSON, Gradio event)."""

GET_A_TOKEN = (
    "A script signs in with a personal access token, sent as `Authorization: Bearer <token>`: "
    "create one on the account page (/account) or with `gradio-portal tokens create USERNAME`."
)
"""How a script gets in: said by every 401 that a script can meet."""


class PortalError(Exception):
    """Root of every exception raised by gradio-portal."""


class ConfigurationError(PortalError, ValueError):
    """The settings or the application's setup cannot work; the message names the fix.

    Also a :class:`ValueError`: a value that was given cannot work.
    """


class AuthenticationError(PortalError):
    """Credentials were refused. The message never says which part was wrong."""


class UserError(PortalError):
    """An account operation cannot be done as asked."""


class SessionStoreError(PortalError):
    """The session store (database or Redis) did not answer."""


class SessionExpired(PortalError):
    """The session ended (sign-out, expiry) while code still held it."""


class MessageRejected(PortalError):
    """A message the chat refuses to store; the text says why and what to do."""


class BackendError(PortalError):
    """A chat backend failed; the message is written for the person reading the chat.

    It says what went wrong and what to do next, and never contains secrets such as API keys.
    The underlying cause, for logs, is chained as ``__cause__``.
    """
