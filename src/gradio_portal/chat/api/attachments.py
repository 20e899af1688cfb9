"""Files attached to chat messages, under ``/api/attachments``: upload, download, remove.

An upload (``POST``, multipart, field ``file``) is read as it arrives and refused with ``413``
as soon as it passes the size limit, so the server never holds more than one file's worth of
it; a type the chat does not read gets ``415``, a file it cannot read ``400``. The answer's
``id`` is what a message names to take the file along (it stays pending until then).

A download answers the owner only (anyone else gets the same ``404`` as for a missing id), with
headers that keep a browser from running what it fetched: images are shown inline with their
own type, every other file is a download; ``nosniff`` and a sandboxing CSP always.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.responses import Response

from gradio_portal import MessageRejected, User
from gradio_portal.chat.api.deps import CSRF_HEADER, MAX_ID, ApiAuth
from gradio_portal.chat.api.schemas import ATTACHMENTS_PREFIX, AttachmentOut, attachment_out
from gradio_portal.chat.attachments import AttachmentStore, describe_size

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = [
    "ATTACHMENTS_PREFIX",
    "FIELD",
    "build_attachments_router",
]

FIELD = "file"
"""The multipart field that carries the file."""

# What a multipart body may carry beyond the file itself: boundaries, part headers, a few
# small fields. A body longer than the file limit plus this is refused as it arrives.
_ENVELOPE_BYTES = 16 * 1024
DOWNLOAD_HEADERS = {
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox; default-src 'none'",
}

AttachmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The attachment's id.")]
MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such attachment (or not yours)."}
}


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "One text or code file, or a PNG, JPEG, GIF or "
                            "WebP image.",
                        }
                    },
                }
            }
        },
    }
}


def build_attachments_router(store: AttachmentStore | None, auth: ApiAuth) -> APIRouter:
    """Upload, download and remove attachments, answering from ``store``.

    With ``store`` None the chat takes no files, and the router has no routes.
    """
    router = APIRouter(prefix=ATTACHMENTS_PREFIX, tags=["attachments"])
    if store is None:
        return router
    accepted = store.accepted_types()

    @router.post(
        "",
        status_code=201,
        response_model=AttachmentOut,
        responses={
            400: {"description": "A file the chat cannot read (not UTF-8 text, empty...)."},
            403: {"description": f"The {CSRF_HEADER} header is missing."},
            413: {"description": f"Larger than {describe_size(store.max_bytes)}."},
            415: {"description": f"Not a type the chat reads: it takes {accepted}."},
        },
        dependencies=[Depends(auth.same_site)],
        openapi_extra=_UPLOAD_BODY,
        summary="Upload a file to attach to your next message",
    )
    async def upload(request: Request, user: User = Depends(auth.user)) -> AttachmentOut:
        filename, data = await _read_upload(request, store)
        try:
            info = await anyio.to_thread.run_sync(store.add, user.id, filename, data)
        except MessageRejected as exc:
            raise HTTPException(_refusal_status(store, filename, data), detail=str(exc)) from None
        return attachment_out(info)

    @router.get(
        "/{attachment_id}",
        response_class=Response,
        responses={
            **MISSING,
            200: {"content": {"image/png": {}, "text/plain": {}}, "description": "The file."},
        },
        summary="Download one of your attachments",
    )
    async def download(attachment_id: AttachmentId, user: User = Depends(auth.user)) -> Response:
        found = await anyio.to_thread.run_sync(store.get, user.id, attachment_id)
        if found is None:
            raise HTTPException(404, detail="No such attachment.")
        if found.kind == "image":
            media_type = found.media_type
            disposition = _disposition("inline", found.filename)
        else:
            media_type = f"{found.media_type}; charset=utf-8"
            disposition = _disposition("attachment", found.filename)
        return Response(
            found.content,
            media_type=media_type,
            headers={**DOWNLOAD_HEADERS, "content-disposition": disposition},
        )

    @router.delete(
        "/{attachment_id}",
        status_code=204,
        response_class=Response,
        responses={
            **MISSING,
            403: {"description": f"The {CSRF_HEADER} header is missing."},
            409: {"description": "Sent with a message: it goes with its conversation."},
        },
        dependencies=[Depends(auth.same_site)],
        summary="Remove an attachment you have not sent yet",
    )
    async def remove(attachment_id: AttachmentId, user: User = Depends(auth.user)) -> Response:
        outcome = await anyio.to_thread.run_sync(store.delete, user.id, attachment_id)
        if outcome == "missing":
            raise HTTPException(404, detail="No such attachment.")
        if outcome == "sent":
            raise HTTPException(
                409,
                detail="This file was sent with a message: it is deleted with its conversation.",
            )
        return Response(status_code=204, headers={"cache-control": "no-store"})

    return router


def _refusal_status(store: AttachmentStore, filename: str, data: bytes) -> int:
    if len(data) > store.max_bytes:
        return 413
    if store.kind(filename, data) is None:
        return 415
    return 400


async def _read_upload(request: Request, store: AttachmentStore) -> tuple[str, bytes]:
    """The file of a multipart upload, read as it arrives and refused once too large."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(
            415,
            detail=f"Send the file as multipart/form-data, in a field named {FIELD!r}.",
        )
    limit = store.max_bytes + _ENVELOPE_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        # Refused before a byte of the body is read.
        raise HTTPException(413, detail=str(store.too_large("", int(declared))))
    upload = _Upload(store.max_bytes)
    parser = MultipartParser(boundary, upload.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit or upload.too_large:
                raise HTTPException(413, detail=str(store.too_large(upload.filename or "")))
            parser.write(chunk)
            if upload.too_large:
                raise HTTPException(413, detail=str(store.too_large(upload.filename or "")))
        parser.finalize()
    except MultipartParseError:
        raise HTTPException(
            400, detail="The upload could not be read as multipart/form-data: send it again."
        ) from None
    if upload.files > 1:
        raise HTTPException(400, detail="Send one file per upload.")
    if upload.filename is None:
        raise HTTPException(
            400, detail=f"No file in the upload: send it in a field named {FIELD!r}."
        )
    return upload.filename, bytes(upload.data)


class _Upload:
    """Collects the ``file`` part of a multipart body, up to one byte over the limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.filename: str | None = None
        self.data = bytearray()
        self.files = 0
        self.too_large = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._collecting = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._collecting = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or options.get(b"name") != FIELD.encode():
            return
        if b"filename" not in options:
            return
        self.files += 1
        if self.files == 1:
            self._collecting = True
            self.filename = _browser_filename(options[b"filename"])

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._collecting or self.too_large:
            return
        self.data += data[start:end]
        if len(self.data) > self.max_bytes:
            self.too_large = True
            self.data.clear()

    def _part_end(self) -> None:
        self._collecting = False


def _browser_filename(raw: bytes) -> str:
    """A multipart file name as the user saw it: browsers send UTF-8 and escape three
    characters (``"``, CR and LF) as ``%22``, ``%0D`` and ``%0A`` (the HTML standard's form
    encoding), which are turned back here so the store cleans the real name."""
    name = raw.decode("utf-8", errors="replace")
    return name.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _disposition(kind: str, filename: str) -> str:
    """A ``content-disposition`` value naming ``filename`` (RFC 6266: ASCII and UTF-8 forms)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
