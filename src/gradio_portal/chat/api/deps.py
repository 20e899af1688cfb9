"""What every chat API route checks first: who is asking, and whether a browser could be tricked.

The portal's guard protects mounted Gradio paths, not these routes, so they check the session
themselves: no session gives ``401`` (saying how to sign in or get a token); another user's
conversation gives the same ``404`` as a missing one (each route's business).

A state-changing request with the session cookie needs a custom header, ``X-Requested-With``
(any value), and, when the browser sends ``Origin``, a same-origin one. A cross-site page cannot
add a custom header without a CORS preflight, which the portal never grants, so a forged
request fails before it is sent; scripts and API clients only add one header. A request signed
in with an access token (and no cookie) needs none: no browser sends that token by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import HTTPException, Path, Request
from starlette.responses import Response

from gradio_portal import User
from gradio_portal._errors import GET_A_TOKEN
from gradio_portal.auth.csrf import same_origin
from gradio_portal.sessions.middleware import active_session, by_access_token

__all__ = ["API_PREFIX", "CSRF_HEADER", "MAX_ID", "PRIVATE", "ApiAuth", "ConversationId"]

API_PREFIX = "/api/conversations"
CSRF_HEADER = "X-Requested-With"
MAX_ID = 2**63 - 1  # the database's integer range; larger ids are refused as invalid input
PRIVATE = {"cache-control": "no-store"}

ConversationId = Annotated[int, Path(ge=1, le=MAX_ID, description="The conversation's id.")]


@dataclass(frozen=True, slots=True)
class ApiAuth:
    """The two checks as FastAPI dependencies: ``Depends(auth.user)``, ``Depends(auth.same_site)``.

    ``login_path`` is named in the ``401`` answer to a request without a session.
    """

    login_path: str = "/login"

    def user(self, request: Request, response: Response) -> User:
        """The session's user; ``401`` without a session."""
        active = active_session(request)
        if active is None:
            raise HTTPException(
                401,
                detail=f"Not signed in, or the session ended: sign in at {self.login_path} and "
                "retry. " + GET_A_TOKEN,
                headers={**PRIVATE, "www-authenticate": 'Bearer realm="gradio-portal"'},
            )
        response.headers.update(PRIVATE)
        return active.user

    def same_site(self, request: Request, response: Response) -> None:
        """Refuse a state change that a cross-site page could have sent.

        Checks the user first, so that an anonymous request gets ``401`` before ``403``.
        """
        self.user(request, response)
        if by_access_token(request):
            return
        if not request.headers.get(CSRF_HEADER) or not same_origin(request.headers):
            raise HTTPException(
                403,
                detail=(
                    f"Refused: send the header '{CSRF_HEADER}: XMLHttpRequest' from this site "
                    "(requests from other sites cannot change your conversations), or sign in "
                    "with an access token."
                ),
            )
