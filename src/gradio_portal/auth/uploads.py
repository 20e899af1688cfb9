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
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import anyio
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.auth.answers import send_json
from gradio_portal.sessions.middleware import active_session
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import UploadOwner

__all__ = ["UploadOwners", "UploadOwnership"]

UPLOAD = "/gradio_api/upload"
FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")
# A queue/join body carries paths, not file contents; anything this big is not Gradio's.
MAX_INSPECTED_BODY = 8 * 1024 * 1024


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

    def __init__(self, app: ASGIApp, *, mount_paths: Iterable[str], owners: UploadOwners) -> None:
        self.app = app
        self.mount_paths = mount_paths  # live: mounts are added after start-up
        self.owners = owners

    def _relative(self, path: str) -> str | None:
        for mount in self.mount_paths:
            if path.startswith(mount + "/"):
                return path[len(mount) :]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relative = self._relative(scope["path"]) if scope["type"] == "http" else None
        active = active_session(scope) if relative is not None else None
        if relative is None or active is None:  # the guard answers anonymous requests
            await self.app(scope, receive, send)
            return
        user_id = active.user.id
        method = scope["method"]
        try:
            if method in ("GET", "HEAD") and relative.startswith(FILE_ROUTES):
                prefix = next(p for p in FILE_ROUTES if relative.startswith(p))
                if not await self._may_use(relative[len(prefix) :], user_id):
                    await send_json(send, 404, "Not found.")
                    return
            elif method == "POST" and relative.rstrip("/") == UPLOAD:
                await self.app(scope, receive, self._recording(send, user_id))
                return
            elif method in ("POST", "PUT", "PATCH"):
                body = await _read_body(receive)
                if body is None:
                    await send_json(send, 413, "Request body too large.")
                    return
                for path in _file_references(body):
                    if not await self._may_use(path, user_id):
                        await send_json(
                            send, 403, "A file in this request belongs to someone else."
                        )
                        return
                receive = _replay(body, receive)
        except SQLAlchemyError:
            await send_json(send, 503, "The portal cannot reach its database: retry shortly.")
            return
        await self.app(scope, receive, send)

    async def _may_use(self, path: str, user_id: int) -> bool:
        return await anyio.to_thread.run_sync(self.owners.may_use, path, user_id)

    def _recording(self, send: Send, user_id: int) -> Send:
        """Holds the upload answer until its paths are recorded as the user's."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def sender(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if start["status"] == 200:
                paths = _paths_in(body)
                try:
                    await anyio.to_thread.run_sync(self.owners.record, paths, user_id)
                except SQLAlchemyError:
                    await send_json(send, 503, "The upload could not be recorded: retry shortly.")
                    return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        return sender


def _paths_in(body: bytes) -> list[str]:
    try:
        value = json.loads(body)
    except ValueError:
        return []
    return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []


def _file_references(body: bytes) -> Iterator[str]:
    """Local paths named by file values (``{"path": ...}``, ``.../file=<path>`` URLs)."""
    if not body or body[:1] not in (b"{", b"["):
        return
    try:
        value = json.loads(body)
    except ValueError:
        return  # Gradio refuses it; nothing to protect
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


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_INSPECTED_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
