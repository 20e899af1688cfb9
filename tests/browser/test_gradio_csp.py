"""The mounted Gradio page works in Chromium under the portal's Content-Security-Policy, and
the policy blocks what it is for: script injected through component HTML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
from playwright.sync_api import Page
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, browser_login

INJECTED = "<b id='html'>html</b><img src='/nowhere.png' onerror=\"document.title='XSS'\">"


def build_page() -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox(elem_id="text")
        out = gr.Textbox(elem_id="out")
        gr.Button("Shout", elem_id="shout").click(lambda v: v.upper(), text, out)
        js_out = gr.Textbox(elem_id="js-out")
        gr.Button("JS", elem_id="js").click(None, None, js_out, js="() => 'from js='")
        gr.HTML(INJECTED, js_on_load="element.querySelector('#html').textContent = 'loaded'")
    return demo


def test_gradio_works_under_the_policy_and_injected_handlers_do_not_run(
    portal: Portal, serve: Callable[[Any], LiveServer], page: Page
) -> None:
    portal.mount(build_page(), "/app")
    server = serve(portal.app)
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__violations.push("
        "{directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile}));"
    )
    browser_login(page, "alice", PASSWORD, url=server.url + "/login?next=/app/")
    page.wait_for_url("**/app/")
    policy = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]

    page.wait_for_selector("#shout", timeout=30_000)  # rendered: the loader script ran
    page.fill("#text textarea", "hello")
    page.click("#shout")
    page.wait_for_function("document.querySelector('#out textarea').value === 'HELLO'")
    page.click("#js")  # js= events compile code: they need 'unsafe-eval', which is allowed
    page.wait_for_function("document.querySelector('#js-out textarea').value === 'from js='")
    page.wait_for_function("document.querySelector('#html').textContent === 'loaded'")

    assert page.title() != "XSS"  # the onerror handler inside gr.HTML was blocked
    violations = page.evaluate("window.__violations")
    # Exactly what the policy is for, and nothing Gradio itself needs: only the injected
    # attribute handler was refused (script-src-attr), no script, style, image or fetch.
    assert violations, "the blocked handler is reported"
    assert {v["directive"] for v in violations} == {"script-src-attr"}, violations
