"""Gradio's own routes that the portal answers itself, for signed-in requests under a mount.

- ``<mount>/logout`` (Gradio's sign-out, meant for its ``auth=`` tokens) would leave the portal
  session signed in: it ends the portal session like the portal's sign-out, and lands on the
  sign-in page. Only when the browser says the request comes from this site (``Sec-Fetch-Site``)
  or says nothing (a script); a link on another site gets the portal's confirmation page, so
  no other site can sign a user out.
- Operator routes (``monitoring`` with every user's event counts and timings, ``profiling``
  with every user's events, reading, reloading and editing the code): administrators only,
  checked against the database on each request.
- ``<mount>/pwa_icon/<size>`` at a size the web manifest does not name: 404 (Gradio would draw
  the icon ``size`` by ``size`` pixels in memory, at any size asked).
"""

from __future__ import annotations

import anyio
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gradio_portal.compat.routes import LOGOUT, is_operator_route, is_unserved_icon
from gradio_portal.mounts.answers import send_json
from gradio_portal.mounts.paths import MountPaths
from gradio_portal.sessions import SignIn
from gradio_portal.users import Accounts

__all__ = ["GradioRoutes"]


class GradioRoutes:
    """ASGI middleware answering Gradio's sign-out and operator routes (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        mount_paths: MountPaths,
        sign_in: SignIn,
        accounts: Accounts,
        login_path: str,
    ) -> None:
        self.app = app
        self.mount_paths = mount_paths
        self.sign_in = sign_in
        self.accounts = accounts
        self.login_path = login_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.mount_paths.signed_in(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        relative, active = found
        if relative.rstrip("/") == LOGOUT and scope["method"] in ("GET", "HEAD"):
            fetch_site = Headers(scope=scope).get("sec-fetch-site")
            if fetch_site not in (None, "same-origin", "none"):
                await RedirectResponse("/logout", status_code=303)(scope, receive, send)
                return
            response = RedirectResponse(self.login_path, status_code=303)
            await self.sign_in.end(active, response, everywhere=False)
            await response(scope, receive, send)
            return
        if is_unserved_icon(relative):
            await send_json(send, 404, "Not found: the app's icon comes in sizes 192 and 512.")
            return
        if is_operator_route(relative):
            account = await anyio.to_thread.run_sync(self.accounts.get_by_id, active.user.id)
            if account is None or not account.is_active or not account.user.is_admin:
                await send_json(
                    send, 403, "Administrators only: this route shows or changes the whole app."
                )
                return
        await self.app(scope, receive, send)
