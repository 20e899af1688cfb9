"""The exceptions gradio-portal raises.

Every error the library raises derives from :class:`PortalError`, so an application can catch
them all in one place. The tree::

    PortalError
    ├── ConfigurationError      settings that cannot work (missing secret key, bad URL)
    ├── AuthenticationError     credentials refused (one message for every cause)
    ├── UserError               a user operation that cannot be done (duplicate name, unknown user)
    ├── SessionStoreError       the session store is unreachable
    ├── UnsafeRedirectError     a redirect target that could leave the site
    ├── BackendError            the chat model failed (gradio_portal.chat.backends)
    └── Redirect                not an error: navigation raised from a Gradio handler

Library code raises these; only the web layer turns them into HTTP responses. Messages say
what to do next.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "PortalError",
    "SessionStoreError",
    "UnsafeRedirectError",
    "UserError",
]


class PortalError(Exception):
    """Root of every exception raised by gradio-portal."""


class ConfigurationError(PortalError):
    """The settings cannot work; the message names the setting to change."""


class AuthenticationError(PortalError):
    """Credentials were refused. The message never says which part was wrong."""


class UserError(PortalError):
    """A user-management operation cannot be done as asked."""


class SessionStoreError(PortalError):
    """The session store (database or Redis) did not answer."""


class UnsafeRedirectError(PortalError):
    """A redirect target was refused because a browser could resolve it to another site."""
