"""Uploads stay with their uploader: another user can neither fetch nor reuse them.

Gradio keeps uploads in one shared directory, named by content hash, and serves any file
there to anyone its ``auth_dependency`` lets in (``gradio_api/file=<path>``); an event may also
name any such path as an input. Under the portal every signed-in user passes that check, so
the portal adds ownership:

- ``POST {mount}/gradio_api/upload``: the paths Gradio answers with are recorded as owned by
  the signed-in user (in the database, so every process and a restart agree) before the
  answer reaches the browser; if recording fails the paths are never revealed (503);
- ``GET|HEAD {mount}/gradio_api/file=<path>`` (and the older ``file/<path>``): a recorded
  upload is served to its owners only; anyone else gets 404, as if it did not exist;
- ``POST`` bodies under a mount (``queue/join``, ``call/*``, ``run/*``...): a file reference
  (``{"path": ...}`` or a ``.../file=<path>`` URL) to an upload owned by others is refused
  with 403 before Gradio sees it.

Files that Gradio puts in its cache for outputs are not uploads and are left to Gradio's own
rules (their names are content hashes, so only someone who has the bytes can guess them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import anyio
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal._errors import UNAVAILABLE
from gradio_portal.compat.routes import FILE_ROUTES, UPLOAD
from gradio_portal.mounts.answers import hold_response, send_json
from gradio_portal.mounts.bodies import BodyRefused, is_json_request, read_body, replay
from gradio_portal.mounts.paths import MountPaths
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import UploadOwner

__all__ = ["UploadOwners", "UploadOwnership"]

# NUL and other control characters: no real file path has them (and os.path fails on NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _digest(path: str) -> str:
    return hashlib.sha256(os.path.realpath(os.path.abspath(path)).encode()).hexdigest()


class UploadOwners:
    """Who uploaded which file, keyed by the SHA-256 of the file's resolved path."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, paths: Iterable[str], user_id: int) -> None:
        rows = [
            {"path_digest": d, "user_id": user_id, "created_at": time.time()}
            for d in {_digest(p) for p in paths}
        ]
        if not rows:
            return
        dialect = self.database.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # Re-uploading the same bytes is normal: an existing (file, user) pair is kept as is.
        statement = insert(UploadOwner).values(rows).on_conflict_do_nothing()
        with self.database.session() as session:
            session.execute(statement)

    def owners(self, path: str) -> set[int]:
        with self.database.session() as session:
            return set(
                session.scalars(
                    select(UploadOwner.user_id).where(UploadOwner.path_digest == _digest(path))
                )
            )

    def may_use(self, path: str, user_id: int) -> bool:
        """False only for a recorded upload that ``user_id`` did not upload."""
        owners = self.owners(path)
        return not owners or user_id in owners


class UploadOwnership:
    """ASGI middleware enforcing :class:`UploadOwners` under the mount paths."""

    def __init__(self, app: ASGIApp, *, mount_paths: MountPaths, owners: UploadOwners) -> None:
        self.app = app
        self.mount_paths = mount_paths
        self.owners = owners

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.mount_paths.signed_in(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        relative, active = found
        user_id = active.user.id
        method = scope["method"]
        try:
            if method in ("GET", "HEAD") and relative.startswith(FILE_ROUTES):
                prefix = next(p for p in FILE_ROUTES if relative.startswith(p))
                path = relative[len(prefix) :]
                if _CONTROL.search(path):
                    await send_json(send, 400, "A file path cannot contain control characters.")
                    return
                if not await self._may_use(path, user_id):
                    await send_json(send, 404, "Not found.")
                    return
            elif method == "POST" and relative.rstrip("/") == UPLOAD:
                if not self.mount_paths.takes_uploads(scope["path"]):
                    await send_json(
                        send, 413, "This app takes no file uploads: it has no file input."
                    )
                    return
                await self.app(scope, receive, self._recording(send, user_id))
                return
            elif method in ("POST", "PUT", "PATCH") and is_json_request(
                Headers(scope=scope), relative
            ):
                try:
                    body = await read_body(scope, receive, relative)
                except BodyRefused as refused:
                    await send_json(send, refused.status, refused.detail)
                    return
                for path in _file_references(body.value):
                    if _CONTROL.search(path) or not await self._may_use(path, user_id):
                        await send_json(
                            send, 403, "A file in this request belongs to someone else."
                        )
                        return
                receive = replay(body.raw, receive)
        except SQLAlchemyError:
            await send_json(send, 503, UNAVAILABLE)
            return
        await self.app(scope, receive, send)

    async def _may_use(self, path: str, user_id: int) -> bool:
        return await anyio.to_thread.run_sync(self.owners.may_use, path, user_id)

    def _recording(self, send: Send, user_id: int) -> Send:
        """Holds the upload answer until its paths are recorded as the user's."""

        async def finish(start: Message, body: bytes) -> None:
            if start["status"] == 200:
                try:
                    await anyio.to_thread.run_sync(self.owners.record, _paths_in(body), user_id)
                except SQLAlchemyError:
                    await send_json(send, 503, UNAVAILABLE)
                    return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        return hold_response(send, finish)


def _paths_in(body: bytes) -> list[str]:
    try:
        value = json.loads(body)
    except ValueError:
        return []
    return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []


def _file_references(value: Any) -> Iterator[str]:
    """Local paths named by file values (``{"path": ...}``, ``.../file=<path>`` URLs)."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key == "path" and isinstance(child, str):
                    yield child
                elif key == "url" and isinstance(child, str) and "/file=" in child:
                    yield unquote(child.split("/file=", 1)[1].split("?", 1)[0])
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
