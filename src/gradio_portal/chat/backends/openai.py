"""A backend for any server that speaks the OpenAI chat completions API.

That covers OpenAI itself and the usual self-hosted servers (vLLM, llama.cpp, Ollama, LiteLLM).
The reply is streamed as server-sent events; every failure becomes a `BackendError` whose
message tells the reader what to check, and never contains the API key.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from gradio_portal import BackendError
from gradio_portal.chat.backends.base import ChatMessage, ChatRequest, ImagePart

__all__ = ["OpenAIBackend"]

# Settings the error messages point at; they live in one place so a rename touches one line.
API_KEY_SETTING = "GRADIO_PORTAL_OPENAI_API_KEY"
BASE_URL_SETTING = "GRADIO_PORTAL_OPENAI_BASE_URL"
MODEL_SETTING = "GRADIO_PORTAL_OPENAI_MODEL"

# An error body is quoted to the user only this far: enough for "context length exceeded",
# not enough for an HTML error page.
_DETAIL_CHARS = 300
_ERROR_BODY_BYTES = 4096

# The model list is asked for when a page offers a choice of models: kept a minute, and a
# failure kept a few seconds, so a down server is not asked again by every page at once.
MODELS_TTL = 60.0
_MODELS_FAILURE_TTL = 10.0
# Listing is a quick call made while a page waits: it gets less time than a reply.
_MODELS_TIMEOUT = 10.0


class OpenAIBackend:
    """Streams replies from ``POST {base_url}/chat/completions``.

    The request carries the system prompt (when set), the history and the new user message,
    for ``request.model`` when set and `model` otherwise. A message with images is sent as
    content parts (its text, then each image as a base64 ``data:`` URL); a message without
    stays a plain string, which every compatible server accepts. :meth:`models` lists the
    server's models (``GET {base_url}/models``), cached for a minute.
    `timeout` bounds connecting and each wait for more data, not the whole reply: a long
    answer that keeps streaming is never cut. Pass `client` to share an `httpx.AsyncClient`
    (and its connection pool) that you close yourself; otherwise the backend creates one per
    event loop and `aclose()` closes it.

    Example::

        backend = OpenAIBackend("http://localhost:8000/v1", model="qwen3-8b", api_key=None)
        async for delta in backend.stream(ChatRequest(message="Hi")):
            print(delta, end="")
    """

    name: str = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float = 60,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        self._where = _display_url(url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"The model server address must be an http(s) URL such as "
                f"http://localhost:8000/v1, not {self._where!r}: check {BASE_URL_SETTING}."
            )
        if timeout <= 0:
            raise ValueError(f"timeout must be more than 0 seconds, not {timeout}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self._api_key = api_key or None
        self._client = client
        self._owned: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None
        # (monotonic expiry, the sorted ids or the error's text)
        self._models: tuple[float, tuple[str, ...] | BackendError] | None = None

    def __repr__(self) -> str:
        # Written out so the key can never reach a log through repr().
        return f"OpenAIBackend(base_url={self._where!r}, model={self.model!r})"

    async def aclose(self) -> None:
        """Close the HTTP client this backend created; an injected client stays open."""
        if self._owned is not None:
            _, client = self._owned
            self._owned = None
            await client.aclose()

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Yield the reply's text deltas as the server sends them.

        Raises `BackendError` for HTTP errors, unreachable servers, timeouts, replies cut
        short, unreadable chunks and errors the server reports mid-stream.
        """
        model = request.model or self.model
        body = {"model": model, "messages": _messages(request), "stream": True}
        headers = {"Accept": "text/event-stream", **self._auth()}
        try:
            async with self._http().stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json=body,
                headers=headers,
                timeout=self.timeout,
            ) as response:
                if not response.is_success:
                    raise self._status_error(
                        response.status_code, await _error_detail(response), model
                    )
                if response.headers.get("content-type", "").startswith("application/json"):
                    # Some proxies ignore "stream": the whole reply then comes as one object.
                    content = self._complete_reply(await response.aread())
                    if content:
                        yield content
                    return
                async for delta in self._deltas(response):
                    yield delta
        except httpx.ConnectTimeout as exc:
            raise BackendError(
                f"Could not connect to the model server at {self._where} within "
                f"{self.timeout:g} s. Check that it is running and reachable, then try again."
            ) from exc
        except httpx.ReadTimeout as exc:
            raise BackendError(
                f"The model server at {self._where} sent nothing for {self.timeout:g} s. "
                "It may be overloaded: try again in a moment."
            ) from exc
        except httpx.TimeoutException as exc:
            raise BackendError(
                f"The request to the model server at {self._where} timed out after "
                f"{self.timeout:g} s. Try again in a moment."
            ) from exc
        except httpx.ConnectError as exc:
            raise BackendError(
                f"Could not reach the model server at {self._where}. Check that it is running "
                f"and that {BASE_URL_SETTING} is right."
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise self._cut_off() from exc
        except httpx.HTTPError as exc:
            raise BackendError(
                f"The request to the model server at {self._where} failed "
                f"({type(exc).__name__}). Try again; if it keeps failing, check that server."
            ) from exc

    async def models(self) -> tuple[str, ...]:
        """The ids of the models the server lists (``GET {base_url}/models``), sorted.

        Kept for :data:`MODELS_TTL` seconds per backend. Raises `BackendError` with a readable
        text when the server cannot be reached or does not list its models (a failure is kept
        for a few seconds too); callers then offer the configured model.
        """
        now = time.monotonic()
        if self._models is not None and self._models[0] > now:
            cached = self._models[1]
            if isinstance(cached, BackendError):
                raise BackendError(str(cached))
            return cached
        try:
            listed = await self._list_models()
        except BackendError as exc:
            self._models = (time.monotonic() + _MODELS_FAILURE_TTL, exc)
            raise
        self._models = (time.monotonic() + MODELS_TTL, listed)
        return listed

    async def _list_models(self) -> tuple[str, ...]:
        timeout = min(self.timeout, _MODELS_TIMEOUT)
        asked = f"The model server at {self._where} was asked for its list of models"
        try:
            response = await self._http().get(
                f"{self.base_url}/models",
                headers={"Accept": "application/json", **self._auth()},
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            raise BackendError(
                f"{asked} and did not answer within {timeout:g} s. Try again in a moment."
            ) from exc
        except httpx.ConnectError as exc:
            raise BackendError(
                f"Could not reach the model server at {self._where} to list its models. Check "
                f"that it is running and that {BASE_URL_SETTING} is right."
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendError(
                f"{asked}, and the request failed ({type(exc).__name__}). Try again; if it "
                "keeps failing, check that server."
            ) from exc
        status = response.status_code
        if status in (401, 403):
            raise BackendError(f"{asked} and answered {status}: check {API_KEY_SETTING}.")
        if not response.is_success:
            detail = _body_detail(response.content[:_ERROR_BODY_BYTES])
            said = f" The server said: {self._quote(detail)}." if detail else ""
            raise BackendError(
                f"{asked} and answered {status}: it may not list models (GET /models), or "
                f"{BASE_URL_SETTING} is not the address the API starts at.{said}"
            )
        try:
            payload = _object(response.json())
        except ValueError:
            payload = None
        data = payload.get("data") if payload is not None else None
        if not isinstance(data, list):
            raise BackendError(
                f"{asked} and sent an answer this portal cannot read "
                f"({self._quote(response.text[:_ERROR_BODY_BYTES])}). Check that it speaks the "
                "OpenAI API."
            )
        ids = {item.get("id") for item in data if isinstance(item, dict)}
        return tuple(sorted(i for i in ids if isinstance(i, str) and i))

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _http(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        # An httpx client's pool belongs to the event loop that opened its connections.
        loop = asyncio.get_running_loop()
        if self._owned is None or self._owned[0] is not loop:
            # A streaming reply holds its connection until the end, so capping connections
            # would queue whole replies behind each other; the model server does its own queueing.
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
            self._owned = (loop, httpx.AsyncClient(limits=limits))
        return self._owned[1]

    async def _deltas(self, response: httpx.Response) -> AsyncIterator[str]:
        finished = False
        async for data in _sse_data(response.aiter_lines()):
            if data.strip() == "[DONE]":
                return
            chunk = self._json_object(data)
            choices = chunk.get("choices")
            if not choices:
                # Usage-only and content-filter chunks carry no choices.
                continue
            choice = _object(choices[0] if isinstance(choices, list) else None)
            # Closing chunks may carry "delta": {} or null, or no delta at all.
            delta = _object(choice.get("delta") or {}) if choice is not None else None
            if choice is None or delta is None:
                raise self._unreadable(data)
            content = delta.get("content")
            if isinstance(content, str) and content:
                yield content
            finished = finished or bool(choice.get("finish_reason"))
        # Neither "[DONE]" nor a finish_reason: the server stopped mid-reply.
        if not finished:
            raise self._cut_off()

    def _complete_reply(self, raw: bytes) -> str:
        payload = self._json_object(raw.decode("utf-8", errors="replace"))
        choices = payload.get("choices")
        choice = _object(choices[0]) if isinstance(choices, list) and choices else None
        message = _object(choice.get("message")) if choice is not None else None
        content = message.get("content") if message is not None else None
        if message is None or not isinstance(content, str | None):
            raise self._unreadable(raw.decode("utf-8", errors="replace"))
        return content or ""

    def _json_object(self, data: str) -> dict[str, Any]:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        chunk = _object(parsed)
        if chunk is None:
            raise self._unreadable(data)
        if "error" in chunk:
            raise BackendError(
                f"The model server at {self._where} stopped the reply with an error: "
                f"{self._quote(_error_message(chunk))}. Try again; if it keeps happening, "
                "check that server's logs."
            )
        return chunk

    def _status_error(self, status: int, detail: str, model: str) -> BackendError:
        said = f" The server said: {self._quote(detail)}." if detail else ""
        where = f"The model server at {self._where} answered {status}"
        if status in (401, 403):
            # The body is not quoted: servers echo (parts of) the rejected key in it.
            return BackendError(f"{where}: check {API_KEY_SETTING}.")
        if status == 404 and model != self.model:
            return BackendError(
                f"{where}: the model {model!r} is not available there. Choose another model "
                f"for this conversation.{said}"
            )
        if status == 404:
            return BackendError(
                f"{where}: check {MODEL_SETTING} (now {self.model!r}) and that "
                f"{BASE_URL_SETTING} is the address the API starts at (often ending in /v1).{said}"
            )
        if status == 429:
            return BackendError(
                f"{where} (too many requests, or the quota is used up): "
                f"wait a moment and try again.{said}"
            )
        if status >= 500:
            return BackendError(
                f"{where} (a server error): try again later; if it persists, check that "
                f"server's logs.{said}"
            )
        if 300 <= status < 400:
            return BackendError(f"{where} (a redirect): check {BASE_URL_SETTING}.{said}")
        return BackendError(f"{where}: the request was refused.{said}")

    def _cut_off(self) -> BackendError:
        return BackendError(
            f"The connection to the model server at {self._where} broke off before the reply "
            "was complete. Try again."
        )

    def _unreadable(self, data: str) -> BackendError:
        return BackendError(
            f"The model server at {self._where} sent a reply this portal cannot read "
            f"({self._quote(data)}). Check that it speaks the OpenAI chat completions API."
        )

    def _quote(self, text: str) -> str:
        # Callers end the sentence after the quote, so a closing period would double.
        text = " ".join(text.split()).removesuffix(".")
        if self._api_key:
            text = text.replace(self._api_key, "***")
        if len(text) > _DETAIL_CHARS:
            text = text[: _DETAIL_CHARS - 1] + "…"
        return f"“{text}”"


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    # The display name is not sent: OpenAI's "name" field rejects spaces and many
    # compatible servers reject the field altogether.
    messages: list[dict[str, Any]] = []
    if request.system_prompt:
        messages.append({"role": "system", "content": request.system_prompt})
    messages.extend(_message(m) for m in request.history)
    messages.append(_message(ChatMessage("user", request.message, request.images)))
    return messages


def _message(message: ChatMessage) -> dict[str, Any]:
    """One message on the wire: plain text, or content parts when it carries images."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    return {"role": message.role, "content": _content_parts(message.content, message.images)}


def _content_parts(text: str, images: tuple[ImagePart, ...]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    parts.extend({"type": "image_url", "image_url": {"url": image.data_url}} for image in images)
    return parts


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield the data of each server-sent event, its `data:` lines joined by newlines."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        # A line starting with ":" is a comment (keep-alives); other fields (event, id) are unused.
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


async def _error_detail(response: httpx.Response) -> str:
    raw = b""
    async for piece in response.aiter_bytes():
        raw += piece
        if len(raw) >= _ERROR_BODY_BYTES:
            break
    return _body_detail(raw[:_ERROR_BODY_BYTES])


def _body_detail(raw: bytes) -> str:
    """The readable part of an error body: its JSON error message, or its text."""
    text = raw.decode("utf-8", errors="replace")
    try:
        payload = _object(json.loads(text))
    except ValueError:
        payload = None
    return _error_message(payload) if payload is not None else text.strip()


def _error_message(payload: dict[str, Any]) -> str:
    """The human part of an error body: OpenAI's {"error": {"message"}}, or common variants."""
    error = payload.get("error", payload)
    if isinstance(error, dict):
        for key in ("message", "detail"):
            if isinstance(error.get(key), str):
                return str(error[key])
    if isinstance(error, str):
        return error
    return json.dumps(payload)[:_ERROR_BODY_BYTES]


def _display_url(url: httpx.URL) -> str:
    """The server's address for messages: without credentials, query or fragment."""
    if not url.host:
        return str(url.copy_with(query=None, fragment=None))
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def _object(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
