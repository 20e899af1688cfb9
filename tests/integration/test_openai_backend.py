"""OpenAIBackend against a real OpenAI-compatible server over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from tests.support.fake_openai import (
    CHUNKS_BEFORE_FAILURE,
    MIDSTREAM_ERROR_MESSAGE,
    MODEL_CUT_MIDSTREAM,
    MODEL_ERROR_MIDSTREAM,
    MODEL_JSON,
    MODEL_MALFORMED,
    MODEL_NO_DONE,
    MODEL_OK,
    MODEL_RATE_LIMITED,
    MODEL_SERVER_ERROR,
    MODEL_SLOW,
    FakeOpenAI,
)

from gradio_portal.chat.backends import (
    BackendError,
    ChatMessage,
    ChatRequest,
    ImagePart,
    OpenAIBackend,
    available_models,
)
from gradio_portal.chat.backends import openai as openai_module
from gradio_portal.chat.backends.openai import MODELS_TTL
from gradio_portal.chat.coalesce import coalesce
from gradio_portal.testing.ports import consecutive_free_ports

REQUEST = ChatRequest(
    message="And now?",
    history=(ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello!")),
    user_display_name="Ada Lovelace",
    system_prompt="You are terse.",
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def backend_for(
    server: FakeOpenAI, model: str = MODEL_OK, *, api_key: str | None = None, timeout: float = 10
) -> OpenAIBackend:
    return OpenAIBackend(server.base_url, model, api_key or server.api_key, timeout=timeout)


async def collect(backend: OpenAIBackend, request: ChatRequest = REQUEST) -> list[str]:
    try:
        return [delta async for delta in backend.stream(request)]
    finally:
        await backend.aclose()


async def collect_until_error(
    backend: OpenAIBackend, request: ChatRequest = REQUEST
) -> tuple[list[str], BackendError]:
    deltas: list[str] = []
    try:
        async for delta in backend.stream(request):
            deltas.append(delta)
    except BackendError as exc:
        return deltas, exc
    finally:
        await backend.aclose()
    raise AssertionError(f"no BackendError; got {deltas!r}")


def test_streams_the_reply_in_chunks(server: FakeOpenAI) -> None:
    deltas = asyncio.run(collect(backend_for(server)))
    assert deltas == server.chunks
    assert "".join(deltas) == server.reply


def test_sends_system_prompt_history_and_message_in_order(server: FakeOpenAI) -> None:
    asyncio.run(collect(backend_for(server)))
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.authorization == f"Bearer {server.api_key}"
    assert sent.body["model"] == MODEL_OK
    assert sent.body["stream"] is True
    assert sent.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]


def test_omits_the_system_message_without_a_system_prompt(server: FakeOpenAI) -> None:
    asyncio.run(collect(backend_for(server), ChatRequest(message="Solo")))
    assert server.requests[-1].messages == [{"role": "user", "content": "Solo"}]


def test_wrong_key_names_the_setting_and_hides_the_key(server: FakeOpenAI) -> None:
    wrong = "sk-wrong-secret-1234"
    deltas, error = asyncio.run(collect_until_error(backend_for(server, api_key=wrong)))
    assert deltas == []
    assert "401" in str(error)
    assert "GRADIO_PORTAL_OPENAI_API_KEY" in str(error)
    assert wrong not in str(error)
    assert wrong not in repr(backend_for(server, api_key=wrong))


def test_missing_key_sends_no_authorization_header(server: FakeOpenAI) -> None:
    backend = OpenAIBackend(server.base_url, MODEL_OK, api_key=None)
    _, error = asyncio.run(collect_until_error(backend))
    assert server.requests[-1].authorization is None
    assert "401" in str(error)


def test_server_error_is_reported_with_the_servers_words(server: FakeOpenAI) -> None:
    _, error = asyncio.run(collect_until_error(backend_for(server, MODEL_SERVER_ERROR)))
    assert "answered 500" in str(error)
    assert "had an error while processing" in str(error)
    assert "try again later" in str(error)


def test_rate_limit_says_to_wait(server: FakeOpenAI) -> None:
    _, error = asyncio.run(collect_until_error(backend_for(server, MODEL_RATE_LIMITED)))
    assert "answered 429" in str(error)
    assert "wait a moment" in str(error)


def test_unknown_model_names_the_model_setting(server: FakeOpenAI) -> None:
    _, error = asyncio.run(collect_until_error(backend_for(server, "no-such-model")))
    assert "answered 404" in str(error)
    assert "GRADIO_PORTAL_OPENAI_MODEL" in str(error)
    assert "'no-such-model'" in str(error)


def test_error_event_mid_stream_after_partial_reply(server: FakeOpenAI) -> None:
    deltas, error = asyncio.run(collect_until_error(backend_for(server, MODEL_ERROR_MIDSTREAM)))
    assert deltas == server.chunks[:CHUNKS_BEFORE_FAILURE]
    assert MIDSTREAM_ERROR_MESSAGE.removesuffix(".") in str(error)


def test_connection_cut_mid_stream(server: FakeOpenAI) -> None:
    deltas, error = asyncio.run(collect_until_error(backend_for(server, MODEL_CUT_MIDSTREAM)))
    assert deltas == server.chunks[:CHUNKS_BEFORE_FAILURE]
    assert "broke off" in str(error)


def test_stream_ending_without_finish_counts_as_cut(server: FakeOpenAI) -> None:
    deltas, error = asyncio.run(collect_until_error(backend_for(server, MODEL_NO_DONE)))
    assert deltas == server.chunks[:CHUNKS_BEFORE_FAILURE]
    assert "broke off" in str(error)


def test_malformed_chunk(server: FakeOpenAI) -> None:
    _, error = asyncio.run(collect_until_error(backend_for(server, MODEL_MALFORMED)))
    assert "cannot read" in str(error)
    assert "this is not json" in str(error)


def test_non_streaming_json_answer_is_accepted(server: FakeOpenAI) -> None:
    assert asyncio.run(collect(backend_for(server, MODEL_JSON))) == [server.reply]


def test_slow_first_token_within_timeout(server: FakeOpenAI) -> None:
    server.first_token_delay = 0.2
    deltas = asyncio.run(collect(backend_for(server, MODEL_SLOW, timeout=5)))
    assert "".join(deltas) == server.reply


def test_slow_first_token_past_timeout(server: FakeOpenAI) -> None:
    server.first_token_delay = 2.0
    _, error = asyncio.run(collect_until_error(backend_for(server, MODEL_SLOW, timeout=0.3)))
    assert "sent nothing for 0.3 s" in str(error)


def test_unreachable_server_hides_credentials_in_the_url() -> None:
    # A port nobody listens on, below the ephemeral range (where the client's own source port
    # could be that same port, and connect to itself).
    port = consecutive_free_ports(1)
    backend = OpenAIBackend(f"http://admin:hunter2@127.0.0.1:{port}/v1", MODEL_OK, "sk-x")
    _, error = asyncio.run(collect_until_error(backend))
    assert f"127.0.0.1:{port}/v1" in str(error)
    assert "Could not reach" in str(error)
    assert "hunter2" not in str(error)


def test_stopping_early_releases_the_connection(server: FakeOpenAI) -> None:
    async def scenario() -> list[str]:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(limits=limits) as client:
            backend = OpenAIBackend(server.base_url, MODEL_OK, server.api_key, client=client)
            stream = backend.stream(REQUEST)
            first = await anext(stream)
            await stream.aclose()
            # With a single-connection pool this would wait forever had the stop leaked it.
            rest = await asyncio.wait_for(collect(backend), timeout=5)
            assert not client.is_closed  # an injected client is the caller's to close
            return [first, *rest]

    deltas = asyncio.run(scenario())
    assert deltas[0] == server.chunks[0]
    assert "".join(deltas[1:]) == server.reply


def test_one_backend_serves_several_event_loops(server: FakeOpenAI) -> None:
    backend = backend_for(server)

    async def once() -> str:
        return "".join([delta async for delta in backend.stream(REQUEST)])

    assert asyncio.run(once()) == server.reply
    assert asyncio.run(once()) == server.reply


def test_coalesced_stream_ends_with_the_full_reply(server: FakeOpenAI) -> None:
    async def scenario() -> list[str]:
        backend = backend_for(server)
        try:
            return [text async for text in coalesce(backend.stream(REQUEST), interval=0.01)]
        finally:
            await backend.aclose()

    updates = asyncio.run(scenario())
    assert updates[-1] == server.reply
    assert all(server.reply.startswith(text) for text in updates)


PNG = ImagePart("image/png", b"\x89PNG\r\n\x1a\nfake-pixels")


def test_images_go_as_content_parts_and_text_only_messages_stay_strings(
    server: FakeOpenAI,
) -> None:
    request = ChatRequest(
        message="What is in this one?",
        history=(
            ChatMessage("user", "Look", images=(PNG,)),
            ChatMessage("assistant", "A fake picture."),
        ),
        images=(ImagePart("image/jpeg", b"\xff\xd8\xffjpeg"),),
    )
    asyncio.run(collect(backend_for(server), request))
    data_png = "data:image/png;base64," + base64.b64encode(PNG.data).decode()
    data_jpeg = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xffjpeg").decode()
    assert server.requests[-1].messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": data_png}},
            ],
        },
        {"role": "assistant", "content": "A fake picture."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this one?"},
                {"type": "image_url", "image_url": {"url": data_jpeg}},
            ],
        },
    ]


def test_an_image_without_text_is_sent_as_the_image_alone(server: FakeOpenAI) -> None:
    asyncio.run(collect(backend_for(server), ChatRequest(message="", images=(PNG,))))
    [message] = server.requests[-1].messages
    assert [part["type"] for part in message["content"]] == ["image_url"]


def test_the_requests_model_replaces_the_default(server: FakeOpenAI) -> None:
    backend = backend_for(server, "no-such-default")
    deltas = asyncio.run(collect(backend, ChatRequest(message="Hi", model=MODEL_JSON)))
    assert deltas == [server.reply]
    assert server.requests[-1].body["model"] == MODEL_JSON
    asyncio.run(collect(backend_for(server), ChatRequest(message="Hi", model=None)))
    assert server.requests[-1].body["model"] == MODEL_OK


def test_an_unknown_chosen_model_says_to_choose_another(server: FakeOpenAI) -> None:
    request = ChatRequest(message="Hi", model="retired-model")
    _, error = asyncio.run(collect_until_error(backend_for(server), request))
    assert "answered 404" in str(error)
    assert "'retired-model' is not available there" in str(error)
    assert "Choose another model" in str(error)


def test_models_are_listed_sorted_with_the_key(server: FakeOpenAI) -> None:
    offered = server.models
    server.models = ["zeta", "alpha", "mid", "alpha"]
    backend = backend_for(server)
    try:
        assert asyncio.run(backend.models()) == ("alpha", "mid", "zeta")
        assert asyncio.run(available_models(backend)) == ("alpha", "mid", "zeta")
    finally:
        server.models = offered
    listing = [r for r in server.requests if r.path == "/v1/models"][-1]
    assert listing.authorization == f"Bearer {server.api_key}"


def test_the_model_list_is_kept_a_minute(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(openai_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    backend = backend_for(server)

    def asked() -> int:
        return sum(r.path == "/v1/models" for r in server.requests)

    before = asked()
    first = asyncio.run(backend.models())
    clock[0] += MODELS_TTL - 1
    assert asyncio.run(backend.models()) == first
    assert asked() == before + 1
    clock[0] += 2
    asyncio.run(backend.models())
    assert asked() == before + 2


def test_a_failed_listing_is_a_readable_backend_error(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(openai_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    server.models_status = 404
    try:
        backend = backend_for(server)
        with pytest.raises(BackendError) as caught:
            asyncio.run(backend.models())
        text = str(caught.value)
        assert "asked for its list of models and answered 404" in text
        assert "GRADIO_PORTAL_OPENAI_BASE_URL" in text
        assert "Listing models is not supported here" in text
        # Kept a few seconds: the next page does not wait for the same failure.
        asked = sum(r.path == "/v1/models" for r in server.requests)
        with pytest.raises(BackendError, match="answered 404"):
            asyncio.run(backend.models())
        assert sum(r.path == "/v1/models" for r in server.requests) == asked
        server.models_status = 200
        clock[0] += 11
        assert MODEL_OK in asyncio.run(backend.models())
    finally:
        server.models_status = 200


def test_listing_with_a_wrong_key_hides_the_key(server: FakeOpenAI) -> None:
    wrong = "sk-wrong-secret-5678"
    with pytest.raises(BackendError) as caught:
        asyncio.run(backend_for(server, api_key=wrong).models())
    assert "answered 401: check GRADIO_PORTAL_OPENAI_API_KEY" in str(caught.value)
    assert wrong not in str(caught.value)


def test_listing_from_an_unreachable_server() -> None:
    port = consecutive_free_ports(1)
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", MODEL_OK, None)
    with pytest.raises(BackendError, match=r"Could not reach the model server .* to list its"):
        asyncio.run(backend.models())
