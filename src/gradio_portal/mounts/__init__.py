"""Hardening of the mounted Gradio apps: every request under a mount path passes through here.

Outermost first, as a request meets them:

- :class:`MountGuard` (:mod:`.guard`): no session, no entry (static assets aside);
- :class:`GradioHeaders` (:mod:`.headers`): the page's Content-Security-Policy, and a
  sandboxing one for everything else;
- :class:`GradioRoutes` (:mod:`.gradio_routes`): Gradio's sign-out ends the portal session;
  operator routes are for administrators;
- :class:`CrossSiteGuard` (:mod:`.cross_site`): no state change from another site;
- :class:`GradioSessionBinding` (:mod:`.gradio_sessions`): a Gradio session (and its events)
  belongs to the portal session that opened it; the portal's cookies stay out of the app;
- :class:`UploadOwnership` (:mod:`.uploads`): an upload stays with its uploader; bodies are
  parsed once, as the app will (:mod:`.bodies`);
- :class:`ApiDocs` (:mod:`.api_docs`): the "Use via API" snippets send an access token.

They share one live :class:`MountPaths`, and answer through :mod:`.answers`.
"""

from __future__ import annotations

from gradio_portal.mounts.api_docs import ApiDocs
from gradio_portal.mounts.cross_site import CrossSiteGuard
from gradio_portal.mounts.gradio_routes import GradioRoutes
from gradio_portal.mounts.gradio_sessions import EventOwners, GradioSessionBinding, SessionNames
from gradio_portal.mounts.guard import MountGuard
from gradio_portal.mounts.headers import GradioHeaders
from gradio_portal.mounts.paths import MountPaths
from gradio_portal.mounts.uploads import UploadOwners, UploadOwnership

__all__ = [
    "ApiDocs",
    "CrossSiteGuard",
    "EventOwners",
    "GradioHeaders",
    "GradioRoutes",
    "GradioSessionBinding",
    "MountGuard",
    "MountPaths",
    "SessionNames",
    "UploadOwners",
    "UploadOwnership",
]
