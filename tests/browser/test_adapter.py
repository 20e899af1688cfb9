"""The browser adapter (portal.js) on its own: plain FastAPI + gr.mount_gradio_app, no portal.

Handlers raise ``gr.Error(navigate_error_message(...))`` directly; Chromium must follow the
allowed ones without an error toast, refuse the unsafe ones in the page, send a 401 to the
login page with the right ``next=``, and tell the server which page called.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import gradio as gr
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from playwright.sync_api import BrowserContext, Page, Route, expect

from gradio_portal.navigation.browser import (
    MARKER,
    REFUSED_MESSAGE,
    head_snippet,
    navigate_error_message,
    script_hashes,
)
from gradio_portal.testing import LiveServer

ALLOWED = "http://allowed.example"

# Any toast Gradio shows is recorded in sessionStorage, which survives the navigation.
RECORD_TOASTS = """
new MutationObserver(() => {
  for (const toast of document.querySelectorAll(".toast-body:not([data-recorded])")) {
    toast.dataset.recorded = "1";
    const seen = JSON.parse(sessionStorage.getItem("toasts") || "[]");
    seen.push(toast.textContent.trim().slice(0, 200));
    sessionStorage.setItem("toasts", JSON.stringify(seen));
  }
}).observe(document, {childList: true, subtree: true});
"""


def go(url: str, replace: bool = False) -> gr.Error:
    return gr.Error(navigate_error_message(url, replace), print_exception=False)


def clicked() -> str:
    raise go("/x?case=click&slow=1")


def streamed() -> Iterator[str]:
    for i in range(3):
        yield f"step {i}"
        time.sleep(0.05)
    time.sleep(0.4)
    raise go("/x?case=stream&slow=1")


def replaced() -> str:
    raise go("/x?case=replace", replace=True)


def to_target(target: str) -> str:
    if target == "not json at all":
        raise gr.Error(MARKER + target, print_exception=False)
    raise go(target)


def page_header(request: gr.Request) -> str:
    return request.headers.get("x-gradio-portal-page", "<missing>")


def to_fragment() -> str:
    raise go("/app/?q=1#frag")


def chat(message: str, history: list[dict[str, str]]) -> Iterator[str]:
    yield "thinking"
    time.sleep(0.1)
    raise go("/x?case=chat")


def sse(message: dict[str, object], newline: str = "\n", compact: bool = False) -> str:
    separators = (",", ":") if compact else None
    text = json.dumps(message, ensure_ascii=False, separators=separators)
    return "data: " + text + newline + newline


UNICODE = "h\u00e9llo \u20ac \U0001f600"
MENTION = {"msg": "process_generating", "event_id": "a", "output": {"data": [MARKER + UNICODE]}}
REFUSE = {
    "msg": "process_completed",
    "event_id": "b",
    "success": False,
    "output": {"error": navigate_error_message("//evil.example/", False), "title": "Error"},
}
CHOPPED_STREAM = (
    sse({"msg": "estimation", "event_id": "a", "rank": 0})
    + sse(MENTION)
    + sse(REFUSE, newline="\r\n")
    + sse({"msg": "close_stream", "text": UNICODE})
)
FILTERED_STREAM = (
    sse({"msg": "estimation", "event_id": "a", "rank": 0})
    + sse(MENTION)
    # Rewritten by the script (JSON.stringify: compact).
    + sse({**REFUSE, "output": {**REFUSE["output"], "error": REFUSED_MESSAGE}}, "\r\n", True)
    + sse({"msg": "close_stream", "text": UNICODE})
)


def build_app() -> FastAPI:
    app = FastAPI()
    app.state.deny = None

    @app.middleware("http")
    async def deny(request: Request, call_next):  # type: ignore[no-untyped-def]
        if app.state.deny and request.url.path.endswith("/gradio_api/" + app.state.deny):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return await call_next(request)

    @app.get("/x")
    async def target(request: Request) -> HTMLResponse:
        if "slow" in request.query_params:
            # The page being left stays alive meanwhile: late errors would show in it.
            await asyncio.sleep(1)
        return HTMLResponse(f"<!doctype html><title>target</title><h1>{request.url.query}</h1>")

    @app.get("/fake/gradio_api/stream")
    async def chopped_stream() -> StreamingResponse:
        # The event stream in pieces of 1 to 3 bytes: lines, the marker and UTF-8 characters
        # are all split across network chunks.
        async def pieces() -> AsyncIterator[bytes]:
            data = CHOPPED_STREAM.encode()
            i = 0
            while i < len(data):
                size = 1 + i % 3
                yield data[i : i + size]
                i += size
                await asyncio.sleep(0.001)

        return StreamingResponse(pieces(), media_type="text/event-stream")

    @app.get("/login")
    def login() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>login</title><h1>Sign in</h1>")

    head = head_snippet(login_url="/login", allowed_origins=[ALLOWED])

    with gr.Blocks() as blocks:
        status = gr.Textbox(label="status", elem_id="status")
        target_box = gr.Textbox(label="target", elem_id="target")
        gr.Button("click", elem_id="click").click(clicked, None, status)
        gr.Button("stream", elem_id="stream").click(streamed, None, status)
        gr.Button("replace", elem_id="replace").click(replaced, None, status)
        gr.Button("target", elem_id="go-target").click(to_target, target_box, status)
        gr.Button("run", elem_id="run").click(
            to_target, target_box, status, queue=False, api_name="run_target"
        )
        gr.Button("page", elem_id="page").click(page_header, None, status)
        gr.Button("fragment", elem_id="fragment").click(to_fragment, None, status)
    gr.mount_gradio_app(app, blocks, "/app", head=head, ssr_mode=False)

    # The same Blocks under a strict CSP: inline scripts allowed by hash only. The page's own
    # inline scripts are hashed from its HTML; the head's are not in it (Gradio re-creates
    # them from its config), so they need script_hashes(head).
    @app.middleware("http")
    async def strict_csp(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if request.url.path != "/csp/":
            return response
        html = b"".join([chunk async for chunk in response.body_iterator]).decode()
        sources = " ".join(script_hashes(html) + script_hashes(head))
        headers = dict(response.headers)
        headers.pop("content-length", None)
        headers["content-security-policy"] = (
            f"default-src 'self'; script-src 'self' 'unsafe-eval' {sources}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:"
        )
        return HTMLResponse(html, status_code=response.status_code, headers=headers)

    gr.mount_gradio_app(app, blocks, "/csp", head=head, ssr_mode=False)

    with gr.Blocks() as on_load:
        gr.Markdown("loading")
        on_load.load(lambda: to_target("/x?case=load"), None, None)
    gr.mount_gradio_app(app, on_load, "/load", head=head, ssr_mode=False)

    chat_ui = gr.ChatInterface(chat)
    gr.mount_gradio_app(app, chat_ui, "/chat", head=head, ssr_mode=False)
    return app


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return build_app()


@pytest.fixture(scope="module")
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def app_page(context: BrowserContext, server: LiveServer) -> Page:
    context.add_init_script(RECORD_TOASTS)
    page = context.new_page()
    # A page before the app, so that "back" after a replace has somewhere to go.
    page.goto(server.url + "/x?case=start")
    page.goto(server.url + "/app/?q=1")
    expect(page.locator("#click")).to_be_visible()
    return page


def toasts(page: Page) -> list[str]:
    return json.loads(page.evaluate("sessionStorage.getItem('toasts') || '[]'"))


def assert_settled_without_toasts(page: Page, url: str) -> None:
    expect(page).to_have_url(url)
    page.wait_for_timeout(500)  # No late "connection lost", reload or error afterwards.
    assert page.url == url
    assert toasts(page) == []


def test_head_snippet_is_safe_in_a_script_element() -> None:
    snippet = head_snippet(login_url="/login?x=</script><!--\u2028", allowed_origins=["a&b>"])
    config = snippet.split("</script>", 1)[0]
    assert "</" not in config.removeprefix("<script>") and "<!--" not in config
    assert "\u2028" not in snippet
    assert snippet.count("<script>") == 2 and snippet.count("</script>") == 2
    assert json.loads(navigate_error_message("/c/1", True).removeprefix(MARKER)) == {
        "url": "/c/1",
        "replace": True,
    }
    with pytest.raises(TypeError):
        head_snippet(allowed_origins="https://a.example")
    assert len(script_hashes(snippet)) == 2
    assert all(source.startswith("'sha256-") for source in script_hashes(snippet))


def test_works_under_a_hash_only_content_security_policy(
    context: BrowserContext, server: LiveServer
) -> None:
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    answer = page.goto(server.url + "/csp/")
    assert answer is not None
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"].split("style-src")[0]
    page.locator("#click").click()
    expect(page).to_have_url(server.url + "/x?case=click&slow=1")
    assert not [text for text in violations if "Content Security Policy" in text]


def test_click_pushes_a_history_entry(app_page: Page, server: LiveServer) -> None:
    length = app_page.evaluate("history.length")
    app_page.locator("#click").click()
    assert_settled_without_toasts(app_page, server.url + "/x?case=click&slow=1")
    assert app_page.evaluate("history.length") == length + 1
    app_page.go_back()
    expect(app_page).to_have_url(server.url + "/app/?q=1")
    # The page left behind still works (also when it comes back from the bfcache).
    app_page.locator("#page").click()
    expect(app_page.locator("#status textarea")).to_have_value("/app/?q=1")


def test_replace_does_not_add_a_history_entry(app_page: Page, server: LiveServer) -> None:
    length = app_page.evaluate("history.length")
    app_page.locator("#replace").click()
    assert_settled_without_toasts(app_page, server.url + "/x?case=replace")
    assert app_page.evaluate("history.length") == length
    app_page.go_back()
    expect(app_page).to_have_url(server.url + "/x?case=start")


def test_mid_stream_after_yields(app_page: Page, server: LiveServer) -> None:
    app_page.locator("#stream").click()
    expect(app_page.locator("#status textarea")).to_have_value("step 2")
    assert_settled_without_toasts(app_page, server.url + "/x?case=stream&slow=1")


def test_queue_false_event_through_run(app_page: Page, server: LiveServer) -> None:
    app_page.locator("#target textarea").fill("/x?case=run")
    app_page.locator("#run").click()
    assert_settled_without_toasts(app_page, server.url + "/x?case=run")


def test_load_event(context: BrowserContext, server: LiveServer) -> None:
    context.add_init_script(RECORD_TOASTS)
    page = context.new_page()
    page.goto(server.url + "/load/")
    assert_settled_without_toasts(page, server.url + "/x?case=load")


def test_chat_interface(context: BrowserContext, server: LiveServer) -> None:
    context.add_init_script(RECORD_TOASTS)
    page = context.new_page()
    page.goto(server.url + "/chat/")
    box = page.locator("textarea").first
    box.fill("hello")
    box.press("Enter")
    assert_settled_without_toasts(page, server.url + "/x?case=chat")


def test_fragment_only_target_reloads_the_page(app_page: Page, server: LiveServer) -> None:
    app_page.evaluate("window.__before = 1")
    app_page.locator("#fragment").click()
    expect(app_page).to_have_url(server.url + "/app/?q=1#frag")
    app_page.wait_for_function("window.__before === undefined")
    expect(app_page.locator("#click")).to_be_visible()
    assert toasts(app_page) == []


def test_allowed_origin_is_followed(app_page: Page, server: LiveServer) -> None:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>allowed</title>")

    app_page.route(ALLOWED + "/**", fulfil)
    app_page.locator("#target textarea").fill(ALLOWED + "/docs")
    app_page.locator("#go-target").click()
    expect(app_page).to_have_url(ALLOWED + "/docs")


UNSAFE = [
    "//evil.example/",
    "javascript:alert(1)",
    "https://evil.example/",
    "/\\evil.example",
    "data:text/html,hi",
    "https://allowed.example/",  # Allowed host, other scheme: another origin.
    "not json at all",
]


@pytest.mark.parametrize("target", UNSAFE)
def test_unsafe_targets_are_refused_in_the_stream(
    app_page: Page, server: LiveServer, target: str
) -> None:
    app_page.locator("#target textarea").fill(target)
    app_page.locator("#go-target").click()
    expect(app_page.get_by_text(REFUSED_MESSAGE).first).to_be_visible()
    assert app_page.url == server.url + "/app/?q=1"
    assert MARKER not in app_page.locator("body").inner_text()
    assert [REFUSED_MESSAGE in toast for toast in toasts(app_page)] == [True]


# Gradio shows no toast for errors of queue=False events (answered by /run/ with a JSON 500),
# so read the answer through the page's fetch as Gradio's client would.
CALL_RUN = """async (target) => {
  const answer = await fetch("/app/gradio_api/run/run_target", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({data: [target], session_hash: "probe"}),
  });
  return [answer.status, await answer.json()];
}"""


@pytest.mark.parametrize("target", UNSAFE)
def test_unsafe_targets_are_refused_in_run_answers(
    app_page: Page, server: LiveServer, target: str
) -> None:
    status, body = app_page.evaluate(CALL_RUN, target)
    assert status == 500
    assert body["error"] == REFUSED_MESSAGE
    app_page.locator("#target textarea").fill(target)
    app_page.locator("#run").click()
    expect(app_page.locator("#status")).to_contain_text("Error")
    assert app_page.url == server.url + "/app/?q=1"


def test_event_stream_split_anywhere(app_page: Page) -> None:
    text = app_page.evaluate("fetch('/fake/gradio_api/stream').then(answer => answer.text())")
    assert text == FILTERED_STREAM
    assert app_page.url.endswith("/app/?q=1")


def test_page_header_on_api_calls(app_page: Page) -> None:
    app_page.locator("#page").click()
    expect(app_page.locator("#status textarea")).to_have_value("/app/?q=1")


@pytest.mark.parametrize("denied", ["queue/join", "queue/data", "run/page_header"])
def test_401_goes_to_login_with_next(
    context: BrowserContext, app: FastAPI, server: LiveServer, denied: str
) -> None:
    context.add_init_script(RECORD_TOASTS)
    page = context.new_page()
    page.goto(server.url + "/app/?q=1&r=%2F#frag")
    expect(page.locator("#click")).to_be_visible()
    app.state.deny = denied
    try:
        if denied.startswith("run/"):
            # Call a queue=False style endpoint from the page itself, as Gradio would.
            page.evaluate("() => { fetch('/app/gradio_api/run/page_header', {method: 'POST'}); }")
        else:
            page.locator("#page").click()
        expect(page).to_have_url(server.url + "/login?next=%2Fapp%2F%3Fq%3D1%26r%3D%252F%23frag")
    finally:
        app.state.deny = None
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/app/?q=1&r=%2F#frag"]
    assert toasts(page) == []
