"""A real OpenAI-compatible chat completions server for tests, on a kernel-picked loopback port.

The request's model name picks the behaviour, so one server serves every scenario:

=========================  ==============================================================
model                      behaviour
=========================  ==============================================================
``fake-model``             streams `reply` in `chunk_chars` pieces, like OpenAI does
``fake-slow``              the same after `first_token_delay` seconds of silence
``fake-error-midstream``   a few chunks, then an ``{"error": ...}`` event
``fake-cut-midstream``     a few chunks, then the connection is dropped
``fake-no-done``           a few chunks, then a clean end without finish_reason or [DONE]
``fake-malformed``         a few chunks, then a data line that is not JSON
``fake-json``              ignores ``stream`` and answers one JSON completion
``fake-500``               HTTP 500 with an OpenAI error body
``fake-429``               HTTP 429 with an OpenAI error body
anything else              HTTP 404 "model does not exist"
=========================  ==============================================================

``GET /v1/models`` lists `models` (every model above that streams or answers, by default),
or fails with `models_status` when a test sets it. Every request is recorded in `requests`,
its JSON body included (``{}`` for a GET), so a test can check what was sent: the model,
the messages, image parts.

A request without the right bearer key gets 401 (when the server has an `api_key`), and the
error body quotes the wrong key in full, so tests can check it never reaches a user.

Example::

    with FakeOpenAI() as server:
        backend = OpenAIBackend(server.base_url, "fake-model", api_key=server.api_key)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gradio_portal.testing.server import LiveServer

__all__ = [
    "MODEL_CUT_MIDSTREAM",
    "MODEL_ERROR_MIDSTREAM",
    "MODEL_JSON",
    "MODEL_MALFORMED",
    "MODEL_NO_DONE",
    "MODEL_OK",
    "MODEL_RATE_LIMITED",
    "MODEL_SERVER_ERROR",
    "MODEL_SLOW",
    "FakeOpenAI",
    "RecordedRequest",
]

MODEL_OK = "fake-model"
MODEL_SLOW = "fake-slow"
MODEL_ERROR_MIDSTREAM = "fake-error-midstream"
MODEL_CUT_MIDSTREAM = "fake-cut-midstream"
MODEL_NO_DONE = "fake-no-done"
MODEL_MALFORMED = "fake-malformed"
MODEL_JSON = "fake-json"
MODEL_SERVER_ERROR = "fake-500"
MODEL_RATE_LIMITED = "fake-429"

# How many content chunks the failing scenarios send before they fail.
CHUNKS_BEFORE_FAILURE = 3
MIDSTREAM_ERROR_MESSAGE = "The model crashed while generating."


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, as the wire carried it."""

    path: str
    authorization: str | None
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The ``messages`` list of the request body."""
        messages: list[dict[str, Any]] = self.body["messages"]
        return messages


class _DropConnection(Exception):
    """Raised inside a streaming body: uvicorn then closes the socket mid-response."""


class FakeOpenAI:
    """Runs the fake server in a thread while the `with` block (or start()/stop()) lasts."""

    def __init__(
        self,
        *,
        reply: str = "Hello from the fake model, streamed in small chunks.",
        chunk_chars: int = 4,
        api_key: str | None = "sk-test-fake-key",
        first_token_delay: float = 1.0,
    ) -> None:
        self.reply = reply
        self.chunk_chars = chunk_chars
        self.api_key = api_key
        # Read per request, so a test may change it on a running server.
        self.first_token_delay = first_token_delay
        self.requests: list[RecordedRequest] = []
        # What GET /v1/models lists, and the status it answers (200: the list); both are read
        # per request, so a test may change them on a running server.
        self.models: list[str] = sorted([*_STREAMING_MODELS, MODEL_JSON])
        self.models_status = 200
        self.app = self._build_app()
        self._live: LiveServer | None = None

    @property
    def base_url(self) -> str:
        """The API root to give a client, ending in ``/v1``."""
        if self._live is None:
            raise RuntimeError("FakeOpenAI is not running: use it in a `with` block")
        return f"{self._live.url}/v1"

    @property
    def chunks(self) -> list[str]:
        """The content pieces a normal stream sends, in order."""
        size = self.chunk_chars
        return [self.reply[i : i + size] for i in range(0, len(self.reply), size)]

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        # log_config=None leaves the test run's logging alone; the dropped connections of
        # fake-cut-midstream are logged by uvicorn as "Exception in ASGI application".
        live = LiveServer(self.app, log_config=None, access_log=False, lifespan="off")
        self._live = live.start()

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request) -> Response:
            body: dict[str, Any] = await request.json()
            authorization = request.headers.get("authorization")
            self.requests.append(RecordedRequest(request.url.path, authorization, body))
            if self.api_key is not None and authorization != f"Bearer {self.api_key}":
                given = (authorization or "").removeprefix("Bearer ")
                # Quotes the whole wrong key, worse than OpenAI's masking, to test redaction.
                return _error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
            model = str(body.get("model"))
            if model == MODEL_SERVER_ERROR:
                return _error(500, "The server had an error while processing your request.")
            if model == MODEL_RATE_LIMITED:
                return _error(429, "Rate limit reached for requests.", "rate_limit_exceeded")
            if model == MODEL_JSON:
                return JSONResponse(_completion(model, self.reply))
            if model not in _STREAMING_MODELS:
                message = f"The model `{model}` does not exist or you do not have access to it."
                return _error(404, message, "model_not_found")
            return StreamingResponse(self._events(model), media_type="text/event-stream")

        @app.get("/v1/models")
        async def list_models(request: Request) -> Response:
            authorization = request.headers.get("authorization")
            self.requests.append(RecordedRequest(request.url.path, authorization, {}))
            if self.api_key is not None and authorization != f"Bearer {self.api_key}":
                given = (authorization or "").removeprefix("Bearer ")
                return _error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
            if self.models_status != 200:
                return _error(self.models_status, "Listing models is not supported here.")
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models
            ]
            return JSONResponse({"object": "list", "data": data})

        return app

    async def _events(self, model: str) -> AsyncIterator[str]:
        def event(payload: dict[str, Any]) -> str:
            return f"data: {json.dumps(payload)}\n\n"

        if model == MODEL_SLOW:
            await asyncio.sleep(self.first_token_delay)
        # Real servers open with a comment or keep-alive and a role-only chunk.
        yield ": keep-alive\n\n"
        yield event(_chunk(model, {"role": "assistant", "content": ""}))
        failing = model not in (MODEL_OK, MODEL_SLOW)
        chunks = self.chunks[:CHUNKS_BEFORE_FAILURE] if failing else self.chunks
        for piece in chunks:
            yield event(_chunk(model, {"content": piece}))
            # Separate writes, so the client really receives a stream of chunks.
            await asyncio.sleep(0.001)
        if model == MODEL_ERROR_MIDSTREAM:
            yield event({"error": {"message": MIDSTREAM_ERROR_MESSAGE, "type": "server_error"}})
            return
        if model == MODEL_CUT_MIDSTREAM:
            raise _DropConnection
        if model == MODEL_NO_DONE:
            return
        if model == MODEL_MALFORMED:
            yield "data: {this is not json\n\n"
            return
        yield event(_chunk(model, {}, finish_reason="stop"))
        # The usage chunk has no choices, as with stream_options.include_usage.
        yield event({"id": "chatcmpl-fake", "choices": [], "usage": {"total_tokens": 1}})
        yield "data: [DONE]\n\n"


_STREAMING_MODELS = frozenset(
    {
        MODEL_OK,
        MODEL_SLOW,
        MODEL_ERROR_MIDSTREAM,
        MODEL_CUT_MIDSTREAM,
        MODEL_NO_DONE,
        MODEL_MALFORMED,
    }
)


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


def _error(status: int, message: str, code: str | None = None) -> JSONResponse:
    error = {"message": message, "type": "invalid_request_error", "code": code}
    return JSONResponse({"error": error}, status_code=status)
